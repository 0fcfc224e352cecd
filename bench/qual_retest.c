/* SPDX-License-Identifier: BSD-3-Clause */
/* Rank 0's plan of retests: the concurrent pass judged, the suspect pairs
 * (a direction slow) worst first, baselines when a whole rail looks slow,
 * and after each attempt alone whether a pair is done (docs/qualify.md
 * "Retests"). */
#include <stdlib.h>

#include "bench/qual_priv.h"

/* Baselines first, so that suspects alone are compared with them, the
 * rails interleaved, so that a burst of load does not fall on one rail's
 * only; then the suspects, worst first. */
static int qual_cmp_item(const void *p, const void *q)
{
	const struct rb_qual_item *x = p;
	const struct rb_qual_item *y = q;

	if (x->baseline != y->baseline)
		return y->baseline - x->baseline;
	if (x->baseline)
		return x->order - y->order;
	return (x->ratio > y->ratio) - (x->ratio < y->ratio);
}

/* The ranks of in.pairs[i], lower first. */
static void qual_pair_ranks(const struct rb_qual_retest *t, int i, int *a_p,
			    int *b_p)
{
	int n;
	const struct rb_qual_row *w = &rb_qual_report_rows(t->rep, &n)[t->row_of[i]];

	*a_p = RB_MIN(w->src_rank, w->dst_rank);
	*b_p = RB_MAX(w->src_rank, w->dst_rank);
}

static struct rb_qual_item *qual_item_find(struct rb_qual_retest *t, int a,
					   int b)
{
	for (int k = 0; k < t->nitems; k++)
		if (t->items[k].a == a && t->items[k].b == b)
			return &t->items[k];
	return NULL;
}

/* Adds the pair holding in.pairs[i] with both its directions, once. */
static struct rb_qual_item *qual_item_add(struct rb_qual_retest *t, int i)
{
	struct rb_qual_item *it;
	int a;
	int b;

	qual_pair_ranks(t, i, &a, &b);
	it = qual_item_find(t, a, b);
	if (it)
		return it;
	it = &t->items[t->nitems++];
	*it = (struct rb_qual_item){ .a = a, .b = b, .pi = { -1, -1 },
				     .ratio = 1e300 };
	for (int k = 0; k < t->in.npairs; k++) {
		const struct rb_loc_pair *p = &t->in.pairs[k];
		int ka;
		int kb;

		qual_pair_ranks(t, k, &ka, &kb);
		if (ka != a || kb != b)
			continue;
		it->pi[it->pi[0] < 0 ? 0 : 1] = k;
		it->ratio = RB_MIN(it->ratio, p->first_gbps /
						      RB_MAX(p->ref_gbps, 1e-12));
	}
	return it;
}

/* Slow by either rule. Below line rate counts even on a rail that is slow
 * as a whole, since measured alone the rail may turn out fine. */
static int qual_suspect(const struct rb_qual_retest *t,
			const struct rb_loc_pair *p)
{
	return p->slow || (p->expect_gbps > 0 &&
			   rb_loc_final(p) < t->q->line_threshold * p->expect_gbps);
}

/* The two pairs of rail r whose first figures are nearest its reference,
 * suspects or not, so that every rail's baselines are chosen alike. */
static void qual_baselines(struct rb_qual_retest *t, int r)
{
	for (int pick = 0; pick < 2; pick++) {
		struct rb_qual_item *it;
		int best = -1;
		double dist = 0;

		for (int i = 0; i < t->in.npairs; i++) {
			const struct rb_loc_pair *p = &t->in.pairs[i];
			double d = p->first_gbps - t->refs[r].ref_gbps;
			int a;
			int b;

			if (p->kind != RB_LOC_INTER || p->group != r)
				continue;
			qual_pair_ranks(t, i, &a, &b);
			it = qual_item_find(t, a, b);
			if ((it && it->baseline) || (best >= 0 && d * d >= dist))
				continue;
			best = i;
			dist = d * d;
		}
		if (best < 0)
			return;
		it = qual_item_add(t, best);
		it->baseline = 1;
		it->order = pick * t->nrails + r;
	}
}

int rb_qual_retest_plan(struct rb_qual_retest *t, struct rb_qual_report *rep,
			const struct rb_qual_cfg *q, int nrails)
{
	int any = 0;
	int rc;

	t->rep = rep;
	t->q = q;
	t->nrails = nrails;
	t->refs = calloc((size_t)nrails + 1, sizeof(*t->refs));
	t->base = calloc((size_t)nrails + 1, sizeof(*t->base));
	rc = t->refs && t->base ?
		     rb_qual_report_loc_in(rep, &t->in, &t->row_of) : -RB_ENOMEM;
	if (!rc)
		t->items = calloc((size_t)t->in.npairs + 1, sizeof(*t->items));
	rc = rc ? rc : t->items ? rb_loc_judge(&t->in, t->refs, &t->intra) :
				  -RB_ENOMEM;
	for (int i = 0; !rc && i < t->in.npairs; i++)
		if (qual_suspect(t, &t->in.pairs[i]))
			qual_item_add(t, i)->suspect = 1;
	if (rc)
		return rc;
	qsort(t->items, (size_t)t->nitems, sizeof(*t->items), qual_cmp_item);
	if (t->nitems > q->max_retests) {
		rb_qual_report_note(rep, "%d suspect pairs, retesting the %d worst alone (--max-retests); the others are judged on the concurrent pass",
				    t->nitems, q->max_retests);
		t->nitems = q->max_retests;
	}
	for (int r = 0; r < nrails; r++)
		any |= t->refs[r].slow;
	for (int r = 0; r < nrails; r++) {
		int suspects = 0;

		for (int k = 0; k < t->nitems && !suspects; k++)
			suspects = t->items[k].suspect && t->items[k].pi[0] >= 0 &&
				   t->in.pairs[t->items[k].pi[0]].kind == RB_LOC_INTER &&
				   t->in.pairs[t->items[k].pi[0]].group == r;
		if (any || suspects)
			qual_baselines(t, r);
	}
	qsort(t->items, (size_t)t->nitems, sizeof(*t->items), qual_cmp_item);
	return 0;
}

/* In passes: every pair's first attempt, then the second attempts of those
 * not done, and so on, so that a pair's attempts are spread in time and a
 * burst of other load on the hosts does not spoil all of them. */
int rb_qual_retest_next(const struct rb_qual_retest *t, unsigned *wait_us_p)
{
	uint64_t now = rb_time_ns();
	uint64_t gap = (uint64_t)RB_QUAL_SPACING_MS * 1000000u;
	int best = -1;

	*wait_us_p = 0;
	for (int k = 0; k < t->nitems; k++)
		if (!t->items[k].done &&
		    (best < 0 || t->items[k].attempts < t->items[best].attempts))
			best = k;
	if (best >= 0 && t->items[best].attempts &&
	    now - t->items[best].last_ns < gap)
		*wait_us_p = (unsigned)((gap - (now - t->items[best].last_ns)) / 1000);
	return best;
}

/* How far a retested direction is from being fine: its best figure over
 * the bar it must clear (the lower of the rail's reference and its
 * baselines alone so far, and line rate), 1 or more when fine. */
static double qual_margin(const struct rb_qual_retest *t,
			  const struct rb_loc_pair *p)
{
	double v = rb_loc_final(p);
	int inter = p->kind == RB_LOC_INTER;
	int rail_slow = inter && t->refs[p->group].slow;
	double thr = inter ? t->q->threshold : t->q->intra_threshold;
	double ref = inter && t->base[p->group] > 0 ?
			     RB_MIN(t->base[p->group], p->ref_gbps) : p->ref_gbps;
	double m = v / RB_MAX(thr * ref, 1e-12);

	if (p->expect_gbps > 0 && !rail_slow)
		m = RB_MIN(m, v / (t->q->line_threshold * p->expect_gbps));
	return m;
}

/* A suspect is done when it is fine again, when two attempts found it
 * clearly slow (every slow direction below QUAL_CLEAR of its bar: a burst
 * of load may do that once, rarely twice 250 ms apart), or after
 * q->retests attempts; baselines after two. */
#define QUAL_CLEAR 0.5

/* The median of rail r's baselines alone so far. */
static void qual_base_update(struct rb_qual_retest *t, int r)
{
	double v[2 * 4];
	int n = 0;

	for (int k = 0; k < t->nitems; k++) {
		const struct rb_qual_item *it = &t->items[k];

		for (int d = 0; d < 2 && it->baseline && n < (int)RB_ARRAY_SIZE(v); d++)
			if (it->pi[d] >= 0 && t->in.pairs[it->pi[d]].group == r &&
			    t->in.pairs[it->pi[d]].retest_gbps >= 0)
				v[n++] = t->in.pairs[it->pi[d]].retest_gbps;
	}
	t->base[r] = rb_loc_median(v, n);
}

void rb_qual_retest_update(struct rb_qual_retest *t, int k)
{
	struct rb_qual_item *it = &t->items[k];
	int fine = 1;
	int unclear = 0;
	int n;
	const struct rb_qual_row *rows = rb_qual_report_rows(t->rep, &n);

	it->attempts++;
	it->last_ns = rb_time_ns();
	for (int d = 0; d < 2; d++) {
		struct rb_loc_pair *p;

		if (it->pi[d] < 0)
			continue;
		p = &t->in.pairs[it->pi[d]];
		p->retest_gbps = rows[t->row_of[it->pi[d]]].retest_p50_gbps;
		if (qual_margin(t, p) >= 1)
			continue;
		fine = 0;
		unclear |= qual_margin(t, p) >= QUAL_CLEAR;
	}
	if (it->baseline && it->attempts < 2)
		it->done = 0;
	else if (it->suspect)
		it->done = fine || (!unclear && it->attempts >= 2) ||
			   it->attempts >= t->q->retests;
	else
		it->done = 1;
	if (it->baseline && it->pi[0] >= 0)
		qual_base_update(t, t->in.pairs[it->pi[0]].group);
}

void rb_qual_retest_free(struct rb_qual_retest *t)
{
	free(t->refs);
	free(t->base);
	free(t->in.pairs);
	free((void *)t->in.nics);
	free(t->row_of);
	free(t->items);
}
