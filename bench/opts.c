/* SPDX-License-Identifier: BSD-3-Clause */
/* Command-line options: one table generates both getopt_long's option array
 * and --help, so they cannot drift. Every value is range-checked; anything
 * invalid is one line on stderr and -RB_EINVAL (exit 2). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/opts_priv.h"
#include "collectives/coll.h"
#include "topo/topo.h"

enum opt_id {
	O_MINBYTES = 'b',
	O_MAXBYTES = 'e',
	O_FACTOR = 'f',
	O_STEPBYTES = 'i',
	O_ITERS = 'n',
	O_WARMUP = 'w',
	O_CHECK = 'c',
	O_DTYPE = 'd',
	O_OP = 'o',
	O_TIMEOUT = 'T',
	O_VERBOSE = 'v',
	O_HELP = 'h',
	O_VERSION = 'V',
	O_TRANSPORT = 256,
	O_ALGO,
	O_CHUNK,
	O_RESULTS,
	O_RUN_ID,
	O_NO_RESULTS,
	O_NO_PLOT,
	O_PROGRESS,
	O_PLACEMENT,
	O_EXPECT,
	O_RAILS,
	O_BIND,
	O_TOPO_XML,
	O_WARMUP_MODE,
	O_STAT,
	O_TARGET_CI,
	O_MAX_TIME,
	O_PER_RANK,
	/* Options owned by transports: O_TP + their index (rb_tp_opt_at). */
	O_TP = 1000,
};

struct opt_def {
	const char *name;	/* kebab-case */
	const char *alias;	/* nccl-tests spelling, or NULL */
	int id;
	int has_arg;
	const char *metavar;
	const char *help;
};

static const struct opt_def opt_table[] = {
	{ "min-bytes", "minbytes", O_MINBYTES, 1, "SIZE", "smallest message size, K/M/G suffixes (default 8)" },
	{ "max-bytes", "maxbytes", O_MAXBYTES, 1, "SIZE", "largest message size (default 64M)" },
	{ "step-factor", "stepfactor", O_FACTOR, 1, "F", "multiply the size by integer F >= 2 each step (default 2)" },
	{ "step-bytes", "stepbytes", O_STEPBYTES, 1, "SIZE", "add SIZE each step instead of multiplying" },
	{ "iters", NULL, O_ITERS, 1, "N", "timed iterations per size (default 20)" },
	{ "warmup-iters", "warmup_iters", O_WARMUP, 1, "N", "N untimed warm-up iterations per size (instead of --warmup auto)" },
	{ "warmup", NULL, O_WARMUP_MODE, 1, "auto[:N[:MS]]", "warm up each size until its iteration time is stable, at most N iterations and MS ms (default auto:1000:1000); or a count, as -w" },
	{ "stat", NULL, O_STAT, 1, "max|avg", "time column: per iteration, the slowest rank or the mean over ranks (default max)" },
	{ "target-ci", NULL, O_TARGET_CI, 1, "PCT", "per size, iterate until the 95 % CI of the median time is within +-PCT % (0 < PCT <= 100; default: a fixed -n)" },
	{ "max-time-per-size", NULL, O_MAX_TIME, 1, "SEC", "with --target-ci, stop a size after SEC s of timed iterations even if not converged (default 10)" },
	{ "per-rank-times", NULL, O_PER_RANK, 0, NULL, "record every rank's iteration times and name the slowest rank per size" },
	{ "check", NULL, O_CHECK, 1, "0|1", "verify received data (default 1)" },
	{ "datatype", NULL, O_DTYPE, 1, "TYPE", "int32, int64, float, double, half, bfloat16 (default float)" },
	{ "op", NULL, O_OP, 1, "OP", "sum, prod, max, min (default sum)" },
	{ "timeout", NULL, O_TIMEOUT, 1, "SEC", "bound on every wait; a stuck peer is named after SEC s (default 30)" },
	{ "transport", NULL, O_TRANSPORT, 1, "NAME", "transport or library backend (default shm)" },
	{ "algo", NULL, O_ALGO, 1, "NAME", "auto, native, ring, rd, rh, pairwise, hier (default auto)" },
	{ "chunk", NULL, O_CHUNK, 1, "SIZE", "pipeline chunk of ring algorithms (default: algorithm's)" },
	{ "placement", NULL, O_PLACEMENT, 1, "WHICH", "both or out-of-place (default both)" },
	{ "results", NULL, O_RESULTS, 1, "DIR", "results directory (default results/<run-id>)" },
	{ "run-id", NULL, O_RUN_ID, 1, "ID", "run identifier (default $RAILBENCH_RUN_ID or a timestamp)" },
	{ "no-results", NULL, O_NO_RESULTS, 0, NULL, "write no result files" },
	{ "progress", NULL, O_PROGRESS, 1, "auto|on|off", "progress line on stderr: size, time left (auto: when stderr is a terminal; under mpiexec use on)" },
	{ "no-plot", NULL, O_NO_PLOT, 0, NULL, "accepted for compatibility: the binaries never draw charts (scripts/rb-plot.sh, scripts/rb-report)" },
	{ "expect-busbw", NULL, O_EXPECT, 1, "GBPS", "verdict fails if peak busbw is below GBPS GB/s" },
	{ "rails", NULL, O_RAILS, 1, "auto", "pick each rank's NIC from the topology rail map" },
	{ "bind", NULL, O_BIND, 0, NULL, "bind each rank to the CPUs near its GPU/NIC" },
	{ "topo-xml", NULL, O_TOPO_XML, 1, "FILE", "read the topology from an hwloc XML export" },
	{ "verbose", NULL, O_VERBOSE, 0, NULL, "more diagnostics on stderr (repeatable)" },
	{ "version", NULL, O_VERSION, 0, NULL, "print the version and exit" },
	{ "help", NULL, O_HELP, 0, NULL, "print this help and exit" },
};

/* Transport rows come on top of the table's (and its aliases); a binary's
 * own table (struct rb_opts_ext) has at most OPT_VIEW_MAX rows. */
#define OPT_TP_MAX 64
#define OPT_VIEW_MAX (2 * RB_ARRAY_SIZE(opt_table))
#define OPT_MAX (2 * OPT_VIEW_MAX + OPT_TP_MAX + 1)

void rb_opts_defaults(struct rb_opts *o)
{
	*o = (struct rb_opts){
		.min_bytes = 8,
		.max_bytes = 64ull << 20,
		.step_factor = 2,
		.step_bytes = 0,
		.iters = 20,
		.warmup_iters = RB_WARMUP_AUTO_ITERS,
		.warmup_auto = 1,
		.warmup_max_ms = RB_WARMUP_AUTO_MS,
		.stat = RB_STAT_MAX,
		.max_time_per_size_s = RB_CI_MAX_TIME_S,
		.check = 1,
		.dtype = RB_FLOAT,
		.op = RB_OP_SUM,
		.timeout_ms = 30000,
		.transport = "shm",
		.algo = "auto",
		.in_place = 1,
	};
}

/* The rows a binary takes: the shared table, or x's rows with shared ones
 * resolved by name. \return how many rows v holds. */
static size_t opts_view(const struct rb_opts_ext *x, struct opt_def *v)
{
	size_t n = 0;

	if (!x) {
		memcpy(v, opt_table, sizeof(opt_table));
		return RB_ARRAY_SIZE(opt_table);
	}
	for (const struct rb_opt_row *r = x->rows; r->name && n < OPT_VIEW_MAX;
	     r++) {
		if (r->id >= RB_OPT_EXT_ID) {
			v[n++] = (struct opt_def){ .name = r->name, .id = r->id,
						   .has_arg = r->has_arg,
						   .metavar = r->metavar,
						   .help = r->help };
			continue;
		}
		for (size_t i = 0; i < RB_ARRAY_SIZE(opt_table); i++) {
			if (strcmp(opt_table[i].name, r->name))
				continue;
			v[n] = opt_table[i];
			if (r->help)
				v[n].help = r->help;
			n++;
		}
	}
	return n;
}

static void build_longopts(const struct opt_def *v, size_t nv,
			   struct option *lo, char *shortopts, size_t slen)
{
	size_t n = 0;
	size_t s = 0;

	for (size_t i = 0; i < nv; i++) {
		const struct opt_def *d = &v[i];

		lo[n++] = (struct option){ .name = d->name, .has_arg = d->has_arg,
					   .flag = NULL, .val = d->id };
		if (d->alias)
			lo[n++] = (struct option){ .name = d->alias,
						   .has_arg = d->has_arg,
						   .flag = NULL, .val = d->id };
		if (d->id < 128 && s + 3 < slen) {
			shortopts[s++] = (char)d->id;
			if (d->has_arg)
				shortopts[s++] = ':';
		}
	}
	for (int i = 0; rb_tp_opt_at(i) && i < OPT_TP_MAX; i++) {
		const struct rb_tp_opt *t = rb_tp_opt_at(i);

		lo[n++] = (struct option){ .name = t->name, .has_arg = t->has_arg,
					   .flag = NULL, .val = O_TP + i };
	}
	lo[n] = (struct option){ 0 };
	shortopts[s] = '\0';
}

static void print_row(int id, const char *name, const char *metavar,
		      const char *help)
{
	char left[64];

	snprintf(left, sizeof(left), "%c%c%s--%s%s%s", id < 128 ? '-' : ' ',
		 id < 128 ? id : ' ', id < 128 ? ", " : "  ", name,
		 metavar ? " " : "", metavar ? metavar : "");
	printf("  %-28s %s\n", left, help);
}

static void print_help(const char *prog, const struct rb_opts_ext *x,
		       const struct opt_def *v, size_t nv)
{
	char tps[256];

	printf("Usage: mpiexec -n N %s [options]\n\n", prog);
	if (x && x->usage)
		printf("%s\nOptions:\n", x->usage);
	else
		printf("Measures the collective across all ranks over a range of sizes and prints an\n"
		       "nccl-tests style table; results go to JSON and CSV with charts.\n\nOptions:\n");
	for (size_t i = 0; i < nv; i++) {
		const struct opt_def *d = &v[i];

		print_row(d->id, d->name, d->metavar, d->help);
		if (d->alias)
			printf("  %-28s (alias --%s)\n", "", d->alias);
	}
	printf("\nTransport options:\n");
	for (int i = 0; rb_tp_opt_at(i) && i < OPT_TP_MAX; i++) {
		const struct rb_tp_opt *t = rb_tp_opt_at(i);

		print_row(O_TP + i, t->name, t->metavar, t->help);
	}
	printf("\nTransports built in: %s; compose two as INTRA+INTER, e.g. shm+tcp\n",
	       rb_tp_list(tps, sizeof(tps)));
	printf("Exit status: 0 ok, 1 data errors or verdict failed, 2 usage or "
	       "configuration error, 3 runtime failure.\n");
}

/* Options that exclude each other, as bits of the set seen. */
#define OPT_SEEN_FACTOR 1u
#define OPT_SEEN_STEPBYTES 2u
#define OPT_SEEN_RESULTS 4u
#define OPT_SEEN_NO_RESULTS 8u
#define OPT_SEEN_TARGET_CI 16u
#define OPT_SEEN_MAX_TIME 32u

static unsigned opt_seen_bit(int id)
{
	switch (id) {
	case O_FACTOR:
		return OPT_SEEN_FACTOR;
	case O_STEPBYTES:
		return OPT_SEEN_STEPBYTES;
	case O_RESULTS:
		return OPT_SEEN_RESULTS;
	case O_NO_RESULTS:
		return OPT_SEEN_NO_RESULTS;
	case O_TARGET_CI:
		return OPT_SEEN_TARGET_CI;
	case O_MAX_TIME:
		return OPT_SEEN_MAX_TIME;
	default:
		return 0;
	}
}

/* Two options that ask for opposite things: refused rather than one of
 * them silently ignored. \return 0 or -RB_EINVAL with why. */
static int opts_conflict(unsigned seen, char *why, size_t len)
{
	static const struct {
		unsigned bits;
		const char *msg;
	} pairs[] = {
		{ OPT_SEEN_FACTOR | OPT_SEEN_STEPBYTES,
		  "options --step-factor (-f) and --step-bytes (-i) conflict: the sweep either multiplies or adds" },
		{ OPT_SEEN_RESULTS | OPT_SEEN_NO_RESULTS,
		  "options --results and --no-results conflict: give one of them" },
	};

	for (size_t i = 0; i < RB_ARRAY_SIZE(pairs); i++) {
		if ((seen & pairs[i].bits) == pairs[i].bits) {
			snprintf(why, len, "%s", pairs[i].msg);
			return -RB_EINVAL;
		}
	}
	/* A bound that would be silently ignored: a fixed -n has no time
	 * limit to apply it to. */
	if ((seen & OPT_SEEN_MAX_TIME) && !(seen & OPT_SEEN_TARGET_CI)) {
		snprintf(why, len, "option --max-time-per-size without --target-ci: a fixed -n runs exactly its iterations");
		return -RB_EINVAL;
	}
	return 0;
}

/* An option given last without its value: "-n" or "--iters". */
static int needs_value(int print, const char *prog, const char *what,
		       int optopt_c)
{
	if (!print)
		return -RB_EINVAL;
	if (optopt_c > 0 && optopt_c < 128 && what[0] == '-' && what[1] != '-')
		fprintf(stderr, "%s: option '-%c' needs a value (see --help)\n",
			prog, optopt_c);
	else
		fprintf(stderr, "%s: option '%s' needs a value (see --help)\n",
			prog, what);
	return -RB_EINVAL;
}

/* Reports one invalid value. Always returns -RB_EINVAL. */
static int bad(int print, const char *prog, const char *fmt, ...)
{
	va_list ap;

	if (!print)
		return -RB_EINVAL;
	fprintf(stderr, "%s: invalid ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -RB_EINVAL;
}

int rb_opts_long(const char *s, long lo, long hi, long *v_p)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
		return -RB_EINVAL;
	*v_p = v;
	return 0;
}

static const char *opt_name(int id)
{
	for (size_t i = 0; i < RB_ARRAY_SIZE(opt_table); i++)
		if (opt_table[i].id == id)
			return opt_table[i].name;
	return "?";
}

/* Integer option with a range; writes *out on success. */
static int set_int(int id, const char *arg, long lo, long hi, int *out,
		   int print, const char *prog)
{
	long v;

	if (rb_opts_long(arg, lo, hi, &v))
		return bad(print, prog, "--%s '%s': expected an integer in %ld..%ld",
			   opt_name(id), arg, lo, hi);
	*out = (int)v;
	return 0;
}

static int set_size(int id, const char *arg, uint64_t *out, int print,
		    const char *prog)
{
	if (rb_parse_size(arg, out))
		return bad(print, prog,
			   "--%s '%s': expected a size like 8, 64K, 16M or 1G",
			   opt_name(id), arg);
	return 0;
}

/* A real number in (lo, hi], the whole string; expect says what is. */
static int set_real(int id, const char *arg, double lo, double hi,
		    double *out, int print, const char *prog,
		    const char *expect)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v > lo && v <= hi))
		return bad(print, prog, "--%s '%s': expected %s", opt_name(id),
			   arg, expect);
	*out = v;
	return 0;
}

/* --warmup auto, auto:N, auto:N:MS, or a plain count like -w. */
static int parse_warmup(struct rb_opts *o, const char *arg, int print,
			const char *prog)
{
	char buf[64];
	char *n_s;
	char *ms_s;
	long n = RB_WARMUP_AUTO_ITERS;
	long ms = RB_WARMUP_AUTO_MS;

	if (!rb_opts_long(arg, 0, 10000000, &n)) {
		o->warmup_auto = 0;
		o->warmup_iters = (int)n;
		return 0;
	}
	if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf) ||
	    strncmp(buf, "auto", 4) || (buf[4] && buf[4] != ':'))
		goto bad_arg;
	n_s = buf[4] ? buf + 5 : NULL;
	ms_s = n_s ? strchr(n_s, ':') : NULL;
	if (ms_s)
		*ms_s++ = '\0';
	if ((n_s && rb_opts_long(n_s, 1, 10000000, &n)) ||
	    (ms_s && rb_opts_long(ms_s, 1, 86400000, &ms)))
		goto bad_arg;
	o->warmup_auto = 1;
	o->warmup_iters = (int)n;
	o->warmup_max_ms = (int)ms;
	return 0;
bad_arg:
	return bad(print, prog, "--warmup '%s': expected auto, auto:N or auto:N:MS (N 1..10000000 iterations, MS 1..86400000 ms), or a count 0..10000000",
		   arg);
}

static int parse_one(struct rb_opts *o, int id, const char *arg, int print,
		     const char *prog)
{
	int v = 0;
	int rc = 0;

	switch (id) {
	case O_MINBYTES:
		return set_size(id, arg, &o->min_bytes, print, prog);
	case O_MAXBYTES:
		return set_size(id, arg, &o->max_bytes, print, prog);
	case O_STEPBYTES:
		rc = set_size(id, arg, &o->step_bytes, print, prog);
		if (!rc && !o->step_bytes)
			return bad(print, prog, "--step-bytes '%s': expected a step of at least 1 byte",
				   arg);
		return rc;
	case O_CHUNK:
		return set_size(id, arg, &o->chunk_bytes, print, prog);
	case O_FACTOR:
		rc = set_int(id, arg, 2, 1 << 20, &v, print, prog);
		o->step_factor = (uint64_t)v;
		return rc;
	case O_ITERS:
		return set_int(id, arg, 1, 10000000, &o->iters, print, prog);
	case O_WARMUP:
		o->warmup_auto = 0;
		return set_int(id, arg, 0, 10000000, &o->warmup_iters, print, prog);
	case O_WARMUP_MODE:
		return parse_warmup(o, arg, print, prog);
	case O_PROGRESS:
		if (!strcmp(arg, "auto"))
			o->progress = RB_PROGRESS_AUTO;
		else if (!strcmp(arg, "on"))
			o->progress = RB_PROGRESS_ON;
		else if (!strcmp(arg, "off"))
			o->progress = RB_PROGRESS_OFF;
		else
			return bad(print, prog, "--progress '%s': expected auto, on or off", arg);
		return 0;
	case O_STAT:
		if (!strcmp(arg, "max"))
			o->stat = RB_STAT_MAX;
		else if (!strcmp(arg, "avg"))
			o->stat = RB_STAT_AVG;
		else
			return bad(print, prog, "--stat '%s': expected max or avg", arg);
		return 0;
	case O_CHECK:
		return set_int(id, arg, 0, 1, &o->check, print, prog);
	case O_TIMEOUT:
		rc = set_int(id, arg, 1, 86400, &v, print, prog);
		o->timeout_ms = (int64_t)v * 1000;
		return rc;
	case O_DTYPE:
		if (rb_dtype_parse(arg, &o->dtype))
			return bad(print, prog, "--datatype '%s': expected int32, int64, float, double, half or bfloat16", arg);
		return 0;
	case O_OP:
		if (rb_redop_parse(arg, &o->op))
			return bad(print, prog, "--op '%s': expected sum, prod, max or min", arg);
		return 0;
	case O_PLACEMENT:
		if (!strcmp(arg, "both"))
			o->in_place = 1;
		else if (!strcmp(arg, "out-of-place"))
			o->in_place = 0;
		else
			return bad(print, prog, "--placement '%s': expected both or out-of-place", arg);
		return 0;
	case O_EXPECT: {
		char *end;

		errno = 0;
		o->expect_gbps = strtod(arg, &end);
		if (errno || end == arg || *end || !(o->expect_gbps > 0) ||
		    !isfinite(o->expect_gbps))
			return bad(print, prog, "--expect-busbw '%s': expected a positive, finite number of GB/s", arg);
		return 0;
	}
	case O_TARGET_CI:
		return set_real(id, arg, 0, 100, &o->target_ci_pct, print, prog,
				"a percentage in (0, 100], e.g. 2");
	case O_MAX_TIME:
		return set_real(id, arg, 0, 86400, &o->max_time_per_size_s, print,
				prog, "seconds in (0, 86400], e.g. 0.5");
	case O_RAILS:
		if (strcmp(arg, "auto"))
			return bad(print, prog, "--rails '%s': only 'auto' is supported", arg);
		o->rails = arg;
		return 0;
	default:
		return 1;	/* not a valued option: caller handles it */
	}
}

static int parse_flag(struct rb_opts *o, int id, const char *arg)
{
	switch (id) {
	case O_TRANSPORT:
		o->transport = arg;
		return 0;
	case O_ALGO:
		o->algo = arg;
		return 0;
	case O_RESULTS:
		o->results_dir = arg;
		return 0;
	case O_RUN_ID:
		o->run_id = arg;
		return 0;
	case O_NO_RESULTS:
		o->no_results = 1;
		return 0;
	case O_NO_PLOT:
		o->no_plot = 1;
		return 0;
	case O_PER_RANK:
		o->per_rank_times = 1;
		return 0;
	case O_BIND:
		o->bind = 1;
		return 0;
	case O_TOPO_XML:
		o->topo_xml = arg;
		return 0;
	case O_VERBOSE:
		o->verbose++;
		return 0;
	default:
		return 1;
	}
}

int rb_opts_parse(struct rb_opts *o, int argc, char **argv, const char *prog,
		  int print)
{
	return rb_opts_parse_ext(o, NULL, argc, argv, prog, print);
}

int rb_opts_parse_ext(struct rb_opts *o, const struct rb_opts_ext *x,
		      int argc, char **argv, const char *prog, int print)
{
	struct opt_def view[OPT_VIEW_MAX];
	size_t nv = opts_view(x, view);
	struct option lo[OPT_MAX];
	char shortopts[64];
	char why[256] = "";
	unsigned seen = 0;	/* OPT_SEEN bits of the options given */
	int c;

	if (rb_opts_check_args(argc, argv, why, sizeof(why)))
		return bad(print, prog, "%s", why);
	/* A leading ':' makes a missing value ':' rather than '?'. */
	shortopts[0] = ':';
	build_longopts(view, nv, lo, shortopts + 1, sizeof(shortopts) - 1);
	opterr = 0;
	optind = 0;	/* 0, not 1: glibc then resets all of its state */
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		int rc;

		seen |= opt_seen_bit(c);
		if (c == O_HELP) {
			if (print)
				print_help(prog, x, view, nv);
			return RB_OPTS_EXIT_OK;
		}
		if (c == O_VERSION) {
			if (print)
				printf("railbench %s (git %s, build %s)\n",
				       RB_VERSION, rb_git_sha(), rb_build_config());
			return RB_OPTS_EXIT_OK;
		}
		if (c == '?' || c == ':') {
			const char *what = argv[RB_MIN(optind, argc) - 1];

			if (c == ':')
				return needs_value(print, prog, what, optopt);
			if (optopt && optopt < 128)
				return bad(print, prog, "option '-%c' (see --help)", optopt);
			return bad(print, prog, "option '%s' (see --help)", what);
		}
		if (x && c >= RB_OPT_EXT_ID) {
			if (x->parse(x->ctx, c, optarg, why, sizeof(why)))
				return bad(print, prog, "%s", why);
			continue;
		}
		if (c >= O_TP) {
			char twhy[256] = "";

			if (rb_tp_opt_parse(c - O_TP, optarg, twhy, sizeof(twhy)))
				return bad(print, prog, "%s", twhy);
			continue;
		}
		rc = parse_one(o, c, optarg, print, prog);
		if (rc == 1)
			rc = parse_flag(o, c, optarg);
		if (rc)
			return -RB_EINVAL;
	}
	if (optind < argc)
		return bad(print, prog, "argument '%s': this program takes only options (see --help)",
			   argv[optind]);
	if (opts_conflict(seen, why, sizeof(why)))
		return bad(print, prog, "%s", why);
	if (rb_opts_validate(o, why, sizeof(why)))
		return bad(print, prog, "%s", why);
	if (x && x->validate && x->validate(x->ctx, o, why, sizeof(why)))
		return bad(print, prog, "%s", why);
	return RB_OPTS_RUN;
}

int rb_opts_validate(const struct rb_opts *o, char *why, size_t len)
{
	if (o->min_bytes == 0) {
		snprintf(why, len, "--min-bytes '0': sizes must be at least 1 byte");
		return -RB_EINVAL;
	}
	if (o->min_bytes > o->max_bytes) {
		snprintf(why, len, "sizes: --min-bytes %" PRIu64 " is larger than --max-bytes %" PRIu64,
			 o->min_bytes, o->max_bytes);
		return -RB_EINVAL;
	}
	if (o->max_bytes > (1ull << 40)) {
		snprintf(why, len, "--max-bytes %" PRIu64 ": at most 1T", o->max_bytes);
		return -RB_EINVAL;
	}
	if (rb_opts_check_sweep(o, why, len) || rb_opts_check_paths(o, why, len))
		return -RB_EINVAL;
	if (o->topo_xml && rb_topo_xml_check(o->topo_xml, why, len))
		return -RB_EINVAL;
	if (!rb_tp_find(o->transport)) {
		char tps[256];

		snprintf(why, len, "--transport '%s': not one of %s, nor two of them as INTRA+INTER (e.g. shm+tcp)",
			 o->transport, rb_tp_list(tps, sizeof(tps)));
		return -RB_EINVAL;
	}
	return 0;
}
