/* SPDX-License-Identifier: BSD-3-Clause */
/* How the report tells a run that did not finish (bench/outcome.c):
 * the footer's #wrong and verdict lines and the summary's failure object
 * (docs/results.md, docs/exit-codes.md "After a failure"). */
#ifndef RB_BENCH_OUTCOME_H
#define RB_BENCH_OUTCOME_H

#include <jansson.h>
#include <stdint.h>

/* The "# Out of bounds values" line over the rows actually checked: check
 * is -c, checked whether any row was, wrong their sum, nrows the rows
 * measured, complete whether every size ran. */
void rb_outcome_print_wrong(int check, int checked, int64_t wrong, int nrows,
			    int complete);

/* "# Verdict: FAIL (runtime): <first error>; N rows measured before the
 * failure". */
void rb_outcome_print_failed(int nrows);

/* {reason, peer, detected_by, exit_status}: the first error this process
 * logged and the rank it blamed (rb_log_first_error, rb_log_get_culprit).
 * \return a new reference. */
json_t *rb_outcome_failure_json(int exit_status);

#endif
