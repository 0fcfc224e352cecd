/* SPDX-License-Identifier: BSD-3-Clause */
/* Output of rank 0: the '#' preamble, the nccl-tests style table, the '#'
 * footer with the verdict, and the results files (JSON via jansson, CSV),
 * rewritten atomically after every size (docs/results.md). */
#include <errno.h>
#include <hwloc.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/outcome.h"
#include "bench/trust.h"
#include "collectives/coll.h"

struct rb_report {
	const struct rb_run_meta *m;
	const struct rb_coll_desc *desc;
	json_t *root;		/* the whole JSON document */
	json_t *records;	/* borrowed from root */
	char base[PATH_MAX];	/* <dir>/<collective>-<transport>-<algo>, "" = no files */
	double busbw_sum;
	int nrows;
	double peak_busbw;
	int64_t wrong;
	int checked;
	int verdict;
	struct rb_warmup prime;
	int primed;
	int warm_min;		/* warm-up iterations over the rows */
	int warm_max;
	int warm_unstable;	/* rows whose auto warm-up hit a bound */
	size_t row_first;	/* first record of the last row */
	char fabric[4096];	/* fabric findings, one per line */
	int nfabric;		/* findings, also those that did not fit */
	int fabric_devs;	/* some rank had a device to read */
	int write_failed;	/* a results file could not be written (logged) */
};

/* How a column's value is typed in the JSON and printed in the CSV
 * (docs/results.md, "Precision"). */
enum col_kind {
	COL_STR,
	COL_INT,
	COL_BOOL,
	COL_US,		/* %.3f */
	COL_GBPS,	/* %.6f */
	COL_MS,		/* %.3f */
};

/* What a column's value is computed from: one placement of one row. */
struct col_src {
	const struct rb_report *r;
	const struct rb_row *row;
	const char *placement;
};

/* One column of the results: the one description from which the JSON
 * record, the CSV line and the stdout table are all made. */
struct rb_col {
	const char *key;	/* JSON key and CSV header */
	enum col_kind kind;
	json_t *(*get)(const struct col_src *s, const struct rb_col *c);
	size_t off;		/* offset in struct rb_row (or rb_stats) read by get */
	int series;		/* stats columns: which rb_stats (enum col_series) */
	int csv;		/* 1: also a CSV column */
	/* stdout table: tab 0 = not shown, else the position on the line;
	 * per_placement columns repeat for out-of-place and in-place. */
	int tab;
	int per_placement;
	const char *head;
	const char *unit;
	int width;
	int prec;
};

enum col_series {
	SER_STAT,	/* --stat's choice: the table's time */
	SER_RANKMAX,	/* per iteration, the slowest rank */
	SER_RANKAVG,	/* per iteration, the mean over ranks */
};

static const char *redop_col(const struct rb_report *r);

static json_t *col_collective(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return json_string(rb_coll_kind_name(s->r->m->kind));
}

static json_t *col_transport(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return json_string(s->r->m->transport);
}

static json_t *col_algo(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return json_string(s->r->m->algo);
}

static json_t *col_nranks(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return json_integer(s->r->m->nranks);
}

static json_t *col_placement(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return json_string(s->placement);
}

static json_t *col_dtype(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return json_string(rb_dtype_name(s->r->m->opts->dtype));
}

static json_t *col_redop(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return json_string(redop_col(s->r));
}

static json_t *col_stat_name(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return json_string(rb_stat_name(s->r->m->opts->stat));
}

/* Fields of struct rb_row at c->off, by type. */
static json_t *col_u64(const struct col_src *s, const struct rb_col *c)
{
	return json_integer((json_int_t)*(const uint64_t *)((const char *)s->row + c->off));
}

static json_t *col_i64(const struct col_src *s, const struct rb_col *c)
{
	return json_integer(*(const int64_t *)((const char *)s->row + c->off));
}

static json_t *col_int(const struct col_src *s, const struct rb_col *c)
{
	return json_integer(*(const int *)((const char *)s->row + c->off));
}

static json_t *col_bool(const struct col_src *s, const struct rb_col *c)
{
	return json_boolean(*(const int *)((const char *)s->row + c->off));
}

static json_t *col_double(const struct col_src *s, const struct rb_col *c)
{
	return json_real(*(const double *)((const char *)s->row + c->off));
}

/* The 95 % CI bounds of the median of T: null with too few iterations. */
static json_t *col_ci_lo(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return s->row->timed.has_ci ? json_real(s->row->timed.ci_lo_us) : json_null();
}

static json_t *col_ci_hi(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return s->row->timed.has_ci ? json_real(s->row->timed.ci_hi_us) : json_null();
}

/* Whether --target-ci was met: null without a target. */
static json_t *col_ci_met(const struct col_src *s, const struct rb_col *c)
{
	(void)c;
	return s->row->timed.target_pct > 0 ? json_boolean(s->row->timed.met) :
					      json_null();
}

/* A statistic (c->off in struct rb_stats) of the series c->series. */
static json_t *col_stats(const struct col_src *s, const struct rb_col *c)
{
	const struct rb_stats *t = c->series == SER_RANKMAX ? &s->row->t_max_us :
				   c->series == SER_RANKAVG ? &s->row->t_avg_us :
				   rb_row_time(s->row, s->r->m->opts->stat);

	return json_real(*(const double *)((const char *)t + c->off));
}

/* Shorthands for the table below. */
#define GET(fn, f) .get = fn, .off = offsetof(struct rb_row, f)
#define ST(f, ser) .get = col_stats, .off = offsetof(struct rb_stats, f), .series = ser
#define CSV .csv = 1
#define TAB(pos, pp, h, u, w, p) \
	.tab = pos, .per_placement = pp, .head = h, .unit = u, .width = w, .prec = p
/* The five statistics of one series: CSV columns, not in the table. */
#define STATS(prefix, ser) \
	{ prefix "_us", COL_US, ST(avg, ser), CSV }, \
	{ prefix "_min_us", COL_US, ST(min, ser), CSV }, \
	{ prefix "_max_us", COL_US, ST(max, ser), CSV }, \
	{ prefix "_p50_us", COL_US, ST(p50, ser), CSV }, \
	{ prefix "_p99_us", COL_US, ST(p99, ser), CSV }

/* The columns, in JSON and CSV order: adding one is one line here (and its
 * description in docs/results.md). New CSV columns go after the last CSV
 * one, so that the earlier ones keep their positions; JSON-only columns
 * (no CSV) go at the end. */
static const struct rb_col cols[] = {
	{ "collective", COL_STR, .get = col_collective, CSV },
	{ "transport", COL_STR, .get = col_transport, CSV },
	{ "algo", COL_STR, .get = col_algo, CSV },
	{ "nranks", COL_INT, .get = col_nranks, CSV },
	{ "placement", COL_STR, .get = col_placement, CSV },
	{ "size_bytes", COL_INT, GET(col_u64, size_bytes), CSV, TAB(1, 0, "size", "(B)", 10, 0) },
	{ "count", COL_INT, GET(col_u64, count), CSV, TAB(2, 0, "count", "(elements)", 12, 0) },
	{ "dtype", COL_STR, .get = col_dtype, CSV, TAB(3, 0, "type", "", 8, 0) },
	{ "redop", COL_STR, .get = col_redop, CSV, TAB(4, 0, "redop", "", 6, 0) },
	{ "time_us", COL_US, ST(avg, SER_STAT), CSV, TAB(5, 1, "time", "(us)", 9, 2) },
	{ "time_min_us", COL_US, ST(min, SER_STAT), CSV },
	{ "time_max_us", COL_US, ST(max, SER_STAT), CSV },
	{ "time_p50_us", COL_US, ST(p50, SER_STAT), CSV },
	{ "time_p99_us", COL_US, ST(p99, SER_STAT), CSV, TAB(9, 1, "p99", "(us)", 9, 2) },
	{ "algbw_gbps", COL_GBPS, GET(col_double, algbw_gbps), CSV, TAB(6, 1, "algbw", "(GB/s)", 7, 3) },
	{ "busbw_gbps", COL_GBPS, GET(col_double, busbw_gbps), CSV, TAB(7, 1, "busbw", "(GB/s)", 7, 3) },
	{ "wrong", COL_INT, GET(col_i64, wrong), CSV, TAB(8, 1, "#wrong", "", 6, 0) },
	{ "stat", COL_STR, .get = col_stat_name, CSV },
	{ "warmup_iters", COL_INT, GET(col_int, warmup.iters), CSV },
	STATS("rankmax", SER_RANKMAX),
	STATS("rankavg", SER_RANKAVG),
	{ "iters", COL_INT, GET(col_int, timed.iters), CSV },
	{ "ci95_lo_us", COL_US, .get = col_ci_lo, CSV },
	{ "ci95_hi_us", COL_US, .get = col_ci_hi, CSV },
	{ "ci_met", COL_BOOL, .get = col_ci_met, CSV },
	{ "warmup_stable", COL_BOOL, GET(col_bool, warmup.stable) },
	{ "warmup_windows", COL_INT, GET(col_int, warmup.windows) },
	{ "warmup_ms", COL_MS, GET(col_double, warmup.ms) },
};

#undef STATS
#undef TAB
#undef CSV
#undef ST
#undef GET

/* Number of stdout table positions (the largest tab). */
#define TAB_COLS 9

const char *rb_stat_name(enum rb_stat stat)
{
	return stat == RB_STAT_AVG ? "avg" : "max";
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -RB_EINVAL;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -RB_ESYS;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -RB_ESYS;
	return 0;
}

static const char *redop_col(const struct rb_report *r)
{
	return r->desc->has_op ? rb_redop_name(r->m->opts->op) : "none";
}

/* The auto rule's constants and bounds (docs/statistics.md). */
static json_t *warmup_rule_json(const struct rb_opts *o)
{
	return json_pack("{s:i, s:i, s:f, s:i, s:i, s:i, s:f, s:f, s:i}",
			 "max_iters", o->warmup_iters, "max_ms", o->warmup_max_ms,
			 "tolerance", RB_WARMUP_TOL, "stable_windows", RB_WARMUP_STABLE,
			 "window_min", RB_WARMUP_WIN_MIN, "window_max", RB_WARMUP_WIN_MAX,
			 "window_us", RB_WARMUP_WIN_US, "tail_us", RB_WARMUP_TAIL_US,
			 "tail_max", RB_WARMUP_TAIL_MAX);
}

static json_t *meta_json(const struct rb_run_meta *m)
{
	const struct rb_opts *o = m->opts;
	json_t *meta = json_object();
	json_t *hosts = json_array();
	json_t *ranks = json_array();
	struct utsname u;
	char kernel[256] = "unknown";
	char started[32];
	time_t now = time(NULL);
	unsigned hv = hwloc_get_api_version();
	char hwv[32];

	if (!uname(&u))
		snprintf(kernel, sizeof(kernel), "%s %s %s", u.sysname, u.release,
			 u.machine);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%S%z", localtime(&now));
	snprintf(hwv, sizeof(hwv), "%u.%u.%u", hv >> 16, (hv >> 8) & 0xff, hv & 0xff);
	for (int i = 0; i < m->nranks; i++) {
		const struct rb_rank_info *ri = &m->ranks[i];
		json_t *jr = json_pack("{s:i, s:s, s:i, s:s, s:i}", "rank", ri->rank,
				       "host", ri->host, "pid", ri->pid,
				       "transport_desc", ri->tp_desc,
				       "rail", ri->rail);
		int seen = 0;

		if (ri->place_json[0]) {
			json_t *pl = json_loads(ri->place_json, 0, NULL);

			json_object_set_new(jr, "placement",
					    pl ? pl : json_string(ri->place));
		}
		json_array_append_new(ranks, jr);
		for (int j = 0; j < i; j++)
			seen |= !strcmp(m->ranks[j].host, ri->host);
		if (!seen)
			json_array_append_new(hosts, json_string(ri->host));
	}
	json_object_set_new(meta, "collective", json_string(rb_coll_kind_name(m->kind)));
	json_object_set_new(meta, "transport", json_string(m->transport));
	json_object_set_new(meta, "algo", json_string(m->algo));
	if (m->algo_note && m->algo_note[0])
		json_object_set_new(meta, "algo_note", json_string(m->algo_note));
	json_object_set_new(meta, "nranks", json_integer(m->nranks));
	json_object_set_new(meta, "nnodes", json_integer(m->nnodes));
	json_object_set_new(meta, "dtype", json_string(rb_dtype_name(o->dtype)));
	json_object_set_new(meta, "redop", json_string(rb_coll_desc_get(m->kind)->has_op ?
						       rb_redop_name(o->op) : "none"));
	json_object_set_new(meta, "hosts", hosts);
	json_object_set_new(meta, "ranks", ranks);
	json_object_set_new(meta, "command_line", json_string(m->command_line));
	json_object_set_new(meta, "version", json_string(RB_VERSION));
	json_object_set_new(meta, "git", json_string(rb_git_sha()));
	json_object_set_new(meta, "build", json_string(rb_build_config()));
	json_object_set_new(meta, "kernel", json_string(kernel));
	json_object_set_new(meta, "mpi_library", json_string(m->mpi_library));
	json_object_set_new(meta, "hwloc", json_string(hwv));
	json_object_set_new(meta, "jansson", json_string(JANSSON_VERSION));
	json_object_set_new(meta, "run_id", json_string(m->run_id));
	json_object_set_new(meta, "started", json_string(started));
	json_object_set_new(meta, "iters", json_integer(o->iters));
	if (o->target_ci_pct > 0) {
		json_object_set_new(meta, "target_ci_pct", json_real(o->target_ci_pct));
		json_object_set_new(meta, "max_time_per_size_s",
				    json_real(o->max_time_per_size_s));
	}
	json_object_set_new(meta, "per_rank_times", json_boolean(o->per_rank_times));
	json_object_set_new(meta, "warmup", json_string(o->warmup_auto ? "auto" : "fixed"));
	json_object_set_new(meta, "warmup_iters", json_integer(o->warmup_iters));
	if (o->warmup_auto)
		json_object_set_new(meta, "warmup_rule", warmup_rule_json(o));
	json_object_set_new(meta, "stat", json_string(rb_stat_name(o->stat)));
	json_object_set_new(meta, "check", json_boolean(o->check));
	json_object_set_new(meta, "timeout_s", json_integer(o->timeout_ms / 1000));
	if (o->expect_gbps > 0)
		json_object_set_new(meta, "expect_busbw_gbps", json_real(o->expect_gbps));
	if (m->topo_findings)
		json_object_set_new(meta, "topology_findings",
				    json_string(m->topo_findings));
	return meta;
}

/* Writes text to path atomically: temp file in the same directory, fsync'd
 * data, rename() over the old file. */
static int write_atomic(const char *path, const char *text)
{
	char tmp[PATH_MAX + 16];
	FILE *f;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		rb_err("cannot write %s: %s", tmp, strerror(errno));
		return -RB_ESYS;
	}
	if (fputs(text, f) == EOF || fflush(f) || fsync(fileno(f)))
		rc = -RB_ESYS;
	if (fclose(f))
		rc = -RB_ESYS;
	if (!rc && rename(tmp, path))
		rc = -RB_ESYS;
	if (rc) {
		rb_err("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	return rc;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		size_t ncap = (*cap + n + 1) * 2;
		char *p = realloc(*buf, ncap);

		if (!p)
			return -RB_ENOMEM;
		*buf = p;
		*cap = ncap;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

/* Column c of rec as text into f: the CSV's precision, or for the
 * table (prec >= 0) the table's; a missing or negative #wrong reads N/A
 * in the table. */
static void col_text(json_t *rec, const struct rb_col *c, int prec, char *f,
		     size_t len)
{
	json_t *v = json_object_get(rec, c->key);

	/* null (no CI, no target): an empty CSV field, "-" in the table. */
	if (json_is_null(v)) {
		snprintf(f, len, "%s", prec >= 0 ? "-" : "");
		return;
	}
	switch (c->kind) {
	case COL_STR:
		snprintf(f, len, "%s", json_string_value(v) ? json_string_value(v) : "");
		break;
	case COL_INT:
		if (prec >= 0 && json_integer_value(v) < 0)
			snprintf(f, len, "N/A");
		else
			snprintf(f, len, "%" PRId64, (int64_t)json_integer_value(v));
		break;
	case COL_BOOL:
		snprintf(f, len, "%d", json_is_true(v));
		break;
	case COL_US:
	case COL_MS:
		snprintf(f, len, "%.*f", prec >= 0 ? prec : 3, json_real_value(v));
		break;
	case COL_GBPS:
		snprintf(f, len, "%.*f", prec >= 0 ? prec : 6, json_real_value(v));
		break;
	}
}

/* Appends the CSV header (rec NULL) or rec's line, with its '\n'. */
static int csv_append(json_t *rec, char **buf, size_t *len, size_t *cap)
{
	int rc = 0;
	int n = 0;

	for (size_t i = 0; i < RB_ARRAY_SIZE(cols) && !rc; i++) {
		char f[128];

		if (!cols[i].csv)
			continue;
		if (rec)
			col_text(rec, &cols[i], -1, f, sizeof(f));
		else
			snprintf(f, sizeof(f), "%s", cols[i].key);
		rc = n++ ? append(buf, len, cap, ",") : 0;
		rc = rc ? rc : append(buf, len, cap, f);
	}
	return rc ? rc : append(buf, len, cap, "\n");
}

/* \return the column at table position tab, or NULL. */
static const struct rb_col *tab_col(int tab)
{
	for (size_t i = 0; i < RB_ARRAY_SIZE(cols); i++)
		if (cols[i].tab == tab)
			return &cols[i];
	return NULL;
}

/* Prints the table columns with per_placement pp: of rec, or with rec
 * NULL the header (unit 0) or units (unit 1) line; a NULL rec with
 * unit -1 prints "-" (a placement that was not run). */
static void tab_print(json_t *rec, int pp, int unit)
{
	int first = !pp;

	for (int t = 1; t <= TAB_COLS; t++) {
		const struct rb_col *c = tab_col(t);
		char f[128];

		if (!c || c->per_placement != pp)
			continue;
		if (rec)
			col_text(rec, c, c->prec, f, sizeof(f));
		else
			snprintf(f, sizeof(f), "%s", unit < 0 ? "-" : unit ? c->unit : c->head);
		printf(first ? "%*s" : " %*s", c->width, f);
		first = 0;
	}
}

/* Rewrites <base>.json and <base>.csv from the in-memory document. */
static int flush_files(struct rb_report *r)
{
	char path[PATH_MAX + 8];
	char *text;
	char *csv = NULL;
	size_t len = 0;
	size_t cap = 0;
	size_t i;
	json_t *rec;
	int rc;

	if (!r->base[0])
		return 0;
	/* After a failed write (a full disk), the files on disk stay as last
	 * written completely, and the failure is reported once. */
	if (r->write_failed)
		return -RB_ESYS;
	text = json_dumps(r->root, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
				   JSON_REAL_PRECISION(10));
	if (!text)
		return -RB_ENOMEM;
	snprintf(path, sizeof(path), "%s.json", r->base);
	rc = write_atomic(path, text);
	free(text);
	if (rc) {
		r->write_failed = 1;
		return rc;
	}
	rc = csv_append(NULL, &csv, &len, &cap);
	json_array_foreach(r->records, i, rec)
		rc = rc ? rc : csv_append(rec, &csv, &len, &cap);
	if (!rc) {
		snprintf(path, sizeof(path), "%s.csv", r->base);
		rc = write_atomic(path, csv);
	}
	free(csv);
	r->write_failed = !!rc;
	return rc;
}

static void print_preamble(const struct rb_report *r)
{
	const struct rb_run_meta *m = r->m;
	const struct rb_opts *o = m->opts;
	char warm[32];

	printf("# railbench %s (git %s, build %s)\n", RB_VERSION, rb_git_sha(),
	       rb_build_config());
	printf("# command: %s\n", m->command_line);
	if (o->warmup_auto)
		snprintf(warm, sizeof(warm), "auto:%d:%d", o->warmup_iters,
			 o->warmup_max_ms);
	else
		snprintf(warm, sizeof(warm), "%d", o->warmup_iters);
	printf("# %s over %s, algorithm %s, %d ranks on %d node%s, %s %s, "
	       "iters %d, warm-up %s, check %s, timeout %" PRId64 " s\n",
	       rb_coll_kind_name(m->kind), m->transport, m->algo, m->nranks,
	       m->nnodes, m->nnodes == 1 ? "" : "s", rb_dtype_name(o->dtype),
	       redop_col(r), o->iters, warm, o->check ? "on" : "off",
	       o->timeout_ms / 1000);
	if (o->target_ci_pct > 0)
		printf("# iterations: per size until the 95 %% CI of the median is within +-%g %%, at least %d, at most %g s (--target-ci, --max-time-per-size)\n",
		       o->target_ci_pct, RB_MAX(o->iters, RB_CI_MIN_ITERS),
		       o->max_time_per_size_s);
	printf("# time: mean over the timed iterations of the per-iteration %s "
	       "(--stat %s); algbw and busbw from it\n",
	       o->stat == RB_STAT_AVG ? "mean over ranks" : "maximum over ranks",
	       rb_stat_name(o->stat));
	if (m->algo_note && m->algo_note[0])
		printf("# algorithm: %s\n", m->algo_note);
	printf("# MPI: %s\n", m->mpi_library);
	for (int i = 0; i < m->nranks; i++) {
		const struct rb_rank_info *ri = &m->ranks[i];

		printf("#  rank %2d host %s pid %d: %s%s%s\n", ri->rank, ri->host,
		       ri->pid, ri->tp_desc, ri->place[0] ? " | " : "", ri->place);
	}
	if (m->topo_findings && m->topo_findings[0])
		printf("%s", m->topo_findings);
	if (r->base[0])
		printf("# results: %s.json, %s.csv\n", r->base, r->base);
	printf("#\n");
	printf("# %10s %12s %8s %6s   %-41s   %-41s\n", "", "", "", "",
	       "                out-of-place", "                  in-place");
	for (int unit = 0; unit <= 1; unit++) {
		printf("# ");
		tab_print(NULL, 0, unit);
		tab_print(NULL, 1, unit);
		tab_print(NULL, 1, unit);
		printf("\n");
	}
}

int rb_report_open(const struct rb_run_meta *m, struct rb_report **r_p)
{
	struct rb_report *r = calloc(1, sizeof(*r));

	if (!r)
		return -RB_ENOMEM;
	r->m = m;
	r->desc = rb_coll_desc_get(m->kind);
	r->root = json_object();
	r->records = json_array();
	json_object_set_new(r->root, "format", json_string("railbench-results"));
	json_object_set_new(r->root, "version", json_integer(1));
	json_object_set_new(r->root, "meta", meta_json(m));
	json_object_set_new(r->root, "records", r->records);
	json_object_set_new(r->root, "summary",
			    json_pack("{s:b}", "complete", 0));
	if (m->results_dir) {
		if (mkdir_p(m->results_dir)) {
			rb_err("cannot create results directory %s: %s",
			       m->results_dir, strerror(errno));
			rb_report_free(r);
			return -RB_EINVAL;	/* a bad --results: exit 2 */
		}
		snprintf(r->base, sizeof(r->base), "%s/%s-%s-%s", m->results_dir,
			 rb_coll_kind_name(m->kind), m->transport, m->algo);
	}
	print_preamble(r);
	fflush(stdout);
	if (flush_files(r)) {
		rb_report_free(r);
		return -RB_EINVAL;	/* the results cannot be written there */
	}
	*r_p = r;
	return 0;
}

/* A record: every column, in the table's order. */
static json_t *row_json(const struct rb_report *r, const struct rb_row *row,
			const char *placement)
{
	const struct col_src s = { .r = r, .row = row, .placement = placement };
	json_t *rec = json_object();

	for (size_t i = 0; i < RB_ARRAY_SIZE(cols); i++)
		json_object_set_new(rec, cols[i].key, cols[i].get(&s, &cols[i]));
	rb_trust_row_json(rec, row, r->m);
	return rec;
}

/* Counts a placement's row into the summary and keeps its record. */
static void account(struct rb_report *r, const struct rb_row *row, json_t *rec)
{
	json_array_append(r->records, rec);
	r->busbw_sum += row->busbw_gbps;
	r->nrows++;
	if (row->busbw_gbps > r->peak_busbw)
		r->peak_busbw = row->busbw_gbps;
	if (row->wrong >= 0) {
		r->wrong += row->wrong;
		r->checked = 1;
	}
	if (r->nrows == 1 || row->warmup.iters < r->warm_min)
		r->warm_min = row->warmup.iters;
	r->warm_max = RB_MAX(r->warm_max, row->warmup.iters);
	r->warm_unstable += !row->warmup.stable;
}

void rb_report_prime(struct rb_report *r, const struct rb_warmup *w)
{
	json_t *meta = json_object_get(r->root, "meta");

	r->prime = *w;
	r->primed = 1;
	json_object_set_new(meta, "priming",
			    json_pack("{s:i, s:i, s:b, s:f}", "iters", w->iters,
				      "windows", w->windows, "stable", w->stable,
				      "ms", w->ms));
}

int rb_report_row(struct rb_report *r, const struct rb_row *oop,
		  const struct rb_row *ip)
{
	json_t *ro = row_json(r, oop, "out-of-place");
	json_t *ri = row_json(r, ip, "in-place");

	printf("  ");
	tab_print(ro, 0, 0);
	tab_print(oop->valid ? ro : NULL, 1, -1);
	tab_print(ip->valid ? ri : NULL, 1, -1);
	printf("\n");
	fflush(stdout);
	r->row_first = json_array_size(r->records);
	if (oop->valid)
		account(r, oop, ro);
	if (ip->valid)
		account(r, ip, ri);
	json_decref(ro);
	json_decref(ri);
	return flush_files(r);
}

int rb_report_fabric(struct rb_report *r, json_t *devs, const char *findings,
		     int nfindings)
{
	size_t used = strlen(r->fabric);

	r->fabric_devs |= devs != NULL;
	for (size_t i = r->row_first; devs && i < json_array_size(r->records); i++)
		json_object_set(json_array_get(r->records, i), "fabric", devs);
	json_decref(devs);
	snprintf(r->fabric + used, sizeof(r->fabric) - used, "%s", findings);
	if (strlen(r->fabric) == sizeof(r->fabric) - 1) {
		/* Keep whole lines only: cut after the last complete one. */
		char *nl = strrchr(r->fabric, '\n');

		*(nl ? nl + 1 : r->fabric) = '\0';
	}
	r->nfabric += nfindings;
	return flush_files(r);
}

/* The fabric counters that moved during the run, one '#' line each
 * (docs/results.md, "Fabric counters"). */
static void print_fabric(const struct rb_report *r)
{
	const char *p = r->fabric;
	int shown = 0;

	if (!r->nfabric) {
		printf("# Fabric counters      : %s\n", r->fabric_devs ?
		       "no carrier change or error" : "none (no rail device in sysfs)");
		return;
	}
	while (*p) {
		size_t n = strcspn(p, "\n");

		printf("# Fabric counters      : WARN %.*s\n", (int)n, p);
		shown++;
		p += n + (p[n] == '\n');
	}
	if (shown < r->nfabric)
		printf("# Fabric counters      : WARN %d more (see the JSON records)\n",
		       r->nfabric - shown);
}

/* The footer's warm-up line: per-row counts, rows that hit a bound, the
 * priming. */
static void print_warmup(const struct rb_report *r)
{
	const struct rb_opts *o = r->m->opts;
	char prime[96] = "no priming (-w 0)";

	if (r->primed)
		snprintf(prime, sizeof(prime), "priming %d iterations (%s)",
			 r->prime.iters, r->prime.stable ? "stable" : "bound reached");
	if (!r->nrows)
		printf("# Warm-up              : %s\n", prime);
	else if (o->warmup_auto)
		printf("# Warm-up              : auto, %d..%d iterations per row, bound reached on %d of %d rows; %s\n",
		       r->warm_min, r->warm_max, r->warm_unstable, r->nrows, prime);
	else
		printf("# Warm-up              : %d iterations per row; %s\n",
		       o->warmup_iters, prime);
}

int rb_report_close(struct rb_report *r, int exit_status)
{
	const struct rb_opts *o = r->m->opts;
	double avg = r->nrows ? r->busbw_sum / r->nrows : 0;
	/* Called with 0 only when every size ran. */
	int complete = exit_status == 0;
	json_t *trust;
	int rc;

	r->verdict = 0;
	rb_outcome_print_wrong(r->m->opts->check, r->checked, r->wrong, r->nrows,
			       complete);
	printf("# Avg bus bandwidth    : %.6g GB/s\n", avg);
	printf("# Peak bus bandwidth   : %.6g GB/s\n", r->peak_busbw);
	print_warmup(r);
	print_fabric(r);
	trust = rb_trust_footer(r->records, r->m);
	if (r->wrong)
		r->verdict = RB_EXIT_VERDICT;
	if (!complete) {
		rb_outcome_print_failed(r->nrows);
		r->verdict = exit_status;
	} else if (o->expect_gbps > 0) {
		int ok = r->peak_busbw >= o->expect_gbps;

		printf("# Verdict: %s: peak busbw %.3f GB/s is %.1f%% of the expected %.3f GB/s%s\n",
		       !ok || r->wrong ? "FAIL" : r->nfabric ? "WARN" : "PASS",
		       r->peak_busbw,
		       100.0 * r->peak_busbw / o->expect_gbps, o->expect_gbps,
		       ok && !r->wrong && r->nfabric ? "; fabric counters moved" : "");
		if (!ok)
			r->verdict = RB_EXIT_VERDICT;
	} else {
		printf("# Verdict: %s: %s%s; no bandwidth target (--expect-busbw)\n",
		       r->wrong ? "FAIL" : r->nfabric ? "WARN" : "PASS",
		       r->wrong ? "data errors" : r->checked ? "data correct" :
							      "data not checked",
		       !r->wrong && r->nfabric ? "; fabric counters moved" : "");
	}
	/* Correct data over a fabric that lost carrier or counted errors:
	 * its own exit code, so scripts can tell (docs/exit-codes.md). */
	if (!r->verdict && r->nfabric)
		r->verdict = RB_EXIT_WARN;
	if (!exit_status)
		exit_status = r->verdict;
	json_object_set_new(r->root, "summary",
			    json_pack("{s:b, s:f, s:f, s:I, s:b, s:i, s:i, s:i, s:i}",
				      "complete", complete, "avg_busbw_gbps", avg,
				      "peak_busbw_gbps", r->peak_busbw, "wrong_total",
				      (json_int_t)(r->checked ? r->wrong : -1),
				      "pass", exit_status == 0, "exit_status",
				      exit_status, "warmup_min_iters", r->warm_min,
				      "warmup_max_iters", r->warm_max,
				      "warmup_unstable_rows", r->warm_unstable));
	json_object_set_new(json_object_get(r->root, "summary"), "fabric_warnings",
			    json_integer(r->nfabric));
	if (!complete)
		json_object_set_new(json_object_get(r->root, "summary"), "failure",
				    rb_outcome_failure_json(exit_status));
	if (trust)
		json_object_update(json_object_get(r->root, "summary"), trust);
	json_decref(trust);
	rc = flush_files(r);
	printf("#\n");
	fflush(stdout);
	return rc;
}

int rb_report_verdict(const struct rb_report *r)
{
	return r->verdict;
}

int64_t rb_report_wrong(const struct rb_report *r)
{
	return r->wrong;
}

void rb_report_free(struct rb_report *r)
{
	if (!r)
		return;
	json_decref(r->root);
	free(r);
}

int rb_report_mkdir(const char *path)
{
	return mkdir_p(path);
}

int rb_report_write_file(const char *path, const char *text)
{
	return write_atomic(path, text);
}
