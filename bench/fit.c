/* SPDX-License-Identifier: BSD-3-Clause */
/* The alpha-beta fit: t = steps x alpha + bytes / beta over a run's rows,
 * least squares on relative errors (docs/model.md, "Fit"). */
#include <math.h>

#include "bench/bench.h"

/* beta in GB/s = 1e9 B/s = 1e3 B/us: bytes / beta_gbps / 1e3 is in us. */
double rb_fit_eval(const struct rb_fit *f, const struct rb_fit_point *p)
{
	return p->steps * f->alpha_us + p->bytes / (f->beta_gbps * 1e3);
}

/* Weighted normal equations for x = (alpha, 1/beta'), weights 1/t^2;
 * alpha pinned to 0 when the free solution makes it negative. */
static int fit_solve(const struct rb_fit_point *p, int n, double *a_p,
		     double *b_p)
{
	double saa = 0, sab = 0, sbb = 0, sat = 0, sbt = 0;
	double det;
	double a;
	double b;

	for (int i = 0; i < n; i++) {
		double w = 1 / (p[i].t_us * p[i].t_us);

		saa += w * p[i].steps * p[i].steps;
		sab += w * p[i].steps * p[i].bytes;
		sbb += w * p[i].bytes * p[i].bytes;
		sat += w * p[i].steps * p[i].t_us;
		sbt += w * p[i].bytes * p[i].t_us;
	}
	if (!(sbb > 0))
		return -RB_EINVAL;
	det = saa * sbb - sab * sab;
	a = det > 1e-12 * saa * sbb ? (sat * sbb - sab * sbt) / det : -1;
	b = a >= 0 ? (saa * sbt - sab * sat) / det : 0;
	if (a < 0 || !(b > 0)) {
		a = 0;
		b = sbt / sbb;
	}
	if (!(b > 0))
		return -RB_EINVAL;
	*a_p = a;
	*b_p = b;
	return 0;
}

int rb_fit_alpha_beta(const struct rb_fit_point *p, int n, struct rb_fit *f_p)
{
	struct rb_fit f = { .npoints = n };
	double ss = 0;
	double a;
	double b;

	if (n < 2)
		return -RB_EINVAL;
	for (int i = 0; i < n; i++)
		if (!(p[i].t_us > 0) || p[i].steps < 0 || p[i].bytes < 0)
			return -RB_EINVAL;
	if (fit_solve(p, n, &a, &b))
		return -RB_EINVAL;
	f.alpha_us = a;
	f.beta_gbps = 1 / (b * 1e3);
	for (int i = 0; i < n; i++) {
		double r = 100 * (rb_fit_eval(&f, &p[i]) - p[i].t_us) / p[i].t_us;

		ss += r * r;
		f.max_pct = fmax(f.max_pct, fabs(r));
	}
	f.rms_pct = sqrt(ss / n);
	*f_p = f;
	return 0;
}
