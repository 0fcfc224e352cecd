/* SPDX-License-Identifier: BSD-3-Clause */
/* The verbs transports "ib" and "roce": RC queue pairs per peer, data moved
 * zero-copy by RDMA write-with-immediate straight into the buffer the
 * receiver advertised (clear-to-send), completions polled in progress().
 * Protocol and failure handling: docs/verbs.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "transports/ibv.h"

#define IBV_MAX_QPS 16
#define IBV_CHECK_NS 10000000ull	/* deadline scan period: 10 ms */
#define IBV_SPIN_NS 100000ull	/* busy-poll budget before sleeping */

static struct ibv_tp *ibv_of(struct rb_tp *tp)
{
	return rb_container_of(tp, struct ibv_tp, pub);
}

static uint64_t ibv_wr_id(int p, int qi, uint32_t slot, unsigned kind)
{
	return ((uint64_t)p << 40) | ((uint64_t)qi << 24) |
	       ((uint64_t)slot << 2) | kind;
}

static void ibv_req_finish(struct rb_tp_req *req, int status)
{
	req->status = status;
	req->done = 1;
}

/* Appends req to the FIFO head/tail (linked through priv[0]). */
static void ibv_q_push(struct rb_tp_req **head, struct rb_tp_req **tail,
		       struct rb_tp_req *req)
{
	req->priv[0] = NULL;
	if (*tail)
		(*tail)->priv[0] = req;
	else
		*head = req;
	*tail = req;
}

static struct rb_tp_req *ibv_q_pop(struct rb_tp_req **head,
				   struct rb_tp_req **tail)
{
	struct rb_tp_req *req = *head;

	if (req) {
		*head = req->priv[0];
		if (!*head)
			*tail = NULL;
	}
	return req;
}

/* Pieces of one message: striped over the QPs when each stripe gets at
 * least IBV_STRIPE_MIN, and never larger than the port's max_msg_sz. Piece
 * i goes to QP i % nqps. */
static int ibv_nchunks(const struct ibv_tp *t, size_t len)
{
	size_t n = len / IBV_STRIPE_MIN;
	size_t need = (len + t->max_msg - 1) / t->max_msg;

	if (n > (size_t)t->nqps)
		n = (size_t)t->nqps;
	if (n < need)
		n = need;
	return n ? (int)n : 1;
}

/* Pieces of a message of nch pieces that go to QP q. */
static int ibv_chunks_on(const struct ibv_tp *t, int nch, int q)
{
	return nch / t->nqps + (q < nch % t->nqps);
}

/* Marks peer p failed: logs once, naming the peer, moves its QPs to the
 * error state and fails every request that involves it. */
static void ibv_fail_peer(struct ibv_tp *t, int p, const char *why)
{
	struct ibv_peer *pe = &t->peers[p];
	struct ibv_qp_attr err = { .qp_state = IBV_QPS_ERR };
	struct rb_tp_req *req;
	char pd[256];

	if (pe->failed)
		return;
	pe->failed = 1;
	ibv_conn_peer_desc(t, p, pd, sizeof(pd));
	rb_err("%s: lost %s via %s:%d: %s; failing %d request(s)",
	       t->pub.ops->name, pd, t->sel.dev, t->sel.port, why,
	       pe->pending);
	for (int q = 0; q < t->nqp_all; q++)
		ibv_modify_qp(pe->qp[q], &err, IBV_QP_STATE);
	while ((req = ibv_q_pop(&pe->rq_head, &pe->rq_tail)))
		ibv_req_finish(req, -RB_EPEER);
	while ((req = ibv_q_pop(&pe->sq_head, &pe->sq_tail)))
		ibv_req_finish(req, -RB_EPEER);
	for (int i = 0; i < IBV_WINDOW; i++) {
		if (pe->rslot[i])
			ibv_req_finish(pe->rslot[i], -RB_EPEER);
		if (pe->sslot[i])
			ibv_req_finish(pe->sslot[i], -RB_EPEER);
		pe->rslot[i] = NULL;
		pe->sslot[i] = NULL;
	}
	pe->pending = 0;
}

/* Advertises queued receives while the window has room. */
static int ibv_issue_cts(struct ibv_tp *t, int p)
{
	struct ibv_peer *pe = &t->peers[p];
	struct ibv_send_wr *bad;
	struct rb_tp_req *req;
	int e;

	int cq = t->nqps;	/* the control QP */

	while ((req = pe->rq_head) && !pe->rslot[pe->cts_seq % IBV_WINDOW] &&
	       pe->sq_used[cq] < IBV_NSEND) {
		uint32_t seq = pe->cts_seq;
		struct ibv_mr_h *m = req->priv[1];
		struct ibv_cts *c = ibv_conn_slot(t, p, -1, seq % IBV_WINDOW);
		struct ibv_sge sge = {
			.addr = (uintptr_t)c,
			.length = sizeof(*c),
			.lkey = t->ctrl_mr->lkey,
		};
		struct ibv_send_wr wr = {
			.wr_id = ibv_wr_id(p, cq, seq % IBV_WINDOW, IBV_WR_CTS),
			.sg_list = &sge,
			.num_sge = 1,
			.opcode = IBV_WR_SEND,
			.send_flags = IBV_SEND_SIGNALED |
				(t->max_inline >= sizeof(*c) ? IBV_SEND_INLINE : 0),
		};

		c->seq = seq;
		c->rkey = m->mr->rkey;
		c->addr = (uintptr_t)m->pub.buf + req->upriv[0];
		c->len = req->len;
		e = ibv_post_send(pe->qp[cq], &wr, &bad);
		if (e) {
			ibv_fail_peer(t, p, strerror(e));
			return -RB_EPEER;
		}
		pe->sq_used[cq]++;
		ibv_q_pop(&pe->rq_head, &pe->rq_tail);
		req->upriv[2] = seq;
		pe->rslot[seq % IBV_WINDOW] = req;
		pe->cts_seq++;
	}
	return 0;
}

/* Writes message req (sequence seq) into the buffer that c advertised. */
static int ibv_post_data(struct ibv_tp *t, int p, struct rb_tp_req *req,
			 const struct ibv_cts *c, int nch)
{
	struct ibv_peer *pe = &t->peers[p];
	struct ibv_mr_h *m = req->priv[1];
	struct ibv_send_wr *bad;
	int e;

	for (int i = 0; i < nch; i++) {
		size_t lo = req->len * (size_t)i / (size_t)nch;
		size_t hi = req->len * (size_t)(i + 1) / (size_t)nch;
		struct ibv_sge sge = {
			.addr = (uintptr_t)m->pub.buf + req->upriv[0] + lo,
			.length = (uint32_t)(hi - lo),
			.lkey = m->mr->lkey,
		};
		int q = i % t->nqps;
		/* Only the last piece on each QP carries the immediate: RC
		 * places a QP's writes in order, so its arrival means the
		 * earlier ones landed, and a message consumes at most one
		 * receive WQE per QP. */
		int last = i + t->nqps >= nch;
		struct ibv_send_wr wr = {
			.wr_id = ibv_wr_id(p, q, c->seq % IBV_WINDOW,
					   IBV_WR_DATA),
			.sg_list = &sge,
			.num_sge = hi > lo ? 1 : 0,
			.opcode = last ? IBV_WR_RDMA_WRITE_WITH_IMM :
					 IBV_WR_RDMA_WRITE,
			.send_flags = IBV_SEND_SIGNALED |
				(hi - lo <= t->max_inline ? IBV_SEND_INLINE : 0),
			.imm_data = htonl(c->seq),
			.wr.rdma = { .remote_addr = c->addr + lo,
				     .rkey = c->rkey },
		};

		e = ibv_post_send(pe->qp[q], &wr, &bad);
		if (e) {
			ibv_fail_peer(t, p, strerror(e));
			return -RB_EPEER;
		}
		pe->sq_used[q]++;
	}
	return 0;
}

/* Puts queued sends on the wire once their clear-to-send has arrived. */
static int ibv_issue_sends(struct ibv_tp *t, int p)
{
	struct ibv_peer *pe = &t->peers[p];
	struct rb_tp_req *req;
	char why[160];

	while ((req = pe->sq_head)) {
		uint32_t seq = pe->issue_seq;
		uint32_t slot = seq % IBV_WINDOW;
		struct ibv_cts *c = &pe->cts[slot];
		int nch = ibv_nchunks(t, req->len);

		if (!pe->cts_valid[slot] || c->seq != seq || pe->sslot[slot])
			return 0;
		for (int q = 0; q < t->nqps; q++)
			if (pe->sq_used[q] + ibv_chunks_on(t, nch, q) > IBV_NSEND)
				return 0;
		if (c->len != req->len) {
			snprintf(why, sizeof(why),
				 "message %u: peer receives %llu bytes, this rank sends %zu",
				 seq, (unsigned long long)c->len, req->len);
			ibv_fail_peer(t, p, why);
			return -RB_EPEER;
		}
		if (ibv_post_data(t, p, req, c, nch))
			return -RB_EPEER;
		ibv_q_pop(&pe->sq_head, &pe->sq_tail);
		req->upriv[1] = (uint64_t)nch;
		req->upriv[2] = seq;
		pe->sslot[slot] = req;
		pe->cts_valid[slot] = 0;
		pe->issue_seq++;
	}
	return 0;
}

/* Matches sends to self with receives from self (plain copies). */
static void ibv_match_self(struct ibv_tp *t)
{
	while (t->self_sq_head && t->self_rq_head) {
		struct rb_tp_req *s = ibv_q_pop(&t->self_sq_head,
						&t->self_sq_tail);
		struct rb_tp_req *r = ibv_q_pop(&t->self_rq_head,
						&t->self_rq_tail);
		struct ibv_mr_h *sm = s->priv[1];
		struct ibv_mr_h *rm = r->priv[1];
		int rc = 0;

		if (s->len != r->len) {
			rb_err("%s: rank %d sends %zu bytes to itself but receives %zu",
			       t->pub.ops->name, t->pub.rank, s->len, r->len);
			rc = -RB_EINVAL;
		} else {
			memcpy((char *)rm->pub.buf + r->upriv[0],
			       (char *)sm->pub.buf + s->upriv[0], s->len);
		}
		ibv_req_finish(s, rc);
		ibv_req_finish(r, rc);
	}
}

/* Common checks and bookkeeping of isend/irecv. */
static int ibv_post_check(struct ibv_tp *t, int peer, struct rb_tp_mr *mr,
			  size_t off, size_t len, struct rb_tp_req *req)
{
	if (peer < 0 || peer >= t->pub.nranks || !mr || off > mr->len ||
	    len > mr->len - off ||
	    (peer != t->pub.rank && !ibv_serves(t, peer))) {
		rb_err("%s: bad request: peer %d, offset %zu, length %zu, buffer %zu%s",
		       t->pub.ops->name, peer, off, len, mr ? mr->len : 0,
		       peer >= 0 && peer < t->pub.nranks && peer != t->pub.rank &&
				       !ibv_serves(t, peer) ?
			       " (not a peer of this link)" : "");
		return -RB_EINVAL;
	}
	if (peer != t->pub.rank &&
	    ibv_chunks_on(t, ibv_nchunks(t, len), 0) > IBV_NSEND / 2) {
		rb_err("%s: message of %zu bytes needs more than %d writes of at most %llu bytes per QP; use more --qps",
		       t->pub.ops->name, len, IBV_NSEND / 2,
		       (unsigned long long)t->max_msg);
		return -RB_EINVAL;
	}
	if (peer != t->pub.rank && t->peers[peer].failed)
		return -RB_EPEER;
	req->done = 0;
	req->status = 0;
	req->peer = peer;
	req->len = len;
	req->priv[0] = NULL;
	req->priv[1] = rb_container_of(mr, struct ibv_mr_h, pub);
	req->upriv[0] = off;
	req->upriv[1] = 0;
	return 0;
}

static void ibv_peer_busy(struct ibv_peer *pe)
{
	if (!pe->pending++)
		pe->last_ns = rb_time_ns();
}

static int ibv_isend(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		     size_t off, size_t len, struct rb_tp_req *req)
{
	struct ibv_tp *t = ibv_of(tp);
	int rc = ibv_post_check(t, peer, mr, off, len, req);

	if (rc)
		return rc;
	if (peer == tp->rank) {
		ibv_q_push(&t->self_sq_head, &t->self_sq_tail, req);
		ibv_match_self(t);
		return 0;
	}
	t->peers[peer].send_seq++;
	ibv_peer_busy(&t->peers[peer]);
	ibv_q_push(&t->peers[peer].sq_head, &t->peers[peer].sq_tail, req);
	return ibv_issue_sends(t, peer);
}

static int ibv_irecv(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		     size_t off, size_t len, struct rb_tp_req *req)
{
	struct ibv_tp *t = ibv_of(tp);
	int rc = ibv_post_check(t, peer, mr, off, len, req);

	if (rc)
		return rc;
	if (peer == tp->rank) {
		ibv_q_push(&t->self_rq_head, &t->self_rq_tail, req);
		ibv_match_self(t);
		return 0;
	}
	/* one immediate per QP the message uses */
	req->upriv[1] = (uint64_t)RB_MIN(ibv_nchunks(t, len), t->nqps);
	t->peers[peer].recv_seq++;
	ibv_peer_busy(&t->peers[peer]);
	ibv_q_push(&t->peers[peer].rq_head, &t->peers[peer].rq_tail, req);
	return ibv_issue_cts(t, peer);
}

/* One chunk of request *slot_p done; completes it after the last. */
static void ibv_chunk_done(struct ibv_peer *pe, struct rb_tp_req **slot_p)
{
	struct rb_tp_req *req = *slot_p;

	if (!req || --req->upriv[1])
		return;
	*slot_p = NULL;
	pe->pending--;
	ibv_req_finish(req, 0);
}

/* A receive completed: a clear-to-send or the data of a message. */
static int ibv_on_recv(struct ibv_tp *t, int p, int qi, uint32_t slot,
		       const struct ibv_wc *wc)
{
	struct ibv_peer *pe = &t->peers[p];

	if (wc->opcode == IBV_WC_RECV_RDMA_WITH_IMM) {
		uint32_t seq = ntohl(wc->imm_data);
		struct rb_tp_req **rs = &pe->rslot[seq % IBV_WINDOW];

		if (*rs && (*rs)->upriv[2] == seq)
			ibv_chunk_done(pe, rs);
	} else {
		const struct ibv_cts *c = ibv_conn_slot(t, p, qi, (int)slot);

		pe->cts[c->seq % IBV_WINDOW] = *c;
		pe->cts_valid[c->seq % IBV_WINDOW] = 1;
	}
	if (ibv_conn_post_recv(t, p, qi, (int)slot)) {
		ibv_fail_peer(t, p, "cannot repost a receive");
		return -RB_EPEER;
	}
	if (ibv_issue_cts(t, p))
		return -RB_EPEER;
	return ibv_issue_sends(t, p);
}

static int ibv_on_wc(struct ibv_tp *t, const struct ibv_wc *wc)
{
	int p = (int)(wc->wr_id >> 40);
	int qi = (int)((wc->wr_id >> 24) & 0xffff);
	uint32_t slot = (uint32_t)((wc->wr_id >> 2) & 0x3fffff);
	unsigned kind = wc->wr_id & 3u;
	struct ibv_peer *pe;
	char why[128];

	if (p >= t->pub.nranks || qi >= t->nqp_all) {
		rb_err("%s: completion with unknown work request id 0x%llx",
		       t->pub.ops->name, (unsigned long long)wc->wr_id);
		return -RB_EPEER;
	}
	pe = &t->peers[p];
	if (kind != IBV_WR_RECV && pe->sq_used[qi] > 0)
		pe->sq_used[qi]--;
	if (pe->failed)
		return 0;	/* flushed after the failure was reported */
	if (wc->status != IBV_WC_SUCCESS) {
		snprintf(why, sizeof(why), "%s completion '%s' on QP 0x%x",
			 kind == IBV_WR_RECV ? "receive" :
			 kind == IBV_WR_CTS ? "clear-to-send" : "RDMA write",
			 ibv_wc_status_str(wc->status), wc->qp_num);
		ibv_fail_peer(t, p, why);
		return -RB_EPEER;
	}
	pe->last_ns = rb_time_ns();
	if (kind == IBV_WR_RECV)
		return ibv_on_recv(t, p, qi, slot, wc);
	if (kind == IBV_WR_DATA)
		ibv_chunk_done(pe, &pe->sslot[slot]);
	return ibv_issue_cts(t, p) ? -RB_EPEER : ibv_issue_sends(t, p);
}

/* Fails peers that have owed a completion for longer than the timeout. */
static int ibv_check_deadlines(struct ibv_tp *t, uint64_t now)
{
	uint64_t limit = (uint64_t)t->pub.timeout_ms * 1000000ull;
	char why[128];
	int rc = 0;

	if (t->pub.timeout_ms <= 0)
		return 0;
	for (int p = 0; p < t->pub.nranks; p++) {
		struct ibv_peer *pe = &t->peers[p];

		if (p == t->pub.rank || pe->failed || !pe->pending ||
		    now - pe->last_ns <= limit)
			continue;
		snprintf(why, sizeof(why),
			 "no completion for %lld ms (--timeout)",
			 (long long)t->pub.timeout_ms);
		ibv_fail_peer(t, p, why);
		rc = -RB_EPEER;
	}
	return rc;
}

/* Gives the CPU away once polling has found nothing for IBV_SPIN_NS. With
 * more busy ranks than cores, and with soft RoCE (whose protocol work runs
 * in kernel softirq threads), a spinning poller otherwise delays the very
 * completion it waits for by a scheduler tick. A hardware completion
 * normally arrives within the spin budget. */
static void ibv_idle(uint64_t idle_ns)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000 };

	if (idle_ns > IBV_SPIN_NS)
		nanosleep(&ts, NULL);
}

static int ibv_progress(struct rb_tp *tp, int64_t timeout_ns)
{
	struct ibv_tp *t = ibv_of(tp);
	uint64_t start = rb_time_ns();
	uint64_t end = start + (uint64_t)(timeout_ns > 0 ? timeout_ns : 0);
	struct ibv_wc wc[32];

	for (;;) {
		int n = ibv_poll_cq(t->cq, (int)RB_ARRAY_SIZE(wc), wc);
		int rc = 0;

		if (n < 0) {
			rb_err("%s: ibv_poll_cq on %s failed", tp->ops->name,
			       t->sel.dev);
			return -RB_ESYS;
		}
		for (int i = 0; i < n; i++)
			if (ibv_on_wc(t, &wc[i]))
				rc = -RB_EPEER;
		if (n > 0 || rc)
			return rc;
		uint64_t now = rb_time_ns();

		if (now >= t->next_check_ns) {
			t->next_check_ns = now + IBV_CHECK_NS;
			if (ibv_check_deadlines(t, now))
				return -RB_EPEER;
		}
		if (now >= end)
			return 0;
		ibv_idle(now - start);
	}
}

static int ibv_mem_reg(struct rb_tp *tp, void *buf, size_t len,
		       enum rb_mem_kind kind, struct rb_tp_mr **mr_p)
{
	struct ibv_tp *t = ibv_of(tp);
	struct ibv_mr_h *m;

	if (kind != RB_MEM_HOST) {
		/* GPU memory needs peer-memory or dma-buf registration,
		 * which is not built yet. */
		rb_err("%s: memory kind %d cannot be registered on %s yet",
		       tp->ops->name, (int)kind, t->sel.dev);
		return -RB_ENOTSUP;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -RB_ENOMEM;
	m->mr = ibv_reg_mr(t->pd, buf, len ? len : 1,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	if (!m->mr) {
		rb_err("%s: ibv_reg_mr of %zu bytes on %s: %s (memlock limit? ulimit -l)",
		       tp->ops->name, len, t->sel.dev, strerror(errno));
		free(m);
		return -RB_ESYS;
	}
	m->pub.buf = buf;
	m->pub.len = len;
	m->pub.kind = kind;
	*mr_p = &m->pub;
	return 0;
}

static void ibv_mem_dereg(struct rb_tp *tp, struct rb_tp_mr *mr)
{
	struct ibv_mr_h *m;

	(void)tp;
	if (!mr)
		return;
	m = rb_container_of(mr, struct ibv_mr_h, pub);
	if (m->mr)
		ibv_dereg_mr(m->mr);
	free(m);
}

static void ibv_close(struct rb_tp *tp)
{
	struct ibv_tp *t;

	if (!tp)
		return;
	t = ibv_of(tp);
	ibv_conn_teardown(t);
	if (t->pd)
		ibv_dealloc_pd(t->pd);
	if (t->ctx)
		ibv_close_device(t->ctx);
	free(t);
}

struct ibv_cfg rb_ibv_cfg = { .gid_index = -1, .tclass = -1, .sl = -1, .qps = 1 };

enum ibv_opt_id { IBV_OPT_DEV, IBV_OPT_GID, IBV_OPT_TCLASS, IBV_OPT_SL, IBV_OPT_QPS };

static const struct rb_tp_opt ibv_options[] = {
	{ "ib-dev", IBV_OPT_DEV, 1, "DEV[:PORT]", "ib/roce: verbs device and port (default: the rail NIC, else the first active port)" },
	{ "gid-index", IBV_OPT_GID, 1, "N", "roce: GID index (default: the RoCE v2 IPv4 GID); ib: use a GRH with this GID" },
	{ "tclass", IBV_OPT_TCLASS, 1, "N", "roce: traffic class 0..255" },
	{ "sl", IBV_OPT_SL, 1, "N", "ib: service level 0..15" },
	{ "qps", IBV_OPT_QPS, 1, "N", "ib/roce: data queue pairs per peer, striped (default 1)" },
	{ 0 },
};

static int ibv_parse_opt(int id, const char *arg, char *why, size_t len)
{
	static const struct { int lo, hi; const char *name; } lim[] = {
		[IBV_OPT_GID] = { 0, 4096, "gid-index" },
		[IBV_OPT_TCLASS] = { 0, 255, "tclass" },
		[IBV_OPT_SL] = { 0, 15, "sl" },
		[IBV_OPT_QPS] = { 1, IBV_MAX_QPS, "qps" },
	};
	int *dst[] = {
		[IBV_OPT_GID] = &rb_ibv_cfg.gid_index,
		[IBV_OPT_TCLASS] = &rb_ibv_cfg.tclass,
		[IBV_OPT_SL] = &rb_ibv_cfg.sl,
		[IBV_OPT_QPS] = &rb_ibv_cfg.qps,
	};
	char *end;
	long v;

	if (id == IBV_OPT_DEV) {
		if (!*arg || *arg == ':') {
			snprintf(why, len, "--ib-dev '%s': expected DEV or DEV:PORT, e.g. mlx5_0:1", arg);
			return -RB_EINVAL;
		}
		rb_ibv_cfg.ib_dev = arg;
		return 0;
	}
	if (id < IBV_OPT_GID || id > IBV_OPT_QPS) {
		snprintf(why, len, "verbs option %d unknown", id);
		return -RB_EINVAL;
	}
	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lim[id].lo || v > lim[id].hi) {
		snprintf(why, len, "--%s '%s': expected an integer in %d..%d",
			 lim[id].name, arg, lim[id].lo, lim[id].hi);
		return -RB_EINVAL;
	}
	*dst[id] = (int)v;
	return 0;
}

static int ibv_open_common(enum ibv_flavor fl, const struct rb_tp_ops *ops,
			   const struct rb_tp_args *args, struct rb_tp **tp_p)
{
	struct ibv_tp *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return -RB_ENOMEM;
	t->pub.ops = ops;
	t->pub.rank = args->rank;
	t->pub.nranks = args->nranks;
	t->pub.timeout_ms = args->timeout_ms;
	t->flavor = fl;
	t->host = args->host;
	t->hosts = args->hosts;
	t->serve = args->serve;
	t->pub.rail = args->rail_ibdev && !rb_ibv_cfg.ib_dev ? args->rail : -1;
	t->nqps = rb_ibv_cfg.qps;
	t->nqp_all = t->nqps + 1;
	t->tclass = rb_ibv_cfg.tclass;
	t->sl = rb_ibv_cfg.sl;
	rc = ibv_dev_open(fl, args, &t->ctx, &t->sel);
	if (rc)
		goto out_free;
	t->pd = ibv_alloc_pd(t->ctx);
	if (!t->pd) {
		rb_err("%s: ibv_alloc_pd on %s: %s", ops->name, t->sel.dev,
		       strerror(errno));
		rc = -RB_ESYS;
		goto out_close;
	}
	t->max_msg = t->sel.attr.max_msg_sz ? t->sel.attr.max_msg_sz :
					      (1ull << 30);
	t->psn = (uint32_t)((rb_time_ns() ^ ((uint64_t)getpid() << 8)) &
			    0xffffff);
	rc = ibv_conn_setup(t);
	if (rc)
		goto out_close;
	ibv_dev_desc(&t->sel, t->nqps, t->pub.desc, sizeof(t->pub.desc));
	snprintf(t->pub.nic, sizeof(t->pub.nic), "%.40s:%d", t->sel.dev,
		 t->sel.port);
	t->pub.line_gbps = t->sel.rate_gbps;
	*tp_p = &t->pub;
	return 0;

out_close:
	ibv_close(&t->pub);
	return rc;
out_free:
	free(t);
	return rc;
}

static int ibv_get_addr(struct rb_tp *tp, void *blob, size_t *len_p)
{
	return ibv_conn_get_addr(ibv_of(tp), blob, len_p);
}

static int ibv_connect(struct rb_tp *tp, const void *blobs, size_t stride)
{
	return ibv_conn_connect(ibv_of(tp), blobs, stride);
}

static void ibv_peer_desc(struct rb_tp *tp, int peer, char *buf, size_t len)
{
	struct ibv_tp *t = ibv_of(tp);

	if (peer < 0 || peer >= tp->nranks) {
		snprintf(buf, len, "rank %d (no such rank)", peer);
		return;
	}
	ibv_conn_peer_desc(t, peer, buf, len);
}

static int ib_probe(const struct rb_tp_args *args, char *why, size_t len)
{
	return ibv_dev_probe(IBV_FLAVOR_IB, args, why, len);
}

static int roce_probe(const struct rb_tp_args *args, char *why, size_t len)
{
	return ibv_dev_probe(IBV_FLAVOR_ROCE, args, why, len);
}

static int ib_open(const struct rb_tp_args *args, struct rb_tp **tp_p)
{
	return ibv_open_common(IBV_FLAVOR_IB, &rb_ib_ops, args, tp_p);
}

static int roce_open(const struct rb_tp_args *args, struct rb_tp **tp_p)
{
	return ibv_open_common(IBV_FLAVOR_ROCE, &rb_roce_ops, args, tp_p);
}

const struct rb_tp_ops rb_ib_ops = {
	.name = "ib",
	.options = ibv_options,
	.parse_opt = ibv_parse_opt,
	.summary = "InfiniBand verbs: RC QPs, LID addressing, RDMA write",
	.probe = ib_probe,
	.open = ib_open,
	.get_addr = ibv_get_addr,
	.connect = ibv_connect,
	.mem_reg = ibv_mem_reg,
	.mem_dereg = ibv_mem_dereg,
	.isend = ibv_isend,
	.irecv = ibv_irecv,
	.progress = ibv_progress,
	.peer_desc = ibv_peer_desc,
	.close = ibv_close,
};

const struct rb_tp_ops rb_roce_ops = {
	.name = "roce",
	.options = ibv_options,
	.parse_opt = ibv_parse_opt,
	.summary = "RoCE verbs: RC QPs, RoCE v2 GID of the netdev's IPv4 address, RDMA write",
	.probe = roce_probe,
	.open = roce_open,
	.get_addr = ibv_get_addr,
	.connect = ibv_connect,
	.mem_reg = ibv_mem_reg,
	.mem_dereg = ibv_mem_dereg,
	.isend = ibv_isend,
	.irecv = ibv_irecv,
	.progress = ibv_progress,
	.peer_desc = ibv_peer_desc,
	.close = ibv_close,
};
