/* SPDX-License-Identifier: BSD-3-Clause */
/* The distribution-free confidence interval of a median from order
 * statistics (docs/statistics.md, "Confidence of the median"). */
#include <math.h>

#include "bench/bench.h"

/* Above this many samples the binomial is replaced by its normal
 * approximation (the ranks then differ by at most one). */
#define CI_EXACT_MAX 10000

/* ln P(B = k) for B ~ Binomial(n, 1/2). */
static double ci_log_pmf(int n, int k)
{
	return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0) -
	       n * log(2.0);
}

/* Largest l such that 2 P(B <= l - 1) <= 1 - level; 0 if none. */
static int ci_exact_l(int n, double level)
{
	double alpha = 1 - level;
	double tail = 0;
	int l = 0;

	for (int k = 0; k <= n / 2; k++) {
		tail += exp(ci_log_pmf(n, k));
		if (2 * tail > alpha)
			break;
		l = k + 1;
	}
	return l;
}

/* z with P(|Z| <= z) = level, by bisection on erf. */
static double ci_z(double level)
{
	double lo = 0;
	double hi = 10;

	for (int i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;

		if (erf(mid / sqrt(2.0)) < level)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

int rb_ci_median_ranks(int n, double level, int *l_p, int *u_p)
{
	int l;

	if (n < 1 || !(level > 0 && level < 1))
		return -RB_EINVAL;
	if (n <= CI_EXACT_MAX)
		l = ci_exact_l(n, level);
	else
		l = (int)floor(n / 2.0 - ci_z(level) * sqrt((double)n) / 2.0);
	if (l < 1)
		return -RB_EINVAL;
	*l_p = l;
	*u_p = n + 1 - l;
	return 0;
}

int rb_ci_median(const double *sorted, int n, double level, double *lo_p,
		 double *hi_p)
{
	int l;
	int u;
	int rc = rb_ci_median_ranks(n, level, &l, &u);

	if (rc)
		return rc;
	*lo_p = sorted[l - 1];
	*hi_p = sorted[u - 1];
	return 0;
}

int rb_ci_within(double lo, double hi, double median, double pct)
{
	double tol = pct / 100.0 * median;

	return median > 0 && median - lo <= tol && hi - median <= tol;
}
