/* SPDX-License-Identifier: BSD-3-Clause */
/* Hierarchical, rail-aligned (PXN-style) all-to-all: a block for another
 * node first moves inside its node to the rank on the destination's rail,
 * which sends the blocks of its whole node for that destination as one
 * message; no inter-node byte changes rail (docs/algorithms.md "hier"). */
#include "collectives/coll.h"

struct hat_ctx {
	struct rb_sched *s;
	const struct rb_coll_grid *g;
	size_t blk;		/* bytes per block */
	enum rb_buf src;	/* input blocks: block q at q * blk */
	size_t fwd_off;		/* TMP: blocks this rank sends on its rail */
	size_t rcv_off;		/* TMP: rail messages that need scattering */
	int rc;
};

static int hat_chk(struct hat_ctx *x, int idx)
{
	if (idx < 0 && !x->rc)
		x->rc = idx;
	return idx;
}

/* Rank of local rank l on node m. */
static int hat_at(const struct hat_ctx *x, int m, int l)
{
	return x->g->by_node[m * x->g->per_node + l];
}

/* Index 0 .. N-2 of remote node m, counted from the next node on. */
static size_t hat_slot(const struct hat_ctx *x, int m)
{
	int nn = x->g->nnodes;

	return (size_t)((m - x->g->node + nn) % nn - 1);
}

/* TMP offset of the block for (m, this local rank) from local rank i:
 * per remote node the L blocks lie in local-rank order, one message. */
static size_t hat_fwd(const struct hat_ctx *x, int m, int i)
{
	return x->fwd_off +
	       (hat_slot(x, m) * (size_t)x->g->per_node + (size_t)i) * x->blk;
}

/* Do node m's ranks have consecutive numbers in local-rank order? Then
 * the rail message from m lands in RECV as it is. */
static int hat_consecutive(const struct hat_ctx *x, int m)
{
	for (int l = 1; l < x->g->per_node; l++) {
		if (hat_at(x, m, l) != hat_at(x, m, 0) + l)
			return 0;
	}
	return 1;
}

/* Posts the rail receive from node p. \return its step index. */
static int hat_rail_recv(struct hat_ctx *x, int p)
{
	size_t len = (size_t)x->g->per_node * x->blk;
	int from = hat_at(x, p, x->g->local);

	if (hat_consecutive(x, p))
		return hat_chk(x, rb_sched_recv(x->s, from, RB_BUF_RECV,
				(size_t)hat_at(x, p, 0) * x->blk, len));
	return hat_chk(x, rb_sched_recv(x->s, from, RB_BUF_TMP,
			x->rcv_off + hat_slot(x, p) * len, len));
}

/*
 * Step k of the node phase: exchange with local ranks j = l + k and
 * i = l - k their direct block and one block per remote node, the latter
 * into the forwarding area. It waits on exactly its own steps: a WAIT(-1)
 * would also wait on the rail receives, which peers satisfy only after
 * their own node phase.
 */
static void hat_node_step(struct hat_ctx *x, int k)
{
	const struct rb_coll_grid *g = x->g;
	int l = g->local;
	int j = (l + k) % g->per_node;
	int i = (l - k + g->per_node) % g->per_node;
	int first = x->s->nsteps;
	int peer = hat_at(x, g->node, i);

	hat_chk(x, rb_sched_recv(x->s, peer, RB_BUF_RECV,
				 (size_t)peer * x->blk, x->blk));
	for (int m = 0; m < g->nnodes; m++) {
		if (m != g->node)
			hat_chk(x, rb_sched_recv(x->s, peer, RB_BUF_TMP,
						 hat_fwd(x, m, i), x->blk));
	}
	peer = hat_at(x, g->node, j);
	hat_chk(x, rb_sched_send(x->s, peer, x->src, (size_t)peer * x->blk,
				 x->blk));
	for (int m = 0; m < g->nnodes; m++) {
		if (m != g->node)
			hat_chk(x, rb_sched_send(x->s, peer, x->src,
					(size_t)hat_at(x, m, j) * x->blk,
					x->blk));
	}
	for (int st = first; st < first + 2 * g->nnodes && !x->rc; st++)
		hat_chk(x, rb_sched_wait(x->s, st));
}

/* Step k of the rail phase: send node m = node + k its blocks from this
 * node, take node p = node - k's, scattering them if they were staged.
 * With one rank per node nothing was forwarded: the block goes straight
 * from the input. */
static void hat_rail_step(struct hat_ctx *x, int k, int rreq)
{
	const struct rb_coll_grid *g = x->g;
	int nn = g->nnodes;
	int pn = g->per_node;
	int m = (g->node + k) % nn;
	int p = (g->node - k + nn) % nn;
	int to = hat_at(x, m, g->local);
	size_t len = (size_t)pn * x->blk;
	enum rb_buf buf = pn > 1 ? RB_BUF_TMP : x->src;
	size_t off = pn > 1 ? hat_fwd(x, m, 0) : (size_t)to * x->blk;
	int si = hat_chk(x, rb_sched_send(x->s, to, buf, off, len));

	if (x->rc)
		return;
	hat_chk(x, rb_sched_wait(x->s, si));
	hat_chk(x, rb_sched_wait(x->s, rreq));
	for (int i = 0; i < pn && !hat_consecutive(x, p); i++)
		hat_chk(x, rb_sched_copy(x->s, RB_BUF_RECV,
				(size_t)hat_at(x, p, i) * x->blk, RB_BUF_TMP,
				x->rcv_off + (hat_slot(x, p) * (size_t)pn +
					      (size_t)i) * x->blk, x->blk));
}

/* Input, TMP layout ([in-place input][forwarding][rail staging]) and the
 * blocks that need no message. */
static void hat_setup(struct hat_ctx *x, int in_place)
{
	const struct rb_coll_grid *g = x->g;
	size_t n = (size_t)g->nnodes * (size_t)g->per_node;
	size_t rail = (size_t)(g->nnodes - 1) * (size_t)g->per_node * x->blk;
	int me = hat_at(x, g->node, g->local);
	int staged = 0;

	x->src = RB_BUF_SEND;
	if (in_place && n > 1) {
		/* Incoming blocks would overwrite input not yet sent. */
		x->src = RB_BUF_TMP;
		x->fwd_off = n * x->blk;
		hat_chk(x, rb_sched_copy(x->s, RB_BUF_TMP, 0, RB_BUF_RECV, 0,
					 n * x->blk));
	} else if (!in_place) {
		hat_chk(x, rb_sched_copy(x->s, RB_BUF_RECV, (size_t)me * x->blk,
					 RB_BUF_SEND, (size_t)me * x->blk,
					 x->blk));
	}
	x->rcv_off = x->fwd_off + (g->per_node > 1 ? rail : 0);
	for (int m = 0; m < g->nnodes; m++)
		staged |= m != g->node && !hat_consecutive(x, m);
	rb_sched_need_tmp(x->s, x->rcv_off + (staged ? rail : 0));
	for (int m = 0; m < g->nnodes && g->per_node > 1; m++) {
		if (m != g->node)
			hat_chk(x, rb_sched_copy(x->s, RB_BUF_TMP,
					hat_fwd(x, m, g->local), x->src,
					(size_t)hat_at(x, m, g->local) * x->blk,
					x->blk));
	}
}

static int hier_a2a_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	struct rb_coll_grid grid;
	struct hat_ctx x = {
		.s = s,
		.g = &grid,
		.blk = a->count / (size_t)a->nranks * rb_dtype_size(a->dtype),
	};
	int rreq0;
	int rc;

	if (!x.blk)
		return 0;
	rc = rb_coll_hier_grid(a, &grid);
	if (rc)
		return rc;
	hat_setup(&x, a->in_place);
	/* Rail receives go first, so a peer's rail send never waits on this
	 * rank's node phase; they are consecutive steps from rreq0 on. */
	rreq0 = s->nsteps;
	for (int k = 1; k < grid.nnodes; k++)
		hat_rail_recv(&x, (grid.node - k + grid.nnodes) % grid.nnodes);
	for (int k = 1; k < grid.per_node && !x.rc; k++)
		hat_node_step(&x, k);
	for (int k = 1; k < grid.nnodes && !x.rc; k++)
		hat_rail_step(&x, k, rreq0 + k - 1);
	rb_coll_grid_fini(&grid);
	return x.rc;
}

static int hier_a2a_supports(const struct rb_coll_args *a, char *why,
			     size_t len)
{
	return rb_coll_hier_supports(a, RB_COLL_ALLTOALL, why, len);
}

/* Blocks of B = S/n. Intra-node: L-1 steps of N blocks (the direct one
 * and one per remote node). Inter-node, per rail: N-1 steps of L blocks. */
static void hier_a2a_cost(const struct rb_coll_shape *sh, double bytes,
			  struct rb_coll_cost *c)
{
	double l = sh->per_node;
	double nn = sh->nnodes;
	double blk = bytes / sh->nranks;

	*c = (struct rb_coll_cost){
		.steps = { [RB_LINK_INTRA] = l - 1, [RB_LINK_INTER] = nn - 1 },
		.bytes = { [RB_LINK_INTRA] = (l - 1) * nn * blk,
			   [RB_LINK_INTER] = (nn - 1) * l * blk },
	};
}

const struct rb_coll_algo rb_algo_hier_alltoall = {
	.name = "hier",
	.kind = RB_COLL_ALLTOALL,
	.supports = hier_a2a_supports,
	.build = hier_a2a_build,
	.cost = hier_a2a_cost,
};
