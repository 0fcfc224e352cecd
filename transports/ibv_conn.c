/* SPDX-License-Identifier: BSD-3-Clause */
/* Verbs connection setup: RC queue pairs per peer, the address blob each
 * rank publishes through the bootstrap (QP numbers, PSN, LID, GID), and the
 * INIT -> RTR -> RTS transitions with the checks that ranks agree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transports/ibv.h"

#define IBV_ADDR_MAGIC 0x52424956u	/* "RBIV" */
#define IBV_ADDR_VERSION 1

/* The published address. qpn[r * (nqps + 1) + q] is the QP this rank
 * created for rank r: nqps data QPs, then the control QP (its own entries
 * are 0). Fixed-width, host byte order: every rank
 * runs the same binary on the same architecture. */
struct ibv_addr {
	uint32_t magic;
	uint16_t version;
	uint8_t link_layer;
	uint8_t gid_kind;
	uint16_t lid;
	uint8_t port;
	uint8_t mtu;
	uint16_t nqps;
	uint16_t nranks;
	uint32_t psn;
	int32_t gid_index;
	uint8_t gid[16];
	char dev[32];
	uint32_t qpn[];
};

void *ibv_conn_slot(struct ibv_tp *t, int p, int qi, int slot)
{
	size_t per_peer = ((size_t)t->nqp_all * IBV_NRECV + IBV_WINDOW) *
			  IBV_SLOT_BYTES;
	size_t off = (size_t)p * per_peer;

	if (qi < 0)
		off += ((size_t)t->nqp_all * IBV_NRECV + (size_t)slot) *
		       IBV_SLOT_BYTES;
	else
		off += ((size_t)qi * IBV_NRECV + (size_t)slot) * IBV_SLOT_BYTES;
	return (char *)t->ctrl + off;
}

int ibv_conn_post_recv(struct ibv_tp *t, int p, int qi, int slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)ibv_conn_slot(t, p, qi, slot),
		.length = IBV_SLOT_BYTES,
		.lkey = t->ctrl_mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = ((uint64_t)p << 40) | ((uint64_t)qi << 24) |
			 ((uint64_t)slot << 2) | IBV_WR_RECV,
		.sg_list = &sge,
		.num_sge = 1,
	};
	struct ibv_recv_wr *bad;
	int e = ibv_post_recv(t->peers[p].qp[qi], &wr, &bad);

	if (e) {
		rb_err("%s: ibv_post_recv to rank %d: %s", t->pub.ops->name, p,
		       strerror(e));
		return -RB_ESYS;
	}
	return 0;
}

/* Creates one RC QP, asking for as much inline data as the device grants. */
static struct ibv_qp *ibv_qp_new(struct ibv_tp *t)
{
	static const uint32_t inl[] = { 256, 64, 0 };
	struct ibv_qp *qp = NULL;

	for (size_t i = 0; i < RB_ARRAY_SIZE(inl) && !qp; i++) {
		struct ibv_qp_init_attr a = {
			.send_cq = t->cq,
			.recv_cq = t->cq,
			.qp_type = IBV_QPT_RC,
			.cap = {
				.max_send_wr = IBV_NSEND,
				.max_recv_wr = IBV_NRECV,
				.max_send_sge = 1,
				.max_recv_sge = 1,
				.max_inline_data = inl[i],
			},
		};

		qp = ibv_create_qp(t->pd, &a);
		if (qp)
			t->max_inline = a.cap.max_inline_data;
	}
	return qp;
}

static int ibv_qp_init(struct ibv_tp *t, struct ibv_qp *qp)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.pkey_index = 0,
		.port_num = (uint8_t)t->sel.port,
		.qp_access_flags = IBV_ACCESS_LOCAL_WRITE |
				   IBV_ACCESS_REMOTE_WRITE,
	};

	return ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
					     IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
}

/* QPs of one peer, in INIT with their receive slots posted. */
static int ibv_peer_setup(struct ibv_tp *t, int p)
{
	struct ibv_peer *pe = &t->peers[p];
	int e;

	pe->rank = p;
	pe->qp = calloc((size_t)t->nqp_all, sizeof(*pe->qp));
	pe->sq_used = calloc((size_t)t->nqp_all, sizeof(*pe->sq_used));
	pe->rqpn = calloc((size_t)t->nqp_all, sizeof(*pe->rqpn));
	if (!pe->qp || !pe->sq_used || !pe->rqpn)
		return -RB_ENOMEM;
	if (!ibv_serves(t, p))
		return 0;
	for (int q = 0; q < t->nqp_all; q++) {
		pe->qp[q] = ibv_qp_new(t);
		if (!pe->qp[q]) {
			rb_err("%s: ibv_create_qp on %s:%d for rank %d: %s",
			       t->pub.ops->name, t->sel.dev, t->sel.port, p,
			       strerror(errno));
			return -RB_ESYS;
		}
		e = ibv_qp_init(t, pe->qp[q]);
		if (e) {
			rb_err("%s: QP 0x%x to INIT: %s", t->pub.ops->name,
			       pe->qp[q]->qp_num, strerror(e));
			return -RB_ESYS;
		}
		for (int s = 0; s < IBV_NRECV; s++)
			if (ibv_conn_post_recv(t, p, q, s))
				return -RB_ESYS;
	}
	return 0;
}

int ibv_conn_setup(struct ibv_tp *t)
{
	int n = t->pub.nranks;
	int cqe = n * t->nqp_all * (IBV_NSEND + IBV_NRECV) + 16;
	int rc;

	t->cq = ibv_create_cq(t->ctx, cqe, NULL, NULL, 0);
	if (!t->cq) {
		rb_err("%s: ibv_create_cq(%d) on %s: %s", t->pub.ops->name, cqe,
		       t->sel.dev, strerror(errno));
		return -RB_ESYS;
	}
	t->ctrl_len = (size_t)n * ((size_t)t->nqp_all * IBV_NRECV + IBV_WINDOW) *
		      IBV_SLOT_BYTES;
	if (posix_memalign(&t->ctrl, 4096, t->ctrl_len))
		return -RB_ENOMEM;
	memset(t->ctrl, 0, t->ctrl_len);
	t->ctrl_mr = ibv_reg_mr(t->pd, t->ctrl, t->ctrl_len,
				IBV_ACCESS_LOCAL_WRITE);
	if (!t->ctrl_mr) {
		rb_err("%s: ibv_reg_mr of %zu control bytes: %s (memlock limit? ulimit -l)",
		       t->pub.ops->name, t->ctrl_len, strerror(errno));
		return -RB_ESYS;
	}
	t->peers = calloc((size_t)n, sizeof(*t->peers));
	if (!t->peers)
		return -RB_ENOMEM;
	for (int p = 0; p < n; p++) {
		rc = ibv_peer_setup(t, p);
		if (rc)
			return rc;
	}
	return 0;
}

void ibv_conn_teardown(struct ibv_tp *t)
{
	for (int p = 0; t->peers && p < t->pub.nranks; p++) {
		struct ibv_peer *pe = &t->peers[p];

		for (int q = 0; pe->qp && q < t->nqp_all; q++)
			if (pe->qp[q])
				ibv_destroy_qp(pe->qp[q]);
		free(pe->qp);
		free(pe->sq_used);
		free(pe->rqpn);
	}
	free(t->peers);
	t->peers = NULL;
	if (t->ctrl_mr)
		ibv_dereg_mr(t->ctrl_mr);
	t->ctrl_mr = NULL;
	free(t->ctrl);
	t->ctrl = NULL;
	if (t->cq)
		ibv_destroy_cq(t->cq);
	t->cq = NULL;
}

int ibv_conn_get_addr(struct ibv_tp *t, void *blob, size_t *len_p)
{
	size_t nq = (size_t)t->pub.nranks * (size_t)t->nqp_all;
	size_t need = sizeof(struct ibv_addr) + nq * sizeof(uint32_t);
	struct ibv_addr *a = blob;

	if (need > *len_p) {
		rb_err("%s: address of %zu bytes (%d ranks x %d QPs) exceeds the %zu-byte bootstrap blob; use fewer --qps",
		       t->pub.ops->name, need, t->pub.nranks, t->nqp_all, *len_p);
		return -RB_EINVAL;
	}
	memset(a, 0, need);
	a->magic = IBV_ADDR_MAGIC;
	a->version = IBV_ADDR_VERSION;
	a->link_layer = t->sel.attr.link_layer;
	a->gid_kind = (uint8_t)t->sel.gid_kind;
	a->lid = t->sel.attr.lid;
	a->port = (uint8_t)t->sel.port;
	a->mtu = (uint8_t)t->sel.attr.active_mtu;
	a->nqps = (uint16_t)t->nqps;
	a->nranks = (uint16_t)t->pub.nranks;
	a->psn = t->psn;
	a->gid_index = t->sel.gid_index;
	memcpy(a->gid, t->sel.gid.raw, 16);
	snprintf(a->dev, sizeof(a->dev), "%.31s", t->sel.dev);
	for (int p = 0; p < t->pub.nranks; p++)
		for (int q = 0; q < t->nqp_all; q++)
			if (t->peers[p].qp[q])
				a->qpn[p * t->nqp_all + q] =
					t->peers[p].qp[q]->qp_num;
	*len_p = need;
	return 0;
}

/* Decodes and checks rank p's blob against this rank's settings. */
static int ibv_check_remote(struct ibv_tp *t, int p, const struct ibv_addr *a)
{
	const char *name = t->pub.ops->name;
	const char *host = t->hosts ? t->hosts[p] : "?";
	struct ibv_peer *pe = &t->peers[p];
	union ibv_gid rg;

	if (a->magic != IBV_ADDR_MAGIC || a->version != IBV_ADDR_VERSION ||
	    a->nranks != t->pub.nranks) {
		rb_err("%s: rank %d (%s) published no valid verbs address (different railbench build or transport?)",
		       name, p, host);
		return -RB_EINVAL;
	}
	if (a->nqps != t->nqps) {
		rb_err("%s: rank %d (%s) uses %u QPs per peer, this rank %d (--qps must agree)",
		       name, p, host, a->nqps, t->nqps);
		return -RB_EINVAL;
	}
	if (a->gid_kind != t->sel.gid_kind ||
	    (a->gid_index < 0) != (t->sel.gid_index < 0)) {
		rb_err("%s: rank %d (%s) addresses with %s gid[%d] on %s:%u, this rank with %s gid[%d] on %s:%d: ranks must agree on the GID type (check --gid-index on every node)",
		       name, p, host, ibv_gid_kind_name(a->gid_kind),
		       a->gid_index, a->dev, a->port,
		       ibv_gid_kind_name(t->sel.gid_kind), t->sel.gid_index,
		       t->sel.dev, t->sel.port);
		return -RB_EINVAL;
	}
	/* RoCE v2 routes over UDP/IP: an IPv4-mapped GID cannot reach an
	 * IPv6 one (modify_qp would only say "Invalid argument"). */
	memcpy(rg.raw, a->gid, sizeof(rg.raw));
	if (a->gid_kind == IBV_GID_ROCE_V2 &&
	    ibv_gid_is_v4(&rg) != ibv_gid_is_v4(&t->sel.gid)) {
		char gr[64];
		char gl[64];

		rb_err("%s: rank %d (%s) uses gid[%d] %s, this rank gid[%d] %s: RoCE v2 needs both ends in the same IP family (check --gid-index on every node)",
		       name, p, host, a->gid_index,
		       ibv_gid_str(&rg, gr, sizeof(gr)), t->sel.gid_index,
		       ibv_gid_str(&t->sel.gid, gl, sizeof(gl)));
		return -RB_EINVAL;
	}
	pe->rem.lid = a->lid;
	pe->rem.mtu = a->mtu;
	pe->rem.gid_kind = a->gid_kind;
	pe->rem.gid_index = a->gid_index;
	pe->rem.psn = a->psn;
	pe->rem.port = a->port;
	memcpy(pe->rem.gid.raw, a->gid, 16);
	snprintf(pe->rem.dev, sizeof(pe->rem.dev), "%.31s", a->dev);
	for (int q = 0; q < t->nqp_all; q++)
		pe->rqpn[q] = a->qpn[t->pub.rank * t->nqp_all + q];
	return 0;
}

static int ibv_qp_rtr(struct ibv_tp *t, struct ibv_peer *pe, int q)
{
	enum ibv_mtu mtu = RB_MIN(t->sel.attr.active_mtu,
				  (enum ibv_mtu)pe->rem.mtu);
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTR,
		.path_mtu = mtu,
		.dest_qp_num = pe->rqpn[q],
		.rq_psn = pe->rem.psn & 0xffffff,
		.max_dest_rd_atomic = 1,
		.min_rnr_timer = 12,
		.ah_attr = {
			.dlid = pe->rem.lid,
			.sl = (uint8_t)(t->sl >= 0 ? t->sl : 0),
			.port_num = (uint8_t)t->sel.port,
		},
	};

	if (t->sel.gid_index >= 0) {
		a.ah_attr.is_global = 1;
		a.ah_attr.grh.dgid = pe->rem.gid;
		a.ah_attr.grh.sgid_index = (uint8_t)t->sel.gid_index;
		a.ah_attr.grh.hop_limit = 64;
		a.ah_attr.grh.traffic_class =
			(uint8_t)(t->tclass >= 0 ? t->tclass : 0);
	}
	return ibv_modify_qp(pe->qp[q], &a,
			     IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
				     IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
				     IBV_QP_MAX_DEST_RD_ATOMIC |
				     IBV_QP_MIN_RNR_TIMER);
}

static int ibv_qp_rts(struct ibv_tp *t, struct ibv_peer *pe, int q)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_RTS,
		/* 4.096 us * 2^18 = 1.07 s per try (NCCL's default): under load,
		 * shorter ACK timeouts fire spuriously and go-back-N resends
		 * whole windows */
		.timeout = 18,
		.retry_cnt = 7,
		.rnr_retry = 7,		/* receives are reposted at once */
		.sq_psn = t->psn & 0xffffff,
		.max_rd_atomic = 1,
	};

	return ibv_modify_qp(pe->qp[q], &a,
			     IBV_QP_STATE | IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
				     IBV_QP_RNR_RETRY | IBV_QP_SQ_PSN |
				     IBV_QP_MAX_QP_RD_ATOMIC);
}

int ibv_conn_connect(struct ibv_tp *t, const void *blobs, size_t stride)
{
	char pd[256];
	int rc, e;

	for (int p = 0; p < t->pub.nranks; p++) {
		struct ibv_peer *pe = &t->peers[p];

		if (!ibv_serves(t, p))
			continue;
		rc = ibv_check_remote(t, p, (const struct ibv_addr *)(
					   (const char *)blobs + (size_t)p * stride));
		if (rc)
			return rc;
		for (int q = 0; q < t->nqp_all; q++) {
			e = ibv_qp_rtr(t, pe, q);
			if (!e)
				e = ibv_qp_rts(t, pe, q);
			if (e) {
				ibv_conn_peer_desc(t, p, pd, sizeof(pd));
				rb_err("%s: connecting QP 0x%x to %s: %s",
				       t->pub.ops->name, pe->qp[q]->qp_num, pd,
				       strerror(e));
				return -RB_EPEER;
			}
		}
		pe->last_ns = rb_time_ns();
	}
	return 0;
}

void ibv_conn_peer_desc(struct ibv_tp *t, int p, char *buf, size_t len)
{
	const struct ibv_peer *pe = &t->peers[p];
	char gs[64];

	if (p == t->pub.rank) {
		snprintf(buf, len, "rank %d (self)", p);
	} else if (pe->rem.gid_index >= 0) {
		snprintf(buf, len, "rank %d (%s) %s:%d gid %s qpn 0x%x", p,
			 t->hosts ? t->hosts[p] : "?", pe->rem.dev, pe->rem.port,
			 ibv_gid_str(&pe->rem.gid, gs, sizeof(gs)),
			 pe->rqpn ? pe->rqpn[0] : 0);
	} else {
		snprintf(buf, len, "rank %d (%s) %s:%d lid %u qpn 0x%x", p,
			 t->hosts ? t->hosts[p] : "?", pe->rem.dev, pe->rem.port,
			 pe->rem.lid, pe->rqpn ? pe->rqpn[0] : 0);
	}
}
