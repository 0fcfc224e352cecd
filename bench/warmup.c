/* SPDX-License-Identifier: BSD-3-Clause */
/* Warm-up before the timed iterations: a fixed count (-w N), or the auto
 * rule that runs windows of iterations until their median time stops
 * changing, within a count and a time bound (docs/statistics.md,
 * "Warm-up"). */
#include <math.h>
#include <string.h>

#include "bench/bench.h"

int rb_warmup_window(double p50_us)
{
	double k;

	if (!(p50_us > 0))
		return RB_WARMUP_WIN_MAX;
	k = ceil(RB_WARMUP_WIN_US / p50_us);
	if (k < RB_WARMUP_WIN_MIN)
		return RB_WARMUP_WIN_MIN;
	if (k > RB_WARMUP_WIN_MAX)
		return RB_WARMUP_WIN_MAX;
	return (int)k;
}

int rb_warmup_tail(double p50_us)
{
	double k;

	if (!(p50_us > 0))
		return RB_WARMUP_TAIL_MAX;
	k = ceil(RB_WARMUP_TAIL_US / p50_us);
	return k > RB_WARMUP_TAIL_MAX ? RB_WARMUP_TAIL_MAX : (int)k;
}

int rb_warmup_stable(const double *p50_us, int n)
{
	double lo;
	double hi;

	if (n < RB_WARMUP_STABLE)
		return 0;
	lo = hi = p50_us[n - 1];
	for (int i = n - RB_WARMUP_STABLE; i < n; i++) {
		lo = RB_MIN(lo, p50_us[i]);
		hi = RB_MAX(hi, p50_us[i]);
	}
	return hi <= (1 + RB_WARMUP_TOL) * lo;
}

static int warmup_fixed(int n, int (*iter)(void *, double *), void *ctx,
			struct rb_warmup *w_p)
{
	uint64_t t0 = rb_time_ns();
	double t;

	for (int i = 0; i < n; i++) {
		int rc = iter(ctx, &t);

		if (rc)
			return rc;
	}
	*w_p = (struct rb_warmup){
		.iters = n,
		.stable = 1,
		.ms = (double)(rb_time_ns() - t0) / 1e6,
	};
	return 0;
}

/* The auto rule. The window lengths, the decision to stop and the tail
 * depend only on what the exchange returns, which is the same on every
 * rank, so all ranks run the same windows and leave together. */
static int warmup_auto(int max_iters, int max_ms,
		       const struct rb_boot_ops *bops, struct rb_boot *boot,
		       int (*iter)(void *, double *), void *ctx,
		       struct rb_warmup *w_p)
{
	/* One window's per-iteration times, then the elapsed ms. */
	double buf[RB_WARMUP_WIN_MAX + 1];
	double med[RB_WARMUP_STABLE] = { 0 };
	struct rb_warmup w = { 0 };
	struct rb_stats s;
	uint64_t t0 = rb_time_ns();
	int k = RB_WARMUP_WIN_MIN;
	int rc;

	for (;;) {
		k = RB_MIN(k, max_iters - w.iters);
		for (int i = 0; i < k; i++) {
			rc = iter(ctx, &buf[i]);
			if (rc)
				return rc;
		}
		w.iters += k;
		buf[k] = (double)(rb_time_ns() - t0) / 1e6;
		rc = bops->allreduce_max_f64(boot, "warm-up window", buf, k + 1);
		if (rc)
			return rc;
		w.ms = buf[k];
		rb_stats_compute(buf, k, &s);
		w.p50_us = s.p50;
		memmove(med, med + 1, sizeof(med) - sizeof(med[0]));
		med[RB_WARMUP_STABLE - 1] = s.p50;
		w.windows++;
		if (w.windows >= RB_WARMUP_STABLE &&
		    rb_warmup_stable(med, RB_WARMUP_STABLE)) {
			w.stable = 1;
			break;
		}
		if (w.iters >= max_iters || w.ms >= max_ms)
			break;
		k = rb_warmup_window(s.p50);
	}
	/* The tail: decided from agreed numbers, so the same on every rank. */
	for (int i = rb_warmup_tail(w.p50_us); i > 0; i--) {
		rc = iter(ctx, &buf[0]);
		if (rc)
			return rc;
		w.iters++;
	}
	*w_p = w;
	return 0;
}

int rb_warmup_run(const struct rb_opts *o, int force_auto,
		  const struct rb_boot_ops *bops, struct rb_boot *boot,
		  int (*iter)(void *ctx, double *t_us_p), void *ctx,
		  struct rb_warmup *w_p)
{
	int max_iters = o->warmup_auto ? o->warmup_iters : RB_WARMUP_AUTO_ITERS;
	int max_ms = o->warmup_auto ? o->warmup_max_ms : RB_WARMUP_AUTO_MS;

	if (!o->warmup_auto && !force_auto)
		return warmup_fixed(o->warmup_iters, iter, ctx, w_p);
	return warmup_auto(RB_MAX(max_iters, 1), max_ms, bops, boot, iter, ctx,
			   w_p);
}
