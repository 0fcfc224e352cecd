/* SPDX-License-Identifier: BSD-3-Clause */
/* The verdict: data errors, the rail/node/NIC/link culprits (localise.c),
 * intra-node paths, line-rate mismatches and topology findings, most
 * severe first (docs/qualify.md "Verdict"). Pure functions. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/localise_priv.h"

static const char *const loc_class_names[] = {
	[RB_LOC_DATA] = "data",
	[RB_LOC_RAIL] = "rail",
	[RB_LOC_NODE] = "node",
	[RB_LOC_NIC] = "nic",
	[RB_LOC_LINK] = "link",
	[RB_LOC_INTRA_NODE] = "intra-node",
	[RB_LOC_INTRA_PATH] = "intra-path",
	[RB_LOC_SPEED] = "speed",
	[RB_LOC_TOPO] = "topology",
};

const char *rb_loc_class_name(enum rb_loc_class c)
{
	return (unsigned)c < RB_ARRAY_SIZE(loc_class_names) ?
		       loc_class_names[c] : "?";
}

static int loc_data(const struct rb_loc_in *in, struct rb_loc_list *l)
{
	for (int i = 0; i < in->npairs; i++) {
		const struct rb_loc_pair *p = &in->pairs[i];
		struct rb_loc_culprit *c;

		if (p->wrong <= 0)
			continue;
		c = rb_loc_add(l, RB_LOC_DATA);
		if (!c)
			return -RB_ENOMEM;
		if (p->kind == RB_LOC_INTER) {
			c->node = p->src;
			c->peer = p->dst;
			c->rail = p->group;
			snprintf(c->text, sizeof(c->text),
				 "data: %s -> %s on rail %d: %" PRId64 " bytes received differ from what was sent",
				 in->hosts[p->src], in->hosts[p->dst], p->group,
				 p->wrong);
		} else {
			c->node = p->group;
			c->local_a = p->src;
			c->local_b = p->dst;
			snprintf(c->text, sizeof(c->text),
				 "data: host %s local rank %d -> %d: %" PRId64 " bytes received differ from what was sent",
				 in->hosts[p->group], p->src, p->dst, p->wrong);
		}
	}
	return 0;
}

static int loc_intra_path(const struct rb_loc_in *in,
			  const struct rb_loc_ref *intra,
			  const struct rb_loc_pair *p, struct rb_loc_list *l)
{
	struct rb_loc_culprit *c = rb_loc_add(l, RB_LOC_INTRA_PATH);

	if (!c)
		return -RB_ENOMEM;
	c->node = p->group;
	c->local_a = p->src;
	c->local_b = p->dst;
	c->measured_gbps = rb_loc_final(p);
	c->expected_gbps = intra->ref_gbps;
	snprintf(c->text, sizeof(c->text),
		 "intra-path: host %s local rank %d -> %d: %.4g GB/s (first pass %.4g), expected %.4g GB/s (the typical intra-node pair): %.0f %%",
		 in->hosts[p->group], p->src, p->dst, c->measured_gbps,
		 p->first_gbps, c->expected_gbps,
		 rb_loc_pct(c->measured_gbps, c->expected_gbps));
	return 0;
}

/* Intra-node paths: a node with most of its directed pairs (at least four)
 * slow, or else each slow pair. */
static int loc_intra(const struct rb_loc_in *in, const struct rb_loc_ref *intra,
		     struct rb_loc_list *l)
{
	struct rb_loc_groups g = { 0 };
	int rc = rb_loc_groups(in, RB_LOC_INTRA, in->nnodes, &g);

	for (int k = 0; k < in->nnodes && !rc; k++) {
		int lo = g.start[k];
		int np = g.start[k + 1] - lo;
		int slow = 0;
		double sum = 0;
		struct rb_loc_culprit *c;

		for (int i = 0; i < np; i++) {
			slow += in->pairs[g.idx[lo + i]].slow;
			sum += rb_loc_final(&in->pairs[g.idx[lo + i]]);
		}
		if (!slow)
			continue;
		if (np < 4 || 2 * slow <= np) {
			for (int i = 0; i < np && !rc; i++)
				if (in->pairs[g.idx[lo + i]].slow)
					rc = loc_intra_path(in, intra,
							    &in->pairs[g.idx[lo + i]], l);
			continue;
		}
		c = rb_loc_add(l, RB_LOC_INTRA_NODE);
		if (!c) {
			rc = -RB_ENOMEM;
			break;
		}
		c->node = k;
		c->measured_gbps = sum / np;
		c->expected_gbps = intra->ref_gbps;
		snprintf(c->text, sizeof(c->text),
			 "intra-node: host %s: %d of %d directed pairs between its ranks are slow, mean %.4g GB/s, expected %.4g GB/s (the typical intra-node pair): %.0f %%",
			 in->hosts[k], slow, np, c->measured_gbps, c->expected_gbps,
			 rb_loc_pct(c->measured_gbps, c->expected_gbps));
	}
	rb_loc_groups_free(&g);
	return rc;
}

/* A NIC whose reported line rate differs from most of its rail's. */
static int loc_speed(const struct rb_loc_in *in, struct rb_loc_list *l)
{
	for (int r = 0; r < in->nrails; r++) {
		double major = 0;
		int major_n = 0;

		for (int i = 0; i < in->nnodes; i++) {
			const struct rb_loc_nic *a = rb_loc_nic(in, i, r);
			int n = 0;

			for (int j = 0; j < in->nnodes && a->present; j++)
				n += rb_loc_nic(in, j, r)->present &&
				     rb_loc_nic(in, j, r)->line_gbps == a->line_gbps;
			if (n > major_n) {
				major_n = n;
				major = a->line_gbps;
			}
		}
		for (int i = 0; i < in->nnodes && major > 0; i++) {
			const struct rb_loc_nic *a = rb_loc_nic(in, i, r);
			struct rb_loc_culprit *c;

			if (!a->present || a->line_gbps == major)
				continue;
			c = rb_loc_add(l, RB_LOC_SPEED);
			if (!c)
				return -RB_ENOMEM;
			c->node = i;
			c->rail = r;
			if (a->line_gbps > 0)
				snprintf(c->text, sizeof(c->text),
					 "speed: host %s rail %d nic %s links at %.4g Gb/s, %d of the rail's NICs at %.4g Gb/s",
					 in->hosts[i], r, a->name, a->line_gbps,
					 major_n, major);
			else
				snprintf(c->text, sizeof(c->text),
					 "speed: host %s rail %d nic %s reports no line rate, %d of the rail's NICs %.4g Gb/s",
					 in->hosts[i], r, a->name, major_n, major);
		}
	}
	return 0;
}

/* Each line of the topology cross-check ("# topo: host node7 has ..."). */
static int loc_topo(const char *findings, struct rb_loc_list *l)
{
	const char *p = findings;

	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		struct rb_loc_culprit *c;

		while (n && (*p == '#' || *p == ' ')) {
			p++;
			n--;
		}
		if (n >= 6 && !strncmp(p, "topo: ", 6)) {
			p += 6;
			n -= 6;
		}
		if (n) {
			c = rb_loc_add(l, RB_LOC_TOPO);
			if (!c)
				return -RB_ENOMEM;
			snprintf(c->text, sizeof(c->text), "topology: %.*s",
				 (int)RB_MIN(n, sizeof(c->text) - 16), p);
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* Severity: data errors first, then the measured culprits by how far
 * below expectations they are, then speed and topology findings. */
static int loc_tier(const struct rb_loc_culprit *c)
{
	switch (c->cls) {
	case RB_LOC_DATA:
		return 0;
	case RB_LOC_SPEED:
		return 2;
	case RB_LOC_TOPO:
		return 3;
	default:
		return 1;
	}
}

static int loc_cmp_culprit(const void *a, const void *b)
{
	const struct rb_loc_culprit *x = a;
	const struct rb_loc_culprit *y = b;
	double rx = x->expected_gbps > 0 ? x->measured_gbps / x->expected_gbps : 1;
	double ry = y->expected_gbps > 0 ? y->measured_gbps / y->expected_gbps : 1;

	if (loc_tier(x) != loc_tier(y))
		return loc_tier(x) - loc_tier(y);
	if (loc_tier(x) == 1 && rx != ry)
		return rx < ry ? -1 : 1;
	if (x->cls != y->cls)
		return (int)x->cls - (int)y->cls;
	if (x->node != y->node)
		return x->node - y->node;
	return x->rail - y->rail;
}

int rb_loc_run(const struct rb_loc_in *in, struct rb_loc_out *out)
{
	struct rb_loc_list l = { 0 };
	int rc;

	*out = (struct rb_loc_out){ 0 };
	out->rails = calloc((size_t)in->nrails + 1, sizeof(*out->rails));
	if (!out->rails)
		return -RB_ENOMEM;
	rc = rb_loc_judge(in, out->rails, &out->intra);
	rc = rc ? rc : loc_data(in, &l);
	rc = rc ? rc : rb_loc_rails(in, out->rails, &l);
	rc = rc ? rc : rb_loc_inter(in, out->rails, &l);
	rc = rc ? rc : loc_intra(in, &out->intra, &l);
	rc = rc ? rc : loc_speed(in, &l);
	rc = rc ? rc : loc_topo(in->topo_findings, &l);
	if (rc) {
		free(l.v);
		rb_loc_out_free(out);
		return rc;
	}
	if (l.n)
		qsort(l.v, (size_t)l.n, sizeof(*l.v), loc_cmp_culprit);
	out->culprits = l.v;
	out->nculprits = l.n;
	out->pass = l.n == 0;
	return 0;
}

void rb_loc_out_free(struct rb_loc_out *out)
{
	free(out->rails);
	free(out->culprits);
	out->rails = NULL;
	out->culprits = NULL;
	out->nculprits = 0;
}
