/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring all-gather: every block travels n-1 hops around the ring r -> r+1,
 * chunked so that forwarding overlaps receiving (docs/algorithms.md). */
#include <limits.h>

#include "collectives/coll.h"

#define AGR_CHUNK_DEFAULT (512u * 1024u)	/* bytes per pipeline chunk */
#define AGR_WINDOW 4	/* receives in flight */

struct agr_ctx {
	const struct rb_coll_args *a;
	struct rb_sched *s;
	size_t blk_bytes;	/* one rank's block */
	size_t chunk;		/* bytes per chunk */
	int nch;		/* chunks per block */
	int n;
	int next;
	int prev;
	int units;		/* (n - 1) * nch */
	int rc;
};

static int agr_chk(struct agr_ctx *x, int idx)
{
	if (idx < 0 && !x->rc)
		x->rc = idx;
	return idx;
}

/* Byte offset of chunk c of block k in RECV; *len its length. */
static size_t agr_chunk(const struct agr_ctx *x, int k, int c, size_t *len)
{
	size_t lo = (size_t)c * x->chunk;

	*len = RB_MIN(x->chunk, x->blk_bytes - lo);
	return (size_t)k * x->blk_bytes + lo;
}

/* Block received at unit u (step s = u / nch): block r - s - 1. */
static int agr_unit_blk(const struct agr_ctx *x, int u)
{
	return ((x->a->rank - u / x->nch - 1) % x->n + x->n) % x->n;
}

static int agr_recv(struct agr_ctx *x, int u)
{
	size_t len;
	size_t off = agr_chunk(x, agr_unit_blk(x, u), u % x->nch, &len);

	return agr_chk(x, rb_sched_recv(x->s, x->prev, RB_BUF_RECV, off, len));
}

/*
 * Step s sends block r - s and receives block r - s - 1, which is what step
 * s + 1 sends: unit u = s * nch + c forwards its chunk as soon as it lands.
 */
static void agr_steps(struct agr_ctx *x)
{
	const struct rb_coll_args *a = x->a;
	int req[AGR_WINDOW];

	for (int u = 0; u < RB_MIN(AGR_WINDOW, x->units); u++)
		req[u] = agr_recv(x, u);
	for (int c = 0; c < x->nch; c++) {
		size_t len;
		size_t off = agr_chunk(x, a->rank, c, &len);

		/* Out of place the own block is read from SEND directly. */
		if (a->in_place)
			agr_chk(x, rb_sched_send(x->s, x->next, RB_BUF_RECV,
						 off, len));
		else
			agr_chk(x, rb_sched_send(x->s, x->next, RB_BUF_SEND,
						 off - (size_t)a->rank *
						 x->blk_bytes, len));
	}
	for (int u = 0; u < x->units && !x->rc; u++) {
		int slot = u % AGR_WINDOW;
		size_t len;
		size_t off = agr_chunk(x, agr_unit_blk(x, u), u % x->nch, &len);

		agr_chk(x, rb_sched_wait(x->s, req[slot]));
		if (u + AGR_WINDOW < x->units)
			req[slot] = agr_recv(x, u + AGR_WINDOW);
		if (u + x->nch < x->units)
			agr_chk(x, rb_sched_send(x->s, x->next, RB_BUF_RECV,
						 off, len));
	}
}

static int agr_build(const struct rb_coll_args *a, struct rb_sched *s)
{
	struct agr_ctx x = {
		.a = a,
		.s = s,
		.n = a->nranks,
		.next = (a->rank + 1) % a->nranks,
		.prev = (a->rank + a->nranks - 1) % a->nranks,
	};
	size_t esz = rb_dtype_size(a->dtype);
	size_t chunk = a->chunk_bytes ? a->chunk_bytes : AGR_CHUNK_DEFAULT;

	x.blk_bytes = a->count / (size_t)x.n * esz;
	if (!x.blk_bytes)
		return 0;
	if (!a->in_place)
		agr_chk(&x, rb_sched_copy(s, RB_BUF_RECV,
					  (size_t)a->rank * x.blk_bytes,
					  RB_BUF_SEND, 0, x.blk_bytes));
	if (x.n == 1)
		return x.rc;
	/* Whole elements per chunk, at most one block. */
	x.chunk = RB_MAX(chunk / esz, (size_t)1) * esz;
	x.chunk = RB_MIN(x.chunk, x.blk_bytes);
	/* Keep the unit count in int range whatever the chunk asked for. */
	x.chunk = RB_MAX(x.chunk, (x.blk_bytes / (size_t)(INT_MAX / x.n) /
				   esz + 1) * esz);
	x.nch = (int)((x.blk_bytes + x.chunk - 1) / x.chunk);
	x.units = (x.n - 1) * x.nch;
	agr_steps(&x);
	agr_chk(&x, rb_sched_wait(s, -1));
	return x.rc;
}

static int agr_supports(const struct rb_coll_args *a, char *why, size_t len)
{
	(void)why;
	(void)len;
	return a->kind == RB_COLL_ALLGATHER && a->nranks >= 1 &&
	       a->count % (size_t)a->nranks == 0;
}

const struct rb_coll_algo rb_algo_ring_allgather = {
	.name = "ring",
	.kind = RB_COLL_ALLGATHER,
	.supports = agr_supports,
	.build = agr_build,
};
