/* SPDX-License-Identifier: BSD-3-Clause */
/* How far a run's figures can be trusted, for the report: the iterations
 * and confidence interval of every row, the stragglers, and the fit of the
 * algorithm's cost model (trust.c; docs/statistics.md, docs/model.md). */
#ifndef RB_BENCH_TRUST_H
#define RB_BENCH_TRUST_H

#include <jansson.h>

#include "bench/bench.h"

/* Adds to row's record rec (whose columns, report.c's, hold the iterations
 * and the CI bounds) the CI's half-width and target, the timed phase's
 * wall time, the cost form and (--per-rank-times) the straggler and the
 * per-rank times. */
void rb_trust_row_json(json_t *rec, const struct rb_row *row,
		       const struct rb_run_meta *m);

/* Prints the footer's confidence, straggler and fit lines from the
 * records. \return the summary's new fields (a new reference), or NULL. */
json_t *rb_trust_footer(json_t *records, const struct rb_run_meta *m);

#endif
