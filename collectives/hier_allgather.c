/* SPDX-License-Identifier: BSD-3-Clause */
/* Hierarchical, rail-aligned all-gather: all-gather among the ranks of
 * equal local rank (one per node, all on one rail), then all-gather of
 * those blocks inside each node (docs/algorithms.md "hier"). */
#include "collectives/coll.h"

/*
 * Block q lies at q * B in RECV whatever the placement, so both phases
 * gather scattered blocks: the rail phase the blocks of its members, the
 * node phase, for local rank j, the N blocks of the ranks with local rank
 * j, which are by_local[j * N .. j * N + N - 1].
 */
static int hier_ag_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	size_t per = a->count / (size_t)a->nranks;
	size_t esz = rb_dtype_size(a->dtype);
	struct rb_coll_grid grid;
	struct rb_coll_group node;
	struct rb_coll_group rail;
	struct rb_coll_phase ph;
	int rc;

	if (!per)
		return 0;
	rc = rb_coll_hier_grid(a, &grid);
	if (rc)
		return rc;
	node = rb_coll_grid_node(&grid);
	rail = rb_coll_grid_rail(&grid);
	if (!a->in_place &&
	    rb_sched_copy(s, RB_BUF_RECV, (size_t)a->rank * per * esz,
			  RB_BUF_SEND, 0, per * esz) < 0)
		rc = -RB_ENOMEM;
	ph = rb_coll_phase_of(a, s, &rail);
	if (!rc)
		rc = rb_coll_ring_gather_blocks(&ph, rail.ranks, 1, per);
	ph.g = &node;
	if (!rc)
		rc = rb_coll_ring_gather_blocks(&ph, grid.by_local, grid.nnodes,
						per);
	rb_coll_grid_fini(&grid);
	return rc;
}

static int hier_ag_supports(const struct rb_coll_args *a, char *why,
			    size_t len)
{
	return rb_coll_hier_supports(a, RB_COLL_ALLGATHER, why, len);
}

/* Blocks of B = S/n. Inter-node, per rail: N-1 steps of B. Intra-node:
 * L-1 steps of N blocks. */
static void hier_ag_cost(const struct rb_coll_shape *sh, double bytes,
			 struct rb_coll_cost *c)
{
	double l = sh->per_node;
	double nn = sh->nnodes;
	double blk = bytes / sh->nranks;

	*c = (struct rb_coll_cost){
		.steps = { [RB_LINK_INTRA] = l - 1, [RB_LINK_INTER] = nn - 1 },
		.bytes = { [RB_LINK_INTRA] = (l - 1) * nn * blk,
			   [RB_LINK_INTER] = (nn - 1) * blk },
	};
}

const struct rb_coll_algo rb_algo_hier_allgather = {
	.name = "hier",
	.kind = RB_COLL_ALLGATHER,
	.supports = hier_ag_supports,
	.build = hier_ag_build,
	.cost = hier_ag_cost,
};
