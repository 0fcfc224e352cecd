/* SPDX-License-Identifier: BSD-3-Clause */
/* Rabenseifner all-reduce: recursive-halving reduce-scatter, then
 * recursive-doubling all-gather, with the same fold for non-power-of-two
 * rank counts as recursive doubling (docs/algorithms.md "rh"). */
#include "collectives/coll.h"

struct rh_ctx {
	struct rb_sched *s;
	size_t count;
	size_t esz;
	int p;		/* ranks taking part: largest power of two <= n */
	int rem;	/* n - p */
	int rc;
};

static int rh_chk(struct rh_ctx *x, int idx)
{
	if (idx < 0 && !x->rc)
		x->rc = idx;
	return idx;
}

/* Byte offset of block k when count is split into p blocks, the first
 * count % p of them one element longer; k == p gives the end. */
static size_t rh_off(const struct rh_ctx *x, int k)
{
	size_t base = x->count / (size_t)x->p;
	size_t rem = x->count % (size_t)x->p;
	size_t uk = (size_t)k;

	return (uk * base + (uk < rem ? uk : rem)) * x->esz;
}

/* Real rank of survivor number v (after the fold). */
static int rh_real(const struct rh_ctx *x, int v)
{
	return v < x->rem ? v * 2 + 1 : v + x->rem;
}

/* Sends blocks [glo, ghi), receives [klo, khi) into TMP, waits for both,
 * and if reduce is set adds TMP into RECV; otherwise receives into RECV. */
static void rh_exchange(struct rh_ctx *x, int peer, int glo, int ghi,
			int klo, int khi, int reduce)
{
	size_t goff = rh_off(x, glo);
	size_t glen = rh_off(x, ghi) - goff;
	size_t koff = rh_off(x, klo);
	size_t klen = rh_off(x, khi) - koff;
	enum rb_buf dst = reduce ? RB_BUF_TMP : RB_BUF_RECV;

	if (klen)
		rh_chk(x, rb_sched_recv(x->s, peer, dst, koff, klen));
	if (glen)
		rh_chk(x, rb_sched_send(x->s, peer, RB_BUF_RECV, goff, glen));
	rh_chk(x, rb_sched_wait(x->s, -1));
	if (reduce && klen)
		rh_chk(x, rb_sched_reduce(x->s, RB_BUF_RECV, koff, RB_BUF_TMP,
					  koff, klen));
}

/* Survivor v ends the halving owning block v, fully reduced; doubling
 * then trades ever larger aligned ranges until all p blocks are home. */
static void rh_core(struct rh_ctx *x, int v)
{
	int lo = 0;
	int hi = x->p;

	for (int mask = x->p / 2; mask >= 1; mask >>= 1) {
		int mid = lo + (hi - lo) / 2;
		int peer = rh_real(x, v ^ mask);

		if (v & mask) {
			rh_exchange(x, peer, lo, mid, mid, hi, 1);
			lo = mid;
		} else {
			rh_exchange(x, peer, mid, hi, lo, mid, 1);
			hi = mid;
		}
	}
	for (int mask = 1; mask < x->p; mask <<= 1) {
		int base = v & ~(mask - 1);
		int other = base ^ mask;

		rh_exchange(x, rh_real(x, v ^ mask), base, base + mask, other,
			    other + mask, 0);
	}
}

static int rh_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	struct rh_ctx x = {
		.s = s,
		.count = a->count,
		.esz = rb_dtype_size(a->dtype),
		.p = 1,
	};
	size_t bytes = a->count * x.esz;
	int r = a->rank;

	if (!bytes)
		return 0;
	if (!a->in_place)
		rh_chk(&x, rb_sched_copy(s, RB_BUF_RECV, 0, RB_BUF_SEND, 0,
					 bytes));
	if (a->nranks == 1)
		return x.rc;
	while (x.p * 2 <= a->nranks)
		x.p *= 2;
	x.rem = a->nranks - x.p;
	rb_sched_need_tmp(s, bytes);
	if (r < 2 * x.rem && r % 2 == 0) {
		/* Folded out: hand the data over, get the result back. */
		rh_chk(&x, rb_sched_send(s, r + 1, RB_BUF_RECV, 0, bytes));
		rh_chk(&x, rb_sched_wait(s, -1));
		rh_chk(&x, rb_sched_recv(s, r + 1, RB_BUF_RECV, 0, bytes));
		rh_chk(&x, rb_sched_wait(s, -1));
		return x.rc;
	}
	if (r < 2 * x.rem) {
		rh_chk(&x, rb_sched_recv(s, r - 1, RB_BUF_TMP, 0, bytes));
		rh_chk(&x, rb_sched_wait(s, -1));
		rh_chk(&x, rb_sched_reduce(s, RB_BUF_RECV, 0, RB_BUF_TMP, 0,
					   bytes));
	}
	rh_core(&x, r < 2 * x.rem ? r / 2 : r - x.rem);
	if (r < 2 * x.rem) {
		rh_chk(&x, rb_sched_send(s, r - 1, RB_BUF_RECV, 0, bytes));
		rh_chk(&x, rb_sched_wait(s, -1));
	}
	return x.rc;
}

static int rh_supports(const struct rb_coll_args *a, char *why, size_t len)
{
	return rb_coll_args_fit(a, RB_COLL_ALLREDUCE, why, len);
}

/* Recursive halving then doubling among the largest power of two p <= n:
 * 2 log2(p) steps and 2(p-1)/p x S per link, plus the fold and the unfold
 * (one step of S each) when n > p. */
static void rh_cost(const struct rb_coll_shape *sh, double bytes,
		    struct rb_coll_cost *c)
{
	int p = 1;
	double steps = 0;
	double moved;

	while (p * 2 <= sh->nranks) {
		p *= 2;
		steps += 2;
	}
	moved = 2.0 * (p - 1) / p * bytes;
	if (sh->nranks > p) {
		steps += 2;
		moved += 2 * bytes;
	}
	rb_coll_cost_flat(sh, steps, moved, c);
}

const struct rb_coll_algo rb_algo_rh_allreduce = {
	.name = "rh",
	.kind = RB_COLL_ALLREDUCE,
	.supports = rh_supports,
	.build = rh_build,
	.cost = rh_cost,
};
