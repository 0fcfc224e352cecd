/* SPDX-License-Identifier: BSD-3-Clause */
/* In-process loopback transport: all ranks of a world in one process and
 * one thread. Sends and receives queue per (source, destination) pair and
 * are matched in post order by progress(), which copies the bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/loop_tp.h"

struct loop_q {
	struct rb_tp_req *head;
	struct rb_tp_req *tail;
};

struct loop_tp;

struct loop_world {
	int nranks;
	int open;		/* transports not yet closed */
	uint64_t matched;	/* messages completed so far */
	uint64_t posts;		/* posts so far, drives the eager choice */
	struct loop_q *sendq;	/* [src * nranks + dst] */
	struct loop_q *recvq;	/* [src * nranks + dst] */
	uint64_t *bytes;	/* [src * nranks + dst] matched bytes */
	uint64_t *msgs;		/* [src * nranks + dst] matched messages */
	struct loop_tp *tps;	/* [nranks] */
};

struct loop_tp {
	struct rb_tp tp;
	struct loop_world *w;
};

/* Request fields: priv[0] next in queue, priv[1] the mr; upriv[0] offset. */
static void loop_q_push(struct loop_q *q, struct rb_tp_req *req)
{
	req->priv[0] = NULL;
	if (q->tail)
		q->tail->priv[0] = req;
	else
		q->head = req;
	q->tail = req;
}

static struct rb_tp_req *loop_q_pop(struct loop_q *q)
{
	struct rb_tp_req *req = q->head;

	q->head = req->priv[0];
	if (!q->head)
		q->tail = NULL;
	return req;
}

static char *loop_req_ptr(const struct rb_tp_req *req)
{
	const struct rb_tp_mr *mr = req->priv[1];

	return (char *)mr->buf + req->upriv[0];
}

/* Matches queued sends src -> dst with receives in order. */
static void loop_match(struct loop_world *w, int src, int dst)
{
	struct loop_q *sq = &w->sendq[src * w->nranks + dst];
	struct loop_q *rq = &w->recvq[src * w->nranks + dst];

	while (sq->head && rq->head) {
		struct rb_tp_req *s = loop_q_pop(sq);
		struct rb_tp_req *r = loop_q_pop(rq);

		if (s->len != r->len) {
			rb_err("loop: send of %zu bytes from rank %d met a receive of %zu bytes at rank %d",
			       s->len, src, r->len, dst);
			s->status = -RB_EINVAL;
			r->status = -RB_EINVAL;
		} else {
			if (s->len && r->upriv[1])
				rb_reduce_to(loop_req_ptr(r), r->priv[2],
					     loop_req_ptr(s),
					     s->len / rb_dtype_size((enum rb_dtype)((r->upriv[1] >> 8) & 0xff)),
					     (enum rb_dtype)((r->upriv[1] >> 8) & 0xff),
					     (enum rb_redop)(r->upriv[1] >> 16));
			else if (s->len)
				memmove(loop_req_ptr(r), loop_req_ptr(s),
					s->len);
			w->bytes[src * w->nranks + dst] += s->len;
			w->msgs[src * w->nranks + dst]++;
		}
		s->done = 1;
		r->done = 1;
		w->matched++;
	}
}

/*
 * About half of all posts, chosen by a fixed hash of the post count, match
 * at once when the other side is already posted; the rest wait for
 * progress(). Eager copies expose a receive buffer read too early, late
 * ones a send buffer overwritten before its send completed.
 */
static void loop_maybe_match(struct loop_world *w, int src, int dst)
{
	uint64_t x = ++w->posts * UINT64_C(0x9e3779b97f4a7c15);

	x ^= x >> 29;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	if ((x >> 40) & 1)
		loop_match(w, src, dst);
}

static int loop_probe(const struct rb_tp_args *args, char *why, size_t len)
{
	(void)args;
	(void)why;
	(void)len;
	return 0;
}

static int loop_open(const struct rb_tp_args *args, struct rb_tp **tp_p)
{
	(void)args;
	(void)tp_p;
	rb_err("loop: worlds are made with rb_loop_world_create()");
	return -RB_ENOTSUP;
}

static int loop_get_addr(struct rb_tp *tp, void *blob, size_t *len_p)
{
	(void)tp;
	(void)blob;
	*len_p = 0;
	return 0;
}

static int loop_connect(struct rb_tp *tp, const void *blobs, size_t stride)
{
	(void)tp;
	(void)blobs;
	(void)stride;
	return 0;
}

static int loop_mem_reg(struct rb_tp *tp, void *buf, size_t len,
			enum rb_mem_kind kind, struct rb_tp_mr **mr_p)
{
	(void)tp;
	return rb_tp_mr_plain_new(buf, len, kind, mr_p);
}

/* Common checks of a post; the queue is chosen by the caller. */
static int loop_post(struct rb_tp *tp, const char *what, int peer,
		     struct rb_tp_mr *mr, size_t off, size_t len,
		     struct rb_tp_req *req)
{
	if (peer < 0 || peer >= tp->nranks || !mr || off > mr->len ||
	    len > mr->len - off) {
		rb_err("loop: rank %d %s rank %d, %zu bytes at offset %zu of a %zu-byte buffer: out of range",
		       tp->rank, what, peer, len, off, mr ? mr->len : 0);
		return -RB_EINVAL;
	}
	req->done = 0;
	req->status = 0;
	req->peer = peer;
	req->len = len;
	req->priv[1] = mr;
	req->upriv[0] = off;
	req->upriv[1] = 0;	/* not a receive-reduce */
	return 0;
}

static int loop_isend(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		      size_t off, size_t len, struct rb_tp_req *req)
{
	struct loop_world *w = rb_container_of(tp, struct loop_tp, tp)->w;
	int rc = loop_post(tp, "send to", peer, mr, off, len, req);

	if (!rc) {
		loop_q_push(&w->sendq[tp->rank * w->nranks + peer], req);
		loop_maybe_match(w, tp->rank, peer);
	}
	return rc;
}

static int loop_irecv(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		      size_t off, size_t len, struct rb_tp_req *req)
{
	struct loop_world *w = rb_container_of(tp, struct loop_tp, tp)->w;
	int rc = loop_post(tp, "recv from", peer, mr, off, len, req);

	if (!rc) {
		loop_q_push(&w->recvq[peer * w->nranks + tp->rank], req);
		loop_maybe_match(w, peer, tp->rank);
	}
	return rc;
}

static int loop_combine;	/* rb_loop_set_combine */

void rb_loop_set_combine(int on)
{
	loop_combine = on;
}

/* Combines at match time, which is at the post when the send is already
 * queued: the seed must hold the local term from the post on. */
static int loop_irecv_reduce(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
			     size_t off, size_t len, const void *seed,
			     enum rb_dtype dtype, enum rb_redop op,
			     struct rb_tp_req *req)
{
	struct loop_world *w = rb_container_of(tp, struct loop_tp, tp)->w;
	int rc;

	if (!loop_combine)
		return -RB_ENOTSUP;
	rc = loop_post(tp, "recv-reduce from", peer, mr, off, len, req);
	if (rc)
		return rc;
	req->priv[2] = (void *)seed;
	req->upriv[1] = 1u | ((uint64_t)dtype << 8) | ((uint64_t)op << 16);
	loop_q_push(&w->recvq[peer * w->nranks + tp->rank], req);
	loop_maybe_match(w, peer, tp->rank);
	return 0;
}

/* Never blocks: everything is in this process and this thread. */
static int loop_progress(struct rb_tp *tp, int64_t timeout_ns)
{
	struct loop_world *w = rb_container_of(tp, struct loop_tp, tp)->w;

	(void)timeout_ns;
	for (int p = 0; p < w->nranks; p++) {
		loop_match(w, tp->rank, p);
		loop_match(w, p, tp->rank);
	}
	return 0;
}

static void loop_peer_desc(struct rb_tp *tp, int peer, char *buf,
			   size_t len)
{
	snprintf(buf, len, "loop %d->%d", tp->rank, peer);
}

static void loop_world_free(struct loop_world *w)
{
	free(w->sendq);
	free(w->recvq);
	free(w->bytes);
	free(w->msgs);
	free(w->tps);
	free(w);
}

static void loop_close(struct rb_tp *tp)
{
	struct loop_world *w;

	if (!tp)
		return;
	w = rb_container_of(tp, struct loop_tp, tp)->w;
	if (--w->open > 0)
		return;
	loop_world_free(w);
}

static const struct rb_tp_ops loop_ops = {
	.name = "loop",
	.summary = "in-process loopback (unit tests)",
	.caps = 0,
	.probe = loop_probe,
	.open = loop_open,
	.get_addr = loop_get_addr,
	.connect = loop_connect,
	.mem_reg = loop_mem_reg,
	.mem_dereg = rb_tp_mr_plain_dereg,
	.isend = loop_isend,
	.irecv = loop_irecv,
	.irecv_reduce = loop_irecv_reduce,
	.progress = loop_progress,
	.peer_desc = loop_peer_desc,
	.close = loop_close,
};

int rb_loop_world_create(int nranks, struct rb_tp **tps)
{
	struct loop_world *w;
	size_t pairs;

	if (nranks < 1) {
		rb_err("loop: invalid world size %d", nranks);
		return -RB_EINVAL;
	}
	pairs = (size_t)nranks * (size_t)nranks;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -RB_ENOMEM;
	w->sendq = calloc(pairs, sizeof(*w->sendq));
	w->recvq = calloc(pairs, sizeof(*w->recvq));
	w->bytes = calloc(pairs, sizeof(*w->bytes));
	w->msgs = calloc(pairs, sizeof(*w->msgs));
	w->tps = calloc((size_t)nranks, sizeof(*w->tps));
	if (!w->sendq || !w->recvq || !w->bytes || !w->msgs || !w->tps) {
		loop_world_free(w);
		return -RB_ENOMEM;
	}
	w->nranks = nranks;
	w->open = nranks;
	for (int r = 0; r < nranks; r++) {
		struct loop_tp *lt = &w->tps[r];

		lt->w = w;
		lt->tp.ops = &loop_ops;
		lt->tp.rank = r;
		lt->tp.nranks = nranks;
		lt->tp.timeout_ms = 10000;
		snprintf(lt->tp.desc, sizeof(lt->tp.desc), "loop rank %d", r);
		tps[r] = &lt->tp;
	}
	return 0;
}

void rb_loop_world_destroy(struct rb_tp **tps, int nranks)
{
	if (!tps)
		return;
	for (int r = 0; r < nranks; r++) {
		rb_tp_close(tps[r]);
		tps[r] = NULL;
	}
}

/* Row of tp's rank in a per-pair counter table. */
static const uint64_t *loop_row(struct rb_tp *tp, const uint64_t *table)
{
	return table + (size_t)tp->rank * (size_t)tp->nranks;
}

static uint64_t loop_row_sum(struct rb_tp *tp, const uint64_t *table)
{
	const uint64_t *row = loop_row(tp, table);
	uint64_t sum = 0;

	for (int p = 0; p < tp->nranks; p++)
		sum += row[p];
	return sum;
}

static struct loop_world *loop_world_of(struct rb_tp *tp)
{
	return rb_container_of(tp, struct loop_tp, tp)->w;
}

uint64_t rb_loop_bytes_sent(struct rb_tp *tp)
{
	return loop_row_sum(tp, loop_world_of(tp)->bytes);
}

uint64_t rb_loop_msgs_sent(struct rb_tp *tp)
{
	return loop_row_sum(tp, loop_world_of(tp)->msgs);
}

uint64_t rb_loop_bytes_to(struct rb_tp *tp, int peer)
{
	if (peer < 0 || peer >= tp->nranks)
		return 0;
	return loop_row(tp, loop_world_of(tp)->bytes)[peer];
}

uint64_t rb_loop_msgs_to(struct rb_tp *tp, int peer)
{
	if (peer < 0 || peer >= tp->nranks)
		return 0;
	return loop_row(tp, loop_world_of(tp)->msgs)[peer];
}

static void loop_stuck(const int *done, int nranks, char *why, size_t len)
{
	size_t used = 0;
	int n = snprintf(why, len, "deadlock: no message completed in a full round; waiting ranks:");

	used = n > 0 ? (size_t)n : 0;
	for (int r = 0; r < nranks && used < len; r++) {
		if (done[r])
			continue;
		n = snprintf(why + used, len - used, " %d", r);
		used += n > 0 ? (size_t)n : 0;
	}
}

int rb_loop_exec_over(struct rb_tp **tps, struct rb_exec **ex, int nranks,
		      struct rb_tp *const *worlds, int nworlds, char *why,
		      size_t why_len)
{
	int *done = calloc((size_t)nranks, sizeof(*done));
	int rc = 0;

	if (!done)
		return -RB_ENOMEM;
	for (int r = 0; r < nranks && !rc; r++)
		rc = rb_exec_start(ex[r]);
	while (!rc) {
		int left = 0;
		uint64_t before = 0;
		uint64_t after = 0;

		for (int i = 0; i < nworlds; i++)
			before += loop_world_of(worlds[i])->matched;
		for (int r = 0; r < nranks && !rc; r++) {
			if (done[r])
				continue;
			rc = rb_exec_advance(ex[r]);
			if (rc == -RB_EAGAIN) {
				rc = 0;
				left++;
			} else if (!rc) {
				done[r] = 1;
			}
		}
		if (rc || !left)
			break;
		/* Requests complete only in posts and progress, so a round
		 * that matches nothing leaves every executor where it was. */
		for (int r = 0; r < nranks && !rc; r++)
			rc = rb_tp_progress(tps[r], 0);
		for (int i = 0; i < nworlds; i++)
			after += loop_world_of(worlds[i])->matched;
		if (!rc && after == before) {
			if (why && why_len)
				loop_stuck(done, nranks, why, why_len);
			rc = -RB_ETIMEDOUT;
		}
	}
	free(done);
	return rc;
}

int rb_loop_exec_all(struct rb_tp **tps, struct rb_exec **ex, int nranks,
		     char *why, size_t why_len)
{
	return rb_loop_exec_over(tps, ex, nranks, tps, 1, why, why_len);
}
