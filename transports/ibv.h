/* SPDX-License-Identifier: BSD-3-Clause */
/* Private state of the verbs transports (ib, roce), shared by ibv.c (data
 * path), ibv_conn.c (queue pairs, address blobs) and ibv_dev.c (device,
 * port and GID selection). Nothing outside transports/ibv*.c includes it. */
#ifndef RB_TRANSPORTS_IBV_H
#define RB_TRANSPORTS_IBV_H

#include <infiniband/verbs.h>

#include "transports/transport.h"

/* Receiver window: at most this many advertised receives per peer and
 * direction. It bounds every queue, so no side can overrun the other. */
#define IBV_WINDOW 64
/* Receive WQEs per QP: up to IBV_WINDOW clear-to-send messages plus up to
 * IBV_WINDOW data arrivals (one immediate per QP per message). */
#define IBV_NRECV (2 * IBV_WINDOW)
/* Send WQEs per QP: control and data, with slack for unpolled completions. */
#define IBV_NSEND (4 * IBV_WINDOW)
#define IBV_SLOT_BYTES 64	/* one control message slot */
/* A message is striped over several QPs only when each stripe gets this. */
#define IBV_STRIPE_MIN (64 * 1024)

/* Which fabric a transport instance drives. */
enum ibv_flavor {
	IBV_FLAVOR_IB,
	IBV_FLAVOR_ROCE,
};

/* The GID kinds that must match between ranks. */
enum ibv_gid_kind {
	IBV_GID_IB,
	IBV_GID_ROCE_V1,
	IBV_GID_ROCE_V2,
};

/* Clear-to-send: the receiver's k-th receive buffer from this peer. */
struct ibv_cts {
	uint32_t seq;
	uint32_t rkey;
	uint64_t addr;
	uint64_t len;
};

/* Chosen device, port and address of this rank. */
struct ibv_port_sel {
	char dev[64];
	int port;
	struct ibv_port_attr attr;
	int gid_index;		/* -1 on IB without GRH */
	enum ibv_gid_kind gid_kind;
	union ibv_gid gid;
	char netdev[32];	/* RoCE: netdev behind the GID, or "" */
	double rate_gbps;	/* width x lane rate */
	int width;		/* lanes */
	double lane_gbps;
};

/* What rank r published (decoded from its blob). */
struct ibv_remote {
	uint16_t lid;
	uint8_t mtu;		/* enum ibv_mtu */
	uint8_t gid_kind;
	int gid_index;
	uint32_t psn;
	union ibv_gid gid;
	char dev[32];
	int port;
};

/* One connected peer. seq numbers count messages in one direction.
 * QPs 0..nqps-1 carry data; QP nqps carries clear-to-send messages only, so
 * that they never wait behind megabytes of writes to the same peer. */
struct ibv_peer {
	int rank;
	struct ibv_qp **qp;		/* [nqp_all] */
	int *sq_used;			/* [nqp_all] posted, not yet completed */
	uint32_t *rqpn;			/* [nqp_all] remote QP numbers */
	struct ibv_remote rem;
	int failed;
	uint64_t last_ns;		/* last sign of life or post while idle */
	int pending;			/* requests not yet done */
	/* receive side */
	uint32_t recv_seq;		/* next irecv sequence number */
	uint32_t cts_seq;		/* next CTS to send */
	struct rb_tp_req *rq_head, *rq_tail;	/* posted, not advertised */
	struct rb_tp_req *rslot[IBV_WINDOW];	/* advertised, by seq */
	/* send side */
	uint32_t send_seq;		/* next isend sequence number */
	uint32_t issue_seq;		/* next isend to put on the wire */
	struct rb_tp_req *sq_head, *sq_tail;	/* waiting for their CTS */
	struct rb_tp_req *sslot[IBV_WINDOW];	/* on the wire, by seq */
	struct ibv_cts cts[IBV_WINDOW];		/* received, by seq */
	uint8_t cts_valid[IBV_WINDOW];
};

/* A registered buffer. */
struct ibv_mr_h {
	struct rb_tp_mr pub;
	struct ibv_mr *mr;
};

/* The verbs options (--ib-dev, --gid-index, --tclass, --sl, --qps), shared
 * by ib and roce, set by their parse_opt before any transport is opened. */
struct ibv_cfg {
	const char *ib_dev;	/* DEV[:PORT], NULL = automatic */
	int gid_index;		/* -1 = automatic */
	int tclass;		/* -1 = default */
	int sl;			/* -1 = default */
	int qps;		/* data QPs per peer */
};
extern struct ibv_cfg rb_ibv_cfg;

struct ibv_tp {
	struct rb_tp pub;
	const unsigned char *serve;	/* peer set (rb_tp_args), may be NULL */
	enum ibv_flavor flavor;
	const char *host;
	const char *const *hosts;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_port_sel sel;
	uint64_t max_msg;		/* port max_msg_sz */
	int nqps;			/* data QPs per peer */
	int nqp_all;			/* nqps + the control QP */
	uint32_t max_inline;
	int tclass;
	int sl;
	uint32_t psn;
	/* control slots: per peer, nqps * IBV_NRECV receive slots then
	 * IBV_WINDOW send slots, IBV_SLOT_BYTES each */
	void *ctrl;
	size_t ctrl_len;
	struct ibv_mr *ctrl_mr;
	struct ibv_peer *peers;		/* [nranks]; peers[rank] unused */
	/* messages to self: matched locally */
	struct rb_tp_req *self_sq_head, *self_sq_tail;
	struct rb_tp_req *self_rq_head, *self_rq_tail;
	uint64_t next_check_ns;
};

extern const struct rb_tp_ops rb_ib_ops;
extern const struct rb_tp_ops rb_roce_ops;

/* \return 1 when this rank has queue pairs to peer p (not itself). */
static inline int ibv_serves(const struct ibv_tp *t, int p)
{
	return p != t->pub.rank && (!t->serve || t->serve[p]);
}

/* wr_id tags (low 2 bits). */
#define IBV_WR_RECV 0u
#define IBV_WR_DATA 1u
#define IBV_WR_CTS 2u

/* ---- ibv_dev.c ---- */

/* Selects device, port and (RoCE) GID per opts/rail and opens the device.
 * \return 0 with *ctx_p and sel filled, or -RB_EINVAL after logging one line
 * that lists what was found. */
int ibv_dev_open(enum ibv_flavor fl, const struct rb_tp_args *args,
		 struct ibv_context **ctx_p, struct ibv_port_sel *sel);

/* Same search without keeping anything open. \return 0 or -RB_ENOTSUP with
 * the reason in why. */
int ibv_dev_probe(enum ibv_flavor fl, const struct rb_tp_args *args,
		  char *why, size_t len);

/* Writes "rxe0:1 RoCEv2 gid[1] ::ffff:192.0.2.1 dummy0 ..." into buf. */
void ibv_dev_desc(const struct ibv_port_sel *sel, int nqps, char *buf,
		  size_t len);

/* \return a printable name of a GID kind. */
const char *ibv_gid_kind_name(enum ibv_gid_kind k);

/* \return 1 when gid is IPv4-mapped (::ffff:a.b.c.d), else 0. */
int ibv_gid_is_v4(const union ibv_gid *gid);

/* Formats a GID as an IPv6 address. buf holds >= 46 bytes. \return buf. */
const char *ibv_gid_str(const union ibv_gid *gid, char *buf, size_t len);

/* ---- ibv_conn.c ---- */

/* Creates CQ and QPs for every peer and registers the control slots. */
int ibv_conn_setup(struct ibv_tp *t);
/* Fills the address blob. */
int ibv_conn_get_addr(struct ibv_tp *t, void *blob, size_t *len_p);
/* Checks every peer's blob and brings its QPs to RTS. */
int ibv_conn_connect(struct ibv_tp *t, const void *blobs, size_t stride);
/* Releases QPs, CQ, control slots (NULL-safe, idempotent). */
void ibv_conn_teardown(struct ibv_tp *t);
/* Posts receive slot `slot` of QP qi of peer p. */
int ibv_conn_post_recv(struct ibv_tp *t, int p, int qi, int slot);
/* Describes peer p ("rank 1 (host) rxe0:1 gid ... qpn 0x12"). */
void ibv_conn_peer_desc(struct ibv_tp *t, int p, char *buf, size_t len);
/* \return the address of control slot `slot` of QP qi of peer p, or of its
 * send slot when qi < 0. */
void *ibv_conn_slot(struct ibv_tp *t, int p, int qi, int slot);

#endif
