/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring all-reduce: a pipelined reduce-scatter followed by a pipelined
 * all-gather around the ring r -> r+1 (docs/algorithms.md "ring"). */
#include <limits.h>

#include "collectives/coll.h"

#define RING_CHUNK_DEFAULT (512u * 1024u)	/* bytes per pipeline chunk */
#define RING_SLOTS 4	/* TMP slots = receives in flight per phase */

struct ring_ctx {
	const struct rb_coll_args *a;
	struct rb_sched *s;
	size_t esz;		/* element size */
	size_t ce;		/* elements per chunk */
	size_t slot_bytes;	/* TMP bytes per slot */
	int nch;		/* chunks per segment (largest segment) */
	int n;
	int next;
	int prev;
	int units;		/* (n - 1) * nch per phase */
	int slot_req[RING_SLOTS];	/* RECV step index per slot, -1 none */
	int rc;			/* first appender error */
};

/* Sticky error: the first failing appender's code is what build returns. */
static int ring_chk(struct ring_ctx *x, int idx)
{
	if (idx < 0 && !x->rc)
		x->rc = idx;
	return idx;
}

/* Segment k of count elements split n ways; the first count % n segments
 * hold one element more. */
static void ring_seg(size_t count, int n, int k, size_t *off, size_t *len)
{
	size_t base = count / (size_t)n;
	size_t rem = count % (size_t)n;
	size_t uk = (size_t)k;

	*off = uk * base + (uk < rem ? uk : rem);
	*len = base + (uk < rem ? 1 : 0);
}

/* Byte range of chunk c of segment k. \return its length (0: empty). */
static size_t ring_chunk(const struct ring_ctx *x, int k, int c, size_t *off)
{
	size_t soff;
	size_t slen;
	size_t lo = (size_t)c * x->ce;

	ring_seg(x->a->count, x->n, k, &soff, &slen);
	*off = (soff + lo) * x->esz;
	if (lo >= slen)
		return 0;
	return RB_MIN(x->ce, slen - lo) * x->esz;
}

/* Segment handled by unit u of a phase: at step s = u / nch a rank sends
 * segment (r - s + shift) and receives segment (r - s - 1 + shift). */
static int ring_unit_seg(const struct ring_ctx *x, int u, int shift)
{
	int s = u / x->nch;

	return ((x->a->rank - s - 1 + shift) % x->n + x->n) % x->n;
}

static void ring_send_chunk(struct ring_ctx *x, enum rb_buf buf, int k, int c)
{
	size_t off;
	size_t len = ring_chunk(x, k, c, &off);

	if (len)
		ring_chk(x, rb_sched_send(x->s, x->next, buf, off, len));
}

/* Reduce-scatter receive of unit u into its TMP slot. */
static void ring_rs_recv(struct ring_ctx *x, int u)
{
	size_t off;
	size_t len = ring_chunk(x, ring_unit_seg(x, u, 0), u % x->nch, &off);
	int slot = u % RING_SLOTS;

	x->slot_req[slot] = -1;
	if (len)
		x->slot_req[slot] = ring_chk(x, rb_sched_recv(x->s, x->prev,
				RB_BUF_TMP, (size_t)slot * x->slot_bytes, len));
}

/*
 * Reduce-scatter. Unit u = s * nch + c receives chunk c of segment
 * (r - s - 1) from prev into slot u % RING_SLOTS, adds it into RECV, and
 * forwards the sum at step s + 1; after the last step the chunk is complete
 * and becomes the all-gather's first send. Up to RING_SLOTS receives are
 * in flight, so the next chunks arrive while the current one is reduced.
 */
static void ring_reduce_scatter(struct ring_ctx *x)
{
	const struct rb_coll_args *a = x->a;
	enum rb_buf in = a->in_place ? RB_BUF_RECV : RB_BUF_SEND;

	for (int u = 0; u < RB_MIN(RING_SLOTS, x->units); u++)
		ring_rs_recv(x, u);
	for (int c = 0; c < x->nch; c++)
		ring_send_chunk(x, in, a->rank, c);
	for (int u = 0; u < x->units && !x->rc; u++) {
		int k = ring_unit_seg(x, u, 0);
		int c = u % x->nch;
		int slot = u % RING_SLOTS;
		size_t off;
		size_t len = ring_chunk(x, k, c, &off);

		if (len) {
			/* Each segment is received once per rank: its first
			 * touch, so out of place it is seeded from SEND. */
			if (!a->in_place)
				ring_chk(x, rb_sched_copy(x->s, RB_BUF_RECV, off,
							  RB_BUF_SEND, off,
							  len));
			ring_chk(x, rb_sched_wait(x->s, x->slot_req[slot]));
			ring_chk(x, rb_sched_reduce(x->s, RB_BUF_RECV, off,
					RB_BUF_TMP,
					(size_t)slot * x->slot_bytes, len));
		}
		if (u + RING_SLOTS < x->units)
			ring_rs_recv(x, u + RING_SLOTS);
		ring_send_chunk(x, RB_BUF_RECV, k, c);
	}
}

static void ring_ag_recv(struct ring_ctx *x, int u, int *req)
{
	size_t off;
	size_t len = ring_chunk(x, ring_unit_seg(x, u, 1), u % x->nch, &off);

	*req = -1;
	if (len)
		*req = ring_chk(x, rb_sched_recv(x->s, x->prev, RB_BUF_RECV,
						 off, len));
}

/*
 * All-gather. Unit u = s * nch + c receives the finished chunk c of segment
 * (r - s) straight into RECV and forwards it at step s + 1. Receives are
 * posted only now: the regions they overwrite were last sent during the
 * reduce-scatter, and a finished segment cannot exist before the next rank
 * received this rank's contribution to it.
 */
static void ring_all_gather(struct ring_ctx *x)
{
	int req[RING_SLOTS];

	for (int u = 0; u < RB_MIN(RING_SLOTS, x->units); u++)
		ring_ag_recv(x, u, &req[u]);
	for (int u = 0; u < x->units && !x->rc; u++) {
		int slot = u % RING_SLOTS;
		int k = ring_unit_seg(x, u, 1);

		if (req[slot] >= 0)
			ring_chk(x, rb_sched_wait(x->s, req[slot]));
		if (u + RING_SLOTS < x->units)
			ring_ag_recv(x, u + RING_SLOTS, &req[slot]);
		if (u + x->nch < x->units)
			ring_send_chunk(x, RB_BUF_RECV, k, u % x->nch);
	}
}

static int ring_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	struct ring_ctx x = {
		.a = a,
		.s = s,
		.esz = rb_dtype_size(a->dtype),
		.n = a->nranks,
		.next = (a->rank + 1) % a->nranks,
		.prev = (a->rank + a->nranks - 1) % a->nranks,
	};
	size_t chunk = a->chunk_bytes ? a->chunk_bytes : RING_CHUNK_DEFAULT;
	size_t maxseg = (a->count + (size_t)x.n - 1) / (size_t)x.n;

	if (!a->count)
		return 0;
	if (x.n == 1) {
		if (!a->in_place)
			ring_chk(&x, rb_sched_copy(s, RB_BUF_RECV, 0, RB_BUF_SEND,
						   0, a->count * x.esz));
		return x.rc;
	}
	x.ce = RB_MAX(chunk / x.esz, (size_t)1);
	x.ce = RB_MIN(x.ce, maxseg);
	/* Keep the unit count in int range whatever the chunk asked for. */
	x.ce = RB_MAX(x.ce, maxseg / (size_t)(INT_MAX / x.n) + 1);
	x.slot_bytes = x.ce * x.esz;
	x.nch = (int)((maxseg + x.ce - 1) / x.ce);
	x.units = (x.n - 1) * x.nch;
	rb_sched_need_tmp(s, RING_SLOTS * x.slot_bytes);
	ring_reduce_scatter(&x);
	ring_all_gather(&x);
	ring_chk(&x, rb_sched_wait(s, -1));
	return x.rc;
}

static int ring_supports(const struct rb_coll_args *a, char *why, size_t len)
{
	(void)why;
	(void)len;
	return a->kind == RB_COLL_ALLREDUCE && a->nranks >= 1;
}

const struct rb_coll_algo rb_algo_ring_allreduce = {
	.name = "ring",
	.kind = RB_COLL_ALLREDUCE,
	.supports = ring_supports,
	.build = ring_build,
};
