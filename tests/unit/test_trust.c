/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the figures' trust: the order-statistic CI of the median
 * against known distributions (bench/ci.c), the confidence-driven timed
 * loop with a one-rank bootstrap (bench/timed.c), the alpha-beta fit
 * recovering known parameters (bench/fit.c), the cost forms of the
 * algorithms and the straggler view (bench/straggler.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/bench.h"

/* A small deterministic generator (xorshift64*), uniform in (0, 1). */
static uint64_t rng_state;

static double uniform01(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((rng_state * 2685821657736338717ull >> 11) + 0.5) / 9007199254740992.0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The ranks of the interval, computed by hand from Binomial(n, 1/2):
 * n = 6: P(B = 0) = 1/64, coverage 1 - 2/64 = 96.9 %; n = 10: ranks 2 and
 * 9, 97.9 %; n = 20: 6 and 15, 95.9 %; n = 100: 40 and 61, 96.5 %. */
static void test_ci_ranks(void **state)
{
	const int want[][3] = { { 6, 1, 6 }, { 10, 2, 9 }, { 20, 6, 15 },
				{ 100, 40, 61 } };
	int l = -1;
	int u = -1;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(rb_ci_median_ranks(want[i][0], 0.95, &l, &u), 0);
		assert_int_equal(l, want[i][1]);
		assert_int_equal(u, want[i][2]);
	}
	/* Too few samples for 95 %: 5 samples cover at most 1 - 2/32. */
	assert_int_equal(rb_ci_median_ranks(5, 0.95, &l, &u), -RB_EINVAL);
	/* The normal approximation beyond 10000 samples stays within one
	 * rank of n/2 - 1.96 sqrt(n)/2. */
	assert_int_equal(rb_ci_median_ranks(40000, 0.95, &l, &u), 0);
	assert_true(abs(l - (20000 - 196)) <= 1);
	assert_int_equal(u, 40001 - l);
}

/* Coverage on exponential samples (median ln 2) and on a skewed
 * log-normal one (median 1): over 2000 seeded trials the interval holds the
 * true median in 95-97.5 % of them (the exact coverage of n = 31 is 97.1 %,
 * n = 200 95.7 %; the band allows for the 2000 trials' own spread). */
static double coverage(int n, double (*draw)(void), double median)
{
	double *v = malloc((size_t)n * sizeof(*v));
	int hit = 0;
	int trials = 2000;

	assert_non_null(v);
	for (int t = 0; t < trials; t++) {
		double lo;
		double hi;

		for (int i = 0; i < n; i++)
			v[i] = draw();
		qsort(v, (size_t)n, sizeof(*v), cmp_d);
		assert_int_equal(rb_ci_median(v, n, 0.95, &lo, &hi), 0);
		assert_true(lo <= v[(n + 1) / 2 - 1] && v[(n + 1) / 2 - 1] <= hi);
		hit += lo <= median && median <= hi;
	}
	free(v);
	return (double)hit / trials;
}

static double draw_exp(void)
{
	return -log(uniform01());
}

static double draw_lognormal(void)
{
	double u = uniform01();
	double w = uniform01();

	return exp(0.8 * sqrt(-2 * log(u)) * cos(2 * M_PI * w));
}

static void test_ci_coverage(void **state)
{
	double c;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ull;
	c = coverage(31, draw_exp, log(2.0));
	assert_true(c >= 0.95 && c <= 0.985);
	c = coverage(200, draw_lognormal, 1.0);
	assert_true(c >= 0.935 && c <= 0.975);
	assert_true(rb_ci_within(98, 102, 100, 2));
	assert_false(rb_ci_within(97.9, 102, 100, 2));
	assert_false(rb_ci_within(98, 102.1, 100, 2));
}

/* One rank: every exchange is the identity; they are counted. */
static int exchanges;

static int one_max(struct rb_boot *b, const char *what, double *v, int n)
{
	(void)b;
	(void)v;
	(void)n;
	assert_non_null(what);
	exchanges++;
	return 0;
}

static int one_sum(struct rb_boot *b, const char *what, int64_t *v, int n)
{
	(void)b;
	(void)v;
	(void)n;
	assert_non_null(what);
	return 0;
}

static int one_rank(struct rb_boot *b)
{
	(void)b;
	return 0;
}

static int one_gather(struct rb_boot *b, const char *what, const void *in,
		      void *out, size_t len, int64_t timeout_ms)
{
	(void)b;
	(void)what;
	(void)timeout_ms;
	memcpy(out, in, len);
	return 0;
}

static const struct rb_boot_ops one_ops = {
	.name = "one rank",
	.rank = one_rank,
	.allreduce_max_f64 = one_max,
	.allreduce_sum_i64 = one_sum,
	.gather = one_gather,
};

/* Iteration i takes 1000 ns times a factor: within +-1 % (steady), or
 * spread 1..3 x (noisy, never within 1 %). */
struct script {
	int calls;
	int noisy;
};

static int script_iter(void *ctx, int64_t *ns_p)
{
	struct script *s = ctx;
	double f = s->noisy ? 1 + 2 * uniform01() : 0.99 + 0.02 * uniform01();

	s->calls++;
	*ns_p = (int64_t)(1000 * f);
	return 0;
}

static struct rb_opts opts_of(int argc, char **argv)
{
	struct rb_opts o;

	rb_opts_defaults(&o);
	assert_int_equal(rb_opts_parse(&o, argc, argv, "bench", 0), RB_OPTS_RUN);
	return o;
}

static void test_timed_fixed(void **state)
{
	char *argv[] = { "bench", "-n", "7", NULL };
	struct rb_opts o = opts_of(3, argv);
	struct rb_series s = { 0 };
	struct script sc = { 0 };
	struct rb_timed t;

	(void)state;
	exchanges = 0;
	assert_int_equal(rb_timed_run(&o, &one_ops, NULL, 1, script_iter, &sc,
				      &s, &t), 0);
	assert_int_equal(sc.calls, 7);
	assert_int_equal(t.iters, 7);
	assert_int_equal(exchanges, 1);	/* as before: one exchange per row */
	assert_true(t.has_ci);
	assert_true(t.ci_lo_us >= 0.99 && t.ci_hi_us <= 1.01);
	assert_false(t.met);		/* no target */
	rb_series_free(&s);
}

static void test_timed_target_met(void **state)
{
	char *argv[] = { "bench", "--target-ci", "2", NULL };
	struct rb_opts o = opts_of(3, argv);
	struct rb_series s = { 0 };
	struct script sc = { 0 };
	struct rb_timed t;

	(void)state;
	rng_state = 12345;
	assert_int_equal(rb_timed_run(&o, &one_ops, NULL, 1, script_iter, &sc,
				      &s, &t), 0);
	assert_true(t.met);
	assert_int_equal(t.iters, sc.calls);
	assert_int_equal(t.iters, 20);	/* the first batch (-n) suffices */
	assert_true(t.ci_lo_us >= 0.98 * t.p50_us && t.ci_hi_us <= 1.02 * t.p50_us);
	rb_series_free(&s);
}

/* An impossible target: batches grow until the time bound, then stop
 * with met false; the count is bounded by the time, never a hang. */
static void test_timed_target_not_met(void **state)
{
	char *argv[] = { "bench", "--target-ci", "0.001", "--max-time-per-size",
			 "0.05", NULL };
	struct rb_opts o = opts_of(5, argv);
	struct rb_series s = { 0 };
	struct script sc = { .noisy = 1 };
	struct rb_timed t;

	(void)state;
	rng_state = 777;
	exchanges = 0;
	assert_int_equal(rb_timed_run(&o, &one_ops, NULL, 1, script_iter, &sc,
				      &s, &t), 0);
	assert_false(t.met);
	assert_true(t.has_ci);
	assert_true(t.ms >= 50 || t.iters == RB_CI_MAX_ITERS);
	assert_int_equal(t.batches, exchanges);
	assert_true(t.batches >= 2);
	/* Noisy 1..3 us: the median is near 2 us, the interval contains it. */
	assert_true(t.ci_lo_us <= t.p50_us && t.p50_us <= t.ci_hi_us);
	assert_true(fabs(t.p50_us - 2.0) < 0.2);
	rb_series_free(&s);
}

/* --per-rank-times gathers this rank's own times before the sums. */
static void test_timed_per_rank(void **state)
{
	char *argv[] = { "bench", "-n", "9", "--per-rank-times", NULL };
	struct rb_opts o = opts_of(4, argv);
	struct rb_series s = { 0 };
	struct script sc = { 0 };
	struct rb_timed t;

	(void)state;
	assert_int_equal(rb_timed_run(&o, &one_ops, NULL, 1, script_iter, &sc,
				      &s, &t), 0);
	assert_non_null(s.all_ns);
	for (int i = 0; i < 9; i++)
		assert_true(s.all_ns[i] >= 990 && s.all_ns[i] <= 1010);
	rb_series_free(&s);
}

/* Ring all-reduce on 8 ranks, alpha 5 us, beta 12.5 GB/s, times with a
 * deterministic +-0.5 % error: the fit recovers both within 1 %. */
static void test_fit_recovers(void **state)
{
	const struct rb_coll_algo *ring;
	struct rb_coll_args a = { .kind = RB_COLL_ALLREDUCE, .nranks = 8,
				  .count = 1024 };
	struct rb_coll_shape sh;
	struct rb_fit_point p[16];
	struct rb_fit f;
	int n = 0;

	(void)state;
	ring = rb_coll_algo_find(RB_COLL_ALLREDUCE, "ring", &a);
	assert_non_null(ring);
	sh = rb_coll_shape_of(&a);
	for (double bytes = 1024; bytes <= 64.0 * 1024 * 1024; bytes *= 4) {
		struct rb_coll_cost c;
		double t;

		ring->cost(&sh, bytes, &c);
		assert_true(c.steps[RB_LINK_INTRA] == 14);
		assert_true(fabs(c.bytes[RB_LINK_INTRA] - 1.75 * bytes) < 1e-6);
		t = 14 * 5.0 + 1.75 * bytes / 12.5e3;
		p[n] = (struct rb_fit_point){ c.steps[RB_LINK_INTRA],
					      c.bytes[RB_LINK_INTRA],
					      t * (n % 2 ? 1.005 : 0.995) };
		n++;
	}
	assert_int_equal(rb_fit_alpha_beta(p, n, &f), 0);
	assert_true(fabs(f.alpha_us / 5.0 - 1) < 0.01);
	assert_true(fabs(f.beta_gbps / 12.5 - 1) < 0.01);
	assert_true(f.max_pct < 1.0 && f.rms_pct > 0.1);
	assert_true(fabs(rb_fit_eval(&f, &p[0]) / (70 + 1.75 * 1024 / 12.5e3) - 1) < 0.01);
	/* One point, or no byte term: no fit. */
	assert_int_equal(rb_fit_alpha_beta(p, 1, &f), -RB_EINVAL);
	p[0].bytes = p[1].bytes = 0;
	assert_int_equal(rb_fit_alpha_beta(p, 2, &f), -RB_EINVAL);
}

/* The cost forms, by hand: hier all-reduce on 4 nodes x 8 ranks,
 * recursive doubling on 6 ranks (4 + fold), ring across nodes. */
static void test_cost_forms(void **state)
{
	int node_of[32];
	int local_of[32];
	struct rb_coll_topo topo = { .nnodes = 4, .node_of = node_of,
				     .local_rank_of = local_of,
				     .rail_of = local_of };
	struct rb_coll_args a = { .kind = RB_COLL_ALLREDUCE, .nranks = 32,
				  .count = 1024, .topo = &topo };
	struct rb_coll_shape sh;
	struct rb_coll_cost c;
	const double s = 1 << 20;

	(void)state;
	for (int r = 0; r < 32; r++) {
		node_of[r] = r / 8;
		local_of[r] = r % 8;
	}
	sh = rb_coll_shape_of(&a);
	assert_int_equal(sh.per_node, 8);
	rb_coll_algo_find(RB_COLL_ALLREDUCE, "hier", &a)->cost(&sh, s, &c);
	assert_true(c.steps[RB_LINK_INTRA] == 14 && c.steps[RB_LINK_INTER] == 6);
	assert_true(fabs(c.bytes[RB_LINK_INTRA] - 2 * 7.0 / 8 * s) < 1e-6);
	assert_true(fabs(c.bytes[RB_LINK_INTER] - 2 * 3.0 / 4 * s / 8) < 1e-6);
	rb_coll_algo_find(RB_COLL_ALLREDUCE, "ring", &a)->cost(&sh, s, &c);
	assert_true(c.steps[RB_LINK_INTER] == 62 && c.steps[RB_LINK_INTRA] == 0);
	assert_true(fabs(c.bytes[RB_LINK_INTER] - 62.0 / 32 * s) < 1e-6);
	a.nranks = 6;
	a.topo = NULL;
	sh = rb_coll_shape_of(&a);
	rb_coll_algo_find(RB_COLL_ALLREDUCE, "rd", &a)->cost(&sh, s, &c);
	assert_true(c.steps[RB_LINK_INTRA] == 4 && c.bytes[RB_LINK_INTRA] == 4 * s);
	rb_coll_algo_find(RB_COLL_ALLREDUCE, "rh", &a)->cost(&sh, s, &c);
	assert_true(c.steps[RB_LINK_INTRA] == 6);
	assert_true(fabs(c.bytes[RB_LINK_INTRA] - (1.5 * s + 2 * s)) < 1e-6);
}

/* 3 ranks x 10 iterations: rank 2 is slowest in 7 (by 30 us over the
 * median rank's 100 us), rank 0 in 3 (by 10 us). */
static void test_straggler(void **state)
{
	int64_t ns[3 * 10];
	struct rb_straggler s;

	(void)state;
	for (int i = 0; i < 10; i++) {
		int slow2 = i < 7;

		ns[0 * 10 + i] = slow2 ? 90000 : 110000;
		ns[1 * 10 + i] = 100000;
		ns[2 * 10 + i] = slow2 ? 130000 : 95000;
	}
	rb_straggler_analyse(ns, 3, 10, &s);
	assert_int_equal(s.rank, 2);
	assert_int_equal(s.slowest_iters, 7);
	assert_int_equal(s.iters, 10);
	assert_int_equal(s.nslowest, 2);
	assert_true(fabs(s.excess_us - 30) < 1e-9);
	assert_true(fabs(s.excess_pct - 30) < 1e-9);
}

/* Bad input: zero, negative or garbage targets and time bounds. */
static void test_opts_bad(void **state)
{
	const char *bad[][2] = {
		{ "--target-ci", "0" }, { "--target-ci", "-2" },
		{ "--target-ci", "101" }, { "--target-ci", "x" },
		{ "--max-time-per-size", "0" }, { "--max-time-per-size", "-1" },
		{ "--max-time-per-size", "1s" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rb_opts o;
		/* A valid target first, so a bad time bound is refused for its
		 * value, not for lacking --target-ci. */
		char *argv[] = { "bench", "--target-ci", "5", (char *)bad[i][0],
				 (char *)bad[i][1], NULL };

		rb_opts_defaults(&o);
		assert_int_equal(rb_opts_parse(&o, 5, argv, "bench", 0), -RB_EINVAL);
	}
}

/* --max-time-per-size bounds only --target-ci: alone it is refused, not
 * silently ignored; with a target it is taken. */
static void test_opts_max_time_needs_target(void **state)
{
	struct rb_opts o;
	char *alone[] = { "bench", "--max-time-per-size", "3", NULL };
	char *with[] = { "bench", "--max-time-per-size", "3", "--target-ci", "5", NULL };

	(void)state;
	rb_opts_defaults(&o);
	assert_int_equal(rb_opts_parse(&o, 3, alone, "bench", 0), -RB_EINVAL);
	rb_opts_defaults(&o);
	assert_int_equal(rb_opts_parse(&o, 5, with, "bench", 0), RB_OPTS_RUN);
	assert_true(fabs(o.max_time_per_size_s - 3) < 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ci_ranks),
		cmocka_unit_test(test_ci_coverage),
		cmocka_unit_test(test_timed_fixed),
		cmocka_unit_test(test_timed_target_met),
		cmocka_unit_test(test_timed_target_not_met),
		cmocka_unit_test(test_timed_per_rank),
		cmocka_unit_test(test_fit_recovers),
		cmocka_unit_test(test_cost_forms),
		cmocka_unit_test(test_straggler),
		cmocka_unit_test(test_opts_bad),
		cmocka_unit_test(test_opts_max_time_needs_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
