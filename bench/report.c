/* SPDX-License-Identifier: BSD-3-Clause */
/* Output of rank 0: the '#' preamble, the nccl-tests style table, the '#'
 * footer with the verdict, and the results files (JSON via jansson, CSV),
 * rewritten atomically after every size (docs/results.md). */
#include <errno.h>
#include <hwloc.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "collectives/coll.h"

extern char **environ;

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
};

static const char csv_header[] =
	"collective,transport,algo,nranks,placement,size_bytes,count,dtype,"
	"redop,time_us,time_min_us,time_max_us,time_p50_us,time_p99_us,"
	"algbw_gbps,busbw_gbps,wrong";

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
	json_object_set_new(meta, "warmup_iters", json_integer(o->warmup_iters));
	json_object_set_new(meta, "check", json_boolean(o->check));
	json_object_set_new(meta, "timeout_s", json_integer(o->timeout_ms / 1000));
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

static int csv_line(json_t *rec, char *line, size_t len)
{
	return snprintf(line, len,
			"%s,%s,%s,%" PRId64 ",%s,%" PRId64 ",%" PRId64 ",%s,%s,"
			"%.3f,%.3f,%.3f,%.3f,%.3f,%.6f,%.6f,%" PRId64 "\n",
			json_string_value(json_object_get(rec, "collective")),
			json_string_value(json_object_get(rec, "transport")),
			json_string_value(json_object_get(rec, "algo")),
			(int64_t)json_integer_value(json_object_get(rec, "nranks")),
			json_string_value(json_object_get(rec, "placement")),
			(int64_t)json_integer_value(json_object_get(rec, "size_bytes")),
			(int64_t)json_integer_value(json_object_get(rec, "count")),
			json_string_value(json_object_get(rec, "dtype")),
			json_string_value(json_object_get(rec, "redop")),
			json_real_value(json_object_get(rec, "time_us")),
			json_real_value(json_object_get(rec, "time_min_us")),
			json_real_value(json_object_get(rec, "time_max_us")),
			json_real_value(json_object_get(rec, "time_p50_us")),
			json_real_value(json_object_get(rec, "time_p99_us")),
			json_real_value(json_object_get(rec, "algbw_gbps")),
			json_real_value(json_object_get(rec, "busbw_gbps")),
			(int64_t)json_integer_value(json_object_get(rec, "wrong")));
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
	text = json_dumps(r->root, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
				   JSON_REAL_PRECISION(10));
	if (!text)
		return -RB_ENOMEM;
	snprintf(path, sizeof(path), "%s.json", r->base);
	rc = write_atomic(path, text);
	free(text);
	if (rc)
		return rc;
	rc = append(&csv, &len, &cap, csv_header);
	rc = rc ? rc : append(&csv, &len, &cap, "\n");
	json_array_foreach(r->records, i, rec) {
		char line[512];

		csv_line(rec, line, sizeof(line));
		rc = rc ? rc : append(&csv, &len, &cap, line);
	}
	if (!rc) {
		snprintf(path, sizeof(path), "%s.csv", r->base);
		rc = write_atomic(path, csv);
	}
	free(csv);
	return rc;
}

static void print_preamble(const struct rb_report *r)
{
	const struct rb_run_meta *m = r->m;
	const struct rb_opts *o = m->opts;

	printf("# railbench %s (git %s, build %s)\n", RB_VERSION, rb_git_sha(),
	       rb_build_config());
	printf("# command: %s\n", m->command_line);
	printf("# %s over %s, algorithm %s, %d ranks on %d node%s, %s %s, "
	       "iters %d, warm-up %d, check %s, timeout %" PRId64 " s\n",
	       rb_coll_kind_name(m->kind), m->transport, m->algo, m->nranks,
	       m->nnodes, m->nnodes == 1 ? "" : "s", rb_dtype_name(o->dtype),
	       redop_col(r), o->iters, o->warmup_iters, o->check ? "on" : "off",
	       o->timeout_ms / 1000);
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
	printf("# %10s %12s %8s %6s %9s %7s %7s %6s %9s %9s %7s %7s %6s %9s\n",
	       "size", "count", "type", "redop", "time", "algbw", "busbw",
	       "#wrong", "p99", "time", "algbw", "busbw", "#wrong", "p99");
	printf("# %10s %12s %8s %6s %9s %7s %7s %6s %9s %9s %7s %7s %6s %9s\n",
	       "(B)", "(elements)", "", "", "(us)", "(GB/s)", "(GB/s)", "",
	       "(us)", "(us)", "(GB/s)", "(GB/s)", "", "(us)");
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
			return -RB_ESYS;
		}
		snprintf(r->base, sizeof(r->base), "%s/%s-%s-%s", m->results_dir,
			 rb_coll_kind_name(m->kind), m->transport, m->algo);
	}
	print_preamble(r);
	fflush(stdout);
	if (flush_files(r)) {
		rb_report_free(r);
		return -RB_ESYS;
	}
	*r_p = r;
	return 0;
}

static json_t *row_json(const struct rb_report *r, const struct rb_row *row,
			const char *placement)
{
	const struct rb_run_meta *m = r->m;

	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:I, s:s, s:s, s:f, s:f,"
			 " s:f, s:f, s:f, s:f, s:f, s:I}",
			 "collective", rb_coll_kind_name(m->kind),
			 "transport", m->transport, "algo", m->algo,
			 "nranks", m->nranks, "placement", placement,
			 "size_bytes", (json_int_t)row->size_bytes,
			 "count", (json_int_t)row->count,
			 "dtype", rb_dtype_name(m->opts->dtype),
			 "redop", redop_col(r),
			 "time_us", row->t_us.avg, "time_min_us", row->t_us.min,
			 "time_max_us", row->t_us.max, "time_p50_us", row->t_us.p50,
			 "time_p99_us", row->t_us.p99,
			 "algbw_gbps", row->algbw_gbps,
			 "busbw_gbps", row->busbw_gbps,
			 "wrong", (json_int_t)row->wrong);
}

static void print_cols(const struct rb_row *row)
{
	char wrong[24];

	if (!row->valid) {
		printf(" %9s %7s %7s %6s %9s", "-", "-", "-", "-", "-");
		return;
	}
	if (row->wrong < 0)
		snprintf(wrong, sizeof(wrong), "N/A");
	else
		snprintf(wrong, sizeof(wrong), "%" PRId64, row->wrong);
	printf(" %9.2f %7.3f %7.3f %6s %9.2f", row->t_us.avg, row->algbw_gbps,
	       row->busbw_gbps, wrong, row->t_us.p99);
}

static void account(struct rb_report *r, const struct rb_row *row,
		    const char *placement)
{
	if (!row->valid)
		return;
	json_array_append_new(r->records, row_json(r, row, placement));
	r->busbw_sum += row->busbw_gbps;
	r->nrows++;
	if (row->busbw_gbps > r->peak_busbw)
		r->peak_busbw = row->busbw_gbps;
	if (row->wrong >= 0) {
		r->wrong += row->wrong;
		r->checked = 1;
	}
}

int rb_report_row(struct rb_report *r, const struct rb_row *oop,
		  const struct rb_row *ip)
{
	printf("  %10" PRIu64 " %12" PRIu64 " %8s %6s", oop->size_bytes,
	       oop->count, rb_dtype_name(r->m->opts->dtype), redop_col(r));
	print_cols(oop);
	print_cols(ip);
	printf("\n");
	fflush(stdout);
	account(r, oop, "out-of-place");
	account(r, ip, "in-place");
	return flush_files(r);
}

/* Cuts path at its last '/'. \return path. */
static char *dir_of(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash)
		*slash = '\0';
	return path;
}

/* Runs scripts/rb-plot.sh on the CSV; failures are warnings. */
static void run_plot(const struct rb_report *r)
{
	char script[PATH_MAX + 64];
	char exe[PATH_MAX];
	char csv[PATH_MAX + 8];
	const char *env = getenv("RAILBENCH_PLOT");
	ssize_t n;
	pid_t pid;
	int status = 0;

	if (env) {
		snprintf(script, sizeof(script), "%s", env);
	} else {
		/* <root>/build/bin/x -> <root>/scripts/rb-plot.sh */
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		snprintf(script, sizeof(script), "%.4000s/../../scripts/rb-plot.sh",
			 n > 0 ? dir_of(exe) : ".");
		if (access(script, X_OK))
			snprintf(script, sizeof(script), "%s/scripts/rb-plot.sh",
				 RB_SRCDIR);
	}
	snprintf(csv, sizeof(csv), "%s.csv", r->base);
	char *argv[] = { script, "-o", (char *)r->base, csv, NULL };

	if (posix_spawn(&pid, script, NULL, NULL, argv, environ)) {
		rb_warn("charts not drawn: cannot run %s: %s", script,
			strerror(errno));
		return;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		rb_warn("charts not drawn: %s exited with status %d", script,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return;
	}
	printf("# charts: %s-busbw.{png,svg}, %s-time.{png,svg}\n", r->base,
	       r->base);
}

int rb_report_close(struct rb_report *r, int exit_status)
{
	const struct rb_opts *o = r->m->opts;
	double avg = r->nrows ? r->busbw_sum / r->nrows : 0;
	int rc;

	r->verdict = 0;
	if (r->checked)
		printf("# Out of bounds values : %" PRId64 " %s\n", r->wrong,
		       r->wrong ? "FAILED" : "OK");
	else
		printf("# Out of bounds values : not checked (-c 0)\n");
	printf("# Avg bus bandwidth    : %.6g GB/s\n", avg);
	printf("# Peak bus bandwidth   : %.6g GB/s\n", r->peak_busbw);
	if (r->wrong)
		r->verdict = RB_EXIT_VERDICT;
	if (o->expect_gbps > 0) {
		int ok = r->peak_busbw >= o->expect_gbps;

		printf("# Verdict: %s: peak busbw %.3f GB/s is %.1f%% of the expected %.3f GB/s\n",
		       ok && !r->wrong ? "PASS" : "FAIL", r->peak_busbw,
		       100.0 * r->peak_busbw / o->expect_gbps, o->expect_gbps);
		if (!ok)
			r->verdict = RB_EXIT_VERDICT;
	} else {
		printf("# Verdict: %s: %s; no bandwidth target (--expect-busbw)\n",
		       r->wrong ? "FAIL" : "PASS",
		       r->wrong ? "data errors" : r->checked ? "data correct" :
							      "data not checked");
	}
	if (!exit_status)
		exit_status = r->verdict;
	json_object_set_new(r->root, "summary",
			    json_pack("{s:b, s:f, s:f, s:I, s:b, s:i}", "complete", 1,
				      "avg_busbw_gbps", avg, "peak_busbw_gbps",
				      r->peak_busbw, "wrong_total",
				      (json_int_t)(r->checked ? r->wrong : -1),
				      "pass", exit_status == 0, "exit_status",
				      exit_status));
	rc = flush_files(r);
	if (!rc && r->base[0] && !o->no_plot && r->nrows)
		run_plot(r);
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
