/* SPDX-License-Identifier: BSD-3-Clause */
/* Hierarchical, rail-aligned all-reduce: reduce-scatter inside each node,
 * all-reduce of each shard among the ranks of equal local rank (one per
 * node, all on one rail), all-gather inside each node (docs/algorithms.md
 * "hier"). */
#include "collectives/coll.h"

/*
 * Local rank l ends the node's reduce-scatter owning segment (l + 1) % L,
 * the same segment on every node, so its rail group can all-reduce it
 * across nodes; only those S/L bytes per rank cross a node boundary. Each
 * phase ends with nothing in flight, so RECV regions are never written
 * while a send of them may be pending.
 */
static int hier_ar_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	const struct rb_coll_span all = {
		.off = 0,
		.count = a->count,
	};
	struct rb_coll_grid grid;
	struct rb_coll_group node;
	struct rb_coll_group rail;
	struct rb_coll_phase ph;
	int rc;

	rc = rb_coll_hier_grid(a, &grid);
	if (rc)
		return rc;
	node = rb_coll_grid_node(&grid);
	rail = rb_coll_grid_rail(&grid);
	ph = rb_coll_phase_of(a, s, &node);
	rc = rb_coll_ring_reduce_scatter(&ph, a->in_place ? RB_BUF_RECV :
							    RB_BUF_SEND, all);
	ph.g = &rail;
	if (!rc)
		rc = rb_coll_ring_all_reduce(&ph, RB_BUF_RECV,
				rb_coll_span_part(all, node.n,
						  (node.me + 1) % node.n));
	ph.g = &node;
	if (!rc)
		rc = rb_coll_ring_all_gather(&ph, all, 1);
	rb_coll_grid_fini(&grid);
	return rc;
}

static int hier_ar_supports(const struct rb_coll_args *a, char *why,
			    size_t len)
{
	return rb_coll_hier_supports(a, RB_COLL_ALLREDUCE, why, len);
}

/* Intra-node: the reduce-scatter and the all-gather, 2(L-1) steps and
 * 2(L-1)/L x S. Inter-node, per rail: the shard's ring all-reduce,
 * 2(N-1) steps and 2(N-1)/N x S/L. */
static void hier_ar_cost(const struct rb_coll_shape *sh, double bytes,
			 struct rb_coll_cost *c)
{
	double l = sh->per_node;
	double nn = sh->nnodes;

	*c = (struct rb_coll_cost){
		.steps = { [RB_LINK_INTRA] = 2 * (l - 1),
			   [RB_LINK_INTER] = 2 * (nn - 1) },
		.bytes = { [RB_LINK_INTRA] = 2 * (l - 1) / l * bytes,
			   [RB_LINK_INTER] = 2 * (nn - 1) / nn * bytes / l },
	};
}

const struct rb_coll_algo rb_algo_hier_allreduce = {
	.name = "hier",
	.kind = RB_COLL_ALLREDUCE,
	.supports = hier_ar_supports,
	.build = hier_ar_build,
	.cost = hier_ar_cost,
};
