/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring all-reduce: the ring phases of ring.c over the group of all ranks
 * and the whole buffer (docs/algorithms.md "ring"). */
#include "collectives/coll.h"

static int ring_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	const struct rb_coll_group g = rb_coll_group_all(a);
	const struct rb_coll_phase ph = rb_coll_phase_of(a, s, &g);
	const struct rb_coll_span all = {
		.off = 0,
		.count = a->count,
	};

	return rb_coll_ring_all_reduce(&ph, a->in_place ? RB_BUF_RECV :
							  RB_BUF_SEND, all);
}

static int ring_supports(const struct rb_coll_args *a, char *why, size_t len)
{
	return rb_coll_args_fit(a, RB_COLL_ALLREDUCE, why, len);
}

/* Reduce-scatter then all-gather: 2(n-1) steps, each link carrying
 * 2(n-1)/n x S. */
static void ring_cost(const struct rb_coll_shape *sh, double bytes,
		      struct rb_coll_cost *c)
{
	double n = sh->nranks;

	rb_coll_cost_flat(sh, 2 * (n - 1), 2 * (n - 1) / n * bytes, c);
}

const struct rb_coll_algo rb_algo_ring_allreduce = {
	.name = "ring",
	.kind = RB_COLL_ALLREDUCE,
	.supports = ring_supports,
	.build = ring_build,
	.cost = ring_cost,
};
