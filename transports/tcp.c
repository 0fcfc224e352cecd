/* SPDX-License-Identifier: BSD-3-Clause */
/* TCP transport: one or more non-blocking streams per peer, bound to one
 * rail interface, driven by a single epoll loop. Design and failure handling
 * are described in docs/tcp.md; setup lives in tcp_conn.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "transports/tcp.h"

static int tcp_ep_add(struct tcp_tp *t, int fd, void *ptr, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		rb_err("tcp: epoll_ctl: %s", strerror(errno));
		return -RB_ESYS;
	}
	return 0;
}

/* ---- requests and queues ---------------------------------------------- */

static void tcp_q_push(struct tcp_queue *q, struct tcp_op *op)
{
	op->next = NULL;
	if (q->tail)
		q->tail->next = op;
	else
		q->head = op;
	q->tail = op;
}

static struct tcp_op *tcp_q_pop(struct tcp_queue *q)
{
	struct tcp_op *op = q->head;

	if (op) {
		q->head = op->next;
		if (!q->head)
			q->tail = NULL;
	}
	return op;
}

/* Frees the ops of a queue (requests still pending are abandoned). */
static void tcp_q_free(struct tcp_queue *q)
{
	struct tcp_op *op;

	while ((op = tcp_q_pop(q)))
		free(op);
}

/* Retires one chunk; the request is done when its last chunk is. */
static void tcp_op_finish(struct tcp_tp *t, struct tcp_op *op, int status)
{
	struct rb_tp_req *req = op->req;

	if (status && !req->upriv[1])
		req->upriv[1] = (uint64_t)(int64_t)status;
	if (--req->upriv[0] == 0) {
		req->status = (int)(int64_t)req->upriv[1];
		req->done = 1;
		t->ncompleted++;
	}
	op->next = t->free_ops;
	t->free_ops = op;
}

/* Marks a stream failed and fails everything queued on it. Logs once per
 * peer, and only when a request is affected (a peer that closes after the
 * last message is a normal end). */
static int tcp_conn_fail(struct tcp_tp *t, struct tcp_conn *c, int err,
			 const char *why)
{
	struct tcp_peer *p = &t->peers[c->peer];
	struct tcp_op *op;
	int had_ops = c->txq.head || c->rxq.head;

	if (!c->dead)
		c->dead = err ? err : ECONNRESET;
	if (had_ops && !p->reported) {
		char link[160];

		p->reported = 1;
		rb_log_culprit(c->peer);
		rb_err("tcp: lost rank %d (host %s, %s): %s", c->peer,
		       tcp_host(t, c->peer),
		       rb_tcp_link_str(t, p, p->port[c->stream], link, sizeof(link)),
		       why ? why : strerror(c->dead));
	}
	while ((op = tcp_q_pop(&c->txq)))
		tcp_op_finish(t, op, -RB_EPEER);
	while ((op = tcp_q_pop(&c->rxq)))
		tcp_op_finish(t, op, -RB_EPEER);
	return had_ops ? -RB_EPEER : 0;
}

/* Fills iov from the queue's head: per op the unsent header part, then the
 * payload part. \return the number of iovecs. */
static int tcp_fill_iov(struct tcp_queue *q, struct iovec *iov)
{
	int n = 0;

	for (struct tcp_op *op = q->head; op && n < TCP_MAX_IOV - 1;
	     op = op->next) {
		size_t hl = sizeof(op->hdr);

		if (op->done < hl) {
			iov[n].iov_base = (char *)&op->hdr + op->done;
			iov[n++].iov_len = hl - op->done;
			if (op->len) {
				iov[n].iov_base = op->buf;
				iov[n++].iov_len = op->len;
			}
		} else {
			iov[n].iov_base = op->buf + (op->done - hl);
			iov[n++].iov_len = op->len - (op->done - hl);
		}
	}
	return n;
}

/* Checks a received header against the posted receive. */
static int tcp_hdr_ok(struct tcp_tp *t, struct tcp_conn *c, struct tcp_op *op)
{
	if (op->hdr.magic == TCP_MAGIC && op->hdr.seq == c->rx_seq &&
	    op->hdr.len == op->len) {
		c->rx_seq++;
		return 1;
	}
	rb_err("tcp: stream %d from rank %d (host %s) out of step: message %u of %llu bytes where message %u of %zu bytes was posted",
	       c->stream, c->peer, tcp_host(t, c->peer), op->hdr.seq,
	       (unsigned long long)op->hdr.len, c->rx_seq, op->len);
	t->peers[c->peer].reported = 1;
	return 0;
}

/* Moves as many bytes as the socket takes (tx) or holds (rx) for the ops
 * queued on c. \return 0 or -RB_EPEER. */
static int tcp_conn_io(struct tcp_tp *t, struct tcp_conn *c, int tx)
{
	struct tcp_queue *q = tx ? &c->txq : &c->rxq;
	int *ready = tx ? &c->writable : &c->readable;
	struct iovec iov[TCP_MAX_IOV];

	while (q->head && *ready) {
		struct msghdr mh = { .msg_iov = iov };
		size_t want = 0;
		ssize_t n;

		mh.msg_iovlen = (size_t)tcp_fill_iov(q, iov);
		for (size_t i = 0; i < mh.msg_iovlen; i++)
			want += iov[i].iov_len;
		n = tx ? sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) :
			 recvmsg(c->fd, &mh, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			*ready = 0;
			break;
		}
		if (n < 0)
			return tcp_conn_fail(t, c, errno, NULL);
		if (n == 0 && !tx && want)
			return tcp_conn_fail(t, c, ECONNRESET,
					     "connection closed by peer");
		if ((size_t)n < want)
			*ready = 0;
		while (q->head) {
			struct tcp_op *op = q->head;
			size_t hl = sizeof(op->hdr);
			size_t take = RB_MIN((size_t)n, hl + op->len - op->done);
			int hdr_was_partial = op->done < hl;

			op->done += take;
			n -= (ssize_t)take;
			if (!tx && hdr_was_partial && op->done >= hl &&
			    !tcp_hdr_ok(t, c, op))
				return tcp_conn_fail(t, c, EPROTO,
						     "stream out of step");
			if (op->done < hl + op->len)
				break;
			tcp_op_finish(t, tcp_q_pop(q), 0);
		}
	}
	return 0;
}

static int tcp_io_all(struct tcp_tp *t)
{
	int rc = 0;

	for (int r = 0; r < t->base.nranks; r++) {
		if (r == t->base.rank)
			continue;
		for (int s = 0; s < t->nstreams; s++) {
			struct tcp_conn *c = &t->peers[r].conn[s];
			int rc2 = 0;

			if (c->txq.head && c->writable)
				rc2 = tcp_conn_io(t, c, 1);
			if (!rc2 && c->rxq.head && c->readable)
				rc2 = tcp_conn_io(t, c, 0);
			if (rc2 && !rc)
				rc = rc2;
		}
	}
	return rc;
}

/* Makes sure the free list holds n ops, so that a failed allocation
 * leaves nothing half queued. */
static int tcp_reserve_ops(struct tcp_tp *t, int n)
{
	struct tcp_op *op = t->free_ops;

	while (op && n > 0) {
		op = op->next;
		n--;
	}
	while (n-- > 0) {
		op = malloc(sizeof(*op));
		if (!op)
			return -RB_ENOMEM;
		op->next = t->free_ops;
		t->free_ops = op;
	}
	return 0;
}

/* Messages to this rank itself: matched in post order and copied, no
 * socket involved; a length mismatch fails both with -RB_EINVAL. */
static void tcp_self_match(struct tcp_tp *t)
{
	while (t->self_txq.head && t->self_rxq.head) {
		struct tcp_op *tx = tcp_q_pop(&t->self_txq);
		struct tcp_op *rx = tcp_q_pop(&t->self_rxq);
		int rc = 0;

		if (tx->len == rx->len) {
			memcpy(rx->buf, tx->buf, tx->len);
		} else {
			rb_err("tcp: message to itself of %zu bytes where a receive of %zu bytes was posted",
			       tx->len, rx->len);
			rc = -RB_EINVAL;
		}
		tcp_op_finish(t, tx, rc);
		tcp_op_finish(t, rx, rc);
	}
}

/* Splits a message into chunks, one per stream for large messages; both
 * sides compute the same split from the length and the message index. */
static int tcp_post(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		    size_t off, size_t len, struct rb_tp_req *req, int tx)
{
	struct tcp_tp *t = tcp_of(tp);
	struct tcp_peer *p;
	struct tcp_op *op;
	uint64_t idx;
	int nchunks;

	if (peer < 0 || peer >= tp->nranks || off + len > mr->len ||
	    (peer != tp->rank && !rb_tp_args_serves(&t->args, peer))) {
		rb_err("tcp: invalid %s to rank %d (offset %zu, %zu bytes, buffer %zu%s)",
		       tx ? "send" : "receive", peer, off, len, mr->len,
		       peer >= 0 && peer < tp->nranks && peer != tp->rank &&
				       !rb_tp_args_serves(&t->args, peer) ?
			       "; not a peer of this link" : "");
		return -RB_EINVAL;
	}
	if (peer == tp->rank) {
		if (tcp_reserve_ops(t, 1))
			return -RB_ENOMEM;
		op = t->free_ops;
		t->free_ops = op->next;
		*req = (struct rb_tp_req){ .peer = peer, .len = len };
		req->upriv[0] = 1;
		*op = (struct tcp_op){ .req = req, .len = len,
				       .buf = (char *)mr->buf + off };
		tcp_q_push(tx ? &t->self_txq : &t->self_rxq, op);
		tcp_self_match(t);
		return 0;
	}
	p = &t->peers[peer];
	nchunks = len >= TCP_STRIPE_MIN_BYTES ? t->nstreams : 1;
	*req = (struct rb_tp_req){ .peer = peer, .len = len };
	req->upriv[0] = (uint64_t)nchunks;
	if (tcp_reserve_ops(t, nchunks))
		return -RB_ENOMEM;
	idx = tx ? p->tx_msgs++ : p->rx_msgs++;
	for (int i = 0; i < nchunks; i++) {
		int s = nchunks > 1 ? i : (int)(idx % (uint64_t)t->nstreams);
		struct tcp_conn *c = &p->conn[s];
		size_t b = len * (size_t)i / (size_t)nchunks;
		size_t e = len * (size_t)(i + 1) / (size_t)nchunks;

		op = t->free_ops;

		if (nchunks > 1) {
			b -= b % TCP_STRIPE_ALIGN;
			if (i + 1 < nchunks)
				e -= e % TCP_STRIPE_ALIGN;
		}
		t->free_ops = op->next;
		*op = (struct tcp_op){ .req = req, .len = e - b,
				       .buf = (char *)mr->buf + off + b };
		if (tx)
			op->hdr = (struct tcp_hdr){ .magic = TCP_MAGIC,
						    .seq = c->tx_seq++,
						    .len = e - b };
		tcp_q_push(tx ? &c->txq : &c->rxq, op);
		if (c->dead)
			tcp_conn_fail(t, c, c->dead, NULL);
	}
	return 0;
}

static int tcp_isend(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		     size_t off, size_t len, struct rb_tp_req *req)
{
	return tcp_post(tp, peer, mr, off, len, req, 1);
}

static int tcp_irecv(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		     size_t off, size_t len, struct rb_tp_req *req)
{
	return tcp_post(tp, peer, mr, off, len, req, 0);
}

static void tcp_mark_ready(struct epoll_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		struct tcp_conn *c = ev[i].data.ptr;

		if (ev[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
			c->readable = 1;
		if (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			c->writable = 1;
	}
}

/* Waits up to wait_ns for readiness. epoll_pwait2 (Linux 5.11, glibc
 * 2.35) takes nanoseconds; where the C library lacks it (RHEL 8, Ubuntu
 * 20.04) or the kernel answers ENOSYS (older kernels, valgrind), epoll_wait
 * with the wait rounded up to whole milliseconds, so that a deadline is
 * never cut short (docs/tcp.md). The glibc check is the one place this
 * build depends on the C library's version; -DRB_TCP_NO_PWAIT2 builds as
 * for an older one (tests/integ/test_tcp_valgrind.sh). */
static int tcp_wait(struct tcp_tp *t, struct epoll_event *ev, int max,
		    int64_t wait_ns)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 35) && \
	!defined(RB_TCP_NO_PWAIT2)
	if (!t->no_pwait2) {
		struct timespec ts = { .tv_sec = wait_ns / 1000000000,
				       .tv_nsec = wait_ns % 1000000000 };
		int n = epoll_pwait2(t->epfd, ev, max, &ts, NULL);

		if (n >= 0 || errno != ENOSYS)
			return n;
		t->no_pwait2 = 1;
	}
#else
	t->no_pwait2 = 1;
#endif
	return epoll_wait(t->epfd, ev, max,
			  (int)RB_MIN((wait_ns + 999999) / 1000000, INT_MAX));
}

/* One loop for every stream: do the I/O the sockets allow, return as soon
 * as a request completed, else wait for readiness (spinning briefly first,
 * since sleeping costs a wake-up on the latency path). */
static int tcp_progress(struct rb_tp *tp, int64_t timeout_ns)
{
	struct tcp_tp *t = tcp_of(tp);
	uint64_t start = rb_time_ns();
	uint64_t before = t->ncompleted;
	struct epoll_event ev[64];

	int polled = 0;

	for (;;) {
		uint64_t elapsed;
		int64_t wait_ns = 0;
		int n;
		int rc = tcp_io_all(t);

		if (rc)
			return rc;
		if (t->ncompleted != before)
			return 0;
		elapsed = rb_time_ns() - start;
		if (polled && (int64_t)elapsed >= timeout_ns)
			return 0;
		if (elapsed >= t->spin_ns && (int64_t)elapsed < timeout_ns)
			wait_ns = timeout_ns - (int64_t)elapsed;
		n = tcp_wait(t, ev, 64, wait_ns);
		polled = 1;
		if (n < 0 && errno != EINTR) {
			rb_err("tcp: %s: %s", t->no_pwait2 ? "epoll_wait" :
			       "epoll_pwait2", strerror(errno));
			return -RB_ESYS;
		}
		if (n > 0)
			tcp_mark_ready(ev, n);
	}
}

/* ---- ops ------------------------------------------------------------------- */

static int tcp_probe(const struct rb_tp_args *args, char *why, size_t len)
{
	(void)args;
	(void)why;
	(void)len;
	return 0;	/* sockets exist everywhere */
}

static void tcp_close(struct rb_tp *tp)
{
	struct tcp_tp *t;

	if (!tp)
		return;
	t = tcp_of(tp);
	for (int s = 0; s < TCP_MAX_STREAMS; s++) {
		if (t->lfd[s] >= 0)
			close(t->lfd[s]);
	}
	if (t->lo_lfd >= 0)
		close(t->lo_lfd);
	for (int r = 0; t->peers && r < t->base.nranks; r++) {
		for (int s = 0; s < TCP_MAX_STREAMS; s++) {
			struct tcp_conn *c = &t->peers[r].conn[s];

			if (c->fd >= 0)
				close(c->fd);
			tcp_q_free(&c->txq);
			tcp_q_free(&c->rxq);
		}
	}
	tcp_q_free(&t->self_txq);
	tcp_q_free(&t->self_rxq);
	tcp_q_free(&(struct tcp_queue){ .head = t->free_ops });
	if (t->epfd >= 0)
		close(t->epfd);
	free(t->peers);
	free(t);
}

/* How long progress() polls before it sleeps. Polling keeps the core and
 * saves the wake-up (measured on a loaded 2-core VM, 2 ranks: 8-byte
 * all-reduce p50 140 us with 50 us of polling, 10-14 us with 1 ms), but
 * when the node has more ranks than CPUs it steals the CPU from the peer
 * being waited for (4 ranks: 0.5 ms vs 13-18 ms). RAILBENCH_TCP_SPIN_US
 * overrides (docs/tcp.md). */
static uint64_t tcp_spin_ns(const struct rb_tp_args *a)
{
	const char *env = getenv("RAILBENCH_TCP_SPIN_US");
	cpu_set_t cpus;
	char *end;

	if (env && *env) {
		unsigned long long us = strtoull(env, &end, 10);

		if (!*end && us <= 10000000ull)
			return us * 1000;
		rb_warn("tcp: ignoring RAILBENCH_TCP_SPIN_US='%s' (microseconds, at most 10000000)",
			env);
	}
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 &&
	    a->local_nranks > CPU_COUNT(&cpus))
		return TCP_SPIN_SHARED_NS;
	return TCP_SPIN_NS;
}

static int tcp_alloc(const struct rb_tp_args *args, struct tcp_tp **t_p)
{
	int ns = rb_tcp_cfg.streams > 0 ? rb_tcp_cfg.streams : 1;
	struct tcp_tp *t;

	if (ns > TCP_MAX_STREAMS) {
		rb_err("tcp: --tcp-streams %d out of range 1..%d", ns,
		       TCP_MAX_STREAMS);
		return -RB_EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -RB_ENOMEM;
	t->epfd = -1;
	t->lo_lfd = -1;
	for (int s = 0; s < TCP_MAX_STREAMS; s++)
		t->lfd[s] = -1;
	t->peers = calloc((size_t)args->nranks, sizeof(*t->peers));
	if (!t->peers) {
		free(t);
		return -RB_ENOMEM;
	}
	for (int r = 0; r < args->nranks; r++) {
		for (int s = 0; s < TCP_MAX_STREAMS; s++)
			t->peers[r].conn[s] = (struct tcp_conn){
				.fd = -1, .peer = r, .stream = s };
	}
	t->nstreams = ns;
	t->args = *args;
	t->base.ops = &rb_tcp_ops;
	t->base.rank = args->rank;
	t->base.nranks = args->nranks;
	t->base.timeout_ms = args->timeout_ms;
	t->base.rail = -1;
	*t_p = t;
	return 0;
}

/* With --tcp-port, a node's local ranks listen on port0 .. port0 +
 * local_nranks x streams - 1: all of them must be ports. \return 0 or
 * -RB_EINVAL with why. */
static int tcp_check_ports(int local_nranks, char *why, size_t len)
{
	long last = (long)rb_tcp_cfg.port0 +
		    (long)local_nranks * RB_MAX(rb_tcp_cfg.streams, 1) - 1;

	if (!rb_tcp_cfg.port0 || last <= 65535)
		return 0;
	snprintf(why, len, "--tcp-port %d with --tcp-streams %d: ports %d..%ld%s pass 65535",
		 rb_tcp_cfg.port0, RB_MAX(rb_tcp_cfg.streams, 1),
		 rb_tcp_cfg.port0, last,
		 local_nranks > 1 ? " (for the ranks of this node)" : "");
	return -RB_EINVAL;
}

static int tcp_open(const struct rb_tp_args *args, struct rb_tp **tp_p)
{
	int port0 = rb_tcp_cfg.port0;
	struct tcp_tp *t;
	char ips[INET_ADDRSTRLEN];
	char why[256];
	int rc;

	if (!args->job_secret) {
		rb_err("tcp: no job secret from the bootstrap: listeners could not tell peers from strangers");
		return -RB_EINVAL;
	}
	if (tcp_check_ports(args->local_nranks, why, sizeof(why))) {
		rb_err("tcp: %s", why);
		return -RB_EINVAL;
	}
	rc = tcp_alloc(args, &t);
	if (rc)
		return rc;
	t->spin_ns = tcp_spin_ns(args);
	rc = rb_tcp_choose_if(t);
	if (rc)
		goto out_close;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0) {
		rb_err("tcp: epoll_create1: %s", strerror(errno));
		rc = -RB_ESYS;
		goto out_close;
	}
	for (int s = 0; s < t->nstreams; s++) {
		int port = port0 > 0 ? port0 + args->local_rank * t->nstreams + s : 0;

		rc = rb_tcp_listen(t, t->ip, port, 1, &t->lfd[s], &t->lport[s]);
		if (rc)
			goto out_close;
	}
	/* Peers on the same node come in over loopback: traffic between two
	 * local addresses never touches a NIC anyway. */
	if (ntohl(t->ip.s_addr) >> 24 != 127) {
		rc = rb_tcp_listen(t, (struct in_addr){ htonl(INADDR_LOOPBACK) },
				   0, 0, &t->lo_lfd, &t->lo_port);
		if (rc)
			goto out_close;
	}
	snprintf(t->base.desc, sizeof(t->base.desc), "tcp %s %s streams %d",
		 t->ifname, inet_ntop(AF_INET, &t->ip, ips, sizeof(ips)),
		 t->nstreams);
	*tp_p = &t->base;
	return 0;
out_close:
	tcp_close(&t->base);
	return rc;
}

static int tcp_get_addr(struct rb_tp *tp, void *blob, size_t *len_p)
{
	struct tcp_tp *t = tcp_of(tp);
	struct tcp_blob b = { .magic = htonl(TCP_MAGIC), .ip = t->ip.s_addr,
			      .nstreams = htons((uint16_t)t->nstreams),
			      .lo_port = htons(t->lo_port) };

	if (*len_p < sizeof(b))
		return -RB_EINVAL;
	for (int s = 0; s < t->nstreams; s++)
		b.ports[s] = htons(t->lport[s]);
	snprintf(b.ifname, sizeof(b.ifname), "%s", t->ifname);
	memcpy(blob, &b, sizeof(b));
	*len_p = sizeof(b);
	return 0;
}

static int tcp_same_node(const struct tcp_tp *t, int r)
{
	const struct rb_tp_args *a = &t->args;

	if (a->node_of)
		return a->node_of[r] == a->node_of[a->rank];
	return a->hosts && a->hosts[r] && !strcmp(a->hosts[r], a->host);
}

/* Reads every peer's blob, connects all streams, then hands the sockets
 * to the epoll loop. */
static int tcp_connect(struct rb_tp *tp, const void *blobs, size_t stride)
{
	struct tcp_tp *t = tcp_of(tp);
	int rc;

	for (int r = 0; r < tp->nranks; r++) {
		struct tcp_blob b;
		struct tcp_peer *p = &t->peers[r];

		if (r != tp->rank && !rb_tp_args_serves(&t->args, r))
			continue;
		memcpy(&b, (const char *)blobs + (size_t)r * stride, sizeof(b));
		if (ntohl(b.magic) != TCP_MAGIC ||
		    ntohs(b.nstreams) != t->nstreams) {
			rb_err("tcp: rank %d (host %s) published a different address format or stream count (%u, here %d)",
			       r, tcp_host(t, r), ntohs(b.nstreams), t->nstreams);
			return -RB_EINVAL;
		}
		p->local = tcp_same_node(t, r) && b.lo_port && t->lo_lfd >= 0;
		/* Published by a peer: kept only as a printable name. */
		for (size_t i = 0; i + 1 < sizeof(p->ifname) &&
				   b.ifname[i] > ' ' && b.ifname[i] < 127; i++)
			p->ifname[i] = b.ifname[i];
		p->ip.s_addr = p->local ? htonl(INADDR_LOOPBACK) : b.ip;
		for (int s = 0; s < t->nstreams; s++)
			p->port[s] = ntohs(p->local ? b.lo_port : b.ports[s]);
	}
	rc = rb_tcp_setup_run(t);
	if (rc)
		return rc;
	/* Listeners are done; every stream joins the one epoll set. */
	for (int s = 0; s < TCP_MAX_STREAMS; s++) {
		if (t->lfd[s] >= 0)
			close(t->lfd[s]);
		t->lfd[s] = -1;
	}
	if (t->lo_lfd >= 0)
		close(t->lo_lfd);
	t->lo_lfd = -1;
	for (int r = 0; r < tp->nranks && !rc; r++) {
		for (int s = 0; rb_tp_args_serves(&t->args, r) &&
				s < t->nstreams && !rc; s++) {
			struct tcp_conn *c = &t->peers[r].conn[s];

			c->readable = 1;
			c->writable = 1;
			rc = tcp_ep_add(t, c->fd, c, EPOLLIN | EPOLLOUT |
						       EPOLLRDHUP | EPOLLET);
		}
	}
	return rc;
}

static int tcp_mem_reg(struct rb_tp *tp, void *buf, size_t len,
		       enum rb_mem_kind kind, struct rb_tp_mr **mr_p)
{
	(void)tp;
	if (kind != RB_MEM_HOST) {
		rb_err("tcp: only host memory can be sent over sockets");
		return -RB_ENOTSUP;
	}
	return rb_tp_mr_plain_new(buf, len, kind, mr_p);
}

static void tcp_peer_desc(struct rb_tp *tp, int peer, char *buf, size_t len)
{
	struct tcp_tp *t = tcp_of(tp);

	if (peer < 0 || peer >= tp->nranks || peer == tp->rank) {
		snprintf(buf, len, "%s", t->ifname);
		return;
	}
	rb_tcp_link_str(t, &t->peers[peer], t->peers[peer].port[0], buf, len);
}

const char *rb_tcp_link_str(const struct tcp_tp *t, const struct tcp_peer *p,
			    unsigned port, char *buf, size_t len)
{
	char pip[INET_ADDRSTRLEN];
	char lip[INET_ADDRSTRLEN];
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	char pport[12] = "";

	if (port)
		snprintf(pport, sizeof(pport), ":%u", port);
	inet_ntop(AF_INET, &p->ip, pip, sizeof(pip));
	inet_ntop(AF_INET, p->local ? &lo : &t->ip, lip, sizeof(lip));
	snprintf(buf, len, "peer %s %s%s, local %s %s",
		 p->local ? "lo" : p->ifname[0] ? p->ifname : "?", pip, pport,
		 tcp_peer_if(t, p), lip);
	return buf;
}

struct tcp_cfg rb_tcp_cfg = { .streams = 1 };

enum tcp_opt_id { TCP_OPT_NET_IF, TCP_OPT_STREAMS, TCP_OPT_PORT };

static const struct rb_tp_opt tcp_options[] = {
	{ "net-if", TCP_OPT_NET_IF, 1, "IF[,IF..]", "tcp: interface, or one per local rank (entry k mod count)" },
	{ "tcp-streams", TCP_OPT_STREAMS, 1, "N", "tcp: striped connections per peer (default 1)" },
	{ "tcp-port", TCP_OPT_PORT, 1, "PORT", "tcp: first listening port (default any)" },
	{ 0 },
};

static int tcp_parse_opt(int id, const char *arg, char *why, size_t len)
{
	char *end;
	long v;

	if (id == TCP_OPT_NET_IF) {
		if (!*arg || arg[strlen(arg) - 1] == ',' || *arg == ',' ||
		    strstr(arg, ",,")) {
			snprintf(why, len, "--net-if '%s': expected IF or IF,IF,... (one per local rank)",
				 arg);
			return -RB_EINVAL;
		}
		rb_tcp_cfg.net_if = arg;
		return 0;
	}
	errno = 0;
	v = strtol(arg, &end, 10);
	if (id == TCP_OPT_STREAMS) {
		if (errno || end == arg || *end || v < 1 || v > TCP_MAX_STREAMS) {
			snprintf(why, len, "--tcp-streams '%s': expected an integer in 1..%d",
				 arg, TCP_MAX_STREAMS);
			return -RB_EINVAL;
		}
		rb_tcp_cfg.streams = (int)v;
		return tcp_check_ports(1, why, len);
	}
	if (errno || end == arg || *end || v < 1 || v > 65535) {
		snprintf(why, len, "--tcp-port '%s': expected an integer in 1..65535", arg);
		return -RB_EINVAL;
	}
	rb_tcp_cfg.port0 = (int)v;
	return tcp_check_ports(1, why, len);
}

const struct rb_tp_ops rb_tcp_ops = {
	.name = "tcp",
	.options = tcp_options,
	.parse_opt = tcp_parse_opt,
	.summary = "TCP sockets over one interface per rank (--net-if, --tcp-streams)",
	.caps = 0,
	.probe = tcp_probe,
	.open = tcp_open,
	.get_addr = tcp_get_addr,
	.connect = tcp_connect,
	.mem_reg = tcp_mem_reg,
	.mem_dereg = rb_tp_mr_plain_dereg,
	.isend = tcp_isend,
	.irecv = tcp_irecv,
	.progress = tcp_progress,
	.peer_desc = tcp_peer_desc,
	.close = tcp_close,
};

