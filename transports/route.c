/* SPDX-License-Identifier: BSD-3-Clause */
/* The links composition: one rb_tp that hands each peer to a child
 * transport. `--transport A+B` opens A for the peers on this rank's node
 * and B for the peers on other nodes (shm+tcp, shm+roce, shm+ib), each
 * child over its own peer set, so intra-node bytes never touch the
 * inter-node fabric (docs/links.md). Buffers are registered with every
 * child; progress drives every child in turn, so a busy child cannot
 * starve another; a failure or timeout names the peer, its host and the
 * child link. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transports/transport.h"

#define ROUTE_MAX 2		/* children: intra-node, inter-node */
/* With requests pending in more than one child, each blocks at most this
 * long per turn, so the others are polled again soon. */
#define ROUTE_SLICE_NS 20000
#define ROUTE_NAME_MAX 32

struct route_pend {
	struct rb_tp_req **reqs;
	int n;
	int cap;
};

struct route_tp {
	struct rb_tp pub;
	int nchild;
	char names[ROUTE_MAX][ROUTE_NAME_MAX];
	const struct rb_tp_ops *cops[ROUTE_MAX];
	struct rb_tp *child[ROUTE_MAX];	/* NULL: no peer of this rank uses it */
	unsigned char *serve[ROUTE_MAX];	/* [nranks] masks the children got */
	int *child_of;			/* [nranks] */
	const char *const *hosts;
	struct route_pend pend[ROUTE_MAX];	/* requests posted, not seen done */
	int turn;			/* child polled first next time */
};

struct route_mr {
	struct rb_tp_mr pub;
	struct rb_tp_mr *cmr[ROUTE_MAX];
};

static struct route_tp *route_of(struct rb_tp *tp)
{
	return rb_container_of(tp, struct route_tp, pub);
}

/* Splits "A+B" into two registered transport names. \return 0, or
 * -RB_EINVAL after writing why. */
static int route_parse(const char *spec, const struct rb_tp_ops **ops,
		       char names[][ROUTE_NAME_MAX], char *why, size_t len)
{
	const char *plus = spec ? strchr(spec, '+') : NULL;
	size_t n0;

	if (!plus || strchr(plus + 1, '+')) {
		snprintf(why, len, "--transport '%s': a composition names two transports, INTRA+INTER (e.g. shm+tcp)",
			 spec ? spec : "");
		return -RB_EINVAL;
	}
	n0 = (size_t)(plus - spec);
	if (!n0 || n0 >= ROUTE_NAME_MAX || strlen(plus + 1) >= ROUTE_NAME_MAX ||
	    !plus[1]) {
		snprintf(why, len, "--transport '%s': expected INTRA+INTER, e.g. shm+tcp", spec);
		return -RB_EINVAL;
	}
	memcpy(names[0], spec, n0);
	names[0][n0] = '\0';
	snprintf(names[1], ROUTE_NAME_MAX, "%s", plus + 1);
	for (int c = 0; c < ROUTE_MAX; c++) {
		char list[256];

		ops[c] = NULL;
		for (int i = 0; rb_tp_at(i); i++)
			if (!strcmp(rb_tp_at(i)->name, names[c]))
				ops[c] = rb_tp_at(i);
		if (!ops[c]) {
			snprintf(why, len, "--transport '%s': '%s' is not one of %s",
				 spec, names[c], rb_tp_list(list, sizeof(list)));
			return -RB_EINVAL;
		}
		if (ops[c]->caps & RB_TP_CAP_NATIVE_COLL) {
			snprintf(why, len, "--transport '%s': %s runs library collectives and cannot serve a peer set",
				 spec, names[c]);
			return -RB_EINVAL;
		}
	}
	return 0;
}

/* Child of each peer: 0 on this rank's node, 1 elsewhere. */
static int route_child_of(const struct rb_tp_args *a, int peer)
{
	return a->node_of && a->node_of[peer] != a->node_of[a->rank];
}

/* A child's arguments: a's, restricted to the peers it serves. */
static void route_child_args(const struct rb_tp_args *a,
			     const unsigned char *mask, struct rb_tp_args *ca,
			     const char *name)
{
	*ca = *a;
	ca->spec = name;
	ca->serve = mask;
}

/* \return 1 if this rank has a peer for child c under a. */
static int route_has_peer(const struct rb_tp_args *a, int c)
{
	for (int p = 0; p < a->nranks; p++)
		if (p != a->rank && route_child_of(a, p) == c &&
		    (!a->serve || a->serve[p]))
			return 1;
	return 0;
}

static int route_probe(const struct rb_tp_args *args, char *why, size_t len)
{
	const struct rb_tp_ops *ops[ROUTE_MAX];
	char names[ROUTE_MAX][ROUTE_NAME_MAX];
	unsigned char *mask;
	int rc;

	rc = route_parse(args->spec, ops, names, why, len);
	if (rc)
		return rc;
	mask = calloc((size_t)args->nranks, 1);
	if (!mask)
		return -RB_ENOMEM;
	for (int c = 0; c < ROUTE_MAX && !rc; c++) {
		struct rb_tp_args ca;
		char cwhy[256] = "";

		if (!route_has_peer(args, c))
			continue;
		for (int p = 0; p < args->nranks; p++)
			mask[p] = p != args->rank && route_child_of(args, p) == c;
		route_child_args(args, mask, &ca, names[c]);
		rc = ops[c]->probe(&ca, cwhy, sizeof(cwhy));
		if (rc)
			snprintf(why, len, "%s (%s peers): %s", names[c],
				 c ? "inter-node" : "intra-node", cwhy);
	}
	free(mask);
	return rc;
}

static int route_reach(const struct rb_tp_args *args, int peer)
{
	const struct rb_tp_ops *ops[ROUTE_MAX];
	char names[ROUTE_MAX][ROUTE_NAME_MAX];
	char why[256];

	if (route_parse(args->spec, ops, names, why, sizeof(why)))
		return 0;
	return rb_tp_reach(ops[route_child_of(args, peer)], args, peer);
}

static struct route_tp *route_new(int rank, int nranks, int64_t timeout_ms,
				  const char *const *hosts)
{
	struct route_tp *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->child_of = calloc((size_t)nranks, sizeof(*t->child_of));
	if (!t->child_of) {
		free(t);
		return NULL;
	}
	t->pub = (struct rb_tp){
		.ops = &rb_route_ops,
		.rank = rank,
		.nranks = nranks,
		.timeout_ms = timeout_ms,
		.rail = -1,
	};
	t->hosts = hosts;
	return t;
}

/* desc: the links of the children this rank uses, "A | B"; rail, NIC and
 * line rate: the inter-node child's. */
static void route_describe(struct route_tp *t)
{
	size_t used = 0;

	t->pub.desc[0] = '\0';
	for (int c = 0; c < t->nchild; c++) {
		if (!t->child[c] || used >= sizeof(t->pub.desc))
			continue;
		used += (size_t)snprintf(t->pub.desc + used,
					 sizeof(t->pub.desc) - used, "%s%s",
					 used ? " | " : "", t->child[c]->desc);
	}
	if (!used)
		snprintf(t->pub.desc, sizeof(t->pub.desc), "%s (no peers)",
			 t->names[0]);
	for (int c = t->nchild - 1; c >= 0 && t->pub.rail < 0; c--)
		if (t->child[c])
			t->pub.rail = t->child[c]->rail;
	for (int c = t->nchild - 1; c >= 0 && !t->pub.nic[0]; c--) {
		if (!t->child[c])
			continue;
		snprintf(t->pub.nic, sizeof(t->pub.nic), "%s", t->child[c]->nic);
		t->pub.line_gbps = t->child[c]->line_gbps;
	}
}

static void route_close(struct rb_tp *tp);

static int route_open(const struct rb_tp_args *args, struct rb_tp **tp_p)
{
	char why[256];
	struct route_tp *t;
	int rc;

	t = route_new(args->rank, args->nranks, args->timeout_ms, args->hosts);
	if (!t)
		return -RB_ENOMEM;
	t->nchild = ROUTE_MAX;
	rc = route_parse(args->spec, t->cops, t->names, why, sizeof(why));
	if (rc) {
		rb_err("%s", why);
		goto out_close;
	}
	for (int p = 0; p < args->nranks; p++)
		t->child_of[p] = route_child_of(args, p);
	for (int c = 0; c < t->nchild; c++) {
		struct rb_tp_args ca;

		if (!route_has_peer(args, c))
			continue;
		t->serve[c] = calloc((size_t)args->nranks, 1);
		if (!t->serve[c]) {
			rc = -RB_ENOMEM;
			goto out_close;
		}
		for (int p = 0; p < args->nranks; p++)
			t->serve[c][p] = p != args->rank && t->child_of[p] == c &&
					 (!args->serve || args->serve[p]);
		route_child_args(args, t->serve[c], &ca, t->names[c]);
		rc = t->cops[c]->open(&ca, &t->child[c]);
		if (rc)
			goto out_close;
		t->child[c]->ops = t->cops[c];
	}
	route_describe(t);
	*tp_p = &t->pub;
	return 0;

out_close:
	route_close(&t->pub);
	return rc;
}

int rb_route_wrap(int rank, int nranks, int64_t timeout_ms,
		  struct rb_tp *const *children, int nchildren,
		  const int *child_of, const char *const *hosts,
		  struct rb_tp **tp_p)
{
	struct route_tp *t;

	if (nchildren < 1 || nchildren > ROUTE_MAX) {
		for (int c = 0; c < nchildren; c++)
			rb_tp_close(children[c]);
		return -RB_EINVAL;
	}
	t = route_new(rank, nranks, timeout_ms, hosts);
	if (!t) {
		for (int c = 0; c < nchildren; c++)
			rb_tp_close(children[c]);
		return -RB_ENOMEM;
	}
	t->nchild = nchildren;
	for (int c = 0; c < nchildren; c++) {
		t->child[c] = children[c];
		t->cops[c] = children[c] ? children[c]->ops : NULL;
		snprintf(t->names[c], ROUTE_NAME_MAX, "%s",
			 children[c] ? children[c]->ops->name : "none");
	}
	for (int p = 0; p < nranks; p++) {
		if (p != rank && (child_of[p] < 0 || child_of[p] >= nchildren ||
				  !children[child_of[p]])) {
			rb_err("route: peer %d has no child transport", p);
			route_close(&t->pub);
			return -RB_EINVAL;
		}
		t->child_of[p] = child_of[p];
	}
	route_describe(t);
	*tp_p = &t->pub;
	return 0;
}

/* Blob: for each child, a 32-bit length and that child's address (length
 * 0 where this rank does not use it). */
static int route_get_addr(struct rb_tp *tp, void *blob, size_t *len_p)
{
	struct route_tp *t = route_of(tp);
	size_t used = 0;

	for (int c = 0; c < t->nchild; c++) {
		uint32_t n = 0;
		size_t len;
		int rc;

		if (used + sizeof(n) > *len_p)
			return -RB_EINVAL;
		len = *len_p - used - sizeof(n);
		if (t->child[c]) {
			rc = t->child[c]->ops->get_addr(t->child[c],
							(char *)blob + used + sizeof(n),
							&len);
			if (rc)
				return rc;
			n = (uint32_t)len;
		}
		memcpy((char *)blob + used, &n, sizeof(n));
		used += sizeof(n) + n;
	}
	*len_p = used;
	return 0;
}

/* Finds child c's part of one rank's blob. \return its length, or -1 when
 * the blob is malformed. */
static long route_part(const char *blob, size_t stride, int c,
		       const char **part_p)
{
	size_t off = 0;

	for (int i = 0;; i++) {
		uint32_t n;

		if (off + sizeof(n) > stride)
			return -1;
		memcpy(&n, blob + off, sizeof(n));
		if (off + sizeof(n) + n > stride)
			return -1;
		if (i == c) {
			*part_p = blob + off + sizeof(n);
			return (long)n;
		}
		off += sizeof(n) + n;
	}
}

static int route_connect(struct rb_tp *tp, const void *blobs, size_t stride)
{
	struct route_tp *t = route_of(tp);
	char *parts = malloc((size_t)tp->nranks * stride);
	int rc = parts ? 0 : -RB_ENOMEM;

	for (int c = 0; c < t->nchild && !rc; c++) {
		if (!t->child[c])
			continue;
		memset(parts, 0, (size_t)tp->nranks * stride);
		for (int p = 0; p < tp->nranks && !rc; p++) {
			const char *part = NULL;
			long n = route_part((const char *)blobs + (size_t)p * stride,
					    stride, c, &part);

			if (n < 0) {
				rb_err("route: rank %d (host %s) published a malformed address",
				       p, t->hosts ? t->hosts[p] : "?");
				rc = -RB_EINVAL;
			} else if (n == 0 && t->serve[c] && t->serve[c][p]) {
				rb_err("route: rank %d (host %s) has no %s address, but this rank reaches it over %s",
				       p, t->hosts ? t->hosts[p] : "?",
				       t->names[c], t->names[c]);
				rc = -RB_EPEER;
			} else if (n > 0) {
				memcpy(parts + (size_t)p * stride, part, (size_t)n);
			}
		}
		if (!rc)
			rc = t->child[c]->ops->connect(t->child[c], parts, stride);
	}
	free(parts);
	return rc;
}

static int route_post_connect(struct rb_tp *tp)
{
	struct route_tp *t = route_of(tp);

	for (int c = 0; c < t->nchild; c++) {
		int rc;

		if (!t->child[c] || !t->child[c]->ops->post_connect)
			continue;
		rc = t->child[c]->ops->post_connect(t->child[c]);
		if (rc)
			return rc;
	}
	return 0;
}

static void route_mem_dereg(struct rb_tp *tp, struct rb_tp_mr *mr)
{
	struct route_tp *t = route_of(tp);
	struct route_mr *rm;

	if (!mr)
		return;
	rm = rb_container_of(mr, struct route_mr, pub);
	for (int c = 0; c < t->nchild; c++)
		if (rm->cmr[c])
			rb_tp_mem_dereg(t->child[c], rm->cmr[c]);
	free(rm);
}

static int route_mem_reg(struct rb_tp *tp, void *buf, size_t len,
			 enum rb_mem_kind kind, struct rb_tp_mr **mr_p)
{
	struct route_tp *t = route_of(tp);
	struct route_mr *rm = calloc(1, sizeof(*rm));

	if (!rm)
		return -RB_ENOMEM;
	rm->pub = (struct rb_tp_mr){ .buf = buf, .len = len, .kind = kind };
	for (int c = 0; c < t->nchild; c++) {
		int rc;

		if (!t->child[c])
			continue;
		rc = rb_tp_mem_reg(t->child[c], buf, len, kind, &rm->cmr[c]);
		if (rc) {
			rb_err("route: registering %zu bytes with %s: %s", len,
			       t->names[c], rb_strerror(rc));
			route_mem_dereg(tp, &rm->pub);
			return rc;
		}
	}
	*mr_p = &rm->pub;
	return 0;
}

/* Forgets child c's completed requests: once done, a request belongs to
 * its owner again, who may free it. \return how many there were. */
static int route_sweep_child(struct route_tp *t, int c)
{
	struct route_pend *pd = &t->pend[c];
	int done = 0;

	for (int i = 0; i < pd->n;) {
		if (pd->reqs[i]->done) {
			pd->reqs[i] = pd->reqs[--pd->n];
			done++;
		} else {
			i++;
		}
	}
	return done;
}

static int route_track(struct route_tp *t, int c, struct rb_tp_req *req)
{
	struct route_pend *pd = &t->pend[c];

	if (pd->n == pd->cap) {
		int cap = pd->cap ? 2 * pd->cap : 32;
		struct rb_tp_req **r = realloc(pd->reqs, (size_t)cap * sizeof(*r));

		if (!r)
			return -RB_ENOMEM;
		pd->reqs = r;
		pd->cap = cap;
	}
	pd->reqs[pd->n++] = req;
	return 0;
}

/* Child and registration of a transfer to peer. \return the child index,
 * or -1 after logging. */
static int route_pick(struct route_tp *t, int peer, struct rb_tp_mr *mr,
		      struct rb_tp_mr **cmr_p)
{
	int c;

	if (peer < 0 || peer >= t->pub.nranks || !mr) {
		rb_err("route: transfer to rank %d of %d%s", peer,
		       t->pub.nranks, mr ? "" : " without a registration");
		return -1;
	}
	c = t->child_of[peer];
	if (!t->child[c]) {
		rb_err("route: no %s link to rank %d", t->names[c], peer);
		return -1;
	}
	*cmr_p = rb_container_of(mr, struct route_mr, pub)->cmr[c];
	return c;
}

enum route_xfer_kind { ROUTE_SEND, ROUTE_RECV, ROUTE_WRITE, ROUTE_RECV_REDUCE };

/* What a receive-reduce forwards besides the transfer. */
struct route_red {
	const void *seed;
	enum rb_dtype dtype;
	enum rb_redop op;
};

/* Posts one transfer on the child that serves peer, tracking its request
 * for progress. */
static int route_xfer(struct rb_tp *tp, enum route_xfer_kind kind, int peer,
		      struct rb_tp_mr *mr, size_t off, size_t len,
		      uint64_t raddr, uint32_t rkey,
		      const struct route_red *red, struct rb_tp_req *req)
{
	struct route_tp *t = route_of(tp);
	struct rb_tp_mr *cmr = NULL;
	int c = route_pick(t, peer, mr, &cmr);
	int rc;

	if (c < 0)
		return -RB_EINVAL;
	rc = route_track(t, c, req);
	if (rc)
		return rc;
	if (kind == ROUTE_SEND)
		rc = rb_tp_isend(t->child[c], peer, cmr, off, len, req);
	else if (kind == ROUTE_RECV)
		rc = rb_tp_irecv(t->child[c], peer, cmr, off, len, req);
	else if (kind == ROUTE_RECV_REDUCE)
		rc = rb_tp_irecv_reduce(t->child[c], peer, cmr, off, len,
					red->seed, red->dtype, red->op, req);
	else
		rc = rb_tp_write(t->child[c], peer, cmr, off, len, raddr, rkey,
				 req);
	if (rc)
		t->pend[c].n--;
	else
		route_sweep_child(t, c);	/* it may be done already */
	return rc;
}

static int route_isend(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		       size_t off, size_t len, struct rb_tp_req *req)
{
	return route_xfer(tp, ROUTE_SEND, peer, mr, off, len, 0, 0, NULL, req);
}

static int route_irecv(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		       size_t off, size_t len, struct rb_tp_req *req)
{
	return route_xfer(tp, ROUTE_RECV, peer, mr, off, len, 0, 0, NULL, req);
}

/* -RB_ENOTSUP where the child of this peer cannot combine on arrival. */
static int route_irecv_reduce(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
			      size_t off, size_t len, const void *seed,
			      enum rb_dtype dtype, enum rb_redop op,
			      struct rb_tp_req *req)
{
	struct route_red red = { seed, dtype, op };

	return route_xfer(tp, ROUTE_RECV_REDUCE, peer, mr, off, len, 0, 0,
			  &red, req);
}

static int route_write(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		       size_t off, size_t len, uint64_t raddr, uint32_t rkey,
		       struct rb_tp_req *req)
{
	return route_xfer(tp, ROUTE_WRITE, peer, mr, off, len, raddr, rkey,
			  NULL, req);
}

/* Forgets completed requests. \return how many completed since the last
 * sweep. */
static int route_sweep(struct route_tp *t)
{
	int done = 0;

	for (int c = 0; c < t->nchild; c++)
		done += route_sweep_child(t, c);
	return done;
}

/* One progress call of child c. A child that failed has logged which
 * peer and link; its requests are abandoned by their owners, so they are
 * forgotten here too rather than read again. */
static int route_drive(struct route_tp *t, int c, int64_t timeout_ns)
{
	int rc = rb_tp_progress(t->child[c], timeout_ns);

	if (rc)
		t->pend[c].n = 0;
	return rc;
}

/*
 * Every call polls every child once, starting with a different one each
 * time. Then, while nothing completed: with requests pending in one child
 * only, it blocks in that child for the rest of the timeout (its own wait:
 * futex, epoll, CQ); with several, each blocks for a short slice in turn.
 */
static int route_progress(struct rb_tp *tp, int64_t timeout_ns)
{
	struct route_tp *t = route_of(tp);
	uint64_t start = rb_time_ns();
	int rc;

	for (int i = 0; i < t->nchild; i++) {
		int c = (t->turn + i) % t->nchild;

		if (t->child[c]) {
			rc = route_drive(t, c, 0);
			if (rc) {
				route_sweep(t);
				return rc;
			}
		}
	}
	t->turn = (t->turn + 1) % t->nchild;
	for (;;) {
		int busy = 0;
		int last = -1;
		int64_t left = timeout_ns - (int64_t)(rb_time_ns() - start);

		if (route_sweep(t) || left <= 0)
			return 0;
		for (int c = 0; c < t->nchild; c++) {
			if (t->child[c] && t->pend[c].n) {
				busy++;
				last = c;
			}
		}
		if (!busy)
			return 0;
		if (busy == 1) {
			rc = route_drive(t, last, left);
			route_sweep(t);
			return rc;
		}
		for (int i = 0; i < t->nchild; i++) {
			int c = (t->turn + i) % t->nchild;

			if (!t->child[c] || !t->pend[c].n)
				continue;
			rc = route_drive(t, c, RB_MIN(left, ROUTE_SLICE_NS));
			if (rc) {
				route_sweep(t);
				return rc;
			}
		}
	}
}

static void route_peer_desc(struct rb_tp *tp, int peer, char *buf, size_t len)
{
	struct route_tp *t = route_of(tp);
	char cd[256] = "";
	int c;

	if (peer < 0 || peer >= tp->nranks) {
		snprintf(buf, len, "rank %d (no such rank)", peer);
		return;
	}
	c = t->child_of[peer];
	if (!t->child[c]) {
		snprintf(buf, len, "%s: not open", t->names[c]);
		return;
	}
	rb_tp_peer_desc(t->child[c], peer, cd, sizeof(cd));
	snprintf(buf, len, "%s%s%s", t->names[c], cd[0] ? " " : "", cd);
}

static void route_close(struct rb_tp *tp)
{
	struct route_tp *t;

	if (!tp)
		return;
	t = route_of(tp);
	for (int c = 0; c < ROUTE_MAX; c++) {
		rb_tp_close(t->child[c]);
		free(t->serve[c]);
		free(t->pend[c].reqs);
	}
	free(t->child_of);
	free(t);
}

const struct rb_tp_ops rb_route_ops = {
	.name = "route",
	.summary = "INTRA+INTER: one transport for the peers of this node, another for the rest (shm+tcp, shm+roce, shm+ib)",
	.caps = 0,
	.probe = route_probe,
	.reach = route_reach,
	.open = route_open,
	.get_addr = route_get_addr,
	.connect = route_connect,
	.post_connect = route_post_connect,
	.mem_reg = route_mem_reg,
	.mem_dereg = route_mem_dereg,
	.isend = route_isend,
	.irecv = route_irecv,
	.irecv_reduce = route_irecv_reduce,
	.write = route_write,
	.progress = route_progress,
	.peer_desc = route_peer_desc,
	.close = route_close,
};
