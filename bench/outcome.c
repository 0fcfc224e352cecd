/* SPDX-License-Identifier: BSD-3-Clause */
/* How the report tells a run that did not finish: the #wrong line counts
 * only the rows checked before the failure, the verdict is FAIL (runtime)
 * with the first error, and the JSON summary gets the reason and the rank
 * blamed, as rank 0 saw them. */
#include <inttypes.h>
#include <stdio.h>

#include "bench/outcome.h"
#include "common/rb.h"

void rb_outcome_print_wrong(int check, int checked, int64_t wrong, int nrows,
			    int complete)
{
	if (!check)
		printf("# Out of bounds values : not checked (-c 0)\n");
	else if (!checked)
		printf("# Out of bounds values : none checked: the run failed before its first row\n");
	else if (complete)
		printf("# Out of bounds values : %" PRId64 " %s\n", wrong,
		       wrong ? "FAILED" : "OK");
	else
		printf("# Out of bounds values : %" PRId64 " %s in the %d rows checked before the failure\n",
		       wrong, wrong ? "FAILED" : "OK", nrows);
}

void rb_outcome_print_failed(int nrows)
{
	const char *why = rb_log_first_error();

	printf("# Verdict: FAIL (runtime): %s; %d rows measured before the failure\n",
	       why[0] ? why : "the run did not finish", nrows);
}

json_t *rb_outcome_failure_json(int exit_status)
{
	const char *why = rb_log_first_error();
	int culprit = rb_log_get_culprit();
	json_t *reason = json_string(why[0] ? why : rb_strerror(-RB_EPEER));

	return json_pack("{s:o, s:o, s:i, s:i}",
			 "reason", reason ? reason : json_string("unknown"),
			 "peer", culprit >= 0 ? json_integer(culprit) : json_null(),
			 "detected_by", 0, "exit_status", exit_status);
}
