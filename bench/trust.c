/* SPDX-License-Identifier: BSD-3-Clause */
/* The report's view of how far the figures can be trusted: per row the
 * timed iterations and the 95 % CI of the median, the stragglers; per run
 * the alpha-beta fit of the algorithm's own cost model (docs/results.md,
 * docs/statistics.md, docs/model.md). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/trust.h"

/* Rows a fit takes, at most (a sweep of 8 B..1 TiB by 2 has 38). */
#define TRUST_FIT_MAX 512

static const char *const trust_class_name[RB_NLINK_CLASSES] = {
	[RB_LINK_INTRA] = "intra",
	[RB_LINK_INTER] = "inter",
};

static json_t *trust_real_or_null(int has, double v)
{
	return has ? json_real(v) : json_null();
}

static json_t *trust_cost_json(const struct rb_coll_cost *c)
{
	json_t *o = json_object();

	for (int k = 0; k < RB_NLINK_CLASSES; k++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_steps", trust_class_name[k]);
		json_object_set_new(o, key, json_real(c->steps[k]));
		snprintf(key, sizeof(key), "%s_bytes", trust_class_name[k]);
		json_object_set_new(o, key, json_real(c->bytes[k]));
	}
	return o;
}

static json_t *trust_straggler_json(const struct rb_row *row,
				    const struct rb_run_meta *m)
{
	const struct rb_straggler *s = &row->straggler;
	const struct rb_rank_info *ri = s->rank >= 0 ? &m->ranks[s->rank] : NULL;

	return json_pack("{s:i, s:s, s:i, s:i, s:i, s:i, s:f, s:f}",
			 "rank", s->rank, "host", ri ? ri->host : "",
			 "rail", ri ? ri->rail : -1,
			 "slowest_iters", s->slowest_iters, "iters", s->iters,
			 "ranks_ever_slowest", s->nslowest,
			 "excess_us", s->excess_us, "excess_pct", s->excess_pct);
}

static json_t *trust_rank_times_json(const struct rb_row *row, int nranks)
{
	json_t *all = json_array();
	int n = row->timed.iters;

	for (int r = 0; r < nranks; r++) {
		json_t *one = json_array();

		for (int i = 0; i < n; i++)
			json_array_append_new(one, json_real(
				(double)row->rank_ns[(size_t)r * n + i] / 1e3));
		json_array_append_new(all, one);
	}
	return all;
}

void rb_trust_row_json(json_t *rec, const struct rb_row *row,
		       const struct rb_run_meta *m)
{
	const struct rb_timed *t = &row->timed;
	double half = t->has_ci && t->p50_us > 0 ?
		100 * fmax(t->p50_us - t->ci_lo_us, t->ci_hi_us - t->p50_us) /
		t->p50_us : 0;

	json_object_set_new(rec, "ci_halfwidth_pct", trust_real_or_null(t->has_ci, half));
	json_object_set_new(rec, "ci_target_pct",
			    trust_real_or_null(t->target_pct > 0, t->target_pct));
	json_object_set_new(rec, "measure_ms", json_real(t->ms));
	if (row->has_cost)
		json_object_set_new(rec, "cost", trust_cost_json(&row->cost));
	if (row->rank_ns) {
		json_object_set_new(rec, "straggler", trust_straggler_json(row, m));
		json_object_set_new(rec, "rank_times_us",
				    trust_rank_times_json(row, m->nranks));
	}
}

static double trust_num(json_t *rec, const char *key)
{
	return json_number_value(json_object_get(rec, key));
}

/* The confidence line; adds the counts to sum. */
static void trust_ci_footer(json_t *records, const struct rb_opts *o,
			    json_t *sum)
{
	double lo = INFINITY;
	double hi = 0;
	int imin = INT32_MAX;
	int imax = 0;
	int met = 0;
	int rows = 0;
	int nci = 0;
	size_t i;
	json_t *rec;

	json_array_foreach(records, i, rec) {
		int n = (int)json_integer_value(json_object_get(rec, "iters"));
		json_t *h = json_object_get(rec, "ci_halfwidth_pct");

		rows++;
		met += json_is_true(json_object_get(rec, "ci_met"));
		imin = RB_MIN(imin, n);
		imax = RB_MAX(imax, n);
		if (json_is_number(h)) {
			nci++;
			lo = fmin(lo, json_number_value(h));
			hi = fmax(hi, json_number_value(h));
		}
	}
	if (!rows)
		return;
	if (o->target_ci_pct > 0) {
		printf("# Confidence           : target 95 %% CI of the median within +-%g %%, met on %d of %d rows; %d did not converge within %g s (--max-time-per-size); %d..%d iterations per row\n",
		       o->target_ci_pct, met, rows, rows - met,
		       o->max_time_per_size_s, imin, imax);
		json_object_set_new(sum, "ci_target_pct", json_real(o->target_ci_pct));
		json_object_set_new(sum, "ci_met_rows", json_integer(met));
		json_object_set_new(sum, "ci_unconverged_rows", json_integer(rows - met));
	} else if (nci) {
		printf("# Confidence           : 95 %% CI of the median within +-%.3g..%.3g %% over the rows (fixed -n %d; --target-ci to drive it)\n",
		       lo, hi, o->iters);
	} else {
		printf("# Confidence           : no 95 %% CI of the median with -n %d (needs 6 iterations)\n",
		       o->iters);
	}
}

/* One line per row that had a straggler view. */
static void trust_straggler_footer(json_t *records)
{
	size_t i;
	json_t *rec;

	json_array_foreach(records, i, rec) {
		json_t *s = json_object_get(rec, "straggler");

		if (!s || json_integer_value(json_object_get(s, "rank")) < 0)
			continue;
		int64_t rail = json_integer_value(json_object_get(s, "rail"));
		char rail_s[32] = "rail unknown";

		if (rail >= 0)
			snprintf(rail_s, sizeof(rail_s), "rail %" PRId64, rail);
		printf("# Straggler %10" PRId64 " %-12s: rank %" PRId64 " (host %s, %s) slowest in %" PRId64 " of %" PRId64 " iterations, by %.2f us (%.1f %%) over the median rank; %" PRId64 " ranks ever slowest\n",
		       (int64_t)json_integer_value(json_object_get(rec, "size_bytes")),
		       json_string_value(json_object_get(rec, "placement")),
		       (int64_t)json_integer_value(json_object_get(s, "rank")),
		       json_string_value(json_object_get(s, "host")), rail_s,
		       (int64_t)json_integer_value(json_object_get(s, "slowest_iters")),
		       (int64_t)json_integer_value(json_object_get(s, "iters")),
		       trust_num(s, "excess_us"), trust_num(s, "excess_pct"),
		       (int64_t)json_integer_value(json_object_get(s, "ranks_ever_slowest")));
	}
}

/* The link class a run's fit solves for: inter-node when any row has an
 * inter-node term, else intra-node (docs/model.md, "Fit"). */
static int trust_fit_class(json_t *records)
{
	size_t i;
	json_t *rec;

	json_array_foreach(records, i, rec) {
		json_t *c = json_object_get(rec, "cost");

		if (c && (trust_num(c, "inter_steps") > 0 ||
			  trust_num(c, "inter_bytes") > 0))
			return RB_LINK_INTER;
	}
	return RB_LINK_INTRA;
}

/* The out-of-place rows with a cost form, as fit points. \return how many. */
static int trust_points(json_t *records, int cls, struct rb_fit_point *p,
			json_t **recs)
{
	char ks[32];
	char kb[32];
	size_t i;
	json_t *rec;
	int n = 0;

	snprintf(ks, sizeof(ks), "%s_steps", trust_class_name[cls]);
	snprintf(kb, sizeof(kb), "%s_bytes", trust_class_name[cls]);
	json_array_foreach(records, i, rec) {
		json_t *c = json_object_get(rec, "cost");
		const char *pl = json_string_value(json_object_get(rec, "placement"));

		if (!c || !pl || strcmp(pl, "out-of-place") || n == TRUST_FIT_MAX)
			continue;
		p[n] = (struct rb_fit_point){
			.steps = trust_num(c, ks),
			.bytes = trust_num(c, kb),
			.t_us = trust_num(rec, "rankmax_p50_us"),
		};
		recs[n++] = rec;
	}
	return n;
}

/* The fit lines; adds "fit" to sum. */
static void trust_fit_footer(json_t *records, const struct rb_run_meta *m,
			     json_t *sum)
{
	struct rb_fit_point *p = calloc(TRUST_FIT_MAX, sizeof(*p));
	json_t **recs = calloc(TRUST_FIT_MAX, sizeof(*recs));
	int cls = trust_fit_class(records);
	struct rb_fit f;
	json_t *res;
	json_t *fit;
	int n;

	if (!p || !recs)
		goto out;
	n = trust_points(records, cls, p, recs);
	if (!n) {
		printf("# Fit                  : none (no cost model for algorithm %s)\n",
		       m->algo);
		goto out;
	}
	if (rb_fit_alpha_beta(p, n, &f)) {
		printf("# Fit                  : none (%d size%s; needs 2 with a positive byte term)\n",
		       n, n == 1 ? "" : "s");
		goto out;
	}
	printf("# Fit                  : %s, %s-node link: alpha %.4g us per step, beta %.4g GB/s per link; %d sizes, residuals rms %.2f %%, max %.2f %% (docs/model.md)\n",
	       m->algo, trust_class_name[cls], f.alpha_us, f.beta_gbps, n,
	       f.rms_pct, f.max_pct);
	printf("# Fit residuals        :");
	res = json_array();
	for (int i = 0; i < n; i++) {
		double model = rb_fit_eval(&f, &p[i]);
		double r = 100 * (model - p[i].t_us) / p[i].t_us;
		json_int_t size = json_integer_value(json_object_get(recs[i], "size_bytes"));

		printf(" %" PRId64 ":%+.1f%%", (int64_t)size, r);
		json_array_append_new(res, json_pack("{s:I, s:f, s:f, s:f}",
			"size_bytes", size, "measured_us", p[i].t_us,
			"model_us", model, "residual_pct", r));
	}
	printf("\n");
	fit = json_pack("{s:s, s:s, s:s, s:f, s:f, s:i, s:f, s:f, s:o}",
			"algo", m->algo, "link_class", trust_class_name[cls],
			"time", "rankmax_p50_us", "alpha_us", f.alpha_us,
			"beta_gbps", f.beta_gbps, "points", n, "rms_pct", f.rms_pct,
			"max_pct", f.max_pct, "residuals", res);
	json_object_set_new(sum, "fit", fit);
out:
	free(p);
	free(recs);
}

json_t *rb_trust_footer(json_t *records, const struct rb_run_meta *m)
{
	json_t *sum = json_object();

	trust_ci_footer(records, m->opts, sum);
	trust_straggler_footer(records);
	trust_fit_footer(records, m, sum);
	return sum;
}
