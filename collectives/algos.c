/* SPDX-License-Identifier: BSD-3-Clause */
/* The algorithm table: lookup by collective and name, the "auto" choice
 * (docs/algorithms.md "Automatic choice") and schedule building. */
#include <stdio.h>
#include <string.h>

#include "collectives/coll.h"

extern const struct rb_coll_algo rb_algo_ring_allreduce;
extern const struct rb_coll_algo rb_algo_rd_allreduce;
extern const struct rb_coll_algo rb_algo_rh_allreduce;
extern const struct rb_coll_algo rb_algo_ring_allgather;
extern const struct rb_coll_algo rb_algo_pairwise_alltoall;
extern const struct rb_coll_algo rb_algo_hier_allreduce;
extern const struct rb_coll_algo rb_algo_hier_allgather;
extern const struct rb_coll_algo rb_algo_hier_alltoall;

static const struct rb_coll_algo *const algo_table[] = {
	&rb_algo_ring_allreduce,
	&rb_algo_rd_allreduce,
	&rb_algo_rh_allreduce,
	&rb_algo_ring_allgather,
	&rb_algo_pairwise_alltoall,
	&rb_algo_hier_allreduce,
	&rb_algo_hier_allgather,
	&rb_algo_hier_alltoall,
};

/* hier of each collective, for the automatic choice. */
static const struct rb_coll_algo *const algo_hier[RB_NCOLLS] = {
	[RB_COLL_ALLREDUCE] = &rb_algo_hier_allreduce,
	[RB_COLL_ALLGATHER] = &rb_algo_hier_allgather,
	[RB_COLL_ALLTOALL] = &rb_algo_hier_alltoall,
};

/* All-reduce messages up to this many bytes use recursive doubling: its
 * log2(n) rounds beat the ring's 2(n-1) rounds while latency dominates. */
#define ALGO_RD_MAX_BYTES (64u * 1024u)

static const struct rb_coll_algo *algo_by_name(enum rb_coll_kind kind,
					       const char *name)
{
	for (size_t i = 0; i < RB_ARRAY_SIZE(algo_table); i++) {
		if (algo_table[i]->kind == kind &&
		    !strcmp(algo_table[i]->name, name))
			return algo_table[i];
	}
	return NULL;
}

int rb_coll_args_fit(const struct rb_coll_args *a, enum rb_coll_kind kind,
		     char *why, size_t len)
{
	const struct rb_coll_desc *d = rb_coll_desc_get(kind);
	size_t align;

	if (!d || a->kind != kind) {
		snprintf(why, len, "it runs %s, not %s",
			 rb_coll_kind_name(kind), rb_coll_kind_name(a->kind));
		return 0;
	}
	if (a->nranks < 1) {
		snprintf(why, len, "no ranks (%d)", a->nranks);
		return 0;
	}
	align = d->count_align(a->nranks);
	if (a->count % align == 0)
		return 1;
	if (align == (size_t)a->nranks)
		snprintf(why, len, "count %zu is not a multiple of %d ranks",
			 a->count, a->nranks);
	else
		snprintf(why, len, "count %zu is not a multiple of %zu",
			 a->count, align);
	return 0;
}

/*
 * hier wins whenever the job is a rail-optimized multi-node one: its
 * inter-node phase moves 1/L of what a flat algorithm sends across nodes
 * (docs/algorithms.md "Automatic choice"). The checks run from the
 * coarsest property down, so the reason names the first that fails.
 */
const char *rb_coll_auto_why(const struct rb_coll_args *a, char *buf,
			     size_t len)
{
	struct rb_coll_grid g;

	if (!a || !a->topo || a->topo->nnodes <= 1) {
		snprintf(buf, len, "one node");
		return buf;
	}
	if (rb_coll_grid_init(a, &g, buf, len))
		return buf;
	if (g.per_node == 1)
		snprintf(buf, len, "one rank per node");
	else if (rb_coll_grid_rails_ok(&g, a->topo, buf, len) && len)
		buf[0] = '\0';
	rb_coll_grid_fini(&g);
	return buf;
}

static const struct rb_coll_algo *algo_auto(enum rb_coll_kind kind,
					    const struct rb_coll_args *a)
{
	char why[160];

	if ((unsigned)kind < RB_NCOLLS && a &&
	    !rb_coll_auto_why(a, why, sizeof(why))[0])
		return algo_hier[kind];
	switch (kind) {
	case RB_COLL_ALLREDUCE:
		if (a && a->count * rb_dtype_size(a->dtype) <= ALGO_RD_MAX_BYTES)
			return &rb_algo_rd_allreduce;
		return &rb_algo_ring_allreduce;
	case RB_COLL_ALLGATHER:
		return &rb_algo_ring_allgather;
	case RB_COLL_ALLTOALL:
		return &rb_algo_pairwise_alltoall;
	default:
		return NULL;
	}
}

const struct rb_coll_algo *rb_coll_algo_find(enum rb_coll_kind kind,
					     const char *name,
					     const struct rb_coll_args *a)
{
	if (!name || !*name || !strcmp(name, "auto"))
		return algo_auto(kind, a);
	return algo_by_name(kind, name);
}

const char *rb_coll_algo_list(enum rb_coll_kind kind, char *buf, size_t len)
{
	size_t used;
	int n;

	if (!len)
		return buf;
	n = snprintf(buf, len, "auto");
	used = n > 0 ? (size_t)n : 0;
	for (size_t i = 0; i < RB_ARRAY_SIZE(algo_table) && used < len; i++) {
		if (algo_table[i]->kind != kind)
			continue;
		n = snprintf(buf + used, len - used, ", %s",
			     algo_table[i]->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

static int algo_args_check(const struct rb_coll_args *a)
{
	if ((unsigned)a->kind >= RB_NCOLLS || a->nranks < 1 || a->rank < 0 ||
	    a->rank >= a->nranks || (unsigned)a->dtype >= RB_NDTYPES ||
	    (unsigned)a->op >= RB_NREDOPS) {
		rb_err("invalid collective arguments: kind %d, rank %d of %d, dtype %d, op %d",
		       (int)a->kind, a->rank, a->nranks, (int)a->dtype,
		       (int)a->op);
		return -RB_EINVAL;
	}
	return 0;
}

int rb_coll_sched_build(const char *algo, const struct rb_coll_args *a,
			struct rb_sched *s)
{
	const struct rb_coll_algo *al;
	char names[128];
	char why[256] = "";
	int rc;

	rc = algo_args_check(a);
	if (rc)
		return rc;
	al = rb_coll_algo_find(a->kind, algo, a);
	if (!al) {
		rb_err("unknown %s algorithm '%s' (valid: %s)",
		       rb_coll_kind_name(a->kind), algo ? algo : "",
		       rb_coll_algo_list(a->kind, names, sizeof(names)));
		return -RB_EINVAL;
	}
	if (!al->supports(a, why, sizeof(why))) {
		rb_err("%s algorithm '%s' cannot run count %zu on %d ranks: %s (valid: %s)",
		       rb_coll_kind_name(a->kind), al->name, a->count,
		       a->nranks, why,
		       rb_coll_algo_list(a->kind, names, sizeof(names)));
		return -RB_EINVAL;
	}
	rb_sched_reset(s);
	return al->build(a, s);
}
