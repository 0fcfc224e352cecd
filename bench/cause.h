/* SPDX-License-Identifier: BSD-3-Clause */
/* The root cause of a failed size (internal to bench/): every rank's own
 * evidence (its link down, the peer it was waiting for), the rule that
 * turns all of them into one verdict the ranks share, so that a secondary
 * timeout never blames an innocent rank (docs/exit-codes.md, "Root
 * cause"). Pure: the exchange itself is the harness's (measure.c). */
#ifndef RB_BENCH_CAUSE_H
#define RB_BENCH_CAUSE_H

#include <stdint.h>

#define RB_CAUSE_MAGIC 0x52424643u	/* "RBFC" */
#define RB_CAUSE_MAX_MS 1000		/* bound of the exchange (with -T) */

/* What one rank knows about its own failure; sent to all as bytes. */
struct rb_cause_rec {
	uint32_t magic;
	int32_t rank;
	int32_t down;		/* 1: its own rail device is down */
	int32_t wait;		/* the peer it was waiting for, -1 none */
	int32_t timed_out;	/* 1: its deadline expired waiting for wait */
};

enum rb_cause_role {
	RB_CAUSE_DOWN,		/* its own link is down: a root cause */
	RB_CAUSE_STUCK,		/* failed, but not waiting for a peer: a root cause */
	RB_CAUSE_DIRECT,	/* waited for a root cause */
	RB_CAUSE_SECONDARY,	/* waited for a rank that was itself waiting */
	RB_CAUSE_CYCLE,		/* waits in a cycle of ranks, every link up */
};

/* The rule (docs/exit-codes.md): ranks whose own link is down are the
 * root causes; if there is none, following "waited for" from every rank
 * ends either at a rank that waited for nobody (a root cause) or in a
 * cycle (no rank to blame: the path between the cycle's ranks). role[r]
 * gets each rank's role. \return -1 when the records are malformed (magic,
 * rank, peer out of range), else the number of root causes (0: cycles
 * only). */
int rb_cause_decide(const struct rb_cause_rec *all, int n, int *role);

#endif
