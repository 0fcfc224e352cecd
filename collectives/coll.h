/* SPDX-License-Identifier: BSD-3-Clause */
/* Collectives: descriptors (sizing, bandwidth factor, verifiable data),
 * algorithms that emit per-rank schedules, and the executor that runs a
 * schedule over any transport. Algorithms are pure functions of their
 * arguments, so each one is unit-tested in one process with no network. */
#ifndef RB_COLLECTIVES_COLL_H
#define RB_COLLECTIVES_COLL_H

#include <stddef.h>
#include <stdint.h>

#include "common/rb.h"
#include "transports/transport.h"

/* ---- descriptors (coll.c) ---------------------------------------------- */

/* Which bytes a run of `count` elements moves (docs/busbw.md).
 * count is the *table* count: the number of elements of the larger of the
 * send and receive buffers, as nccl-tests prints it. It must be a multiple
 * of nranks for all-gather and all-to-all. */
struct rb_coll_sizes {
	size_t send_count;	/* elements in the send buffer */
	size_t recv_count;	/* elements in the receive buffer */
	size_t param_count;	/* count passed to a library call (rb_tp_coll) */
	size_t inplace_off;	/* element offset of the in-place send buffer in recv */
};

struct rb_coll_desc {
	enum rb_coll_kind kind;
	const char *name;	/* "allreduce", "allgather", "alltoall" */
	int has_op;		/* prints redop column */
	/* Elements per rank a valid table count must be a multiple of. */
	size_t (*count_align)(int nranks);
	void (*sizes)(size_t count, int rank, int nranks,
		      struct rb_coll_sizes *s);
	/* busbw = algbw * factor (docs/busbw.md). */
	double (*busbw_factor)(int nranks);
};

/* \return the descriptor of kind (never NULL for a valid kind). */
const struct rb_coll_desc *rb_coll_desc_get(enum rb_coll_kind kind);

/* Fill rank's input of `count` table elements (send_count elements) with
 * values whose reduction by op over nranks ranks is exact in dtype, for
 * nranks up to at least 1024. seed varies the pattern between sizes. */
void rb_coll_fill_input(enum rb_coll_kind kind, void *buf, size_t count,
			enum rb_dtype dtype, enum rb_redop op, int rank,
			int nranks, uint64_t seed);

/* Fill what rank must find in its receive buffer (recv_count elements),
 * computed independently of any algorithm. */
void rb_coll_fill_expected(enum rb_coll_kind kind, void *buf, size_t count,
			   enum rb_dtype dtype, enum rb_redop op, int rank,
			   int nranks, uint64_t seed);

/* \return how many of n elements differ between got and want (exact
 * comparison; NaNs never appear in generated data). */
size_t rb_coll_count_wrong(const void *got, const void *want, size_t n,
			   enum rb_dtype dtype);

/* The reduction kernels (rb_reduce, rb_reduce_to) and the binary16 and
 * bfloat16 conversions are in common/rb.h: transports use them too. */

/* ---- schedules (sched.c) ----------------------------------------------- */

/* Buffers a schedule refers to. SEND is the user's input; when in_place it
 * aliases RECV + inplace_off (the executor resolves that). TMP is scratch
 * owned by the executor, sched.tmp_bytes long. */
enum rb_buf {
	RB_BUF_SEND,
	RB_BUF_RECV,
	RB_BUF_TMP,
	RB_NBUFS,
};

enum rb_step_op {
	RB_STEP_SEND,	/* post isend(peer, buf+off, len) */
	RB_STEP_RECV,	/* post irecv(peer, buf+off, len) */
	RB_STEP_WAIT,	/* wait until step `dep` (or every posted step if -1) is done */
	RB_STEP_REDUCE,	/* buf+off op= src_buf+src_off, len bytes */
	RB_STEP_COPY,	/* buf+off = src_buf+src_off, len bytes */
	/* post a receive of len bytes from peer that ends with
	 * buf+off = src_buf+src_off op incoming (the source may be the
	 * destination). A transport that can combines the data as it arrives
	 * (shm: straight out of its FIFO); otherwise the executor receives
	 * into TMP+tmp_off and reduces when the receive is waited for. */
	RB_STEP_RECV_REDUCE,
};

struct rb_step {
	enum rb_step_op op;
	int peer;
	enum rb_buf buf;
	size_t off;
	enum rb_buf src_buf;
	size_t src_off;
	size_t len;	/* bytes */
	int dep;	/* WAIT: index of the step waited for, -1 = all */
	size_t tmp_off;	/* RECV_REDUCE: TMP staging when combined late */
};

struct rb_sched {
	struct rb_step *steps;
	int nsteps;
	int cap;
	size_t tmp_bytes;
};

/* Appenders return the new step's index, or -RB_ENOMEM. */
int rb_sched_send(struct rb_sched *s, int peer, enum rb_buf buf, size_t off,
		  size_t len);
int rb_sched_recv(struct rb_sched *s, int peer, enum rb_buf buf, size_t off,
		  size_t len);
int rb_sched_wait(struct rb_sched *s, int dep);
int rb_sched_reduce(struct rb_sched *s, enum rb_buf dst, size_t dst_off,
		    enum rb_buf src, size_t src_off, size_t len);
int rb_sched_copy(struct rb_sched *s, enum rb_buf dst, size_t dst_off,
		  enum rb_buf src, size_t src_off, size_t len);
/* RB_STEP_RECV_REDUCE: dst+dst_off = src+src_off op (len bytes from peer),
 * staged at TMP+tmp_off where the transport cannot combine on arrival.
 * Wait for the returned step before reading or sending dst. */
int rb_sched_recv_reduce(struct rb_sched *s, int peer, enum rb_buf dst,
			 size_t dst_off, enum rb_buf src, size_t src_off,
			 size_t tmp_off, size_t len);
/* Ensures tmp_bytes >= bytes. */
void rb_sched_need_tmp(struct rb_sched *s, size_t bytes);
void rb_sched_reset(struct rb_sched *s);
void rb_sched_free(struct rb_sched *s);

/* ---- algorithms (one file each) ---------------------------------------- */

/* Where every rank of the job sits, gathered by the harness after the
 * bootstrap (docs/algorithms.md "Groups"). Nodes are numbered in order of
 * their lowest rank; local ranks count the ranks of one node in rank order.
 * rail_of is the rail each rank's inter-node traffic leaves on (its
 * --net-if entry or its --rails auto NIC), -1 where unknown. */
struct rb_coll_topo {
	int nnodes;
	const int *node_of;		/* [nranks] */
	const int *local_rank_of;	/* [nranks] */
	const int *rail_of;		/* [nranks] */
};

struct rb_coll_args {
	enum rb_coll_kind kind;
	int rank;
	int nranks;
	size_t count;		/* table count, see struct rb_coll_sizes */
	enum rb_dtype dtype;
	enum rb_redop op;
	int in_place;
	size_t chunk_bytes;	/* pipeline chunk, 0 = algorithm default */
	/* NULL: one node holds every rank, rails unknown. */
	const struct rb_coll_topo *topo;
};

/* Link classes of the cost model (docs/model.md). */
enum rb_link_class {
	RB_LINK_INTRA,	/* between ranks of one node */
	RB_LINK_INTER,	/* between nodes, per rail */
	RB_NLINK_CLASSES,
};

/* The alpha-beta cost of one execution (docs/model.md): per link class c,
 * t = sum_c steps[c] x alpha_c + bytes[c] / beta_c, where steps are the
 * dependent message steps on a rank's critical path and bytes what one
 * link carries over them (for a table size of S bytes). */
struct rb_coll_cost {
	double steps[RB_NLINK_CLASSES];
	double bytes[RB_NLINK_CLASSES];
};

/* The job's shape for a cost model: n ranks on nnodes nodes, per_node
 * (n / nnodes) each. */
struct rb_coll_shape {
	int nranks;
	int nnodes;
	int per_node;
};

/* \return the shape of a's job (one node when a->topo is NULL). */
struct rb_coll_shape rb_coll_shape_of(const struct rb_coll_args *a);

/* The cost of a flat algorithm: every step on the slowest link of the
 * job, inter-node when it spans nodes, else intra-node. */
void rb_coll_cost_flat(const struct rb_coll_shape *sh, double steps,
		       double bytes, struct rb_coll_cost *c);

struct rb_coll_algo {
	const char *name;	/* "ring", "rd", "pairwise", "hier", ... */
	enum rb_coll_kind kind;
	/* The algorithm's own cost form for a table size of bytes S (bytes
	 * per link as multiples of S, docs/model.md). */
	void (*cost)(const struct rb_coll_shape *sh, double bytes,
		     struct rb_coll_cost *c);
	/* \return 1 if it can run these arguments; 0 after writing the
	 * reason into why ("ranks per node differ: node1 has 3, node0 2"). */
	int (*supports)(const struct rb_coll_args *a, char *why, size_t len);
	/* Appends rank a->rank's schedule to s (s is reset by the caller).
	 * \return 0 or -RB_E*. */
	int (*build)(const struct rb_coll_args *a, struct rb_sched *s);
};

/* \return 1 when a fits kind (kind matches, at least one rank, count a
 * multiple of the descriptor's count_align); 0 after writing the reason
 * into why ("count 10 is not a multiple of 4 ranks"). For supports(). */
int rb_coll_args_fit(const struct rb_coll_args *a, enum rb_coll_kind kind,
		     char *why, size_t len);

/* \return the algorithm named name for kind, or NULL. "auto" picks by size
 * and topology (docs/algorithms.md "Automatic choice"). */
const struct rb_coll_algo *rb_coll_algo_find(enum rb_coll_kind kind,
					     const char *name,
					     const struct rb_coll_args *a);
/* Why "auto" does not pick hier for a (one line, e.g. "one node"), or ""
 * when it does. \return buf. */
const char *rb_coll_auto_why(const struct rb_coll_args *a, char *buf,
			     size_t len);

/* Zero-byte dissemination barrier among all nranks (barrier.c): appends
 * rank's schedule to s (reset by the caller). Buffers: RECV, 0 bytes.
 * \return 0 or -RB_ENOMEM. */
int rb_coll_barrier_build(int rank, int nranks, struct rb_sched *s);
/* Writes the names valid for kind ("auto, ring, rd") into buf. */
const char *rb_coll_algo_list(enum rb_coll_kind kind, char *buf, size_t len);

/* Builds rank's schedule: finds the algorithm, resets s, calls build.
 * \return 0, -RB_EINVAL (unknown or unsupported algorithm, logged). */
int rb_coll_sched_build(const char *algo, const struct rb_coll_args *a,
			struct rb_sched *s);

/* ---- groups, spans and ring phases (ring.c) ---------------------------- */

/* An ordered set of ranks that runs one phase of a collective among
 * itself (docs/algorithms.md "Groups and spans"). Members are numbered
 * 0 .. n-1 in ring order: member i sends to i + 1 and receives from i - 1. */
struct rb_coll_group {
	const int *ranks;	/* [n] job rank of each member; NULL: 0 .. n-1 */
	int n;
	int me;			/* this rank's member index */
};

/* A contiguous range of elements of RECV; where SEND is a phase's input it
 * has the same layout (all-reduce). */
struct rb_coll_span {
	size_t off;	/* first element */
	size_t count;	/* elements */
};

/* What every ring phase needs besides its data. Phases may use TMP from
 * offset 0 (they size it with rb_sched_need_tmp). */
struct rb_coll_phase {
	struct rb_sched *s;
	const struct rb_coll_group *g;
	size_t esz;		/* bytes per element */
	size_t chunk_bytes;	/* pipeline chunk, 0 = 512 KiB */
};

/* The group of all a->nranks ranks in rank order. */
struct rb_coll_group rb_coll_group_all(const struct rb_coll_args *a);
/* A phase over g appending to s, with a's element size and chunk. */
struct rb_coll_phase rb_coll_phase_of(const struct rb_coll_args *a,
				      struct rb_sched *s,
				      const struct rb_coll_group *g);

/* Segment k of sp cut into n parts, the first sp.count % n of them one
 * element longer (parts are empty when sp.count < n). */
struct rb_coll_span rb_coll_span_part(struct rb_coll_span sp, int n, int k);

/*
 * Every phase builder appends this rank's steps to ph->s, and when they are
 * done nothing the phase posted is still in flight (the phase ends with
 * WAIT(-1) when it posted anything), so phases compose by concatenation.
 * \return 0 or -RB_ENOMEM.
 */

/* Reduce-scatter of sp cut into g->n segments: afterwards member i holds
 * segment (i + 1) % n of RECV reduced over the group. The input is in
 * buffer in (RB_BUF_SEND or RB_BUF_RECV, same offsets); SEND is never
 * written. Other segments of RECV hold partial results afterwards. */
int rb_coll_ring_reduce_scatter(const struct rb_coll_phase *ph,
				enum rb_buf in, struct rb_coll_span sp);

/* All-gather of sp cut into g->n segments, member i owning segment
 * (i + shift) % n in RECV: afterwards every member holds all of sp. */
int rb_coll_ring_all_gather(const struct rb_coll_phase *ph,
			    struct rb_coll_span sp, int shift);

/* reduce_scatter then all_gather (shift 1) of sp, with the last
 * reduce-scatter step's sends doubling as the all-gather's first, so
 * every chunk is forwarded as soon as it is reduced. */
int rb_coll_ring_all_reduce(const struct rb_coll_phase *ph, enum rb_buf in,
			    struct rb_coll_span sp);

/* All-gather of equal blocks of blk_count elements that need not be
 * contiguous: member k owns the nblk blocks blk[k * nblk + j] (j < nblk),
 * block b lying at element b * blk_count of RECV (blk NULL: block b is
 * k * nblk + j). Afterwards every member holds all n * nblk blocks. */
int rb_coll_ring_gather_blocks(const struct rb_coll_phase *ph, const int *blk,
			       int nblk, size_t blk_count);

/* ---- placement grid for hierarchical algorithms (grid.c) --------------- */

/* A job of N nodes with the same number L of ranks on each: the rank of
 * local rank l on node m is by_node[m * L + l] = by_local[l * N + m]. */
struct rb_coll_grid {
	int nnodes;	/* N */
	int per_node;	/* L */
	int node;	/* this rank's node */
	int local;	/* this rank's local rank */
	int *by_node;	/* [N * L] node-major */
	int *by_local;	/* [L * N] local-rank-major */
};

/* Builds the grid of a (a->topo NULL: one node). \return 0; -RB_EINVAL
 * after writing the reason into why (uneven ranks per node: "ranks per
 * node differ: node 1 has 3, node 0 has 2", or an inconsistent topology);
 * -RB_ENOMEM. */
int rb_coll_grid_init(const struct rb_coll_args *a, struct rb_coll_grid *g,
		      char *why, size_t len);
/* rb_coll_grid_init for a hier build(): logs the reason on failure. */
int rb_coll_hier_grid(const struct rb_coll_args *a, struct rb_coll_grid *g);
/* NULL-safe; frees the tables and resets them. */
void rb_coll_grid_fini(struct rb_coll_grid *g);

/* The ranks of this rank's node in local-rank order. */
struct rb_coll_group rb_coll_grid_node(const struct rb_coll_grid *g);
/* The ranks with this rank's local rank, in node order: one per node, the
 * ranks whose inter-node traffic shares a rail in a rail-optimized
 * cluster. */
struct rb_coll_group rb_coll_grid_rail(const struct rb_coll_grid *g);

/* \return 1 when every rank's rail is known and, for each local rank l,
 * the rank l of every node is on the same rail; 0 after writing why. */
int rb_coll_grid_rails_ok(const struct rb_coll_grid *g,
			  const struct rb_coll_topo *t, char *why,
			  size_t len);

/* supports() of every hier algorithm: rb_coll_args_fit and a grid. */
int rb_coll_hier_supports(const struct rb_coll_args *a,
			  enum rb_coll_kind kind, char *why, size_t len);

/* ---- executor (exec.c) ------------------------------------------------- */

/* Runs schedules over a transport. Create once per (size, placement);
 * rb_exec_run may be called many times. */
struct rb_exec;

struct rb_exec_args {
	struct rb_tp *tp;
	const struct rb_sched *sched;
	struct rb_tp_mr *send_mr;	/* NULL when in place */
	struct rb_tp_mr *recv_mr;
	size_t inplace_off_bytes;	/* SEND = RECV + this when send_mr NULL */
	enum rb_dtype dtype;
	enum rb_redop op;
	const char *const *hosts;	/* for timeout messages, may be NULL */
};

/* Allocates the executor and registers its TMP buffer with the transport.
 * \return 0, -RB_ENOMEM or the transport's error. */
int rb_exec_create(const struct rb_exec_args *args, struct rb_exec **ex_p);

/* Starts one execution of the schedule. \return 0 or -RB_E*. */
int rb_exec_start(struct rb_exec *ex);
/* Advances as far as possible without blocking (does not call progress).
 * \return 0 when the schedule finished, -RB_EAGAIN when it waits on a
 * request, or a failure. */
int rb_exec_advance(struct rb_exec *ex);
/* start + advance/progress until done or timeout_ms expires; on timeout
 * logs which step and peer it was waiting for (rank, host, link) and
 * returns -RB_ETIMEDOUT. */
int rb_exec_run(struct rb_exec *ex, int64_t timeout_ms);
void rb_exec_destroy(struct rb_exec *ex);

#endif
