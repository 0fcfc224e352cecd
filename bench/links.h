/* SPDX-License-Identifier: BSD-3-Clause */
/* The run's links (internal to bench/): the transport named by
 * --transport, possibly a composition (shm+tcp), opened over the peers it
 * can reach, connected through the bootstrap, with the topology every
 * algorithm sees and the registered benchmark buffers (docs/links.md). */
#ifndef RB_BENCH_LINKS_H
#define RB_BENCH_LINKS_H

#include "bench/bench.h"
#include "collectives/coll.h"

/* Where this rank sits, from the bootstrap. */
struct rb_links_setup {
	const char *prog;
	const char *spec;		/* --transport */
	int rank;
	int nranks;
	int nnodes;
	int local_rank;
	int local_nranks;
	const char *const *hosts;	/* [nranks] */
	const int *node_of;		/* [nranks] */
	int64_t timeout_ms;
	const char *rail_netdev;	/* --rails auto: this rank's NIC, or NULL */
	const char *rail_ibdev;
	int rail;			/* topology rail, -1 unknown */
	const struct rb_boot_ops *bops;
	struct rb_boot *boot;
};

struct rb_links {
	const struct rb_tp_ops *ops;
	struct rb_tp *tp;
	struct rb_tp_args args;		/* what tp was opened with */
	int *local_rank_of;		/* [nranks] */
	int *rail_of;			/* [nranks], each rank's tp->rail */
	struct rb_coll_topo topo;	/* what algorithms see */
	int boot_failed;		/* a bootstrap exchange failed */
	/* Drawn by rank 0, sent to all: what listeners ask peers for. */
	unsigned char secret[RB_SECRET_BYTES];
	/* Benchmark buffers, registered with tp. */
	const struct rb_mem_ops *mem;
	void *sendbuf;
	void *recvbuf;
	void *expected;
	size_t send_bytes;
	size_t recv_bytes;
	struct rb_tp_mr *send_mr;
	struct rb_tp_mr *recv_mr;
};

/* Every rank passes its rc; all get the worst exit code back (enum
 * rb_exit), so all ranks leave a failed step together. A failed exchange
 * sets *boot_failed_p and gives RB_EXIT_RUNTIME. */
int rb_boot_agree(const struct rb_boot_ops *bops, struct rb_boot *boot,
		  int rc, const char *what, int *boot_failed_p);

/* Probes, checks that every peer is reachable, opens, exchanges addresses,
 * connects, and gathers every rank's rail. Collective over all ranks.
 * \return an agreed exit code: 0, RB_EXIT_USAGE (cannot run here, a peer
 * it cannot reach: one line names it) or RB_EXIT_RUNTIME. */
int rb_links_open(const struct rb_links_setup *s, struct rb_links *l);

/* Allocates and registers the send, receive and expected buffers.
 * \return 0 or -RB_E* (logged). Not collective. */
int rb_links_buffers(struct rb_links *l, size_t send_bytes,
		     size_t recv_bytes);

/* NULL-safe parts; releases buffers and the transport. */
void rb_links_close(struct rb_links *l);

#endif
