/* SPDX-License-Identifier: BSD-3-Clause */
/* Rank placement from the topology (internal to bench/). */
#ifndef RB_BENCH_PLACE_H
#define RB_BENCH_PLACE_H

#include "bench/bench.h"

struct rb_place {
	int have;		/* 0: no topology */
	int rail;		/* the topology's rail for this local rank */
	double line_gbps;
	char netdev[64];	/* rail IP interface, "" if none */
	char ibdev[64];		/* rail verbs device, "" if none */
	char gpu[40];		/* GPU PCI bus id, "-" if none */
	char cpus[64];		/* CPU set, "-" if unknown */
	int numa;
	int bound;
	char text[256];		/* human line for the preamble */
	char json[1024];	/* placement object (docs/topo.md) */
	char summary[512];	/* node summary for the cross-node check */
};

/* Loads the topology and places local_rank; binds with --bind. Failure is
 * fatal only when --rails, --bind or --topo-xml asked for the topology.
 * \return 0 or -RB_E* (logged). */
int rb_place_init(const struct rb_opts *o, int local_rank, int local_nranks,
		  struct rb_place *pl);

/* Rewrites pl->text with the rail the rank's transport really uses
 * (rail >= 0; -1: unknown) next to the topology's: "rail 1" when they
 * agree or there is no topology, "rail 1 (topology: rail 0)" when the
 * transport was told otherwise (--net-if), "" with neither. */
void rb_place_describe(struct rb_place *pl, int rail);

/* Cross-node check over one summary per node; *findings_p is NULL or '#'
 * lines to print (caller frees). \return 0 or -RB_E*. */
int rb_place_cross_check(const char *summaries, size_t stride,
			 const char *hosts, size_t host_stride, int nnodes,
			 char **findings_p);

#endif
