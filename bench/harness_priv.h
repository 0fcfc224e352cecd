/* SPDX-License-Identifier: BSD-3-Clause */
/* The harness's own state, shared by harness.c (bootstrap, setup, main)
 * and measure.c (warm-up, timed iterations, data check, the sweep). */
#ifndef RB_BENCH_HARNESS_PRIV_H
#define RB_BENCH_HARNESS_PRIV_H

#include <limits.h>

#include "bench/bench.h"
#include "bench/links.h"
#include "bench/place.h"
#include "bench/world.h"
#include "collectives/coll.h"

struct bench {
	enum rb_coll_kind kind;
	const struct rb_coll_desc *desc;
	struct rb_opts o;
	const char *prog;
	const struct rb_boot_ops *bops;
	struct rb_boot *boot;
	struct rb_world world;		/* identities, nodes, peer names */
	int rank;
	int nranks;
	int nnodes;
	int local_rank;
	int local_nranks;
	const char **hosts;		/* [nranks], world's */
	int *node_of;			/* [nranks], world's */
	struct rb_place place;
	const struct rb_tp_ops *tops;
	struct rb_links links;
	struct rb_tp *tp;		/* links.tp */
	int native;			/* library collective, no schedule */
	const char *algo_name;		/* printed: "native", "ring", "auto" */
	char auto_note[256];		/* why auto does (not) pick hier */
	struct rb_sched sched;
	struct rb_sched barrier_sched;
	struct rb_exec *barrier_ex;
	uint64_t *counts;		/* table counts of the sweep */
	int ncounts;
	struct rb_series series;	/* the current row's iteration times */
	struct rb_report *report;
	struct rb_warmup prime;		/* the priming before the first size */
	struct rb_rank_info *infos;	/* rank 0: [nranks] */
	char run_id[64];
	char results_dir[PATH_MAX];
	char *cmdline;
	char *topo_findings;
	int boot_failed;		/* an exchange failed: no finalize */
};

/* All ranks agree on the worst exit code of a step (bench/links.c). */
static inline int agree(struct bench *b, int rc, const char *what)
{
	return rb_boot_agree(b->bops, b->boot, rc, what, &b->boot_failed);
}

/* Marks the bootstrap failed when an exchange fails. \return rc. */
static inline int boot_rc(struct bench *b, int rc)
{
	if (rc)
		b->boot_failed = 1;
	return rc;
}


/* Priming, then every size: measures and reports each (measure.c).
 * \return 0 or -RB_E* (a runtime failure: the caller ends the job). */
int rb_bench_sweep(struct bench *b);

#endif
