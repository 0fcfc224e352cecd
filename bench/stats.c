/* SPDX-License-Identifier: BSD-3-Clause */
/* Statistics over per-iteration times (docs/statistics.md). */
#include <math.h>
#include <stdlib.h>

#include "bench/bench.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v: the smallest sample such that at
 * least p percent of the samples are <= it. */
static double percentile(const double *v, int n, double p)
{
	int k = (int)ceil(p / 100.0 * n);

	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

void rb_stats_compute(double *v, int n, struct rb_stats *s)
{
	double sum = 0;

	if (n < 1) {
		*s = (struct rb_stats){ 0 };
		return;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	for (int i = 0; i < n; i++)
		sum += v[i];
	s->avg = sum / n;
	s->min = v[0];
	s->max = v[n - 1];
	s->p50 = percentile(v, n, 50);
	s->p99 = percentile(v, n, 99);
}

double rb_algbw_gbps(uint64_t bytes, double time_us)
{
	if (!(time_us > 0))
		return 0;
	/* bytes / (time_us * 1e-6 s) / 1e9 = bytes / time_us / 1e3 */
	return (double)bytes / time_us / 1e3;
}
