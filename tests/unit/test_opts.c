/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests: size parsing, option parsing and validation, statistics and
 * bandwidth arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/bench.h"
#include "bench/opts_priv.h"
#include "transports/tcp.h"

static void test_parse_size(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(rb_parse_size("8", &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(rb_parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(rb_parse_size("16M", &v), 0);
	assert_int_equal(v, 16u << 20);
	assert_int_equal(rb_parse_size("1G", &v), 0);
	assert_int_equal(v, 1u << 30);
	assert_int_equal(rb_parse_size("2KiB", &v), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(rb_parse_size("4mb", &v), 0);
	assert_int_equal(v, 4u << 20);
	v = 77;
	assert_int_equal(rb_parse_size("12Q", &v), -RB_EINVAL);
	assert_int_equal(rb_parse_size("-5", &v), -RB_EINVAL);
	assert_int_equal(rb_parse_size("", &v), -RB_EINVAL);
	assert_int_equal(rb_parse_size("K", &v), -RB_EINVAL);
	assert_int_equal(rb_parse_size("1.5M", &v), -RB_EINVAL);
	assert_int_equal(rb_parse_size("99999999999999999999", &v), -RB_EINVAL);
	assert_int_equal(rb_parse_size("20000000000000T", &v), -RB_EINVAL);
	assert_int_equal(v, 77);	/* untouched on error */
}

static void test_format_size(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(rb_format_size(8, buf), "8");
	assert_string_equal(rb_format_size(1024, buf), "1K");
	assert_string_equal(rb_format_size(3u << 20, buf), "3M");
	assert_string_equal(rb_format_size(1536, buf), "1536");
}

/* Parses a NULL-terminated argument list; returns rb_opts_parse's result. */
static int parse(struct rb_opts *o, ...)
{
	char *argv[32] = { "bench" };
	int argc = 1;
	va_list ap;
	char *a;

	va_start(ap, o);
	while ((a = va_arg(ap, char *)) && argc < 31)
		argv[argc++] = a;
	va_end(ap);
	rb_opts_defaults(o);
	return rb_opts_parse(o, argc, argv, "bench", 0);
}

static void test_opts_defaults_and_values(void **state)
{
	struct rb_opts o;

	(void)state;
	assert_int_equal(parse(&o, NULL), RB_OPTS_RUN);
	assert_int_equal(o.min_bytes, 8);
	assert_int_equal(o.max_bytes, 64u << 20);
	assert_int_equal(o.iters, 20);
	assert_int_equal(o.check, 1);
	assert_string_equal(o.transport, "shm");
	/* Warm-up until stable by default; the table shows the max over ranks. */
	assert_true(o.warmup_auto);
	assert_int_equal(o.warmup_iters, RB_WARMUP_AUTO_ITERS);
	assert_int_equal(o.warmup_max_ms, RB_WARMUP_AUTO_MS);
	assert_int_equal(o.stat, RB_STAT_MAX);
	assert_int_equal(parse(&o, "-b", "1K", "-e", "4M", "-f", "4", "-n", "7",
			       "-w", "0", "-c", "0", "-d", "bf16", "-o", "max",
			       "-T", "9", "--transport", "mpi", "--algo", "ring",
			       NULL), RB_OPTS_RUN);
	assert_int_equal(o.min_bytes, 1024);
	assert_int_equal(o.max_bytes, 4u << 20);
	assert_int_equal(o.step_factor, 4);
	assert_int_equal(o.iters, 7);
	assert_int_equal(o.warmup_iters, 0);
	assert_false(o.warmup_auto);
	assert_int_equal(o.check, 0);
	assert_int_equal(o.dtype, RB_BF16);
	assert_int_equal(o.op, RB_OP_MAX);
	assert_int_equal(o.timeout_ms, 9000);
	assert_string_equal(o.transport, "mpi");
	assert_string_equal(o.algo, "ring");
	/* nccl-tests spellings are aliases. */
	assert_int_equal(parse(&o, "--minbytes", "16", "--maxbytes", "32",
			       "--warmup_iters", "3", "--stepfactor", "8", NULL),
			 RB_OPTS_RUN);
	assert_int_equal(o.min_bytes, 16);
	assert_int_equal(o.max_bytes, 32);
	assert_int_equal(o.warmup_iters, 3);
	assert_int_equal(o.step_factor, 8);
	/* Transport options are the transports' own rows, chained in. */
	assert_int_equal(parse(&o, "--net-if", "rail0,rail1", "--tcp-streams",
			       "4", NULL), RB_OPTS_RUN);
	assert_int_equal(parse(&o, "--tcp-streams", "0", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--net-if", "rail0,,rail1", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--tcp-port", "70000", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--transport", "shm+tcp", NULL), RB_OPTS_RUN);
	assert_string_equal(o.transport, "shm+tcp");
	assert_int_equal(parse(&o, "--transport", "shm+nope", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--transport", "shm+mpi", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--help", NULL), RB_OPTS_EXIT_OK);
}

static void test_opts_warmup_and_stat(void **state)
{
	struct rb_opts o;

	(void)state;
	assert_int_equal(parse(&o, "--warmup", "auto:50", NULL), RB_OPTS_RUN);
	assert_true(o.warmup_auto);
	assert_int_equal(o.warmup_iters, 50);
	assert_int_equal(o.warmup_max_ms, RB_WARMUP_AUTO_MS);
	assert_int_equal(parse(&o, "--warmup", "auto:50:200", NULL), RB_OPTS_RUN);
	assert_int_equal(o.warmup_iters, 50);
	assert_int_equal(o.warmup_max_ms, 200);
	/* A count is -w; the last of -w and --warmup wins. */
	assert_int_equal(parse(&o, "--warmup", "12", NULL), RB_OPTS_RUN);
	assert_false(o.warmup_auto);
	assert_int_equal(o.warmup_iters, 12);
	assert_int_equal(parse(&o, "-w", "3", "--warmup", "auto", NULL), RB_OPTS_RUN);
	assert_true(o.warmup_auto);
	assert_int_equal(o.warmup_iters, RB_WARMUP_AUTO_ITERS);
	assert_int_equal(parse(&o, "--warmup", "auto", "-w", "3", NULL), RB_OPTS_RUN);
	assert_false(o.warmup_auto);
	assert_int_equal(o.warmup_iters, 3);
	assert_int_equal(parse(&o, "--stat", "avg", NULL), RB_OPTS_RUN);
	assert_int_equal(o.stat, RB_STAT_AVG);
	assert_string_equal(rb_stat_name(o.stat), "avg");
	assert_int_equal(parse(&o, "--stat", "max", NULL), RB_OPTS_RUN);
	assert_int_equal(o.stat, RB_STAT_MAX);
	assert_string_equal(rb_stat_name(o.stat), "max");
	assert_int_equal(parse(&o, "--stat", "median", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--warmup", "automatic", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--warmup", "auto:0", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--warmup", "auto:10:0", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--warmup", "auto:x", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--warmup", "auto:10:20:30", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--warmup", "auto:", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--warmup", "-1", NULL), -RB_EINVAL);
}

/* parse() of one option and its value into fresh options. */
static int parse_ok(const char *opt, const char *val)
{
	struct rb_opts o;

	return parse(&o, opt, val, NULL);
}

/* Every transport row appears once, however many transports share it. */
static void test_opts_transport_rows(void **state)
{
	const char *want[] = { "net-if", "tcp-streams", "tcp-port" };
	int n = 0;

	(void)state;
	for (size_t w = 0; w < RB_ARRAY_SIZE(want); w++) {
		int seen = 0;

		for (int i = 0; rb_tp_opt_at(i); i++)
			seen += !strcmp(rb_tp_opt_at(i)->name, want[w]);
		assert_int_equal(seen, 1);
	}
	for (int i = 0; rb_tp_opt_at(i); i++) {
		int dup = 0;

		for (int j = 0; j < i; j++)
			dup += !strcmp(rb_tp_opt_at(i)->name, rb_tp_opt_at(j)->name);
		assert_int_equal(dup, 0);
		n++;
	}
#ifdef HAVE_VERBS
	/* ib and roce share ib-dev, gid-index, tclass, sl, qps. */
	assert_int_equal(n, 8);
	assert_int_equal(parse_ok("--qps", "4"), RB_OPTS_RUN);
	assert_int_equal(parse_ok("--qps", "0"), -RB_EINVAL);
	assert_int_equal(parse_ok("--gid-index", "3"), RB_OPTS_RUN);
	assert_int_equal(parse_ok("--sl", "16"), -RB_EINVAL);
#else
	assert_int_equal(n, 3);
#endif
}

static void test_opts_bad_input(void **state)
{
	struct rb_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-b", "12Q", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-e", "abc", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-b", "1M", "-e", "1K", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-b", "0", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-n", "0", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-n", "-3", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-w", "-1", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-f", "1", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-f", "1.5", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-c", "2", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-d", "float128", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-o", "avg", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-T", "0", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--transport", "carrier-pigeon", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--rails", "manual", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--placement", "sideways", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--expect-busbw", "-1", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--no-such-option", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-n", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "stray", NULL), -RB_EINVAL);
}

/* Parsing twice in one process gives the same answers: getopt is fully
 * reset (optind = 0), even after an error left it mid-argument. */
static void test_opts_reentrant(void **state)
{
	struct rb_opts o;

	(void)state;
	for (int k = 0; k < 3; k++) {
		assert_int_equal(parse(&o, "-b", "1K", "-e", "4K", "-n", "3", NULL),
				 RB_OPTS_RUN);
		assert_int_equal(o.min_bytes, 1024);
		assert_int_equal(o.iters, 3);
		/* An error inside a cluster of short options... */
		assert_int_equal(parse(&o, "-vn", NULL), -RB_EINVAL);
		assert_int_equal(parse(&o, "-vvx", NULL), -RB_EINVAL);
		/* ...does not leak into the next parse. */
		assert_int_equal(parse(&o, "-v", "-n", "5", NULL), RB_OPTS_RUN);
		assert_int_equal(o.iters, 5);
		assert_int_equal(o.verbose, 1);
	}
}

static void test_opts_conflicts_and_ranges(void **state)
{
	struct rb_opts o;

	(void)state;
	assert_int_equal(parse(&o, "-f", "4", "-i", "1K", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-i", "1K", "-f", "4", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--results", "d", "--no-results", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-i", "0", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-b", "1K", "-e", "8K", "-i", "1K", NULL), RB_OPTS_RUN);
	assert_int_equal(o.step_bytes, 1024);
	/* The size cap: 4096 sizes pass, 4097 do not. */
	assert_int_equal(parse(&o, "-b", "1", "-e", "4096", "-i", "1", NULL), RB_OPTS_RUN);
	assert_int_equal(parse(&o, "-b", "1", "-e", "4097", "-i", "1", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-i", "1", "-e", "1G", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "-b", "1", "-e", "1T", "-f", "2", NULL), RB_OPTS_RUN);
	assert_int_equal(parse(&o, "--expect-busbw", "inf", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--expect-busbw", "nan", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--expect-busbw", "1e308", NULL), RB_OPTS_RUN);
	assert_int_equal(parse(&o, "--expect-busbw", "1e309", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--net-if", "", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--tcp-port", "65535", "--tcp-streams", "16", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--tcp-port", "65520", "--tcp-streams", "16", NULL), RB_OPTS_RUN);
	/* Transport values are process-wide: back to the defaults. */
	rb_tcp_cfg = (struct tcp_cfg){ .streams = 1 };
	assert_int_equal(parse(&o, "--topo-xml", "/dev/zero", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--topo-xml", "/nonexistent.xml", NULL), -RB_EINVAL);
}

static void test_opts_text(void **state)
{
	struct rb_opts o;
	char why[256];
	char host[] = "a\nb\xff\xc3\xa9\x1b";

	(void)state;
	assert_int_equal(rb_text_check("plain ascii, caf\xc3\xa9, \xe2\x82\xac"), RB_TEXT_OK);
	assert_int_equal(rb_text_check("a\nb"), RB_TEXT_CONTROL);
	assert_int_equal(rb_text_check("tab\there"), RB_TEXT_CONTROL);
	assert_int_equal(rb_text_check("del\x7f"), RB_TEXT_CONTROL);
	assert_int_equal(rb_text_check("caf\xe9"), RB_TEXT_BAD_UTF8);
	assert_int_equal(rb_text_check("\xc0\xaf"), RB_TEXT_BAD_UTF8);	/* overlong '/' */
	assert_int_equal(rb_text_check("\xed\xa0\x80"), RB_TEXT_BAD_UTF8);	/* surrogate */
	assert_int_equal(rb_text_check("\xf4\x90\x80\x80"), RB_TEXT_BAD_UTF8);	/* > U+10FFFF */
	assert_int_equal(rb_text_check("\xe2\x82"), RB_TEXT_BAD_UTF8);	/* cut short */
	assert_int_equal(rb_text_sanitize(host), 3);
	assert_string_equal(host, "a?b?\xc3\xa9?");
	/* Run ids are one name inside results/. */
	assert_int_equal(rb_opts_check_run_id("run-1.a_b", "--run-id", why, sizeof(why)), 0);
	assert_int_equal(rb_opts_check_run_id("../x", "--run-id", why, sizeof(why)), -RB_EINVAL);
	assert_non_null(strstr(why, "single name"));
	assert_int_equal(rb_opts_check_run_id("..", "--run-id", why, sizeof(why)), -RB_EINVAL);
	assert_int_equal(rb_opts_check_run_id(".", "--run-id", why, sizeof(why)), -RB_EINVAL);
	assert_int_equal(rb_opts_check_run_id("", "--run-id", why, sizeof(why)), -RB_EINVAL);
	assert_int_equal(rb_opts_check_run_id("a\nb", "--run-id", why, sizeof(why)), -RB_EINVAL);
	assert_null(strchr(why, '\n'));
	assert_int_equal(rb_opts_check_run_id("0123456789012345678901234567890123456789012345678901234567890123",
					      "--run-id", why, sizeof(why)), -RB_EINVAL);
	/* Every argument is checked, argv[0] included; the message never
	 * carries the refused bytes. */
	assert_int_equal(parse(&o, "--run-id", "a\nb", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--results", "d\x1b[2J", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--algo", "\xff", NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--run-id", "caf\xc3\xa9", NULL), RB_OPTS_RUN);
	{
		char *argv[] = { "ben\nch", NULL };

		assert_int_equal(rb_opts_check_args(1, argv, why, sizeof(why)), -RB_EINVAL);
		assert_non_null(strstr(why, "program path"));
	}
	setenv("RAILBENCH_RUN_ID", "../up", 1);
	assert_int_equal(parse(&o, NULL), -RB_EINVAL);
	assert_int_equal(parse(&o, "--run-id", "mine", NULL), RB_OPTS_RUN);
	unsetenv("RAILBENCH_RUN_ID");
}

static void test_stats(void **state)
{
	double v[] = { 5, 1, 4, 2, 3 };
	double w[200];
	struct rb_stats s;

	(void)state;
	rb_stats_compute(v, 5, &s);
	assert_true(s.avg == 3.0);
	assert_true(s.min == 1.0);
	assert_true(s.max == 5.0);
	assert_true(s.p50 == 3.0);
	assert_true(s.p99 == 5.0);
	for (int i = 0; i < 200; i++)
		w[i] = 200 - i;	/* 1..200 reversed */
	rb_stats_compute(w, 200, &s);
	assert_true(s.p50 == 100.0);	/* nearest rank: ceil(0.5*200) = 100 */
	assert_true(s.p99 == 198.0);	/* ceil(0.99*200) = 198 */
	assert_true(s.avg == 100.5);
	w[0] = 7;
	rb_stats_compute(w, 1, &s);
	assert_true(s.p99 == 7 && s.p50 == 7 && s.min == 7 && s.max == 7);
}

static void test_bandwidth(void **state)
{
	(void)state;
	/* 1 GB in 1 s = 1 GB/s; 64 MiB in 10 ms = 6.7108864 GB/s */
	assert_true(rb_algbw_gbps(1000000000ull, 1e6) == 1.0);
	assert_true(rb_algbw_gbps(64ull << 20, 10000.0) > 6.7108863 &&
		    rb_algbw_gbps(64ull << 20, 10000.0) < 6.7108865);
	assert_true(rb_algbw_gbps(8, 0) == 0);
}

static void test_dtype_names(void **state)
{
	enum rb_dtype t;
	enum rb_redop op;

	(void)state;
	for (int i = 0; i < RB_NDTYPES; i++) {
		assert_int_equal(rb_dtype_parse(rb_dtype_name((enum rb_dtype)i), &t), 0);
		assert_int_equal(t, i);
	}
	assert_int_equal(rb_dtype_size(RB_HALF), 2);
	assert_int_equal(rb_dtype_size(RB_INT64), 8);
	assert_int_equal(rb_dtype_parse("fp16", &t), 0);
	assert_int_equal(t, RB_HALF);
	assert_int_equal(rb_redop_parse("prod", &op), 0);
	assert_int_equal(op, RB_OP_PROD);
	assert_int_equal(rb_redop_parse("xor", &op), -RB_EINVAL);
	assert_int_equal(rb_exit_code(-RB_EINVAL), RB_EXIT_USAGE);
	assert_int_equal(rb_exit_code(-RB_EPEER), RB_EXIT_RUNTIME);
	assert_int_equal(rb_exit_code(-RB_ETIMEDOUT), RB_EXIT_RUNTIME);
	assert_int_equal(rb_exit_code(-RB_EDATA), RB_EXIT_VERDICT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_opts_defaults_and_values),
		cmocka_unit_test(test_opts_bad_input),
		cmocka_unit_test(test_opts_warmup_and_stat),
		cmocka_unit_test(test_opts_transport_rows),
		cmocka_unit_test(test_opts_reentrant),
		cmocka_unit_test(test_opts_conflicts_and_ranges),
		cmocka_unit_test(test_opts_text),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_bandwidth),
		cmocka_unit_test(test_dtype_names),
	};

	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
