/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of the warm-up rule (bench/warmup.c, docs/statistics.md): the
 * window length, the stability test, and whole warm-ups against scripted
 * iteration times with a one-rank bootstrap that counts its exchanges. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/bench.h"

/* Scripted iterations: time of call i is f(i); fail_at >= 0 fails there. */
struct script {
	double (*f)(int i);
	int calls;
	int fail_at;
	int sleep_us;
};

static int exchanges;

static int one_rank_max_f64(struct rb_boot *b, const char *what, double *v,
			    int n)
{
	(void)b;
	(void)v;
	(void)n;
	assert_non_null(what);
	exchanges++;
	return 0;
}

static const struct rb_boot_ops one_rank_ops = {
	.name = "one rank",
	.allreduce_max_f64 = one_rank_max_f64,
};

static int script_iter(void *ctx, double *t_us_p)
{
	struct script *s = ctx;
	int i = s->calls++;

	if (i == s->fail_at)
		return -RB_EPEER;
	if (s->sleep_us)
		usleep((useconds_t)s->sleep_us);
	*t_us_p = s->f(i);
	return 0;
}

/* Start-up costs that decay to a plateau of 2 us after 40 iterations. */
static double decaying(int i)
{
	return i < 40 ? 200.0 / (i + 1) + 2 : 2;
}

/* Never settles: 5 % slower every iteration, so every window is more than
 * 5 % slower than the one before. */
static double growing(int i)
{
	return pow(1.05, i);
}

static struct rb_opts opts_with(const char *warmup)
{
	struct rb_opts o;
	char *argv[] = { "bench", "--warmup", (char *)warmup, NULL };

	rb_opts_defaults(&o);
	assert_int_equal(rb_opts_parse(&o, 3, argv, "bench", 0), RB_OPTS_RUN);
	return o;
}

static int run(const struct rb_opts *o, int force_auto, struct script *s,
	       struct rb_warmup *w)
{
	exchanges = 0;
	s->calls = 0;
	return rb_warmup_run(o, force_auto, &one_rank_ops, NULL, script_iter, s,
			     w);
}

static void test_window_length(void **state)
{
	(void)state;
	assert_int_equal(rb_warmup_window(1.0), RB_WARMUP_WIN_MAX);
	assert_int_equal(rb_warmup_window(100.0), 20);
	assert_int_equal(rb_warmup_window(1e4), RB_WARMUP_WIN_MIN);
	assert_int_equal(rb_warmup_window(0), RB_WARMUP_WIN_MAX);
	assert_int_equal(rb_warmup_tail(1.0), RB_WARMUP_TAIL_MAX);
	assert_int_equal(rb_warmup_tail(10.0), 5);
	assert_int_equal(rb_warmup_tail(1e4), 1);
}

static void test_stable(void **state)
{
	const double settled[] = { 10, 5, 5.1, 5.2 };
	const double wobbly[] = { 5, 5.3, 5 };
	const double falling[] = { 8, 7.9, 7.8, 7.7, 7.6, 7.5 };

	(void)state;
	assert_true(rb_warmup_stable(settled, 4));
	assert_false(rb_warmup_stable(settled, 3));	/* 10 vs 5.1 */
	assert_false(rb_warmup_stable(settled + 2, 2));	/* too few windows */
	assert_false(rb_warmup_stable(wobbly, 3));	/* 6 % apart */
	/* A slow decline: any 3 windows within 5 %, so it counts as stable. */
	assert_true(rb_warmup_stable(falling, 6));
}

static void test_auto_settles(void **state)
{
	struct rb_opts o = opts_with("auto");
	struct script s = { .f = decaying, .fail_at = -1 };
	struct rb_warmup w;

	(void)state;
	assert_int_equal(run(&o, 0, &s, &w), 0);
	assert_true(w.stable);
	assert_int_equal(w.iters, s.calls);
	assert_int_equal(w.windows, exchanges);
	assert_true(w.windows >= RB_WARMUP_STABLE);
	/* It ran past the start-up iterations, and stopped soon after. */
	assert_true(w.iters > 40);
	assert_true(w.iters <= 40 + (RB_WARMUP_STABLE + 1) * RB_WARMUP_WIN_MAX +
				RB_WARMUP_TAIL_MAX);
	assert_true(w.p50_us == 2.0);
}

static void test_auto_count_bound(void **state)
{
	struct rb_opts o = opts_with("auto:200");
	struct script s = { .f = growing, .fail_at = -1 };
	struct rb_warmup w;

	(void)state;
	assert_int_equal(o.warmup_iters, 200);
	assert_int_equal(run(&o, 0, &s, &w), 0);
	assert_false(w.stable);
	/* The last window was cut to fit; the tail comes after it. */
	assert_int_equal(w.iters, 200 + rb_warmup_tail(w.p50_us));
	assert_int_equal(s.calls, w.iters);
	assert_int_equal(w.windows, exchanges);
}

static void test_auto_time_bound(void **state)
{
	struct rb_opts o = opts_with("auto:1000:20");
	struct script s = { .f = growing, .fail_at = -1, .sleep_us = 1000 };
	struct rb_warmup w;

	(void)state;
	assert_int_equal(o.warmup_max_ms, 20);
	assert_int_equal(run(&o, 0, &s, &w), 0);
	assert_false(w.stable);
	assert_true(w.ms >= 20);
	/* Checked after each window: past the bound by one window at most. */
	assert_true(w.iters < 20 + 2 * RB_WARMUP_WIN_MAX + RB_WARMUP_TAIL_MAX);
}

static void test_fixed_and_priming(void **state)
{
	struct rb_opts o = opts_with("7");
	struct script s = { .f = decaying, .fail_at = -1 };
	struct rb_warmup w;

	(void)state;
	assert_false(o.warmup_auto);
	assert_int_equal(run(&o, 0, &s, &w), 0);
	assert_int_equal(w.iters, 7);
	assert_int_equal(s.calls, 7);
	assert_int_equal(exchanges, 0);
	assert_int_equal(w.windows, 0);
	assert_true(w.stable);
	/* The priming runs the auto rule even for -w N. */
	assert_int_equal(run(&o, 1, &s, &w), 0);
	assert_true(w.stable);
	assert_true(w.iters > 40);
	assert_int_equal(w.windows, exchanges);
	o = opts_with("0");
	assert_int_equal(run(&o, 0, &s, &w), 0);
	assert_int_equal(w.iters, 0);
	assert_int_equal(s.calls, 0);
}

static void test_iteration_error(void **state)
{
	struct rb_opts o = opts_with("auto");
	struct script s = { .f = decaying, .fail_at = 5 };
	struct rb_warmup w = { .iters = -1 };

	(void)state;
	assert_int_equal(run(&o, 0, &s, &w), -RB_EPEER);
	assert_int_equal(w.iters, -1);	/* untouched on error */
	assert_int_equal(s.calls, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_length),
		cmocka_unit_test(test_stable),
		cmocka_unit_test(test_auto_settles),
		cmocka_unit_test(test_auto_count_bound),
		cmocka_unit_test(test_auto_time_bound),
		cmocka_unit_test(test_fixed_and_priming),
		cmocka_unit_test(test_iteration_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
