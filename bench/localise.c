/* SPDX-License-Identifier: BSD-3-Clause */
/* Localisation between nodes: each rail's reference and line rate, which
 * pairs are slow, and which rail, node, NIC or link explains them. Pure
 * functions over arrays, no MPI (docs/qualify.md "Localisation"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/localise_priv.h"

/* Pair state in a group's matrix. */
enum loc_state { LOC_NONE, LOC_FINE, LOC_SLOW };

static int loc_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of n values, the upper one of the middle two for even n, so
 * that with two values the better one counts; sorts v. 0 when n is 0. */
double rb_loc_median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), loc_cmp_double);
	return v[n / 2];
}

/* Other traffic only ever slows a pair down, so its best figure, from the
 * concurrent pass or an attempt alone, is what its link can do. */
double rb_loc_final(const struct rb_loc_pair *p)
{
	return RB_MAX(p->first_gbps, p->retest_gbps);
}

void rb_loc_groups_free(struct rb_loc_groups *g)
{
	free(g->start);
	free(g->idx);
}

int rb_loc_groups(const struct rb_loc_in *in, enum rb_loc_kind kind,
		      int n, struct rb_loc_groups *g)
{
	int *fill;

	g->n = n;
	g->start = calloc((size_t)n + 2, sizeof(int));
	g->idx = calloc((size_t)in->npairs + 1, sizeof(int));
	fill = calloc((size_t)n + 1, sizeof(int));
	if (!g->start || !g->idx || !fill) {
		free(fill);
		rb_loc_groups_free(g);
		return -RB_ENOMEM;
	}
	for (int i = 0; i < in->npairs; i++)
		if (in->pairs[i].kind == kind && in->pairs[i].group < n)
			g->start[in->pairs[i].group + 1]++;
	for (int k = 0; k < n; k++)
		g->start[k + 1] += g->start[k];
	for (int i = 0; i < in->npairs; i++) {
		const struct rb_loc_pair *p = &in->pairs[i];

		if (p->kind == kind && p->group < n)
			g->idx[g->start[p->group] + fill[p->group]++] = i;
	}
	free(fill);
	return 0;
}

/* The reference of group k: the median over its members of each member's
 * median first figure (a bad member moves its own median, not the
 * others'), and the plain median of all first figures. */
static int loc_reference(const struct rb_loc_in *in,
			 const struct rb_loc_groups *g, int k,
			 struct rb_loc_ref *ref)
{
	int lo = g->start[k];
	int np = g->start[k + 1] - lo;
	int nm = 0;
	int *cnt;
	int *off;
	double *vals = calloc((size_t)2 * np + 1, sizeof(double));
	double *meds;
	int nmeds = 0;

	for (int i = 0; i < np; i++) {
		const struct rb_loc_pair *p = &in->pairs[g->idx[lo + i]];

		nm = RB_MAX(nm, RB_MAX(p->src, p->dst) + 1);
	}
	cnt = calloc((size_t)nm + 1, sizeof(int));
	off = calloc((size_t)nm + 2, sizeof(int));
	meds = calloc((size_t)nm + 1, sizeof(double));
	if (!vals || !cnt || !off || !meds) {
		free(vals);
		free(cnt);
		free(off);
		free(meds);
		return -RB_ENOMEM;
	}
	/* Each pair counts for both of its members. */
	for (int i = 0; i < np; i++) {
		const struct rb_loc_pair *p = &in->pairs[g->idx[lo + i]];

		off[p->src + 1]++;
		off[p->dst + 1]++;
	}
	for (int m = 0; m < nm; m++)
		off[m + 1] += off[m];
	for (int i = 0; i < np; i++) {
		const struct rb_loc_pair *p = &in->pairs[g->idx[lo + i]];

		vals[off[p->src] + cnt[p->src]++] = p->first_gbps;
		vals[off[p->dst] + cnt[p->dst]++] = p->first_gbps;
	}
	for (int m = 0; m < nm; m++)
		if (cnt[m])
			meds[nmeds++] = rb_loc_median(vals + off[m], cnt[m]);
	ref->npairs = np;
	ref->ref_gbps = rb_loc_median(meds, nmeds);
	for (int i = 0; i < np; i++)
		vals[i] = in->pairs[g->idx[lo + i]].first_gbps;
	ref->first_median_gbps = rb_loc_median(vals, np);
	free(vals);
	free(cnt);
	free(off);
	free(meds);
	return 0;
}

/* Line rate (Gb/s) pair p should reach: the override, else the slower of
 * its two NICs when both are known; 0 unknown. */
static double loc_pair_line(const struct rb_loc_in *in,
			    const struct rb_loc_pair *p)
{
	const struct rb_loc_nic *a;
	const struct rb_loc_nic *b;

	if (p->kind != RB_LOC_INTER)
		return 0;
	if (in->expect_gbps > 0)
		return in->expect_gbps;
	a = rb_loc_nic(in, p->src, p->group);
	b = rb_loc_nic(in, p->dst, p->group);
	if (a->line_gbps <= 0 || b->line_gbps <= 0)
		return 0;
	return RB_MIN(a->line_gbps, b->line_gbps);
}

/* Whether every NIC of rail r has a line rate, and the median of them. */
static void loc_rail_line(const struct rb_loc_in *in, int r, double *tmp,
			  struct rb_loc_ref *ref)
{
	int n = 0;
	int known = 1;

	for (int i = 0; i < in->nnodes; i++) {
		const struct rb_loc_nic *c = rb_loc_nic(in, i, r);

		if (!c->present)
			continue;
		known &= c->line_gbps > 0;
		tmp[n++] = c->line_gbps;
	}
	ref->line_known = n > 0 && (known || in->expect_gbps > 0);
	if (in->expect_gbps > 0)
		ref->line_gbps = in->expect_gbps;
	else
		ref->line_gbps = ref->line_known ? rb_loc_median(tmp, n) : 0;
}

/* Median of the rail's figures alone (both directions): of its baselines
 * only (base set), or of every pair retested; 0 when there is none. */
static double loc_rail_alone(const struct rb_loc_in *in, int r, int base,
			     double *tmp)
{
	int n = 0;

	for (int i = 0; i < in->npairs; i++) {
		const struct rb_loc_pair *p = &in->pairs[i];

		if (p->kind == RB_LOC_INTER && p->group == r &&
		    p->retest_gbps >= 0 && (!base || p->baseline))
			tmp[n++] = p->retest_gbps;
	}
	return rb_loc_median(tmp, n);
}

/* Upper median over the rails with pairs of their reference (alone: of
 * their figures alone, 0 unless every such rail has one). */
static double loc_cross(const struct rb_loc_in *in,
			const struct rb_loc_ref *rails, int alone, double *tmp,
			int *n_p)
{
	int n = 0;

	for (int r = 0; r < in->nrails; r++) {
		if (!rails[r].npairs)
			continue;
		if (alone && rails[r].alone_gbps <= 0)
			return 0;
		tmp[n++] = alone ? rails[r].alone_gbps : rails[r].ref_gbps;
	}
	*n_p = n;
	return rb_loc_median(tmp, n);
}

/* A whole rail is slow against its line rate, or, where none is known,
 * against the upper median of the rails' references. Where the rails
 * were also measured alone (retests, baselines), the rail must be slow
 * alone as well: two measurements must agree before a rail is blamed. */
static int loc_rails_slow(const struct rb_loc_in *in, struct rb_loc_ref *rails)
{
	double *tmp = calloc((size_t)RB_MAX(in->npairs, in->nrails) + 1,
			     sizeof(double));
	int n = 0;
	double cross;
	double cross_alone;

	if (!tmp)
		return -RB_ENOMEM;
	for (int r = 0; r < in->nrails; r++) {
		rails[r].base_gbps = loc_rail_alone(in, r, 1, tmp);
		rails[r].alone_gbps = rails[r].base_gbps > 0 ? rails[r].base_gbps :
				      loc_rail_alone(in, r, 0, tmp);
	}
	cross_alone = loc_cross(in, rails, 1, tmp, &n);
	cross = loc_cross(in, rails, 0, tmp, &n);
	for (int r = 0; r < in->nrails; r++) {
		struct rb_loc_ref *f = &rails[r];
		double line = f->line_gbps / 8;

		if (!f->npairs)
			continue;
		if (f->line_known) {
			f->slow_vs_gbps = line;
			f->slow = f->ref_gbps < in->line_threshold * line &&
				  (f->alone_gbps <= 0 ||
				   f->alone_gbps < in->line_threshold * line);
		} else if (n >= 2) {
			f->slow_vs_gbps = cross_alone > 0 ? cross_alone : cross;
			f->slow = f->ref_gbps < in->threshold * cross &&
				  (cross_alone <= 0 ||
				   f->alone_gbps < in->threshold * cross_alone);
		}
	}
	free(tmp);
	return 0;
}

struct rb_loc_culprit *rb_loc_add(struct rb_loc_list *l,
				      enum rb_loc_class cls)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		struct rb_loc_culprit *v = realloc(l->v, (size_t)cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = (struct rb_loc_culprit){ .cls = cls, .node = -1,
					      .peer = -1, .rail = -1,
					      .local_a = -1, .local_b = -1 };
	return &l->v[l->n++];
}

double rb_loc_pct(double measured, double expected)
{
	return expected > 0 ? 100.0 * measured / expected : 0;
}

/* "expected 0.025 GB/s (line rate 0.2 Gb/s)" or "(the rail's reference)". */
static void loc_expect_text(double gbps, double line_gbps, char *buf,
			    size_t len)
{
	if (line_gbps > 0)
		snprintf(buf, len, "expected %.4g GB/s (line rate %.4g Gb/s)",
			 gbps, line_gbps);
	else
		snprintf(buf, len, "expected %.4g GB/s (the rail's reference pair; no line rate known)",
			 gbps);
}

int rb_loc_rails(const struct rb_loc_in *in, const struct rb_loc_ref *rails,
		     struct rb_loc_list *l)
{
	for (int r = 0; r < in->nrails; r++) {
		const struct rb_loc_ref *f = &rails[r];
		struct rb_loc_culprit *c;

		if (!f->slow)
			continue;
		c = rb_loc_add(l, RB_LOC_RAIL);
		if (!c)
			return -RB_ENOMEM;
		c->rail = r;
		c->measured_gbps = f->alone_gbps > 0 ? f->alone_gbps : f->ref_gbps;
		c->expected_gbps = f->slow_vs_gbps;
		if (f->line_known)
			snprintf(c->text, sizeof(c->text),
				 "rail: rail %d: its typical pair reaches %.4g GB/s%s, %.0f %% of line rate %.4g Gb/s (%.4g GB/s): every pair is slow, so the rail's switch, its configuration or the transport",
				 r, c->measured_gbps, f->alone_gbps > 0 ? " alone" : "",
				 rb_loc_pct(c->measured_gbps, f->slow_vs_gbps),
				 f->line_gbps, f->slow_vs_gbps);
		else
			snprintf(c->text, sizeof(c->text),
				 "rail: rail %d: its typical pair reaches %.4g GB/s%s, %.0f %% of the other rails' %.4g GB/s (no line rate known): every pair is slow, so the rail's switch or its configuration",
				 r, c->measured_gbps, f->alone_gbps > 0 ? " alone" : "",
				 rb_loc_pct(c->measured_gbps, f->slow_vs_gbps),
				 f->slow_vs_gbps);
	}
	return 0;
}

/* Fills st[i * n + j] (undirected) for rail r: slow when either direction
 * is. */
static void loc_matrix(const struct rb_loc_in *in, int r, unsigned char *st)
{
	int n = in->nnodes;

	memset(st, LOC_NONE, (size_t)n * n);
	for (int i = 0; i < in->npairs; i++) {
		const struct rb_loc_pair *p = &in->pairs[i];
		unsigned char s;

		if (p->kind != RB_LOC_INTER || p->group != r)
			continue;
		s = p->slow ? LOC_SLOW : LOC_FINE;
		st[p->src * n + p->dst] = RB_MAX(st[p->src * n + p->dst], s);
		st[p->dst * n + p->src] = st[p->src * n + p->dst];
	}
}

/* Nodes whose NIC on rail r explains its slow pairs: repeatedly the node
 * with the largest share of slow pairs, among pairs with nodes not yet
 * implicated, when that share is over half of at least two pairs; its
 * pairs are then explained (docs/qualify.md). Writes imp[n]. */
static void loc_implicate(int n, const unsigned char *st, unsigned char *imp)
{
	memset(imp, 0, (size_t)n);
	for (;;) {
		int best = -1;
		double best_share = 0;

		for (int i = 0; i < n; i++) {
			int cnt = 0;
			int slow = 0;

			for (int j = 0; j < n && !imp[i]; j++) {
				if (j == i || imp[j] || st[i * n + j] == LOC_NONE)
					continue;
				cnt++;
				slow += st[i * n + j] == LOC_SLOW;
			}
			if (imp[i] || cnt < 2 || 2 * slow <= cnt)
				continue;
			if ((double)slow / cnt > best_share) {
				best = i;
				best_share = (double)slow / cnt;
			}
		}
		if (best < 0)
			return;
		imp[best] = 1;
	}
}

/* Judges each pair of rail r (or of the intra-node paths) against its
 * reference f and its line rate. */
static void loc_judge_pairs(const struct rb_loc_in *in, enum rb_loc_kind kind,
			    int group, const struct rb_loc_ref *f)
{
	for (int i = 0; i < in->npairs; i++) {
		struct rb_loc_pair *p = &in->pairs[i];
		double v = rb_loc_final(p);

		if (p->kind != kind || (kind == RB_LOC_INTER && p->group != group))
			continue;
		/* Retested alone, it is held to the lower of the two
		 * references: neither congestion of the concurrent pass nor a
		 * burst of load during the retests is blamed on a link. */
		p->ref_gbps = p->retest_gbps >= 0 && f->base_gbps > 0 ?
				      RB_MIN(f->base_gbps, f->ref_gbps) : f->ref_gbps;
		p->expect_gbps = loc_pair_line(in, p) / 8;
		p->slow = v < (kind == RB_LOC_INTRA && in->intra_threshold > 0 ?
			       in->intra_threshold : in->threshold) * f->ref_gbps ||
			  (p->expect_gbps > 0 && !f->slow &&
			   v < in->line_threshold * p->expect_gbps);
	}
}

/* A rail slow as a whole may instead have a majority of bad NICs, which
 * drags its own reference down with them: judged against what it was slow
 * against, do nodes it implicates explain every slow pair? Then the rail
 * is not slow; without a line rate its reference becomes the other
 * rails'. */
static int loc_rail_explained(const struct rb_loc_in *in, int r,
			      struct rb_loc_ref *f)
{
	int n = in->nnodes;
	unsigned char *st = calloc((size_t)n * n + 1, 1);
	unsigned char *imp = calloc((size_t)n + 1, 1);
	struct rb_loc_ref ext = *f;
	int residual = 0;
	int hit = 0;

	if (!st || !imp) {
		free(st);
		free(imp);
		return -RB_ENOMEM;
	}
	ext.slow = 0;
	if (!f->line_known)
		ext.ref_gbps = f->slow_vs_gbps;
	loc_judge_pairs(in, RB_LOC_INTER, r, &ext);
	loc_matrix(in, r, st);
	loc_implicate(n, st, imp);
	for (int a = 0; a < n; a++) {
		hit += imp[a];
		for (int b = a + 1; b < n; b++)
			residual |= st[a * n + b] == LOC_SLOW && !imp[a] && !imp[b];
	}
	if (hit && !residual)
		*f = ext;
	free(st);
	free(imp);
	return 0;
}

int rb_loc_judge(const struct rb_loc_in *in, struct rb_loc_ref *rails,
		 struct rb_loc_ref *intra)
{
	double *tmp = calloc((size_t)RB_MAX(in->nnodes, in->nrails) + 1,
			     sizeof(double));
	double *iv = calloc((size_t)in->nnodes + 1, sizeof(double));
	struct rb_loc_groups rg = { 0 };
	struct rb_loc_groups ig = { 0 };
	int ni = 0;
	int rc;

	rc = tmp && iv ? 0 : -RB_ENOMEM;
	rc = rc ? rc : rb_loc_groups(in, RB_LOC_INTER, in->nrails, &rg);
	rc = rc ? rc : rb_loc_groups(in, RB_LOC_INTRA, in->nnodes, &ig);
	if (rc)
		goto out;
	*intra = (struct rb_loc_ref){ 0 };
	for (int r = 0; r < in->nrails && !rc; r++) {
		rails[r] = (struct rb_loc_ref){ 0 };
		rc = loc_reference(in, &rg, r, &rails[r]);
		loc_rail_line(in, r, tmp, &rails[r]);
	}
	/* Intra-node: one reference over all nodes, each node's own median
	 * first, as for a rail. */
	for (int g = 0; g < in->nnodes && !rc; g++) {
		struct rb_loc_ref one = { 0 };

		rc = loc_reference(in, &ig, g, &one);
		if (one.npairs)
			iv[ni++] = one.ref_gbps;
		intra->npairs += one.npairs;
	}
	if (rc)
		goto out;
	intra->ref_gbps = rb_loc_median(iv, ni);
	rc = loc_rails_slow(in, rails);
	for (int r = 0; r < in->nrails && !rc; r++) {
		if (rails[r].slow)
			rc = loc_rail_explained(in, r, &rails[r]);
		loc_judge_pairs(in, RB_LOC_INTER, r, &rails[r]);
	}
	loc_judge_pairs(in, RB_LOC_INTRA, -1, intra);
out:
	rb_loc_groups_free(&rg);
	rb_loc_groups_free(&ig);
	free(tmp);
	free(iv);
	return rc;
}

/* Median of node's final (or first) figures on rail r. */
static double loc_node_median(const struct rb_loc_in *in, int node, int r,
			      int first, double *tmp)
{
	int n = 0;

	for (int i = 0; i < in->npairs; i++) {
		const struct rb_loc_pair *p = &in->pairs[i];

		if (p->kind == RB_LOC_INTER && p->group == r &&
		    (p->src == node || p->dst == node))
			tmp[n++] = first ? p->first_gbps : rb_loc_final(p);
	}
	return rb_loc_median(tmp, n);
}

/* Expected GB/s of a node's pairs on rail r: the rail's line rate, else
 * (or when the whole rail is slow) its reference; *line_p the line rate
 * quoted, 0 when the reference is used. */
static double loc_node_expect(const struct rb_loc_in *in,
			      const struct rb_loc_ref *rails, int r,
			      double *line_p)
{
	double line = in->expect_gbps > 0 ? in->expect_gbps :
		      rails[r].line_known ? rails[r].line_gbps : 0;

	*line_p = rails[r].slow ? 0 : line;
	return *line_p > 0 ? line / 8 : rails[r].ref_gbps;
}

static int loc_nic_culprit(const struct rb_loc_in *in,
			   const struct rb_loc_ref *rails, int node, int r,
			   const unsigned char *st, struct rb_loc_list *l,
			   double *tmp)
{
	struct rb_loc_culprit *c = rb_loc_add(l, RB_LOC_NIC);
	char exp[160];
	char first[64] = "";
	double line;
	int cnt = 0;
	int slow = 0;
	int alone = 0;

	if (!c)
		return -RB_ENOMEM;
	for (int j = 0; j < in->nnodes; j++) {
		cnt += j != node && st[node * in->nnodes + j] != LOC_NONE;
		slow += j != node && st[node * in->nnodes + j] == LOC_SLOW;
	}
	for (int i = 0; i < in->npairs; i++) {
		const struct rb_loc_pair *p = &in->pairs[i];

		alone |= p->kind == RB_LOC_INTER && p->group == r &&
			 (p->src == node || p->dst == node) && p->retest_gbps >= 0;
	}
	c->node = node;
	c->rail = r;
	c->measured_gbps = loc_node_median(in, node, r, 0, tmp);
	c->expected_gbps = loc_node_expect(in, rails, r, &line);
	if (alone)
		snprintf(first, sizeof(first), " (first pass %.4g, slow pairs retested alone)",
			 loc_node_median(in, node, r, 1, tmp));
	loc_expect_text(c->expected_gbps, line, exp, sizeof(exp));
	snprintf(c->text, sizeof(c->text),
		 "nic: host %s rail %d nic %s: %d of %d pairs slow, median %.4g GB/s%s, %s: %.0f %%; its other rails are fine",
		 in->hosts[node], r, rb_loc_nic(in, node, r)->name, slow, cnt,
		 c->measured_gbps, first, exp,
		 rb_loc_pct(c->measured_gbps, c->expected_gbps));
	return 0;
}

static int loc_node_culprit(const struct rb_loc_in *in,
			    const struct rb_loc_ref *rails, int node,
			    struct rb_loc_list *l, double *tmp)
{
	struct rb_loc_culprit *c = rb_loc_add(l, RB_LOC_NODE);
	double *meds = calloc((size_t)in->nrails, sizeof(double));
	double *exps = calloc((size_t)in->nrails, sizeof(double));
	int n = 0;

	if (!c || !meds || !exps) {
		free(meds);
		free(exps);
		return -RB_ENOMEM;
	}
	for (int r = 0; r < in->nrails; r++) {
		double line;

		if (!rb_loc_nic(in, node, r)->present)
			continue;
		meds[n] = loc_node_median(in, node, r, 0, tmp);
		exps[n++] = loc_node_expect(in, rails, r, &line);
	}
	c->node = node;
	c->measured_gbps = rb_loc_median(meds, n);
	c->expected_gbps = rb_loc_median(exps, n);
	snprintf(c->text, sizeof(c->text),
		 "node: host %s: most of its pairs are slow on all %d of its rails, median %.4g GB/s, expected %.4g GB/s: %.0f %%: the host itself (PCIe, memory, CPU, driver), not one NIC",
		 in->hosts[node], n, c->measured_gbps, c->expected_gbps,
		 rb_loc_pct(c->measured_gbps, c->expected_gbps));
	free(meds);
	free(exps);
	return 0;
}

/* The two directed pairs between nodes a and b on rail r (NULL if not
 * measured). */
static void loc_dirs(const struct rb_loc_in *in, int r, int a, int b,
		     const struct rb_loc_pair **ab, const struct rb_loc_pair **ba)
{
	*ab = NULL;
	*ba = NULL;
	for (int i = 0; i < in->npairs; i++) {
		const struct rb_loc_pair *p = &in->pairs[i];

		if (p->kind != RB_LOC_INTER || p->group != r)
			continue;
		if (p->src == a && p->dst == b)
			*ab = p;
		else if (p->src == b && p->dst == a)
			*ba = p;
	}
}

/* "node1->node3 0.006 GB/s (first 0.006, alone 0.006)" */
static void loc_dir_text(const struct rb_loc_in *in,
			 const struct rb_loc_pair *p, char *buf, size_t len)
{
	if (!p) {
		snprintf(buf, len, "not measured");
	} else if (p->retest_gbps >= 0) {
		snprintf(buf, len, "%s->%s %.4g GB/s%s (first pass %.4g, alone %.4g)",
			 in->hosts[p->src], in->hosts[p->dst], rb_loc_final(p),
			 p->slow ? " slow" : "", p->first_gbps, p->retest_gbps);
	} else {
		snprintf(buf, len, "%s->%s %.4g GB/s%s", in->hosts[p->src],
			 in->hosts[p->dst], rb_loc_final(p), p->slow ? " slow" : "");
	}
}

static int loc_link_culprit(const struct rb_loc_in *in,
			    const struct rb_loc_ref *rails, int r, int a, int b,
			    struct rb_loc_list *l)
{
	struct rb_loc_culprit *c = rb_loc_add(l, RB_LOC_LINK);
	const struct rb_loc_pair *ab;
	const struct rb_loc_pair *ba;
	const struct rb_loc_pair *worst;
	char d1[160];
	char d2[160];
	char exp[160];
	double line;

	if (!c)
		return -RB_ENOMEM;
	loc_dirs(in, r, a, b, &ab, &ba);
	worst = !ba || (ab && ab->slow && (!ba->slow || rb_loc_final(ab) <= rb_loc_final(ba))) ?
			ab : ba;
	c->node = a;
	c->peer = b;
	c->rail = r;
	c->measured_gbps = worst ? rb_loc_final(worst) : 0;
	c->expected_gbps = loc_node_expect(in, rails, r, &line);
	if (worst && worst->expect_gbps > 0 && line > 0) {
		c->expected_gbps = worst->expect_gbps;
		line = worst->expect_gbps * 8;
	}
	loc_dir_text(in, ab, d1, sizeof(d1));
	loc_dir_text(in, ba, d2, sizeof(d2));
	loc_expect_text(c->expected_gbps, line, exp, sizeof(exp));
	snprintf(c->text, sizeof(c->text),
		 "link: %s - %s on rail %d (%s - %s): %s, %s; %s: %.0f %%; both ends are fine with their other peers: the cable, a switch port or the path between them",
		 in->hosts[a], in->hosts[b], r, rb_loc_nic(in, a, r)->name,
		 rb_loc_nic(in, b, r)->name, d1, d2, exp,
		 rb_loc_pct(c->measured_gbps, c->expected_gbps));
	return 0;
}

/* NICs, nodes and links of every rail. */
int rb_loc_inter(const struct rb_loc_in *in, const struct rb_loc_ref *rails,
		     struct rb_loc_list *l)
{
	int n = in->nnodes;
	unsigned char *st = calloc((size_t)n * n * in->nrails + 1, 1);
	unsigned char *imp = calloc((size_t)n * in->nrails + 1, 1);
	double *tmp = calloc((size_t)in->npairs + 1, sizeof(double));
	int rc = -RB_ENOMEM;

	if (!st || !imp || !tmp)
		goto out;
	for (int r = 0; r < in->nrails; r++) {
		loc_matrix(in, r, st + (size_t)r * n * n);
		loc_implicate(n, st + (size_t)r * n * n, imp + (size_t)r * n);
	}
	rc = 0;
	for (int i = 0; i < n && !rc; i++) {
		int present = 0;
		int hit = 0;

		for (int r = 0; r < in->nrails; r++) {
			present += rb_loc_nic(in, i, r)->present;
			hit += imp[r * n + i];
		}
		if (hit && present >= 2 && hit == present) {
			rc = loc_node_culprit(in, rails, i, l, tmp);
			continue;
		}
		for (int r = 0; r < in->nrails && !rc; r++)
			if (imp[r * n + i])
				rc = loc_nic_culprit(in, rails, i, r,
						     st + (size_t)r * n * n, l, tmp);
	}
	for (int r = 0; r < in->nrails && !rc; r++) {
		const unsigned char *m = st + (size_t)r * n * n;

		for (int a = 0; a < n && !rc; a++)
			for (int b = a + 1; b < n && !rc; b++)
				if (m[a * n + b] == LOC_SLOW && !imp[r * n + a] &&
				    !imp[r * n + b])
					rc = loc_link_culprit(in, rails, r, a, b, l);
	}
out:
	free(st);
	free(imp);
	free(tmp);
	return rc;
}

