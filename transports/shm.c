/* SPDX-License-Identifier: BSD-3-Clause */
/* shm transport, data path: per-pair FIFOs in shared memory carry message
 * fragments in post order; large messages may instead be read in place
 * with process_vm_readv (CMA). Idle waits spin, yield, then sleep on a
 * futex doorbell that peers ring (docs/shm.md). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "transports/shm.h"

static void shm_rq_push(struct shm_rq *q, struct rb_tp_req *r)
{
	REQ_NEXT(r) = NULL;
	if (q->tail)
		REQ_NEXT(q->tail) = r;
	else
		q->head = r;
	q->tail = r;
}

static struct rb_tp_req *shm_rq_pop(struct shm_rq *q)
{
	struct rb_tp_req *r = q->head;

	if (r) {
		q->head = REQ_NEXT(r);
		if (!q->head)
			q->tail = NULL;
	}
	return r;
}

static void shm_req_complete(struct shm_tp *st, struct rb_tp_req *r, int status)
{
	r->status = status;
	r->done = 1;
	st->npending--;
}

static int shm_mem_reg(struct rb_tp *tp, void *buf, size_t len,
		       enum rb_mem_kind kind, struct rb_tp_mr **mr_p)
{
	(void)tp;
	if (kind != RB_MEM_HOST) {
		rb_err("shm: only host memory can be registered (memory kind %d)",
		       (int)kind);
		return -RB_ENOTSUP;
	}
	return rb_tp_mr_plain_new(buf, len, kind, mr_p);
}

/* ---- data path --------------------------------------------------------- */

/* Wakes peer p if it sleeps on its doorbell. Called after every publish
 * into p's view (FIFO head, freed slot, CMA ack); the fence orders that
 * store before the load of p's sleeping flag (docs/shm.md#waiting). */
static void shm_ring(struct shm_tp *st, struct shm_peer *p)
{
	if (p->seg == st->seg)
		return;
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load_explicit(&p->seg->sleeping, memory_order_relaxed))
		return;
	atomic_fetch_add(&p->seg->bell, 1);
	syscall(SYS_futex, (void *)&p->seg->bell, FUTEX_WAKE, 1, NULL, NULL,
		0);
}

/* Pushes one slot of the head send of p. \return 1 if a slot was written,
 * 0 if the FIFO is full. */
static int shm_push_one(struct shm_tp *st, struct shm_peer *p,
			struct rb_tp_req *r)
{
	struct shm_slot_hdr *h;
	size_t n;

	if (p->tx_head - p->tx_tail >= SHM_NSLOTS) {
		p->tx_tail = atomic_load_explicit(&p->tx->tail,
						  memory_order_acquire);
		if (p->tx_head - p->tx_tail >= SHM_NSLOTS)
			return 0;
	}
	h = (struct shm_slot_hdr *)(p->tx_slots +
		(p->tx_head % SHM_NSLOTS) * st->slot_stride);
	h->msg_len = r->len;
	if (REQ_USE_CMA(r)) {
		h->kind = SHM_FRAG_CMA;
		h->frag_len = 0;
		h->addr = (uint64_t)(uintptr_t)REQ_BUF(r);
		REQ_CMA_SEQ(r) = ++p->cma_sent;
		REQ_DONE_BYTES(r) = r->len;
	} else {
		n = RB_MIN(p->seg->slot_bytes, r->len - REQ_DONE_BYTES(r));
		h->kind = SHM_FRAG_DATA;
		h->frag_len = n;
		memcpy(h + 1, REQ_BUF(r) + REQ_DONE_BYTES(r), n);
		REQ_DONE_BYTES(r) += n;
	}
	atomic_store_explicit(&h->seq, p->tx_head + 1, memory_order_release);
	p->tx_head++;
	shm_ring(st, p);
	return 1;
}

/* Pushes queued sends to p while the FIFO has room. \return slots pushed. */
static int shm_push(struct shm_tp *st, struct shm_peer *p)
{
	struct rb_tp_req *r;
	int moved = 0;

	while ((r = p->sendq.head)) {
		if (!shm_push_one(st, p, r))
			break;
		moved++;
		if (REQ_DONE_BYTES(r) < r->len)
			continue;
		shm_rq_pop(&p->sendq);
		if (REQ_USE_CMA(r))
			shm_rq_push(&p->ackq, r);
		else
			shm_req_complete(st, r, 0);
	}
	/* CMA sends complete when the receiver has read them, in order. */
	if (p->ackq.head) {
		uint64_t acks = atomic_load_explicit(&p->tx->acks,
						     memory_order_acquire);

		while ((r = p->ackq.head) && REQ_CMA_SEQ(r) <= acks) {
			shm_rq_pop(&p->ackq);
			shm_req_complete(st, r, 0);
			moved++;
		}
	}
	return moved;
}

static void shm_peer_fail(struct shm_tp *st, struct shm_peer *p, int status)
{
	struct shm_rq *qs[] = { &p->sendq, &p->ackq, &p->recvq };
	struct rb_tp_req *r;

	p->gone = 1;
	for (size_t i = 0; i < RB_ARRAY_SIZE(qs); i++) {
		while ((r = shm_rq_pop(qs[i])))
			shm_req_complete(st, r, status);
	}
}

/* Lands n bytes at done of receive r from src: copied, or combined with
 * the receive-reduce's local term. */
static void shm_land(struct rb_tp_req *r, size_t done, const void *src,
		     size_t n)
{
	if (!REQ_RED(r)) {
		memcpy(REQ_BUF(r) + done, src, n);
		return;
	}
	rb_reduce_to(REQ_BUF(r) + done, REQ_SEED(r) + done, src,
		     n / rb_dtype_size(REQ_RED_DTYPE(r)), REQ_RED_DTYPE(r),
		     REQ_RED_OP(r));
}

/* process_vm_readv of exactly n bytes (short reads retried). \return n,
 * or what the last call returned. */
static ssize_t shm_readv_all(pid_t pid, char *dst, uintptr_t raddr, size_t n)
{
	size_t got = 0;

	while (got < n) {
		struct iovec local = { .iov_base = dst + got, .iov_len = n - got };
		struct iovec remote = {
			.iov_base = (void *)(raddr + got),
			.iov_len = n - got,
		};
		ssize_t k = process_vm_readv(pid, &local, 1, &remote, 1, 0);

		if (k <= 0)
			return k;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

/* Reads the next chunk of a CMA receive: into place, or for a
 * receive-reduce into a bounce buffer it is then combined from.
 * \return 1 if bytes moved, or -RB_EPEER / -RB_ESYS / -RB_ENOMEM (logged). */
static int shm_cma_read(struct shm_tp *st, int src, struct rb_tp_req *r)
{
	struct shm_peer *p = &st->peers[src];
	size_t done = REQ_DONE_BYTES(r);
	size_t n = RB_MIN((size_t)SHM_CMA_CHUNK, r->len - done);
	uintptr_t raddr = (uintptr_t)(REQ_RADDR(r) + done);
	ssize_t got;

	if (REQ_RED(r) && !st->bounce) {
		st->bounce = malloc(SHM_CMA_CHUNK);
		if (!st->bounce) {
			rb_err("shm: %u bytes for receive-reduce reads: out of memory",
			       SHM_CMA_CHUNK);
			return -RB_ENOMEM;
		}
	}
	if (src == st->tp.rank) {
		shm_land(r, done, (const void *)raddr, n);
		got = (ssize_t)n;
	} else if (REQ_RED(r)) {
		got = shm_readv_all(p->pid, st->bounce, raddr, n);
		if (got == (ssize_t)n)
			shm_land(r, done, st->bounce, n);
	} else {
		struct iovec local = { .iov_base = REQ_BUF(r) + done, .iov_len = n };
		struct iovec remote = { .iov_base = (void *)raddr, .iov_len = n };

		got = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
	}
	if (got < 0 && errno == ESRCH) {
		rb_log_culprit(src);
		rb_err("shm: peer rank %d (host %s, pid %d) is gone", src,
		       p->host, (int)p->pid);
		return -RB_EPEER;
	}
	if (got <= 0) {
		int e = got < 0 ? errno : EIO;

		rb_err("shm: process_vm_readv of %zu bytes from rank %d (host %s, pid %d): %s",
		       n, src, p->host, (int)p->pid, strerror(e));
		return -RB_ESYS;
	}
	REQ_DONE_BYTES(r) += (size_t)got;
	return 1;
}

/* Consumes the slot at the FIFO tail into the head receive r.
 * \return 1, or -RB_EINVAL if the message lengths disagree (logged). */
static int shm_take_slot(struct shm_tp *st, int src, struct rb_tp_req *r)
{
	struct shm_peer *p = &st->peers[src];
	const struct shm_slot_hdr *h = (const struct shm_slot_hdr *)
		(p->rx_slots + (p->rx_tail % SHM_NSLOTS) * st->slot_stride);

	if (h->msg_len != r->len ||
	    (h->kind == SHM_FRAG_DATA &&
	     h->frag_len > r->len - REQ_DONE_BYTES(r))) {
		rb_err("shm: rank %d (host %s) sent a %" PRIu64 "-byte message where a %zu-byte receive was posted",
		       src, p->host, h->msg_len, r->len);
		return -RB_EINVAL;
	}
	if (h->kind == SHM_FRAG_CMA) {
		REQ_STATE(r) = SHM_RECV_CMA;
		REQ_RADDR(r) = h->addr;
	} else {
		REQ_STATE(r) = SHM_RECV_DATA;
		/* Straight out of the slot: a receive-reduce combines here,
		 * with no staging copy. */
		shm_land(r, REQ_DONE_BYTES(r), h + 1, h->frag_len);
		REQ_DONE_BYTES(r) += h->frag_len;
	}
	p->rx_tail++;
	atomic_store_explicit(&p->rx->tail, p->rx_tail, memory_order_release);
	shm_ring(st, p);
	return 1;
}

/* \return 1 if the FIFO from p holds an unconsumed slot. */
static int shm_rx_ready(const struct shm_tp *st, struct shm_peer *p)
{
	struct shm_slot_hdr *h = (struct shm_slot_hdr *)
		(p->rx_slots + (p->rx_tail % SHM_NSLOTS) * st->slot_stride);

	return atomic_load_explicit(&h->seq, memory_order_acquire) ==
	       p->rx_tail + 1;
}

/* Moves data from src into posted receives, in order. At most one CMA
 * chunk per call so other peers get their turn. \return units moved or a
 * negative error. */
static int shm_drain(struct shm_tp *st, int src)
{
	struct shm_peer *p = &st->peers[src];
	struct rb_tp_req *r;
	int chunk_done = 0;
	int moved = 0;
	int rc;

	while ((r = p->recvq.head)) {
		if (REQ_STATE(r) == SHM_RECV_CMA) {
			if (chunk_done)
				break;
			rc = shm_cma_read(st, src, r);
			chunk_done = 1;
		} else if (shm_rx_ready(st, p)) {
			rc = shm_take_slot(st, src, r);
		} else {
			break;
		}
		if (rc < 0)
			return rc;
		moved++;
		if (REQ_DONE_BYTES(r) < r->len)
			continue;
		shm_rq_pop(&p->recvq);
		if (REQ_STATE(r) == SHM_RECV_CMA) {
			atomic_store_explicit(&p->rx->acks, ++p->cma_read,
					      memory_order_release);
			shm_ring(st, p);
		}
		shm_req_complete(st, r, 0);
	}
	return moved;
}

/* Checks every peer with pending work. \return 0 or -RB_EPEER (logged). */
static int shm_check_peers(struct shm_tp *st)
{
	int rc = 0;

	for (int r = 0; r < st->tp.nranks; r++) {
		struct shm_peer *p = &st->peers[r];

		if (p->gone || r == st->tp.rank ||
		    !(p->sendq.head || p->ackq.head || p->recvq.head))
			continue;
		if (!rb_shm_peer_dead(p))
			continue;
		rb_log_culprit(r);
		rb_err("shm: peer rank %d (host %s, pid %d) is gone", r,
		       p->host, (int)p->pid);
		shm_peer_fail(st, p, -RB_EPEER);
		rc = -RB_EPEER;
	}
	return rc;
}

/* One pass over all peers. \return units moved, or a negative error after
 * failing the requests of the peer concerned. */
static int shm_poll(struct shm_tp *st)
{
	int moved = 0;
	int rc;

	for (int r = 0; r < st->tp.nranks; r++) {
		struct shm_peer *p = &st->peers[r];

		if (p->gone)
			continue;
		if (p->sendq.head || p->ackq.head)
			moved += shm_push(st, p);
		if (!p->recvq.head)
			continue;
		rc = shm_drain(st, r);
		if (rc < 0) {
			shm_peer_fail(st, p, rc);
			return rc;
		}
		moved += rc;
	}
	return moved;
}

static void shm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();		/* arch-specific spin hint */
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Sleeps on our doorbell until a peer rings it or wait_ns passes. The
 * sleeping flag is raised before the last poll, and peers publish before
 * they read it, so a wake-up between the two is never lost.
 * \return what that last poll returned. */
static int shm_sleep(struct shm_tp *st, int64_t wait_ns)
{
	struct timespec ts = {
		.tv_sec = wait_ns / 1000000000,
		.tv_nsec = wait_ns % 1000000000,
	};
	uint32_t bell;
	int rc;

	atomic_store(&st->seg->sleeping, 1);
	atomic_thread_fence(memory_order_seq_cst);
	bell = atomic_load(&st->seg->bell);
	rc = shm_poll(st);
	if (rc == 0)
		syscall(SYS_futex, (void *)&st->seg->bell, FUTEX_WAIT, bell,
			&ts, NULL, 0);
	atomic_store_explicit(&st->seg->sleeping, 0, memory_order_relaxed);
	return rc;
}

/* Waits after a pass that moved nothing: spin while the wait is young and
 * a core is ours, then yield, then sleep on the doorbell (docs/shm.md).
 * \return > 0 if a poll made while waiting moved something, or < 0. */
static int shm_idle(struct shm_tp *st, int64_t idle_ns, int64_t left_ns)
{
	if (!st->oversubscribed && idle_ns < st->spin_ns) {
		/* One pause between polls: on recent x86 a pause takes ~140
		 * cycles, and 64 of them (3 us) doubled the 8-byte latency. */
		shm_cpu_relax();
		return 0;
	}
	if (idle_ns < SHM_YIELD_NS) {
		sched_yield();
		return 0;
	}
	return shm_sleep(st, RB_MAX(RB_MIN(left_ns, SHM_CHECK_NS), 1000));
}

/* Something moved after a wait: adapt the spin budget (docs/shm.md
 * "Waiting"). A wait that ended within a few budgets means the peer was
 * merely asleep or briefly busy, and a longer spin would have caught it:
 * grow. Only a wait far beyond the ceiling means a slow peer, where spinning
 * burns a CPU for nothing: shrink. In between, keep. Shrinking on every
 * wait longer than the budget instead locks two ranks into sleeping on
 * every message once one of them has slept (a sleep-wake round costs more
 * than the floor). */
static void shm_wait_ended(struct shm_tp *st)
{
	int64_t idle_ns;
	struct rusage ru;

	if (!st->idle_since_ns)
		return;
	idle_ns = (int64_t)(rb_time_ns() - st->idle_since_ns);
	st->idle_since_ns = 0;
	if (idle_ns <= st->spin_ns) {
		st->spin_ns = RB_MIN(2 * st->spin_ns, SHM_SPIN_MAX_NS);
		return;
	}
	/* Outlasted the spin. Preempted since the last such wait: more
	 * runnable threads than CPUs, where spinning only takes the CPU from
	 * whoever we wait for. */
	if (!getrusage(RUSAGE_THREAD, &ru) && ru.ru_nivcsw != st->nivcsw) {
		st->nivcsw = ru.ru_nivcsw;
		st->spin_ns = RB_MAX(st->spin_ns / 2, SHM_SPIN_MIN_NS);
	} else if (idle_ns <= SHM_SPIN_GROW_WAITS * st->spin_ns) {
		st->spin_ns = RB_MIN(2 * st->spin_ns, SHM_SPIN_MAX_NS);
	} else if (idle_ns > SHM_SPIN_SLOW_NS) {
		st->spin_ns = RB_MAX(st->spin_ns / 2, SHM_SPIN_MIN_NS);
	}
}

static int shm_progress(struct rb_tp *tp, int64_t timeout_ns)
{
	struct shm_tp *st = shm_of(tp);
	uint64_t start = rb_time_ns();
	uint64_t now;
	int rc;

	for (;;) {
		rc = shm_poll(st);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			shm_wait_ended(st);
			return 0;
		}
		if (!st->npending) {
			st->idle_since_ns = 0;
			return 0;
		}
		now = rb_time_ns();
		if (!st->idle_since_ns)
			st->idle_since_ns = now;
		if (now - st->idle_since_ns >= SHM_CHECK_NS &&
		    now - st->last_check_ns >= SHM_CHECK_NS) {
			st->last_check_ns = now;
			rc = shm_check_peers(st);
			if (rc)
				return rc;
		}
		if ((int64_t)(now - start) >= timeout_ns)
			return 0;
		rc = shm_idle(st, (int64_t)(now - st->idle_since_ns),
			      timeout_ns - (int64_t)(now - start));
		if (rc < 0)
			return rc;
		if (rc > 0) {
			shm_wait_ended(st);
			return 0;
		}
	}
}

/* Common checks of isend/irecv. \return 0 or -RB_EINVAL / -RB_EPEER. */
static int shm_req_init(struct shm_tp *st, int peer, struct rb_tp_mr *mr,
			size_t off, size_t len, struct rb_tp_req *req)
{
	if (peer < 0 || peer >= st->tp.nranks || !mr || off > mr->len ||
	    len > mr->len - off) {
		rb_err("shm: bad request: peer %d, offset %zu, length %zu, region %zu bytes",
		       peer, off, len, mr ? mr->len : 0);
		return -RB_EINVAL;
	}
	if (!st->peers[peer].served) {
		rb_err("shm: rank %d (host %s) is not a peer of this link (another node, or not in its peer set)",
		       peer, st->peers[peer].host);
		return -RB_EINVAL;
	}
	if (st->peers[peer].gone) {
		rb_log_culprit(peer);
		rb_err("shm: rank %d (host %s) is gone; request refused", peer,
		       st->peers[peer].host);
		return -RB_EPEER;
	}
	*req = (struct rb_tp_req){ .peer = peer, .len = len };
	req->priv[1] = (char *)mr->buf + off;
	st->npending++;
	st->idle_since_ns = 0;	/* the caller is not waiting any more */
	return 0;
}

static int shm_isend(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		     size_t off, size_t len, struct rb_tp_req *req)
{
	struct shm_tp *st = shm_of(tp);
	struct shm_peer *p = &st->peers[peer];
	int rc = shm_req_init(st, peer, mr, off, len, req);

	if (rc)
		return rc;
	REQ_USE_CMA(req) = len >= SHM_CMA_MIN &&
		atomic_load_explicit(&p->tx->cma, memory_order_acquire) ==
		SHM_CMA_OK;
	shm_rq_push(&p->sendq, req);
	if (p->sendq.head == req)
		shm_push(st, p);
	return 0;
}

/* A receive; red is 0, or the receive-reduce descriptor (REQ_RED). */
static int shm_post_recv(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
			 size_t off, size_t len, struct rb_tp_req *req,
			 uint64_t red)
{
	struct shm_tp *st = shm_of(tp);
	struct shm_peer *p;
	void *seed = req->priv[2];
	int rc = shm_req_init(st, peer, mr, off, len, req);

	if (rc)
		return rc;
	p = &st->peers[peer];
	REQ_RED(req) = red;
	req->priv[2] = red ? seed : NULL;
	shm_rq_push(&p->recvq, req);
	if (p->recvq.head != req)
		return 0;
	rc = shm_drain(st, peer);
	if (rc < 0) {
		shm_peer_fail(st, p, rc);
		return rc;
	}
	return 0;
}

static int shm_irecv(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		     size_t off, size_t len, struct rb_tp_req *req)
{
	return shm_post_recv(tp, peer, mr, off, len, req, 0);
}

static size_t st_slot_bytes(const struct shm_tp *st)
{
	return st->seg->slot_bytes;
}

static int shm_irecv_reduce(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
			    size_t off, size_t len, const void *seed,
			    enum rb_dtype dtype, enum rb_redop op,
			    struct rb_tp_req *req)
{
	size_t esz = rb_dtype_size(dtype);

	/* Fragments and CMA chunks hold whole elements. */
	if (!esz || len % esz || st_slot_bytes(shm_of(tp)) % esz)
		return -RB_ENOTSUP;
	req->priv[2] = (void *)seed;
	return shm_post_recv(tp, peer, mr, off, len, req,
			     1u | ((uint64_t)dtype << 8) | ((uint64_t)op << 16));
}

static void shm_peer_desc(struct rb_tp *tp, int peer, char *buf, size_t len)
{
	struct shm_tp *st = shm_of(tp);

	if (peer < 0 || peer >= tp->nranks)
		snprintf(buf, len, "shm");
	else
		snprintf(buf, len, "shm pid %d", (int)st->peers[peer].pid);
}

const struct rb_tp_ops rb_shm_ops = {
	.name = "shm",
	.summary = "POSIX shared memory FIFOs between the ranks of a node",
	.caps = 0,
	.probe = rb_shm_probe,
	.reach = rb_shm_reach,
	.open = rb_shm_open,
	.get_addr = rb_shm_get_addr,
	.connect = rb_shm_connect,
	.post_connect = rb_shm_post_connect,
	.mem_reg = shm_mem_reg,
	.mem_dereg = rb_tp_mr_plain_dereg,
	.isend = shm_isend,
	.irecv = shm_irecv,
	.irecv_reduce = shm_irecv_reduce,
	.progress = shm_progress,
	.peer_desc = shm_peer_desc,
	.close = rb_shm_close,
};
