/* SPDX-License-Identifier: BSD-3-Clause */
/* p2p_bench's options: the shared rows it takes (sizes, iterations,
 * transport, results, placement) with its own defaults, and its own rows
 * (pairs, thresholds, line rate), through the option table's per-binary
 * extension (bench/opts.c), so one table drives getopt and --help. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/qualify.h"

enum qual_opt_id {
	Q_PAIRS = RB_OPT_EXT_ID,
	Q_SEED,
	Q_BIDIR,
	Q_RAILS_SERIAL,
	Q_INTRA_ONLY,
	Q_THRESHOLD,
	Q_LINE_THRESHOLD,
	Q_INTRA_THRESHOLD,
	Q_EXPECT,
	Q_MAX_RETESTS,
	Q_RETESTS,
	Q_PLAN,
};

#define QUAL_DEFAULT_BYTES (4ull << 20)
#define QUAL_MAX_NODES 100000
#define QUAL_MAX_RAILS 64

static const struct rb_opt_row qual_rows[] = {
	{ "min-bytes", 0, 1, "SIZE", "smallest message size, K/M/G suffixes (default 4M)" },
	{ "max-bytes", 0, 1, "SIZE", "largest message size, the one judged (default 4M)" },
	{ "step-factor", 0, 1, "F", NULL },
	{ "step-bytes", 0, 1, "SIZE", NULL },
	{ "iters", 0, 1, "N", "timed messages per pair, direction and size (default 20)" },
	{ "warmup-iters", 0, 1, "N", "untimed messages before them (default 5)" },
	{ "check", 0, 1, "0|1", "verify every received byte against the sender's pattern (default 1)" },
	{ "timeout", 0, 1, "SEC", NULL },
	{ "transport", 0, 1, "NAME", "tcp, ib, roce, or INTRA+INTER such as shm+tcp (default shm+tcp)" },
	{ "pairs", Q_PAIRS, 1, "MODE", "all, ring or random:K partners per node, per rail (default all)" },
	{ "seed", Q_SEED, 1, "N", "relabelling of --pairs random:K (default 1)" },
	{ "bidir", Q_BIDIR, 0, NULL, "also measure both directions at once" },
	{ "rails-one-at-a-time", Q_RAILS_SERIAL, 0, NULL, "measure one rail after the other instead of all at once" },
	{ "intra-only", Q_INTRA_ONLY, 0, NULL, "measure intra-node pairs only (runs on one node)" },
	{ "threshold", Q_THRESHOLD, 1, "F", "slow below F x the rail's reference pair, 0 < F <= 1 (default 0.8)" },
	{ "line-threshold", Q_LINE_THRESHOLD, 1, "F", "slow below F x line rate, 0 < F <= 1 (default 0.8)" },
	{ "intra-threshold", Q_INTRA_THRESHOLD, 1, "F", "intra-node pairs: slow below F x the typical one (default 0.5)" },
	{ "expect-gbps", Q_EXPECT, 1, "GBITS", "line rate of every NIC in Gb/s, instead of what the system reports" },
	{ "max-retests", Q_MAX_RETESTS, 1, "N", "suspect pairs retested alone, at most (default 64)" },
	{ "retests", Q_RETESTS, 1, "N", "attempts alone per suspect until it is fine, the best counts (default 3)" },
	{ "plan", Q_PLAN, 1, "NODESxRAILS", "print the schedule's cost at the line rate (--expect-gbps) and exit" },
	{ "results", 0, 1, "DIR", NULL },
	{ "run-id", 0, 1, "ID", NULL },
	{ "no-results", 0, 0, NULL, NULL },
	{ "rails", 0, 1, "auto", NULL },
	{ "bind", 0, 0, NULL, NULL },
	{ "topo-xml", 0, 1, "FILE", NULL },
	{ "verbose", 0, 0, NULL, NULL },
	{ "version", 0, 0, NULL, NULL },
	{ "help", 0, 0, NULL, NULL },
	{ 0 },
};

static const char qual_usage[] =
	"Qualifies a cluster's links: point-to-point bandwidth and latency of every pair\n"
	"of nodes on every rail (ranks with the same local rank form a rail) and of every\n"
	"pair of ranks inside a node; a matrix per rail; slow pairs retested alone; the\n"
	"bad node, NIC, rail or link named; a verdict against the line rate (exit 1 on\n"
	"FAIL). Results go to JSON and CSV (docs/qualify.md).\n";

/* A fraction in (0, 1]. */
static int qual_fraction(const char *name, const char *arg, double *out,
			 char *why, size_t len)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > 0 && v <= 1)) {
		snprintf(why, len, "--%s '%s': expected a fraction in (0, 1], e.g. 0.8",
			 name, arg);
		return -RB_EINVAL;
	}
	*out = v;
	return 0;
}

static int qual_pairs(struct rb_qual_cfg *q, const char *arg, char *why,
		      size_t len)
{
	long k;

	if (!strcmp(arg, "all")) {
		q->pairs = RB_QUAL_ALL;
		return 0;
	}
	if (!strcmp(arg, "ring")) {
		q->pairs = RB_QUAL_RING;
		return 0;
	}
	if (!strncmp(arg, "random:", 7) && !rb_opts_long(arg + 7, 1, 1 << 20, &k)) {
		q->pairs = RB_QUAL_RANDOM;
		q->pairs_k = (int)k;
		return 0;
	}
	snprintf(why, len, "--pairs '%s': expected all, ring or random:K with K >= 1 partners per node",
		 arg);
	return -RB_EINVAL;
}

/* "NODESxRAILS", e.g. 1000x8. */
static int qual_plan(struct rb_qual_cfg *q, const char *arg, char *why,
		     size_t len)
{
	char nodes[32];
	const char *x = strchr(arg, 'x');
	long n;
	long r;

	if (x && (size_t)(x - arg) < sizeof(nodes)) {
		memcpy(nodes, arg, (size_t)(x - arg));
		nodes[x - arg] = '\0';
		if (!rb_opts_long(nodes, 2, QUAL_MAX_NODES, &n) &&
		    !rb_opts_long(x + 1, 1, QUAL_MAX_RAILS, &r)) {
			q->plan_nodes = (int)n;
			q->plan_rails = (int)r;
			return 0;
		}
	}
	snprintf(why, len, "--plan '%s': expected NODESxRAILS, e.g. 1000x8 (2..%d nodes, 1..%d rails)",
		 arg, QUAL_MAX_NODES, QUAL_MAX_RAILS);
	return -RB_EINVAL;
}

static int qual_parse(void *ctx, int id, const char *arg, char *why,
		      size_t len)
{
	struct rb_qual_cfg *q = ctx;
	char *end;
	long v;

	switch (id) {
	case Q_PAIRS:
		return qual_pairs(q, arg, why, len);
	case Q_SEED:
		errno = 0;
		q->seed = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-') {
			snprintf(why, len, "--seed '%s': expected a non-negative integer", arg);
			return -RB_EINVAL;
		}
		return 0;
	case Q_BIDIR:
		q->bidir = 1;
		return 0;
	case Q_RAILS_SERIAL:
		q->rails_serial = 1;
		return 0;
	case Q_INTRA_ONLY:
		q->intra_only = 1;
		return 0;
	case Q_THRESHOLD:
		return qual_fraction("threshold", arg, &q->threshold, why, len);
	case Q_LINE_THRESHOLD:
		return qual_fraction("line-threshold", arg, &q->line_threshold,
				     why, len);
	case Q_INTRA_THRESHOLD:
		return qual_fraction("intra-threshold", arg, &q->intra_threshold,
				     why, len);
	case Q_EXPECT:
		errno = 0;
		q->expect_gbps = strtod(arg, &end);
		if (errno || end == arg || *end || !(q->expect_gbps > 0)) {
			snprintf(why, len, "--expect-gbps '%s': expected a positive line rate in Gb/s, e.g. 400",
				 arg);
			return -RB_EINVAL;
		}
		return 0;
	case Q_MAX_RETESTS:
		if (rb_opts_long(arg, 0, 1 << 20, &v)) {
			snprintf(why, len, "--max-retests '%s': expected an integer in 0..%d",
				 arg, 1 << 20);
			return -RB_EINVAL;
		}
		q->max_retests = (int)v;
		return 0;
	case Q_RETESTS:
		if (rb_opts_long(arg, 1, 100, &v)) {
			snprintf(why, len, "--retests '%s': expected an integer in 1..100", arg);
			return -RB_EINVAL;
		}
		q->retests = (int)v;
		return 0;
	case Q_PLAN:
		return qual_plan(q, arg, why, len);
	default:
		snprintf(why, len, "option id %d: not a p2p_bench option", id);
		return -RB_EINVAL;
	}
}

/* Walks -b .. -e; writes the first `cap` sizes to sizes (may be NULL).
 * \return how many sizes there are, at most cap + 1. */
static int qual_walk(const struct rb_opts *o, uint64_t *sizes, int cap)
{
	uint64_t b = o->min_bytes;
	int n = 0;

	while (b <= o->max_bytes && n <= cap) {
		if (sizes && n < cap)
			sizes[n] = b;
		n++;
		if (o->step_bytes)
			b += o->step_bytes;
		else if (b > UINT64_MAX / o->step_factor)
			break;
		else
			b *= o->step_factor;
	}
	return n;
}

static int qual_validate(void *ctx, const struct rb_opts *o, char *why,
			 size_t len)
{
	(void)ctx;
	if (o->min_bytes < RB_QUAL_LAT_BYTES) {
		snprintf(why, len, "--min-bytes %" PRIu64 ": p2p messages are at least %d bytes",
			 o->min_bytes, RB_QUAL_LAT_BYTES);
		return -RB_EINVAL;
	}
	if (qual_walk(o, NULL, RB_QUAL_MAX_SIZES) > RB_QUAL_MAX_SIZES) {
		snprintf(why, len, "sizes: -b %" PRIu64 " to -e %" PRIu64 " gives more than %d message sizes; raise -f or narrow the range",
			 o->min_bytes, o->max_bytes, RB_QUAL_MAX_SIZES);
		return -RB_EINVAL;
	}
	return 0;
}

int rb_qual_sizes(const struct rb_opts *o, uint64_t *sizes)
{
	return RB_MIN(qual_walk(o, sizes, RB_QUAL_MAX_SIZES), RB_QUAL_MAX_SIZES);
}

int rb_qual_opts_parse(struct rb_opts *o, struct rb_qual_cfg *q, int argc,
		       char **argv, const char *prog, int print)
{
	const struct rb_opts_ext x = {
		.usage = qual_usage,
		.rows = qual_rows,
		.parse = qual_parse,
		.validate = qual_validate,
		.ctx = q,
	};

	rb_opts_defaults(o);
	o->min_bytes = QUAL_DEFAULT_BYTES;
	o->max_bytes = QUAL_DEFAULT_BYTES;
	o->transport = "shm+tcp";
	o->no_plot = 1;
	*q = (struct rb_qual_cfg){
		.pairs = RB_QUAL_ALL,
		.seed = 1,
		.threshold = 0.8,
		.line_threshold = 0.8,
		.intra_threshold = 0.5,
		.max_retests = 64,
		.retests = 3,
	};
	return rb_opts_parse_ext(o, &x, argc, argv, prog, print);
}

const char *rb_qual_mode_name(const struct rb_qual_cfg *q, char *buf,
			      size_t len)
{
	if (q->pairs == RB_QUAL_RANDOM)
		snprintf(buf, len, "random:%d", q->pairs_k);
	else
		snprintf(buf, len, "%s", q->pairs == RB_QUAL_RING ? "ring" : "all");
	return buf;
}
