/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring phases over a group of ranks and a span of the buffers: the
 * pipelined reduce-scatter and all-gather that the ring and hier
 * algorithms compose (docs/algorithms.md "Groups and spans"). */
#include <limits.h>

#include "collectives/coll.h"

#define RING_CHUNK_DEFAULT (512u * 1024u)	/* bytes per pipeline chunk */
#define RING_SLOTS 4	/* receives in flight per phase (TMP slots) */

/*
 * A phase's data is one segment per member. Span layout (nblk == 0): the
 * span cut into n uneven segments. Block layout: segment k is nblk equal
 * blocks, anywhere in RECV. A segment is moved in nch chunks of at most ce
 * elements; in the block layout a chunk never straddles two blocks.
 */
struct ring_ctx {
	struct rb_sched *s;
	size_t esz;
	struct rb_coll_span sp;	/* span layout */
	const int *blk;		/* block layout: block table, NULL identity */
	int nblk;		/* blocks per segment, 0 = span layout */
	size_t blk_count;	/* elements per block */
	size_t ce;		/* elements per chunk */
	size_t slot_bytes;	/* TMP bytes per slot */
	int cpb;		/* chunks per block (span layout: per segment) */
	int nch;		/* chunks per segment */
	int n;
	int me;
	int next;		/* job rank of member me + 1 */
	int prev;		/* job rank of member me - 1 */
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

static int ring_member(const struct rb_coll_group *g, int i)
{
	return g->ranks ? g->ranks[i] : i;
}

struct rb_coll_group rb_coll_group_all(const struct rb_coll_args *a)
{
	return (struct rb_coll_group){
		.ranks = NULL,
		.n = a->nranks,
		.me = a->rank,
	};
}

struct rb_coll_phase rb_coll_phase_of(const struct rb_coll_args *a,
				      struct rb_sched *s,
				      const struct rb_coll_group *g)
{
	return (struct rb_coll_phase){
		.s = s,
		.g = g,
		.esz = rb_dtype_size(a->dtype),
		.chunk_bytes = a->chunk_bytes,
	};
}

struct rb_coll_span rb_coll_span_part(struct rb_coll_span sp, int n, int k)
{
	size_t base = sp.count / (size_t)n;
	size_t rem = sp.count % (size_t)n;
	size_t uk = (size_t)k;

	return (struct rb_coll_span){
		.off = sp.off + uk * base + (uk < rem ? uk : rem),
		.count = base + (uk < rem ? 1 : 0),
	};
}

/* Common set-up; max_piece is the largest block or segment in elements.
 * \return 1 when the group has more than one member and data to move. */
static int ring_init(struct ring_ctx *x, const struct rb_coll_phase *ph,
		     size_t max_piece, int pieces)
{
	const struct rb_coll_group *g = ph->g;
	size_t chunk = ph->chunk_bytes ? ph->chunk_bytes : RING_CHUNK_DEFAULT;
	size_t per = (size_t)g->n * (size_t)pieces;

	x->s = ph->s;
	x->esz = ph->esz;
	x->n = g->n;
	x->me = g->me;
	if (x->n < 2 || !max_piece)
		return 0;
	x->next = ring_member(g, (g->me + 1) % g->n);
	x->prev = ring_member(g, (g->me + g->n - 1) % g->n);
	x->ce = RB_MAX(chunk / x->esz, (size_t)1);
	x->ce = RB_MIN(x->ce, max_piece);
	/* Keep the unit count in int range whatever the chunk asked for. */
	x->ce = RB_MAX(x->ce, max_piece / (size_t)(INT_MAX / per) + 1);
	x->slot_bytes = x->ce * x->esz;
	x->cpb = (int)((max_piece + x->ce - 1) / x->ce);
	x->nch = x->cpb * pieces;
	x->units = (x->n - 1) * x->nch;
	return 1;
}

/* Byte range of chunk c of segment k. \return its length (0: empty). */
static size_t ring_chunk(const struct ring_ctx *x, int k, int c, size_t *off)
{
	size_t base;
	size_t len;
	size_t lo;

	if (x->nblk) {
		int b = k * x->nblk + c / x->cpb;

		base = (size_t)(x->blk ? x->blk[b] : b) * x->blk_count;
		len = x->blk_count;
		lo = (size_t)(c % x->cpb) * x->ce;
	} else {
		struct rb_coll_span seg = rb_coll_span_part(x->sp, x->n, k);

		base = seg.off;
		len = seg.count;
		lo = (size_t)c * x->ce;
	}
	*off = (base + lo) * x->esz;
	if (lo >= len)
		return 0;
	return RB_MIN(x->ce, len - lo) * x->esz;
}

/* Segment handled by unit u of a phase: at step s = u / nch a member
 * receives segment (me - s - 1 + shift) and sends segment (me - s + shift). */
static int ring_unit_seg(const struct ring_ctx *x, int u, int shift)
{
	int s = u / x->nch;

	return ((x->me - s - 1 + shift) % x->n + x->n) % x->n;
}

static void ring_send_chunk(struct ring_ctx *x, enum rb_buf buf, int k, int c)
{
	size_t off;
	size_t len = ring_chunk(x, k, c, &off);

	if (len)
		ring_chk(x, rb_sched_send(x->s, x->next, buf, off, len));
}

/* Reduce-scatter receive of unit u: RECV = in + incoming for its chunk,
 * combined on arrival where the transport can (shm), else through the
 * unit's TMP slot. Each segment is received once per member, so this is
 * the chunk's first write: out of place the local term comes from SEND
 * (no separate seed copy), in place from RECV itself. */
static void ring_rs_recv(struct ring_ctx *x, enum rb_buf in, int u)
{
	size_t off;
	size_t len = ring_chunk(x, ring_unit_seg(x, u, 0), u % x->nch, &off);
	int slot = u % RING_SLOTS;

	x->slot_req[slot] = -1;
	if (len)
		x->slot_req[slot] = ring_chk(x, rb_sched_recv_reduce(x->s,
				x->prev, RB_BUF_RECV, off, in, off,
				(size_t)slot * x->slot_bytes, len));
}

/*
 * Reduce-scatter. Unit u = s * nch + c receives chunk c of segment
 * (me - s - 1) from prev, combined with this member's term into RECV, and
 * forwards the sum at step s + 1. After the last step the chunk is
 * complete; with fwd its send is the all-gather's first. Up to RING_SLOTS
 * receives are in flight, so the next chunks arrive while the current one
 * is combined. A receive is posted into RECV early, but its region is
 * neither read nor sent by anything before its own wait.
 */
static void ring_rs(struct ring_ctx *x, enum rb_buf in, int fwd)
{
	for (int u = 0; u < RB_MIN(RING_SLOTS, x->units); u++)
		ring_rs_recv(x, in, u);
	for (int c = 0; c < x->nch; c++)
		ring_send_chunk(x, in, x->me, c);
	for (int u = 0; u < x->units && !x->rc; u++) {
		int k = ring_unit_seg(x, u, 0);
		int c = u % x->nch;
		int slot = u % RING_SLOTS;

		if (x->slot_req[slot] >= 0)
			ring_chk(x, rb_sched_wait(x->s, x->slot_req[slot]));
		if (u + RING_SLOTS < x->units)
			ring_rs_recv(x, in, u + RING_SLOTS);
		if (fwd || u + x->nch < x->units)
			ring_send_chunk(x, RB_BUF_RECV, k, c);
	}
}

static void ring_ag_recv(struct ring_ctx *x, int u, int shift, int *req)
{
	size_t off;
	size_t len = ring_chunk(x, ring_unit_seg(x, u, shift), u % x->nch,
				&off);

	*req = -1;
	if (len)
		*req = ring_chk(x, rb_sched_recv(x->s, x->prev, RB_BUF_RECV,
						 off, len));
}

/*
 * All-gather, member i owning segment i + shift. Unit u = s * nch + c
 * receives chunk c of segment (me + shift - s - 1) straight into RECV and
 * forwards it at step s + 1; own_sent says a fused reduce-scatter already
 * sent the own segment. Receives into RECV are safe to post here: after a
 * separate phase nothing is in flight, and after a fused reduce-scatter the
 * regions they overwrite were last sent by it, while a finished segment
 * cannot exist before the next member received this member's contribution
 * to it.
 */
static void ring_ag(struct ring_ctx *x, int shift, int own_sent)
{
	int req[RING_SLOTS];

	for (int u = 0; u < RB_MIN(RING_SLOTS, x->units); u++)
		ring_ag_recv(x, u, shift, &req[u]);
	for (int c = 0; c < x->nch && !own_sent; c++)
		ring_send_chunk(x, RB_BUF_RECV, (x->me + shift) % x->n, c);
	for (int u = 0; u < x->units && !x->rc; u++) {
		int slot = u % RING_SLOTS;
		int k = ring_unit_seg(x, u, shift);

		if (req[slot] >= 0)
			ring_chk(x, rb_sched_wait(x->s, req[slot]));
		if (u + RING_SLOTS < x->units)
			ring_ag_recv(x, u + RING_SLOTS, shift, &req[slot]);
		if (u + x->nch < x->units)
			ring_send_chunk(x, RB_BUF_RECV, k, u % x->nch);
	}
}

/* A one-member reduce-scatter only has to move its input into place. */
static int ring_rs_alone(const struct rb_coll_phase *ph, enum rb_buf in,
			 struct rb_coll_span sp)
{
	int idx = 0;

	if (ph->g->n == 1 && in != RB_BUF_RECV && sp.count)
		idx = rb_sched_copy(ph->s, RB_BUF_RECV, sp.off * ph->esz, in,
				    sp.off * ph->esz, sp.count * ph->esz);
	return idx < 0 ? idx : 0;
}

static size_t ring_max_seg(const struct rb_coll_phase *ph,
			   struct rb_coll_span sp)
{
	return (sp.count + (size_t)ph->g->n - 1) / (size_t)ph->g->n;
}

int rb_coll_ring_reduce_scatter(const struct rb_coll_phase *ph,
				enum rb_buf in, struct rb_coll_span sp)
{
	struct ring_ctx x = { .sp = sp };

	if (!ring_init(&x, ph, ring_max_seg(ph, sp), 1))
		return ring_rs_alone(ph, in, sp);
	rb_sched_need_tmp(ph->s, RING_SLOTS * x.slot_bytes);
	ring_rs(&x, in, 0);
	ring_chk(&x, rb_sched_wait(x.s, -1));
	return x.rc;
}

int rb_coll_ring_all_gather(const struct rb_coll_phase *ph,
			    struct rb_coll_span sp, int shift)
{
	struct ring_ctx x = { .sp = sp };

	if (!ring_init(&x, ph, ring_max_seg(ph, sp), 1))
		return 0;
	ring_ag(&x, shift, 0);
	ring_chk(&x, rb_sched_wait(x.s, -1));
	return x.rc;
}

int rb_coll_ring_all_reduce(const struct rb_coll_phase *ph, enum rb_buf in,
			    struct rb_coll_span sp)
{
	struct ring_ctx x = { .sp = sp };

	if (!ring_init(&x, ph, ring_max_seg(ph, sp), 1))
		return ring_rs_alone(ph, in, sp);
	rb_sched_need_tmp(ph->s, RING_SLOTS * x.slot_bytes);
	ring_rs(&x, in, 1);
	ring_ag(&x, 1, 1);
	ring_chk(&x, rb_sched_wait(x.s, -1));
	return x.rc;
}

int rb_coll_ring_gather_blocks(const struct rb_coll_phase *ph, const int *blk,
			       int nblk, size_t blk_count)
{
	struct ring_ctx x = {
		.blk = blk,
		.nblk = nblk,
		.blk_count = blk_count,
	};

	if (nblk < 1 || !ring_init(&x, ph, blk_count, nblk))
		return 0;
	ring_ag(&x, 0, 0);
	ring_chk(&x, rb_sched_wait(x.s, -1));
	return x.rc;
}
