/* SPDX-License-Identifier: BSD-3-Clause */
/* Pairwise-exchange all-to-all: at step k every rank sends to r+k and
 * receives from r-k, one exchange at a time (docs/algorithms.md). */
#include "collectives/coll.h"

static int pw_chk(int *rc, int idx)
{
	if (idx < 0 && !*rc)
		*rc = idx;
	return idx;
}

/*
 * Block d of the input goes to rank d; block s of the output comes from
 * rank s. In place, the input blocks would be overwritten before they are
 * sent (block r-k lands at step k but leaves at step n-k), so the input is
 * first copied to TMP and sent from there.
 */
static int pw_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	size_t blk = a->count / (size_t)a->nranks * rb_dtype_size(a->dtype);
	size_t own = (size_t)a->rank * blk;
	enum rb_buf src = RB_BUF_SEND;
	int n = a->nranks;
	int rc = 0;

	if (!blk)
		return 0;
	if (a->in_place && n > 1) {
		rb_sched_need_tmp(s, (size_t)n * blk);
		pw_chk(&rc, rb_sched_copy(s, RB_BUF_TMP, 0, RB_BUF_RECV, 0,
					  (size_t)n * blk));
		src = RB_BUF_TMP;
	} else if (!a->in_place) {
		pw_chk(&rc, rb_sched_copy(s, RB_BUF_RECV, own, RB_BUF_SEND, own,
					  blk));
	}
	for (int k = 1; k < n; k++) {
		int to = (a->rank + k) % n;
		int from = (a->rank - k + n) % n;
		int ri = pw_chk(&rc, rb_sched_recv(s, from, RB_BUF_RECV,
						   (size_t)from * blk, blk));
		int si = pw_chk(&rc, rb_sched_send(s, to, src,
						   (size_t)to * blk, blk));

		pw_chk(&rc, rb_sched_wait(s, ri));
		pw_chk(&rc, rb_sched_wait(s, si));
	}
	return rc;
}

static int pw_supports(const struct rb_coll_args *a, char *why, size_t len)
{
	return rb_coll_args_fit(a, RB_COLL_ALLTOALL, why, len);
}

/* n-1 exchanges of one block (S/n) each. */
static void pw_cost(const struct rb_coll_shape *sh, double bytes,
		    struct rb_coll_cost *c)
{
	double n = sh->nranks;

	rb_coll_cost_flat(sh, n - 1, (n - 1) / n * bytes, c);
}

const struct rb_coll_algo rb_algo_pairwise_alltoall = {
	.name = "pairwise",
	.kind = RB_COLL_ALLTOALL,
	.supports = pw_supports,
	.build = pw_build,
	.cost = pw_cost,
};
