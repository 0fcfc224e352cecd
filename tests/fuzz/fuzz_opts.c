/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz target: the option parsers (collective benchmarks and p2p_bench) and
 * size parsing. The input is an argument list, arguments separated by NUL
 * bytes. Besides crashes and sanitizer reports, it checks what parsing
 * promises: the same arguments give the same answer twice (getopt is fully
 * reset), accepted options are in range, and a size prints back to itself. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/opts_priv.h"
#include "bench/qualify.h"
#include "transports/tcp.h"

#define FUZZ_ARGS 32

/* Transports keep their option values in globals (one parse per
 * process): start every parse from their defaults. */
static void fuzz_reset(void)
{
	rb_tcp_cfg = (struct tcp_cfg){ .streams = 1 };
}

static int fuzz_parse(struct rb_opts *o, int argc, char **args)
{
	char *argv[FUZZ_ARGS + 1];

	/* getopt_long permutes argv: each parse gets its own array. */
	memcpy(argv, args, sizeof(*argv) * (size_t)(argc + 1));
	fuzz_reset();
	rb_opts_defaults(o);
	return rb_opts_parse(o, argc, argv, "fuzz", 0);
}

/* What an accepted set of options guarantees to the harness. */
static void fuzz_check_accepted(const struct rb_opts *o)
{
	char why[256];

	if (o->min_bytes < 1 || o->min_bytes > o->max_bytes ||
	    o->max_bytes > (1ull << 40) || o->iters < 1 ||
	    o->warmup_iters < 0 || o->timeout_ms < 1000 ||
	    (!o->step_bytes && o->step_factor < 2) ||
	    !isfinite(o->expect_gbps) || o->expect_gbps < 0 ||
	    rb_opts_check_sweep(o, why, sizeof(why)) ||
	    rb_opts_check_paths(o, why, sizeof(why)))
		abort();
}

static void fuzz_sizes(int argc, char **args)
{
	for (int i = 1; i < argc; i++) {
		uint64_t v;
		uint64_t back;
		char buf[32];

		if (rb_parse_size(args[i], &v))
			continue;
		if (rb_parse_size(rb_format_size(v, buf), &back) || back != v)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char *args[FUZZ_ARGS + 1] = { "fuzz" };
	int argc = 1;
	struct rb_opts a;
	struct rb_opts b;
	struct rb_qual_cfg q;
	int ra;
	int rb;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i <= size && argc < FUZZ_ARGS; ) {
		args[argc++] = text + i;
		i += strlen(text + i) + 1;
	}
	args[argc] = NULL;
	ra = fuzz_parse(&a, argc, args);
	rb = fuzz_parse(&b, argc, args);
	if (ra != rb || (ra == RB_OPTS_RUN &&
			 (a.min_bytes != b.min_bytes || a.max_bytes != b.max_bytes ||
			  a.iters != b.iters || a.step_bytes != b.step_bytes)))
		abort();
	if (ra == RB_OPTS_RUN)
		fuzz_check_accepted(&a);
	fuzz_sizes(argc, args);
	{
		char *argv[FUZZ_ARGS + 1];

		memcpy(argv, args, sizeof(argv));
		fuzz_reset();
		rb_opts_defaults(&a);
		if (rb_qual_opts_parse(&a, &q, argc, argv, "fuzz", 0) == RB_OPTS_RUN)
			fuzz_check_accepted(&a);
	}
	free(text);
	return 0;
}
