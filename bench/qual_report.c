/* SPDX-License-Identifier: BSD-3-Clause */
/* p2p_bench's output on rank 0: the '#' preamble, one results row per
 * (source, destination, rail, direction, size) in JSON and CSV from one
 * column table, rewritten atomically as rounds complete, then a bandwidth
 * matrix per rail, the references, the retests and the verdict, last
 * (docs/qualify.md "Output"). */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/qual_priv.h"

/* Rewrite the files at most this often while rounds complete. */
#define QREP_FLUSH_NS 1000000000ull
/* Larger clusters get no matrix on stdout (the JSON has every pair). */
#define QREP_MATRIX_MAX_NODES 64

enum qcol_type {
	QC_STR,		/* char array */
	QC_INT,
	QC_INT_OPT,	/* int, null when negative */
	QC_I64,
	QC_U64,
	QC_NUM,		/* double */
	QC_NUM_OPT,	/* double, null when negative */
	QC_BOOL,	/* int */
};

struct qcol {
	const char *name;
	enum qcol_type type;
	size_t off;
};

#define QCOL(n, t, f) { n, t, offsetof(struct rb_qual_row, f) }

/* The one description of a row: JSON keys, CSV header and values. */
static const struct qcol qrep_cols[] = {
	QCOL("kind", QC_STR, kind),
	QCOL("src_host", QC_STR, src_host),
	QCOL("dst_host", QC_STR, dst_host),
	QCOL("rail", QC_INT_OPT, rail),
	QCOL("src_nic", QC_STR, src_nic),
	QCOL("dst_nic", QC_STR, dst_nic),
	QCOL("direction", QC_STR, direction),
	QCOL("src_rank", QC_INT, src_rank),
	QCOL("dst_rank", QC_INT, dst_rank),
	QCOL("src_local_rank", QC_INT, src_local),
	QCOL("dst_local_rank", QC_INT, dst_local),
	QCOL("size_bytes", QC_U64, size_bytes),
	QCOL("bw_p50_gbps", QC_NUM, bw_p50_gbps),
	QCOL("bw_min_gbps", QC_NUM, bw_min_gbps),
	QCOL("bw_p99_gbps", QC_NUM, bw_p99_gbps),
	QCOL("retest_p50_gbps", QC_NUM_OPT, retest_p50_gbps),
	QCOL("retest_min_gbps", QC_NUM_OPT, retest_min_gbps),
	QCOL("retest_p99_gbps", QC_NUM_OPT, retest_p99_gbps),
	QCOL("retests", QC_INT, retests),
	QCOL("retest_reason", QC_STR, retest_reason),
	QCOL("judged_gbps", QC_NUM, judged_gbps),
	QCOL("lat_p50_us", QC_NUM_OPT, lat_p50_us),
	QCOL("lat_p99_us", QC_NUM_OPT, lat_p99_us),
	QCOL("line_gbits", QC_NUM_OPT, line_gbps),
	QCOL("pct_line", QC_NUM_OPT, pct_line),
	QCOL("ref_gbps", QC_NUM_OPT, ref_gbps),
	QCOL("pct_ref", QC_NUM_OPT, pct_ref),
	QCOL("wrong", QC_I64, wrong),
	QCOL("slow", QC_BOOL, slow),
};

struct rb_qual_report {
	const struct rb_qual_meta *m;
	struct rb_qual_row *rows;
	int nrows;
	int cap;
	json_t *notes;
	json_t *verdict;	/* set by close */
	json_t *refs;
	int complete;
	int exit_status;
	uint64_t t0_ns;
	uint64_t flushed_ns;
	uint64_t flush_cost_ns;	/* how long the last rewrite took */
	char base[PATH_MAX];	/* <dir>/p2p-<transport>, "" = no files */
};

#define QFIELD(row, c, type) (*(const type *)((const char *)(row) + (c)->off))

static json_t *qrep_value(const struct rb_qual_row *row, const struct qcol *c)
{
	switch (c->type) {
	case QC_STR:
		return json_string((const char *)row + c->off);
	case QC_INT:
		return json_integer(QFIELD(row, c, int));
	case QC_INT_OPT:
		return QFIELD(row, c, int) < 0 ? json_null() :
						 json_integer(QFIELD(row, c, int));
	case QC_I64:
		return json_integer((json_int_t)QFIELD(row, c, int64_t));
	case QC_U64:
		return json_integer((json_int_t)QFIELD(row, c, uint64_t));
	case QC_NUM:
		return json_real(QFIELD(row, c, double));
	case QC_NUM_OPT:
		return QFIELD(row, c, double) < 0 ? json_null() :
						    json_real(QFIELD(row, c, double));
	case QC_BOOL:
		return json_boolean(QFIELD(row, c, int));
	}
	return json_null();
}

/* A CSV field: strings quoted when they hold a comma, quote or newline. */
static void qrep_csv_value(FILE *f, const struct rb_qual_row *row,
			   const struct qcol *c)
{
	const char *s = (const char *)row + c->off;

	switch (c->type) {
	case QC_STR:
		if (!strpbrk(s, ",\"\r\n")) {
			fputs(s, f);
			break;
		}
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
		break;
	case QC_INT:
	case QC_INT_OPT:
		if (c->type == QC_INT || QFIELD(row, c, int) >= 0)
			fprintf(f, "%d", QFIELD(row, c, int));
		break;
	case QC_I64:
		fprintf(f, "%" PRId64, QFIELD(row, c, int64_t));
		break;
	case QC_U64:
		fprintf(f, "%" PRIu64, QFIELD(row, c, uint64_t));
		break;
	case QC_NUM:
	case QC_NUM_OPT:
		if (c->type == QC_NUM || QFIELD(row, c, double) >= 0)
			fprintf(f, "%.9g", QFIELD(row, c, double));
		break;
	case QC_BOOL:
		fputs(QFIELD(row, c, int) ? "1" : "0", f);
		break;
	}
}

static json_t *qrep_meta(const struct rb_qual_report *r)
{
	const struct rb_qual_meta *m = r->m;
	char mode[32];
	json_t *j = json_object();
	json_t *ranks = json_array();
	json_t *sizes = json_array();

	for (int i = 0; i < m->nsizes; i++)
		json_array_append_new(sizes, json_integer((json_int_t)m->sizes[i]));
	for (int i = 0; i < m->nranks; i++) {
		const struct rb_qual_rank *k = &m->ranks[i];

		json_array_append_new(ranks, json_pack(
			"{s:i, s:s, s:i, s:i, s:i, s:i, s:s, s:o, s:s, s:s}",
			"rank", k->rank, "host", k->host, "node", k->node,
			"local_rank", k->local_rank, "rail", k->rail, "pid", k->pid,
			"nic", k->nic, "line_gbits",
			k->line_gbps > 0 ? json_real(k->line_gbps) : json_null(),
			"transport_desc", k->tp_desc, "placement", k->place));
	}
	json_object_set_new(j, "benchmark", json_string("p2p"));
	json_object_set_new(j, "transport", json_string(m->o->transport));
	json_object_set_new(j, "nranks", json_integer(m->nranks));
	json_object_set_new(j, "nnodes", json_integer(m->nnodes));
	json_object_set_new(j, "nrails", json_integer(m->nrails));
	json_object_set_new(j, "pairs", json_string(rb_qual_mode_name(m->q, mode, sizeof(mode))));
	json_object_set_new(j, "rails_concurrent", json_boolean(!m->q->rails_serial));
	json_object_set_new(j, "bidir", json_boolean(m->q->bidir));
	json_object_set_new(j, "inter_rounds", json_integer(m->inter_rounds));
	json_object_set_new(j, "intra_rounds", json_integer(m->intra_rounds));
	json_object_set_new(j, "sizes", sizes);
	json_object_set_new(j, "iters", json_integer(m->o->iters));
	json_object_set_new(j, "warmup_iters", json_integer(m->o->warmup_iters));
	json_object_set_new(j, "check", json_boolean(m->o->check));
	json_object_set_new(j, "timeout_s", json_integer(m->o->timeout_ms / 1000));
	json_object_set_new(j, "threshold", json_real(m->q->threshold));
	json_object_set_new(j, "line_threshold", json_real(m->q->line_threshold));
	json_object_set_new(j, "intra_threshold", json_real(m->q->intra_threshold));
	json_object_set_new(j, "expect_gbits", m->q->expect_gbps > 0 ?
				json_real(m->q->expect_gbps) : json_null());
	json_object_set_new(j, "max_retests", json_integer(m->q->max_retests));
	json_object_set_new(j, "retest_attempts", json_integer(m->q->retests));
	json_object_set_new(j, "ranks", ranks);
	json_object_set_new(j, "command_line", json_string(m->command_line));
	json_object_set_new(j, "version", json_string(RB_VERSION));
	json_object_set_new(j, "git", json_string(rb_git_sha()));
	json_object_set_new(j, "build", json_string(rb_build_config()));
	json_object_set_new(j, "mpi_library", json_string(m->mpi_library));
	json_object_set_new(j, "run_id", json_string(m->run_id));
	if (m->topo_findings)
		json_object_set_new(j, "topology_findings",
				    json_string(m->topo_findings));
	return j;
}

static int qrep_write_json(const struct rb_qual_report *r)
{
	json_t *root = json_object();
	json_t *recs = json_array();
	char path[PATH_MAX + 8];
	char *text;
	int rc;

	for (int i = 0; i < r->nrows; i++) {
		json_t *o = json_object();

		for (size_t c = 0; c < RB_ARRAY_SIZE(qrep_cols); c++)
			json_object_set_new(o, qrep_cols[c].name,
					    qrep_value(&r->rows[i], &qrep_cols[c]));
		json_array_append_new(recs, o);
	}
	json_object_set_new(root, "format", json_string("railbench-p2p"));
	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "meta", qrep_meta(r));
	json_object_set_new(root, "records", recs);
	json_object_set_new(root, "notes", json_incref(r->notes));
	if (r->refs)
		json_object_set_new(root, "references", json_incref(r->refs));
	if (r->verdict)
		json_object_set_new(root, "verdict", json_incref(r->verdict));
	json_object_set_new(root, "summary", json_pack(
		"{s:b, s:i, s:f}", "complete", r->complete, "exit_status",
		r->exit_status, "wall_s", (double)(rb_time_ns() - r->t0_ns) / 1e9));
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
				JSON_REAL_PRECISION(10));
	json_decref(root);
	if (!text)
		return -RB_ENOMEM;
	snprintf(path, sizeof(path), "%s.json", r->base);
	rc = rb_report_write_file(path, text);
	free(text);
	return rc;
}

static int qrep_write_csv(const struct rb_qual_report *r)
{
	char path[PATH_MAX + 8];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	if (!f)
		return -RB_ENOMEM;
	for (size_t c = 0; c < RB_ARRAY_SIZE(qrep_cols); c++)
		fprintf(f, "%s%s", c ? "," : "", qrep_cols[c].name);
	fputc('\n', f);
	for (int i = 0; i < r->nrows; i++) {
		for (size_t c = 0; c < RB_ARRAY_SIZE(qrep_cols); c++) {
			if (c)
				fputc(',', f);
			qrep_csv_value(f, &r->rows[i], &qrep_cols[c]);
		}
		fputc('\n', f);
	}
	if (fclose(f)) {
		free(buf);
		return -RB_ENOMEM;
	}
	snprintf(path, sizeof(path), "%s.csv", r->base);
	rc = rb_report_write_file(path, buf);
	free(buf);
	return rc;
}

int rb_qual_report_flush(struct rb_qual_report *r, int force)
{
	uint64_t now = rb_time_ns();
	int rc;

	/* At most once a second, and at most a tenth of the time: a large
	 * all-pairs run must not spend itself rewriting its files. */
	if (!r->base[0] ||
	    (!force && now - r->flushed_ns < RB_MAX(QREP_FLUSH_NS,
						     10 * r->flush_cost_ns)))
		return 0;
	rc = qrep_write_json(r);
	rc = rc ? rc : qrep_write_csv(r);
	r->flushed_ns = rb_time_ns();
	r->flush_cost_ns = r->flushed_ns - now;
	return rc;
}

/* "line rate 0.2 Gb/s (--expect-gbps)", "line rate unknown (...)". */
static void qrep_line_text(const struct rb_qual_meta *m, int rail, char *buf,
			   size_t len)
{
	double line = -1;
	int mixed = 0;

	if (m->q->expect_gbps > 0) {
		snprintf(buf, len, "line rate %.4g Gb/s = %.4g GB/s (--expect-gbps)",
			 m->q->expect_gbps, m->q->expect_gbps / 8);
		return;
	}
	for (int i = 0; i < m->nranks; i++) {
		const struct rb_qual_rank *k = &m->ranks[i];

		if (k->local_rank != rail)
			continue;
		if (line < 0)
			line = k->line_gbps;
		mixed |= k->line_gbps != line;
		line = RB_MIN(line, k->line_gbps);
	}
	if (line > 0)
		snprintf(buf, len, "line rate %.4g Gb/s = %.4g GB/s%s (from the system: sysfs speed, verbs port)",
			 line, line / 8, mixed ? " at the slowest NIC" : "");
	else
		snprintf(buf, len, "line rate unknown (%s): the rail's reference pair is the yardstick",
			 mixed ? "some NICs report none" :
				 "virtual NICs such as veth report none");
}

static void qrep_preamble(const struct rb_qual_report *r)
{
	const struct rb_qual_meta *m = r->m;
	char mode[32];
	char sz[2][32];
	char line[256];

	printf("# railbench %s (git %s, build %s)\n", RB_VERSION, rb_git_sha(),
	       rb_build_config());
	printf("# command: %s\n", m->command_line);
	printf("# p2p over %s, %d ranks on %d node%s, %d %s%s, pairs %s, %s, "
	       "sizes %s..%s, iters %d, warm-up %d, check %s, timeout %" PRId64 " s\n",
	       m->o->transport, m->nranks, m->nnodes, m->nnodes == 1 ? "" : "s",
	       m->nrails, m->q->intra_only ? "local rank" : "rail",
	       m->nrails == 1 ? "" : "s",
	       rb_qual_mode_name(m->q, mode, sizeof(mode)),
	       m->q->rails_serial ? "one rail at a time" : "rails concurrent",
	       rb_format_size(m->sizes[0], sz[0]),
	       rb_format_size(m->sizes[m->nsizes - 1], sz[1]), m->o->iters,
	       m->o->warmup_iters, m->o->check ? "on" : "off",
	       m->o->timeout_ms / 1000);
	printf("# rounds: %d between nodes (each of disjoint pairs), %d inside nodes; slow below %.2g x the rail's reference or %.2g x line rate, inside nodes below %.2g x the typical pair; suspects retested alone, up to %d attempts\n",
	       m->inter_rounds, m->intra_rounds, m->q->threshold,
	       m->q->line_threshold, m->q->intra_threshold, m->q->retests);
	printf("# MPI library: %s\n", m->mpi_library);
	for (int i = 0; i < m->nranks; i++) {
		const struct rb_qual_rank *k = &m->ranks[i];

		printf("#  rank %2d host %s local %d pid %d nic %s line %s: %s%s%s\n",
		       k->rank, k->host, k->local_rank, k->pid,
		       k->nic[0] ? k->nic : "-",
		       k->line_gbps > 0 ? "known" : "unknown", k->tp_desc,
		       k->place[0] ? " | " : "", k->place);
	}
	for (int rl = 0; rl < m->nrails && m->nnodes > 1 && !m->q->intra_only; rl++) {
		qrep_line_text(m, rl, line, sizeof(line));
		printf("# rail %d: %s\n", rl, line);
	}
	if (m->topo_findings)
		fputs(m->topo_findings, stdout);
}

int rb_qual_report_open(const struct rb_qual_meta *m,
			struct rb_qual_report **r_p)
{
	struct rb_qual_report *r = calloc(1, sizeof(*r));

	if (!r)
		return -RB_ENOMEM;
	r->m = m;
	r->notes = json_array();
	r->t0_ns = rb_time_ns();
	if (m->results_dir) {
		if (rb_report_mkdir(m->results_dir)) {
			rb_err("cannot create results directory %s: %s",
			       m->results_dir, strerror(errno));
			rb_qual_report_free(r);
			return -RB_ESYS;
		}
		snprintf(r->base, sizeof(r->base), "%s/p2p-%s", m->results_dir,
			 m->o->transport);
	}
	qrep_preamble(r);
	fflush(stdout);
	if (rb_qual_report_flush(r, 1)) {
		rb_qual_report_free(r);
		return -RB_ESYS;
	}
	*r_p = r;
	return 0;
}

int rb_qual_report_add(struct rb_qual_report *r, const struct rb_qual_row *row)
{
	if (r->nrows == r->cap) {
		int cap = r->cap ? 2 * r->cap : 256;
		struct rb_qual_row *v = realloc(r->rows, (size_t)cap * sizeof(*v));

		if (!v)
			return -RB_ENOMEM;
		r->rows = v;
		r->cap = cap;
	}
	r->rows[r->nrows++] = *row;
	return 0;
}

struct rb_qual_row *rb_qual_report_rows(struct rb_qual_report *r, int *n_p)
{
	*n_p = r->nrows;
	return r->rows;
}

void rb_qual_report_note(struct rb_qual_report *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("# %s\n", buf);
	fflush(stdout);
	json_array_append_new(r->notes, json_string(buf));
}

void rb_qual_report_free(struct rb_qual_report *r)
{
	if (!r)
		return;
	free(r->rows);
	json_decref(r->notes);
	json_decref(r->verdict);
	json_decref(r->refs);
	free(r);
}

/* The rows the verdict judges: the largest size, one direction. */
static int qrep_judged(const struct rb_qual_report *r,
		       const struct rb_qual_row *row)
{
	return row->size_bytes == r->m->sizes[r->m->nsizes - 1] &&
	       !strcmp(row->direction, "uni");
}

int rb_qual_report_loc_in(struct rb_qual_report *r, struct rb_loc_in *in,
			  int **row_of_p)
{
	const struct rb_qual_meta *m = r->m;
	struct rb_loc_pair *pairs = calloc((size_t)r->nrows + 1, sizeof(*pairs));
	struct rb_loc_nic *nics = calloc((size_t)m->nnodes * RB_MAX(m->nrails, 1),
					 sizeof(*nics));
	int *row_of = calloc((size_t)r->nrows + 1, sizeof(int));
	int n = 0;

	if (!pairs || !nics || !row_of) {
		free(pairs);
		free(nics);
		free(row_of);
		return -RB_ENOMEM;
	}
	for (int i = 0; i < m->nranks; i++) {
		const struct rb_qual_rank *k = &m->ranks[i];
		struct rb_loc_nic *c = &nics[(size_t)k->node * m->nrails + k->local_rank];

		c->present = 1;
		c->line_gbps = k->line_gbps;
		snprintf(c->name, sizeof(c->name), "%s", k->nic[0] ? k->nic : "-");
	}
	for (int i = 0; i < r->nrows; i++) {
		const struct rb_qual_row *w = &r->rows[i];
		int inter = !strcmp(w->kind, "inter");

		if (!qrep_judged(r, w))
			continue;
		pairs[n] = (struct rb_loc_pair){
			.kind = inter ? RB_LOC_INTER : RB_LOC_INTRA,
			.group = inter ? w->rail : m->ranks[w->src_rank].node,
			.src = inter ? m->ranks[w->src_rank].node : w->src_local,
			.dst = inter ? m->ranks[w->dst_rank].node : w->dst_local,
			.first_gbps = w->bw_p50_gbps,
			.retest_gbps = w->retest_p50_gbps,
			.baseline = strstr(w->retest_reason, "baseline") != NULL,
			.wrong = w->wrong,
		};
		row_of[n++] = i;
	}
	*in = (struct rb_loc_in){
		.nnodes = m->nnodes,
		.nrails = m->nrails,
		.hosts = m->node_hosts,
		.nics = nics,
		.pairs = pairs,
		.npairs = n,
		.threshold = m->q->threshold,
		.line_threshold = m->q->line_threshold,
		.intra_threshold = m->q->intra_threshold,
		.expect_gbps = m->q->expect_gbps,
		.topo_findings = m->topo_findings,
	};
	*row_of_p = row_of;
	return 0;
}

struct qrep_key {
	uint64_t key;	/* src_rank * nranks + dst_rank */
	int pair;
};

static int qrep_cmp_key(const void *a, const void *b)
{
	const struct qrep_key *x = a;
	const struct qrep_key *y = b;

	return (x->key > y->key) - (x->key < y->key);
}

/* Every row takes its pair's reference and line rate; only the judged
 * rows (largest size, one direction) carry a verdict. */
static int qrep_annotate(struct rb_qual_report *r, const struct rb_loc_in *in,
			 const struct rb_loc_out *out, const int *row_of)
{
	uint64_t n = (uint64_t)r->m->nranks;
	struct qrep_key *keys = calloc((size_t)in->npairs + 1, sizeof(*keys));

	if (!keys)
		return -RB_ENOMEM;
	for (int i = 0; i < in->npairs; i++) {
		const struct rb_qual_row *v = &r->rows[row_of[i]];

		keys[i] = (struct qrep_key){
			.key = (uint64_t)v->src_rank * n + (uint64_t)v->dst_rank,
			.pair = i };
	}
	qsort(keys, (size_t)in->npairs, sizeof(*keys), qrep_cmp_key);
	for (int i = 0; i < r->nrows; i++) {
		struct rb_qual_row *w = &r->rows[i];
		struct qrep_key k = {
			.key = (uint64_t)w->src_rank * n + (uint64_t)w->dst_rank };
		const struct qrep_key *hit = bsearch(&k, keys, (size_t)in->npairs,
						     sizeof(*keys), qrep_cmp_key);
		const struct rb_loc_pair *p = hit ? &in->pairs[hit->pair] : NULL;

		w->judged_gbps = RB_MAX(w->retest_p50_gbps, w->bw_p50_gbps);
		w->ref_gbps = p ? p->ref_gbps :
			      !strcmp(w->kind, "intra") ? out->intra.ref_gbps : -1;
		w->line_gbps = p && p->expect_gbps > 0 ? 8 * p->expect_gbps : -1;
		w->slow = p && qrep_judged(r, w) ? p->slow : 0;
		w->pct_ref = w->ref_gbps > 0 ? 100 * w->judged_gbps / w->ref_gbps : -1;
		w->pct_line = w->line_gbps > 0 ?
				      100 * w->judged_gbps * 8 / w->line_gbps : -1;
	}
	free(keys);
	return 0;
}

/* Bandwidth matrix of one rail: rows send, columns receive. */
static int qrep_matrix(const struct rb_qual_report *r,
		       const struct rb_loc_in *in, int rail)
{
	const struct rb_qual_meta *m = r->m;
	int n = m->nnodes;
	int w = 11;
	char sz[32];
	int *at = malloc(sizeof(int) * (size_t)n * n + 1);

	if (!at)
		return -RB_ENOMEM;
	for (int i = 0; i < n * n; i++)
		at[i] = -1;
	for (int k = 0; k < in->npairs; k++)
		if (in->pairs[k].kind == RB_LOC_INTER && in->pairs[k].group == rail)
			at[in->pairs[k].src * n + in->pairs[k].dst] = k;
	for (int i = 0; i < n; i++)
		w = RB_MAX(w, (int)strlen(m->node_hosts[i]) + 2);
	printf("# rail %d: GB/s at %s, row sends to column (* slow, ! data errors, . not measured, - none)\n",
	       rail, rb_format_size(m->sizes[m->nsizes - 1], sz));
	printf("#%*s", w - 1, "");
	for (int j = 0; j < n; j++)
		printf("%*s", w, m->node_hosts[j]);
	printf("\n");
	for (int i = 0; i < n; i++) {
		if (!rb_loc_nic(in, i, rail)->present)
			continue;
		printf("%-*s", w, m->node_hosts[i]);
		for (int j = 0; j < n; j++) {
			const struct rb_loc_pair *p = at[i * n + j] >= 0 ?
				&in->pairs[at[i * n + j]] : NULL;
			char cell[32];

			if (i == j || !rb_loc_nic(in, j, rail)->present)
				snprintf(cell, sizeof(cell), "-");
			else if (!p)
				snprintf(cell, sizeof(cell), ".");
			else
				snprintf(cell, sizeof(cell), "%.4g%s",
					 rb_loc_final(p), p->wrong > 0 ? "!" :
							  p->slow ? "*" : "");
			printf("%*s", w, cell);
		}
		printf("\n");
	}
	free(at);
	return 0;
}

/* One '#' line per node: its intra-node pairs at the largest size. */
static void qrep_intra(const struct rb_qual_report *r)
{
	const struct rb_qual_meta *m = r->m;

	for (int g = 0; g < m->nnodes; g++) {
		char line[2048];
		const char *link = "";
		size_t used = 0;
		int n = 0;

		for (int i = 0; i < r->nrows; i++) {
			const struct rb_qual_row *w = &r->rows[i];

			if (strcmp(w->kind, "intra") || !qrep_judged(r, w) ||
			    m->ranks[w->src_rank].node != g || used >= sizeof(line))
				continue;
			used += (size_t)snprintf(line + used, sizeof(line) - used,
						 "%s%d->%d %.4g%s", n ? ", " : "",
						 w->src_local, w->dst_local,
						 w->judged_gbps, w->slow ? "*" : "");
			link = w->src_nic;
			n++;
		}
		if (n)
			printf("# intra-node %s over %s, local rank to local rank: %s GB/s\n",
			       m->node_hosts[g], link, line);
	}
}

static void qrep_retests(const struct rb_qual_report *r)
{
	for (int i = 0; i < r->nrows; i++) {
		const struct rb_qual_row *w = &r->rows[i];

		if (w->retest_p50_gbps < 0 || !qrep_judged(r, w))
			continue;
		if (!strcmp(w->kind, "inter"))
			printf("# retested alone (%s, best of %d): %s -> %s rail %d: first pass %.4g GB/s, alone %.4g GB/s%s\n",
			       w->retest_reason, w->retests, w->src_host,
			       w->dst_host, w->rail, w->bw_p50_gbps,
			       w->retest_p50_gbps, w->slow ? ", still slow" : "");
		else
			printf("# retested alone (%s, best of %d): %s local rank %d -> %d: first pass %.4g GB/s, alone %.4g GB/s%s\n",
			       w->retest_reason, w->retests, w->src_host,
			       w->src_local, w->dst_local, w->bw_p50_gbps,
			       w->retest_p50_gbps, w->slow ? ", still slow" : "");
	}
}

static json_t *qrep_refs_json(const struct rb_qual_meta *m,
			      const struct rb_loc_out *out)
{
	json_t *a = json_array();

	for (int rl = 0; rl < m->nrails; rl++) {
		const struct rb_loc_ref *f = &out->rails[rl];

		if (!f->npairs)
			continue;
		json_array_append_new(a, json_pack(
			"{s:s, s:i, s:i, s:f, s:f, s:o, s:o, s:o, s:b, s:b}", "kind",
			"inter", "rail", rl, "pairs", f->npairs, "ref_gbps",
			f->ref_gbps, "first_median_gbps", f->first_median_gbps,
			"baselines_alone_gbps", f->base_gbps > 0 ? json_real(f->base_gbps) : json_null(),
			"alone_gbps", f->alone_gbps > 0 ? json_real(f->alone_gbps) : json_null(),
			"line_gbits", f->line_known ? json_real(f->line_gbps) : json_null(),
			"line_known", f->line_known, "slow", f->slow));
	}
	if (out->intra.npairs)
		json_array_append_new(a, json_pack(
			"{s:s, s:i, s:f}", "kind", "intra", "pairs",
			out->intra.npairs, "ref_gbps", out->intra.ref_gbps));
	return a;
}

static void qrep_refs_print(const struct rb_qual_report *r,
			    const struct rb_loc_out *out)
{
	const struct rb_qual_meta *m = r->m;

	for (int rl = 0; rl < m->nrails; rl++) {
		const struct rb_loc_ref *f = &out->rails[rl];
		char line[256];

		if (!f->npairs)
			continue;
		qrep_line_text(m, rl, line, sizeof(line));
		printf("# rail %d: %d pairs, reference %.4g GB/s (median over nodes of each node's median pair; plain median %.4g)",
		       rl, f->npairs, f->ref_gbps, f->first_median_gbps);
		if (f->base_gbps > 0)
			printf(", baselines alone %.4g GB/s", f->base_gbps);
		printf("; %s\n", line);
	}
	if (out->intra.npairs)
		printf("# intra-node: %d pairs, reference %.4g GB/s (median over nodes of each node's median over its ranks); no line rate\n",
		       out->intra.npairs, out->intra.ref_gbps);
}

static json_t *qrep_verdict_json(const struct rb_qual_meta *m,
				 const struct rb_loc_out *out)
{
	json_t *cul = json_array();

	for (int i = 0; i < out->nculprits; i++) {
		const struct rb_loc_culprit *c = &out->culprits[i];

		json_array_append_new(cul, json_pack(
			"{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
			"class", rb_loc_class_name(c->cls),
			"host", c->node >= 0 ? json_string(m->node_hosts[c->node]) : json_null(),
			"peer_host", c->peer >= 0 ? json_string(m->node_hosts[c->peer]) : json_null(),
			"rail", c->rail >= 0 ? json_integer(c->rail) : json_null(),
			"local_ranks", c->local_a >= 0 ?
				json_pack("[i, i]", c->local_a, c->local_b) : json_null(),
			"measured_gbps", c->expected_gbps > 0 ? json_real(c->measured_gbps) : json_null(),
			"expected_gbps", c->expected_gbps > 0 ? json_real(c->expected_gbps) : json_null(),
			"pct", c->expected_gbps > 0 ?
				json_real(rb_loc_pct(c->measured_gbps, c->expected_gbps)) : json_null(),
			"text", c->text));
	}
	return json_pack("{s:b, s:o}", "pass", out->pass, "culprits", cul);
}

static void qrep_verdict_print(const struct rb_qual_report *r,
			       const struct rb_loc_in *in,
			       const struct rb_loc_out *out)
{
	if (out->pass) {
		int line = r->m->q->expect_gbps > 0;

		for (int rl = 0; rl < r->m->nrails; rl++)
			line |= out->rails[rl].npairs && out->rails[rl].line_known;
		printf("# Verdict: PASS: all %d measured pairs within their thresholds of the typical pair%s; no data errors\n",
		       in->npairs, line ? " and of line rate" : "");
		return;
	}
	printf("# Verdict: FAIL: %d culprit%s, most severe first:\n",
	       out->nculprits, out->nculprits == 1 ? "" : "s");
	for (int i = 0; i < out->nculprits; i++)
		printf("#   %d. %s\n", i + 1, out->culprits[i].text);
}

int rb_qual_report_close(struct rb_qual_report *r, int exit_status,
			 int *verdict_p)
{
	struct rb_loc_in in;
	struct rb_loc_out out;
	int *row_of = NULL;
	int rc;

	*verdict_p = 0;
	r->exit_status = exit_status;
	if (exit_status)
		return rb_qual_report_flush(r, 1);
	rc = rb_qual_report_loc_in(r, &in, &row_of);
	if (rc)
		return rc;
	rc = rb_loc_run(&in, &out);
	if (rc)
		goto out_free;
	rc = qrep_annotate(r, &in, &out, row_of);
	printf("#\n");
	for (int rl = 0; !rc && rl < r->m->nrails &&
			 r->m->nnodes <= QREP_MATRIX_MAX_NODES; rl++)
		if (out.rails[rl].npairs)
			rc = qrep_matrix(r, &in, rl);
	if (r->m->nnodes > QREP_MATRIX_MAX_NODES)
		printf("# no matrix on stdout above %d nodes: every pair is in the JSON and CSV\n",
		       QREP_MATRIX_MAX_NODES);
	qrep_intra(r);
	qrep_retests(r);
	qrep_refs_print(r, &out);
	r->refs = qrep_refs_json(r->m, &out);
	r->verdict = qrep_verdict_json(r->m, &out);
	*verdict_p = out.pass ? 0 : RB_EXIT_VERDICT;
	r->exit_status = *verdict_p;
	r->complete = 1;
	rc = rc ? rc : rb_qual_report_flush(r, 1);
	if (r->base[0])
		printf("# results: %s.json, %s.csv\n", r->base, r->base);
	qrep_verdict_print(r, &in, &out);
	fflush(stdout);
	rb_loc_out_free(&out);
out_free:
	free(in.pairs);
	free((void *)in.nics);
	free(row_of);
	return rc;
}
