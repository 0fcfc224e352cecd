/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring all-gather: the ring all-gather phase of ring.c over the group of
 * all ranks, block r owned by rank r (docs/algorithms.md). */
#include "collectives/coll.h"

static int agr_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	const struct rb_coll_group g = rb_coll_group_all(a);
	const struct rb_coll_phase ph = rb_coll_phase_of(a, s, &g);
	size_t per = a->count / (size_t)a->nranks;
	const struct rb_coll_span all = {
		.off = 0,
		.count = per * (size_t)a->nranks,
	};

	/* Out of place the own block moves into its place first; the ring
	 * then sends it from there. */
	if (!a->in_place && per &&
	    rb_sched_copy(s, RB_BUF_RECV, (size_t)a->rank * per * ph.esz,
			  RB_BUF_SEND, 0, per * ph.esz) < 0)
		return -RB_ENOMEM;
	return rb_coll_ring_all_gather(&ph, all, 0);
}

static int agr_supports(const struct rb_coll_args *a, char *why, size_t len)
{
	return rb_coll_args_fit(a, RB_COLL_ALLGATHER, why, len);
}

/* n-1 steps, each link carrying (n-1)/n x S. */
static void agr_cost(const struct rb_coll_shape *sh, double bytes,
		     struct rb_coll_cost *c)
{
	double n = sh->nranks;

	rb_coll_cost_flat(sh, n - 1, (n - 1) / n * bytes, c);
}

const struct rb_coll_algo rb_algo_ring_allgather = {
	.name = "ring",
	.kind = RB_COLL_ALLGATHER,
	.supports = agr_supports,
	.build = agr_build,
	.cost = agr_cost,
};
