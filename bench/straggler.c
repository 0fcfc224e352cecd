/* SPDX-License-Identifier: BSD-3-Clause */
/* The straggler view: per iteration the slowest rank and its lead over the
 * median rank; the rank that was slowest most often (docs/statistics.md,
 * "Stragglers"). */
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

static int strag_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a;
	int64_t y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void rb_straggler_analyse(const int64_t *ns, int nranks, int n,
			  struct rb_straggler *s_p)
{
	int *count = calloc((size_t)nranks, sizeof(*count));
	double *lead = calloc((size_t)nranks, sizeof(*lead));
	double *rel = calloc((size_t)nranks, sizeof(*rel));
	int64_t *col = malloc((size_t)nranks * sizeof(*col));
	struct rb_straggler s = { .rank = -1, .iters = n };

	if (!count || !lead || !rel || !col)
		goto out;
	for (int i = 0; i < n; i++) {
		int slow = 0;
		int64_t med;

		for (int r = 0; r < nranks; r++) {
			col[r] = ns[(size_t)r * n + i];
			if (col[r] > ns[(size_t)slow * n + i])
				slow = r;
		}
		qsort(col, (size_t)nranks, sizeof(*col), strag_cmp);
		med = col[(nranks + 1) / 2 - 1];
		count[slow]++;
		lead[slow] += (double)(ns[(size_t)slow * n + i] - med) / 1e3;
		if (med > 0)
			rel[slow] += 100.0 * (double)(ns[(size_t)slow * n + i] - med) /
				     (double)med;
	}
	for (int r = 0; r < nranks; r++) {
		s.nslowest += count[r] > 0;
		if (count[r] > s.slowest_iters) {
			s.rank = r;
			s.slowest_iters = count[r];
		}
	}
	if (s.rank >= 0) {
		s.excess_us = lead[s.rank] / s.slowest_iters;
		s.excess_pct = rel[s.rank] / s.slowest_iters;
	}
out:
	free(count);
	free(lead);
	free(rel);
	free(col);
	*s_p = s;
}
