/* SPDX-License-Identifier: BSD-3-Clause */
/* The transport interface: one small vtable per fabric (shm, tcp, ibv, mpi,
 * ...). The harness and the schedule executor call only the rb_tp_*
 * wrappers below; no caller ever sees a transport's private state. */
#ifndef RB_TRANSPORTS_TRANSPORT_H
#define RB_TRANSPORTS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "common/rb.h"

#define RB_TP_CAP_DEVICE_MEM (1u << 0)	/* can move GPU memory */
#define RB_TP_CAP_RDMA_WRITE (1u << 1)	/* implements ops->write */
#define RB_TP_CAP_NATIVE_COLL (1u << 2)	/* library collectives (mpi, nccl) */

/* Largest address blob a transport may publish through the bootstrap. */
#define RB_TP_ADDR_MAX 4096

enum rb_mem_kind {
	RB_MEM_HOST,
	RB_MEM_CUDA,
	RB_MEM_NKINDS,
};

/* One command-line option a transport owns (--net-if, --gid-index, ...).
 * bench/opts.c chains every built transport's rows into its table and
 * --help; ids are the transport's own, unique within its rows. */
struct rb_tp_opt {
	const char *name;	/* kebab-case long option */
	int id;
	int has_arg;
	const char *metavar;
	const char *help;	/* starts with the transports it concerns */
};

/* What a transport is opened with. Filled by the harness after bootstrap;
 * every array stays valid until the transport is closed. */
struct rb_tp_args {
	const char *spec;	/* the --transport value ("shm", "shm+tcp") */
	int rank;
	int nranks;
	int local_rank;		/* index among ranks on the same node */
	int local_nranks;
	const char *host;	/* this rank's host name, for messages */
	const char *const *hosts; /* every rank's host name, [nranks] */
	const int *node_of;	/* node index of every rank, [nranks] */
	const int *local_rank_of; /* local rank of every rank, [nranks] */
	/* The peers this transport serves: serve[r] != 0. NULL: every peer.
	 * A transport creates connections, queue pairs or FIFOs for served
	 * peers only, and the relation is symmetric (r serves q iff q serves
	 * r). Posting to a peer it does not serve is -RB_EINVAL. */
	const unsigned char *serve;
	int64_t timeout_ms;	/* --timeout: bound on every blocking wait */
	/* The job's secret, RB_SECRET_BYTES, drawn by rank 0 and sent to all
	 * through the bootstrap: a listener accepts only peers that present
	 * it. NULL: the caller has none (a transport that listens refuses
	 * to open). */
	const unsigned char *job_secret;
	/* From topo/ when --rails auto: this rank's rail NIC, or NULL. */
	const char *rail_netdev;	/* IP interface, e.g. "ens1f0" */
	const char *rail_ibdev;		/* verbs device, e.g. "mlx5_3" */
	int rail;			/* rail index, -1 if unknown */
};

/* \return 1 when a transport opened with a serves peer (never itself). */
static inline int rb_tp_args_serves(const struct rb_tp_args *a, int peer)
{
	return peer >= 0 && peer < a->nranks && peer != a->rank &&
	       (!a->serve || a->serve[peer]);
}

/* Public part of an open transport; private state embeds it first and is
 * recovered with rb_container_of. open() fills every member (ops too). */
struct rb_tp {
	const struct rb_tp_ops *ops;
	int rank;
	int nranks;
	int64_t timeout_ms;
	/* One line for the preamble and results metadata, set by open():
	 * e.g. "rail0 10.200.0.1" or "mlx5_0:1 RoCEv2 gid[3] 100 Gb/s". */
	char desc[256];
	/* The rail this rank's traffic leaves on, as the transport chose it
	 * (its --net-if entry, its --rails auto NIC), -1 unknown or none. */
	int rail;
	/* The device that traffic leaves by, as the OS names it ("rail0",
	 * "mlx5_0:1"; a composition: its inter-node child's), "" unknown. */
	char nic[64];
	/* That device's line rate in Gb/s as the system reports it (sysfs
	 * speed; verbs active_speed x active_width), 0 when unknown or the
	 * device is virtual (veth, bridge, loopback). */
	double line_gbps;
};

/* A registered buffer. Transports may embed it in a larger struct. */
struct rb_tp_mr {
	void *buf;
	size_t len;
	enum rb_mem_kind kind;
};

/* A non-blocking request. Storage belongs to the caller and must stay put
 * until done is set; the transport fills the private words. */
struct rb_tp_req {
	int done;	/* set to 1 by progress() when complete */
	int status;	/* 0 or -RB_E* once done */
	int peer;
	size_t len;
	void *priv[4];	/* transport-private */
	uint64_t upriv[4];
};

/* Arguments of a library collective (RB_TP_CAP_NATIVE_COLL). count is the
 * per-rank element count the library call takes: all-reduce: elements in and
 * out; all-gather: elements each rank contributes; all-to-all: elements per
 * peer. sendbuf == recvbuf (all-reduce) or sendbuf == NULL (all-gather,
 * all-to-all) means in place. */
struct rb_tp_coll {
	enum rb_coll_kind kind;
	const void *sendbuf;
	void *recvbuf;
	size_t count;
	enum rb_dtype dtype;
	enum rb_redop op;
};

/*
 * The vtable. Mandatory members are never NULL; optional ones may be, and
 * their wrappers then return -RB_ENOTSUP. Messages between one pair of ranks
 * are delivered in post order: the k-th irecv from peer p matches the k-th
 * isend to this rank from p, and their lengths must be equal.
 */
struct rb_tp_ops {
	const char *name;
	const char *summary;	/* one line for --help */
	unsigned caps;
	/* Optional: the options it owns, ending with a row whose name is
	 * NULL, and their parser, called once per occurrence in argv (before
	 * any transport is opened); \return 0, or -RB_EINVAL after writing
	 * "--qps '0': expected an integer in 1..16" into why. */
	const struct rb_tp_opt *options;
	int (*parse_opt)(int id, const char *arg, char *why, size_t len);
	/* 0 if usable here, else -RB_ENOTSUP with a reason in why. */
	int (*probe)(const struct rb_tp_args *args, char *why, size_t len);
	/* Optional: 1 if it can connect this rank to peer, 0 if not (shm: a
	 * rank on another node). NULL: it reaches every peer. */
	int (*reach)(const struct rb_tp_args *args, int peer);
	int (*open)(const struct rb_tp_args *args, struct rb_tp **tp_p);
	/* Writes at most *len_p bytes to blob, sets *len_p to the used size. */
	int (*get_addr)(struct rb_tp *tp, void *blob, size_t *len_p);
	/* blobs holds every rank's address, rank r at blobs + r * stride. */
	int (*connect)(struct rb_tp *tp, const void *blobs, size_t stride);
	/* Optional: called after all ranks connected (barrier in between). */
	int (*post_connect)(struct rb_tp *tp);
	int (*mem_reg)(struct rb_tp *tp, void *buf, size_t len,
		       enum rb_mem_kind kind, struct rb_tp_mr **mr_p);
	void (*mem_dereg)(struct rb_tp *tp, struct rb_tp_mr *mr);
	int (*isend)(struct rb_tp *tp, int peer, struct rb_tp_mr *mr, size_t off,
		     size_t len, struct rb_tp_req *req);
	int (*irecv)(struct rb_tp *tp, int peer, struct rb_tp_mr *mr, size_t off,
		     size_t len, struct rb_tp_req *req);
	/* Optional: a receive that combines the data as it arrives:
	 * mr+off = seed op incoming, element-wise in dtype, seed a host
	 * pointer to len bytes (it may be mr+off itself) read only while the
	 * request is pending. Ordered with irecv. -RB_ENOTSUP when this
	 * transport or this peer's link cannot: the caller then receives into
	 * scratch and reduces (rb_reduce_to). */
	int (*irecv_reduce)(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
			    size_t off, size_t len, const void *seed,
			    enum rb_dtype dtype, enum rb_redop op,
			    struct rb_tp_req *req);
	/* Optional one-sided write; same ordering as isend. */
	int (*write)(struct rb_tp *tp, int peer, struct rb_tp_mr *mr, size_t off,
		     size_t len, uint64_t raddr, uint32_t rkey,
		     struct rb_tp_req *req);
	/* Drives requests; may block up to timeout_ns waiting for events.
	 * \return 0, or -RB_EPEER after logging which peer/link failed. */
	int (*progress)(struct rb_tp *tp, int64_t timeout_ns);
	/* Optional: describe the link to peer ("rail0 10.200.0.2:40001"). */
	void (*peer_desc)(struct rb_tp *tp, int peer, char *buf, size_t len);
	/* Optional: library collective, blocking (NATIVE_COLL). */
	int (*coll)(struct rb_tp *tp, const struct rb_tp_coll *c);
	/* Optional: library barrier (NATIVE_COLL). */
	int (*barrier)(struct rb_tp *tp);
	/* NULL-safe; releases everything. */
	void (*close)(struct rb_tp *tp);
};

/* Registry (registry.c): every transport built into this binary. */

/* \return the transport named name, or NULL. */
const struct rb_tp_ops *rb_tp_find(const char *name);
/* \return the i-th built transport, NULL past the end. */
const struct rb_tp_ops *rb_tp_at(int i);
/* Writes "shm, mpi, tcp" into buf. \return buf. */
const char *rb_tp_list(char *buf, size_t len);

/* \return 1 if ops can connect this rank (args) to peer. */
static inline int rb_tp_reach(const struct rb_tp_ops *ops,
			      const struct rb_tp_args *args, int peer)
{
	return !ops->reach || ops->reach(args, peer);
}

/* Command-line options of every built transport (registry.c), rows shared
 * by several transports (ib, roce) listed once. \return row i, NULL past
 * the end. */
const struct rb_tp_opt *rb_tp_opt_at(int i);
/* Hands row i's value to its transport's parser. \return its result. */
int rb_tp_opt_parse(int i, const char *arg, char *why, size_t len);

/* The links composition (route.c): one rb_tp whose peers are each served
 * by one of several child transports. --transport A+B opens A for the
 * peers on this rank's node and B for the others. */
extern const struct rb_tp_ops rb_route_ops;
/* Wraps children that are already open and connected: peer p is served
 * by children[child_of[p]] (child_of[rank] is ignored). Takes ownership
 * of the children (closed by close, also on failure). hosts may be NULL.
 * \return 0, -RB_EINVAL or -RB_ENOMEM. */
int rb_route_wrap(int rank, int nranks, int64_t timeout_ms,
		  struct rb_tp *const *children, int nchildren,
		  const int *child_of, const char *const *hosts,
		  struct rb_tp **tp_p);

/* Wrappers: the only way callers reach a transport. */
static inline int rb_tp_isend(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
			      size_t off, size_t len, struct rb_tp_req *req)
{
	return tp->ops->isend(tp, peer, mr, off, len, req);
}

static inline int rb_tp_irecv(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
			      size_t off, size_t len, struct rb_tp_req *req)
{
	return tp->ops->irecv(tp, peer, mr, off, len, req);
}

static inline int rb_tp_irecv_reduce(struct rb_tp *tp, int peer,
				     struct rb_tp_mr *mr, size_t off,
				     size_t len, const void *seed,
				     enum rb_dtype dtype, enum rb_redop op,
				     struct rb_tp_req *req)
{
	if (!tp->ops->irecv_reduce)
		return -RB_ENOTSUP;
	return tp->ops->irecv_reduce(tp, peer, mr, off, len, seed, dtype, op,
				     req);
}

static inline int rb_tp_write(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
			      size_t off, size_t len, uint64_t raddr,
			      uint32_t rkey, struct rb_tp_req *req)
{
	if (!tp->ops->write)
		return -RB_ENOTSUP;
	return tp->ops->write(tp, peer, mr, off, len, raddr, rkey, req);
}

static inline int rb_tp_get_addr(struct rb_tp *tp, void *blob, size_t *len_p)
{
	return tp->ops->get_addr(tp, blob, len_p);
}

static inline int rb_tp_connect(struct rb_tp *tp, const void *blobs,
				size_t stride)
{
	return tp->ops->connect(tp, blobs, stride);
}

/* 0 when the transport has nothing to do after the connect barrier. */
static inline int rb_tp_post_connect(struct rb_tp *tp)
{
	return tp->ops->post_connect ? tp->ops->post_connect(tp) : 0;
}

static inline int rb_tp_progress(struct rb_tp *tp, int64_t timeout_ns)
{
	return tp->ops->progress(tp, timeout_ns);
}

static inline int rb_tp_mem_reg(struct rb_tp *tp, void *buf, size_t len,
				enum rb_mem_kind kind, struct rb_tp_mr **mr_p)
{
	return tp->ops->mem_reg(tp, buf, len, kind, mr_p);
}

static inline void rb_tp_mem_dereg(struct rb_tp *tp, struct rb_tp_mr *mr)
{
	if (mr)
		tp->ops->mem_dereg(tp, mr);
}

static inline int rb_tp_coll(struct rb_tp *tp, const struct rb_tp_coll *c)
{
	if (!tp->ops->coll)
		return -RB_ENOTSUP;
	return tp->ops->coll(tp, c);
}

static inline int rb_tp_barrier(struct rb_tp *tp)
{
	if (!tp->ops->barrier)
		return -RB_ENOTSUP;
	return tp->ops->barrier(tp);
}

static inline void rb_tp_peer_desc(struct rb_tp *tp, int peer, char *buf,
				   size_t len)
{
	if (tp->ops->peer_desc) {
		tp->ops->peer_desc(tp, peer, buf, len);
	} else if (len) {
		buf[0] = '\0';
	}
}

static inline void rb_tp_close(struct rb_tp *tp)
{
	if (tp)
		tp->ops->close(tp);
}

/* Registration for transports that need no pinning (shm, tcp, mpi): records
 * buf, len and kind in a new rb_tp_mr. \return 0 or -RB_ENOMEM. */
int rb_tp_mr_plain_new(void *buf, size_t len, enum rb_mem_kind kind,
		       struct rb_tp_mr **mr_p);
/* Frees an rb_tp_mr from rb_tp_mr_plain_new; fits ops->mem_dereg. */
void rb_tp_mr_plain_dereg(struct rb_tp *tp, struct rb_tp_mr *mr);

/* Memory kinds (mem_host.c, mem_cuda.c): allocation of benchmark buffers. */
struct rb_mem_ops {
	const char *name;
	int (*alloc)(size_t len, void **buf_p);
	void (*free)(void *buf);
	int (*copy_to_host)(void *dst, const void *src, size_t len);
	int (*copy_from_host)(void *dst, const void *src, size_t len);
};
/* \return the ops of kind, or NULL when that kind is not built. */
const struct rb_mem_ops *rb_mem_find(enum rb_mem_kind kind);

#endif
