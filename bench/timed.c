/* SPDX-License-Identifier: BSD-3-Clause */
/* The timed iterations of one row: a fixed -n, or batches until the 95 %
 * confidence interval of the median is within --target-ci or
 * --max-time-per-size has passed (docs/statistics.md). */
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

int rb_series_reserve(struct rb_series *s, int n)
{
	double *m;
	double *a;
	int64_t *ns;
	int cap = s->cap ? s->cap : 64;

	if (n <= s->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	m = realloc(s->max_us, ((size_t)cap + 1) * sizeof(*m));
	if (!m)
		return -RB_ENOMEM;
	s->max_us = m;
	a = realloc(s->avg_us, (size_t)cap * sizeof(*a));
	if (!a)
		return -RB_ENOMEM;
	s->avg_us = a;
	ns = realloc(s->ns, (size_t)cap * sizeof(*ns));
	if (!ns)
		return -RB_ENOMEM;
	s->ns = ns;
	s->cap = cap;
	return 0;
}

void rb_series_free(struct rb_series *s)
{
	free(s->max_us);
	free(s->avg_us);
	free(s->ns);
	free(s->all_ns);
	*s = (struct rb_series){ 0 };
}

static int timed_cmp(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of T over the first n iterations and its CI, sorting a copy in
 * s->avg_us (not yet in use). */
static void timed_ci(struct rb_series *s, int n, struct rb_timed *t)
{
	memcpy(s->avg_us, s->max_us, (size_t)n * sizeof(*s->avg_us));
	qsort(s->avg_us, (size_t)n, sizeof(*s->avg_us), timed_cmp);
	t->p50_us = s->avg_us[(n + 1) / 2 - 1];
	t->has_ci = !rb_ci_median(s->avg_us, n, RB_CI_LEVEL, &t->ci_lo_us,
				  &t->ci_hi_us);
	if (!t->has_ci)
		t->ci_lo_us = t->ci_hi_us = 0;
	t->met = t->has_ci && t->target_pct > 0 &&
		 rb_ci_within(t->ci_lo_us, t->ci_hi_us, t->p50_us, t->target_pct);
}

static int timed_batch(int (*iter)(void *, int64_t *), void *ctx,
		       struct rb_series *s, int from, int k)
{
	for (int i = from; i < from + k; i++) {
		int rc = iter(ctx, &s->ns[i]);

		if (rc)
			return rc;
	}
	return 0;
}

/* The next batch: grow the sample by half, at least a warm-up window's
 * worth, and no further than the time left allows at the last batch's
 * wall time per iteration (barrier and exchange included; at least one). */
static int timed_next(int n, double p50_us, double iter_us, double ms_left)
{
	double k = RB_MAX(n / 2, rb_warmup_window(p50_us));

	if (iter_us > 0 && k > ms_left * 1e3 / iter_us + 1)
		k = ms_left * 1e3 / iter_us + 1;
	if (k > RB_CI_MAX_ITERS - n)
		k = RB_CI_MAX_ITERS - n;
	return k < 1 ? 1 : (int)k;
}

/* --target-ci: every decision uses only what the exchanges returned. */
static int timed_target(const struct rb_opts *o, const struct rb_boot_ops *bops,
			struct rb_boot *boot,
			int (*iter)(void *, int64_t *), void *ctx,
			struct rb_series *s, struct rb_timed *t)
{
	double max_ms = o->max_time_per_size_s * 1e3;
	uint64_t t0 = rb_time_ns();
	int k = RB_MAX(o->iters, RB_CI_MIN_ITERS);
	double prev_ms = 0;
	double iter_us;
	int n = 0;
	int rc;

	for (;;) {
		rc = rb_series_reserve(s, n + k);
		rc = rc ? rc : timed_batch(iter, ctx, s, n, k);
		if (rc)
			return rc;
		for (int i = n; i < n + k; i++)
			s->max_us[i] = (double)s->ns[i] / 1e3;
		s->max_us[n + k] = (double)(rb_time_ns() - t0) / 1e6;
		rc = bops->allreduce_max_f64(boot, "timed batch", s->max_us + n,
					     k + 1);
		if (rc)
			return rc;
		t->ms = s->max_us[n + k];
		iter_us = RB_MAX(t->ms - prev_ms, 0) * 1e3 / k;
		prev_ms = t->ms;
		n += k;
		t->batches++;
		timed_ci(s, n, t);
		if (t->met || t->ms >= max_ms || n >= RB_CI_MAX_ITERS)
			break;
		k = timed_next(n, t->p50_us, RB_MAX(iter_us, t->p50_us),
			       max_ms - t->ms);
	}
	t->iters = n;
	return 0;
}

static int timed_fixed(const struct rb_opts *o, const struct rb_boot_ops *bops,
		       struct rb_boot *boot,
		       int (*iter)(void *, int64_t *), void *ctx,
		       struct rb_series *s, struct rb_timed *t)
{
	uint64_t t0 = rb_time_ns();
	int n = o->iters;
	int rc = rb_series_reserve(s, n);

	rc = rc ? rc : timed_batch(iter, ctx, s, 0, n);
	if (rc)
		return rc;
	t->ms = (double)(rb_time_ns() - t0) / 1e6;
	for (int i = 0; i < n; i++)
		s->max_us[i] = (double)s->ns[i] / 1e3;
	rc = bops->allreduce_max_f64(boot, "iteration times", s->max_us, n);
	if (rc)
		return rc;
	t->iters = n;
	timed_ci(s, n, t);
	return 0;
}

/* --per-rank-times: every rank's times into rank 0's s->all_ns, one
 * bounded gather (n messages to rank 0, not n^2). */
static int timed_gather(const struct rb_boot_ops *bops, struct rb_boot *boot,
			int nranks, struct rb_series *s, int n)
{
	size_t need = (size_t)nranks * (size_t)n;
	int root = bops->rank(boot) == 0;

	if (root && need > s->all_cap) {
		int64_t *p = realloc(s->all_ns, need * sizeof(*p));

		if (!p)
			return -RB_ENOMEM;
		s->all_ns = p;
		s->all_cap = need;
	}
	return bops->gather(boot, "per-rank times", s->ns,
			    root ? s->all_ns : NULL, (size_t)n * sizeof(*s->ns), 0);
}

int rb_timed_run(const struct rb_opts *o, const struct rb_boot_ops *bops,
		 struct rb_boot *boot, int nranks,
		 int (*iter)(void *ctx, int64_t *ns_p), void *ctx,
		 struct rb_series *s, struct rb_timed *t_p)
{
	struct rb_timed t = { .target_pct = o->target_ci_pct };
	int rc;

	if (o->target_ci_pct > 0)
		rc = timed_target(o, bops, boot, iter, ctx, s, &t);
	else
		rc = timed_fixed(o, bops, boot, iter, ctx, s, &t);
	if (rc)
		return rc;
	if (o->per_rank_times)
		rc = timed_gather(bops, boot, nranks, s, t.iters);
	/* The mean over ranks: exact, integer nanoseconds summed (into
	 * s->ns, after the gather took this rank's own). */
	rc = rc ? rc : bops->allreduce_sum_i64(boot, "iteration time sums", s->ns, t.iters);
	if (rc)
		return rc;
	for (int i = 0; i < t.iters; i++)
		s->avg_us[i] = (double)s->ns[i] / 1e3 / nranks;
	*t_p = t;
	return 0;
}
