/* SPDX-License-Identifier: BSD-3-Clause */
/* Who is in the job (internal to bench/): every rank's host and node, local
 * ranks, the names bootstrap messages give peers, the cross-node topology
 * check and the run's name. Shared by the collective harness and the
 * point-to-point qualification driver. */
#ifndef RB_BENCH_WORLD_H
#define RB_BENCH_WORLD_H

#include <stddef.h>

#include "bench/bench.h"

/* What every rank publishes about itself during bootstrap. */
struct rb_world_peer {
	char host[64];		/* $RAILBENCH_HOST, else gethostname() */
	char node_id[128];	/* host + network namespace: one per node */
	int pid;
};

struct rb_world {
	const struct rb_boot_ops *bops;
	struct rb_boot *boot;
	int rank;
	int nranks;
	int nnodes;		/* nodes numbered in order of their lowest rank */
	int local_rank;		/* this rank's index among its node's ranks */
	int local_nranks;
	struct rb_world_peer *peers;	/* [nranks] */
	const char **hosts;		/* [nranks], into peers */
	int *node_of;			/* [nranks] */
	char **peer_names;		/* [nranks], for bootstrap messages */
	int boot_failed;		/* an exchange failed: no finalize */
};

/* Publishes this rank's identity and learns everyone's: nodes (ranks in
 * the same host and network namespace), local ranks; sets the log prefix.
 * Collective. \return 0, -RB_ENOMEM or the bootstrap's error. */
int rb_world_init(struct rb_world *w, const struct rb_boot_ops *bops,
		  struct rb_boot *boot);

/* Names every peer in bootstrap messages: "host node1", and once tp is
 * open (may be NULL) this rank's link to it. \return 0 or -RB_ENOMEM. */
int rb_world_name_peers(struct rb_world *w, struct rb_tp *tp);

/* Cross-node topology check over each rank's node summary (rb_place's;
 * "" where the topology is unknown). Collective; rank 0 gets the '#'
 * findings in *findings_p (NULL when none; caller frees).
 * \return 0 or -RB_E*. */
int rb_world_topo_check(struct rb_world *w, const char *summary,
			char **findings_p);

/* Rank 0 picks the run id (opt_run_id, else $RAILBENCH_RUN_ID, else the
 * local time) and sends it to all; dir gets opt_dir or results/<run id>.
 * Collective. \return 0 or -RB_EPEER. */
int rb_world_name_run(struct rb_world *w, const char *opt_run_id,
		      const char *opt_dir, char *run_id, size_t id_len,
		      char *dir, size_t dir_len);

/* NULL-safe parts; frees what rb_world_init and name_peers allocated. */
void rb_world_fini(struct rb_world *w);

/* \return argv joined by spaces (caller frees), or NULL. */
char *rb_join_args(int argc, char **argv);

#endif
