/* SPDX-License-Identifier: BSD-3-Clause */
/* Recursive-doubling all-reduce for any number of ranks: the extra ranks
 * beyond the largest power of two fold into a partner first and get the
 * result back at the end (docs/algorithms.md "rd"). */
#include "collectives/coll.h"

/* Sticky error: the first failing appender's code is what build returns. */
static int rd_chk(int *rc, int idx)
{
	if (idx < 0 && !*rc)
		*rc = idx;
	return idx;
}

/* Largest power of two <= n (n >= 1). */
static int rd_pow2_floor(int n)
{
	int p = 1;

	while (p * 2 <= n)
		p *= 2;
	return p;
}

/* One exchange with peer: both directions in flight, then RECV op= TMP.
 * The send reads RECV, so the reduction waits for it as well. */
static void rd_exchange(struct rb_sched *s, int peer, size_t bytes, int *rc)
{
	int ri = rd_chk(rc, rb_sched_recv(s, peer, RB_BUF_TMP, 0, bytes));
	int si = rd_chk(rc, rb_sched_send(s, peer, RB_BUF_RECV, 0, bytes));

	rd_chk(rc, rb_sched_wait(s, ri));
	rd_chk(rc, rb_sched_wait(s, si));
	rd_chk(rc, rb_sched_reduce(s, RB_BUF_RECV, 0, RB_BUF_TMP, 0, bytes));
}

static int rd_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	size_t bytes = a->count * rb_dtype_size(a->dtype);
	int n = a->nranks;
	int r = a->rank;
	int p = rd_pow2_floor(n);
	int rem = n - p;
	int newrank;
	int rc = 0;

	if (!bytes)
		return 0;
	if (!a->in_place)
		rd_chk(&rc, rb_sched_copy(s, RB_BUF_RECV, 0, RB_BUF_SEND, 0,
					  bytes));
	if (n == 1)
		return rc;
	rb_sched_need_tmp(s, bytes);
	/* Fold: among ranks < 2 * rem, even ones hand their data to the odd
	 * neighbour and sit out; the survivors are renumbered 0..p-1. */
	if (r < 2 * rem && r % 2 == 0) {
		rd_chk(&rc, rb_sched_send(s, r + 1, RB_BUF_RECV, 0, bytes));
		rd_chk(&rc, rb_sched_wait(s, -1));
		rd_chk(&rc, rb_sched_recv(s, r + 1, RB_BUF_RECV, 0, bytes));
		rd_chk(&rc, rb_sched_wait(s, -1));
		return rc;
	}
	if (r < 2 * rem) {
		rd_chk(&rc, rb_sched_recv(s, r - 1, RB_BUF_TMP, 0, bytes));
		rd_chk(&rc, rb_sched_wait(s, -1));
		rd_chk(&rc, rb_sched_reduce(s, RB_BUF_RECV, 0, RB_BUF_TMP, 0,
					    bytes));
		newrank = r / 2;
	} else {
		newrank = r - rem;
	}
	for (int mask = 1; mask < p; mask <<= 1) {
		int pn = newrank ^ mask;
		int peer = pn < rem ? pn * 2 + 1 : pn + rem;

		rd_exchange(s, peer, bytes, &rc);
	}
	if (r < 2 * rem)
		rd_chk(&rc, rb_sched_send(s, r - 1, RB_BUF_RECV, 0, bytes));
	rd_chk(&rc, rb_sched_wait(s, -1));
	return rc;
}

static int rd_supports(const struct rb_coll_args *a, char *why, size_t len)
{
	return rb_coll_args_fit(a, RB_COLL_ALLREDUCE, why, len);
}

/* log2(p) exchanges of the whole buffer among the largest power of two
 * p <= n, plus the fold and the unfold (one step of S each) when n > p. */
static void rd_cost(const struct rb_coll_shape *sh, double bytes,
		    struct rb_coll_cost *c)
{
	int p = rd_pow2_floor(sh->nranks);
	double steps = sh->nranks > p ? 2 : 0;

	for (int k = p; k > 1; k /= 2)
		steps += 1;
	rb_coll_cost_flat(sh, steps, steps * bytes, c);
}

const struct rb_coll_algo rb_algo_rd_allreduce = {
	.name = "rd",
	.kind = RB_COLL_ALLREDUCE,
	.supports = rd_supports,
	.build = rd_build,
	.cost = rd_cost,
};
