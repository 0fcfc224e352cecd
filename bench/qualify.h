/* SPDX-License-Identifier: BSD-3-Clause */
/* Cluster qualification (internal to bench/, used by p2p_bench): the pair
 * schedule, point-to-point measurement of one pair over any transport, the
 * results rows, and the localisation of slow links to a node, a NIC, a
 * rail or a cable with a verdict. The schedule and the localisation are
 * pure functions, unit-tested without MPI (docs/qualify.md). */
#ifndef RB_BENCH_QUALIFY_H
#define RB_BENCH_QUALIFY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/bench.h"

/* Most message sizes one run measures (-b .. -e). */
#define RB_QUAL_MAX_SIZES 32
/* Bytes after the largest message in each buffer: acks and ping-pong. */
#define RB_QUAL_ACK_OFF_ALIGN 64
#define RB_QUAL_LAT_BYTES 8

/* ---- options (qual_opts.c) --------------------------------------------- */

enum rb_qual_mode {
	RB_QUAL_ALL,		/* every pair: round-robin tournament */
	RB_QUAL_RING,		/* ring neighbours i, i+1 */
	RB_QUAL_RANDOM,		/* K rounds of a relabelled tournament */
};

/* What p2p_bench takes besides the shared options (struct rb_opts). */
struct rb_qual_cfg {
	enum rb_qual_mode pairs;
	int pairs_k;		/* random:K */
	uint64_t seed;		/* --seed: relabelling of random:K */
	int bidir;		/* --bidir */
	int rails_serial;	/* --rails-one-at-a-time */
	int intra_only;		/* --intra-only: one node is fine */
	double threshold;	/* fraction of the rail's reference, (0, 1] */
	double line_threshold;	/* fraction of line rate, (0, 1] */
	double intra_threshold;	/* fraction of the intra-node reference */
	double expect_gbps;	/* --expect-gbps: line rate override, Gb/s */
	int max_retests;	/* suspects retested alone, at most */
	int retests;		/* attempts alone per suspect, best counts */
	int plan_nodes;		/* --plan NODESxRAILS: print the cost, exit */
	int plan_rails;
};

/* p2p_bench's defaults, then argv (getopt_long through the shared table's
 * extension). Prints one line and returns -RB_EINVAL on bad input (print
 * set), RB_OPTS_EXIT_OK after --help/--version, else RB_OPTS_RUN. */
int rb_qual_opts_parse(struct rb_opts *o, struct rb_qual_cfg *q, int argc,
		       char **argv, const char *prog, int print);

/* "all", "ring", "random:4" into buf. \return buf. */
const char *rb_qual_mode_name(const struct rb_qual_cfg *q, char *buf,
			      size_t len);

/* The message sizes of -b, -e, -f (-i): at most RB_QUAL_MAX_SIZES.
 * \return how many were written to sizes. */
int rb_qual_sizes(const struct rb_opts *o, uint64_t *sizes);

/* ---- schedule (qual_sched.c) ------------------------------------------- */

/* Rounds of disjoint pairs among n players (nodes of one rail, local
 * ranks of one node). */
struct rb_qual_sched {
	enum rb_qual_mode mode;
	int n;
	int nrounds;
	int *label;		/* random: player -> tournament label, [n] */
	int *player;		/* random: label -> player, [n] */
};

/* all: n-1 rounds for even n, n for odd n (one bye per round); ring: 1
 * round for n = 2, 2 for even n, 3 for odd n; random:K: the first
 * min(K, all's) rounds of the tournament over players relabelled by a
 * permutation drawn from seed. n < 2: no round.
 * \return 0, -RB_EINVAL (n < 0, K < 1) or -RB_ENOMEM. */
int rb_qual_sched_init(struct rb_qual_sched *s, enum rb_qual_mode mode,
		       int n, int k, uint64_t seed);
/* \return player p's partner in round r, or -1 (a bye, or r out of range). */
int rb_qual_sched_partner(const struct rb_qual_sched *s, int r, int p);
void rb_qual_sched_fini(struct rb_qual_sched *s);

/* Cost model of a plan (docs/qualify.md "Cost"): seconds for nnodes x
 * nrails with every pair at line_gbps, per round and in all. */
struct rb_qual_cost {
	int rounds;		/* pair rounds, rails concurrent or serial */
	int64_t pair_tests;	/* unordered pairs measured, all rails */
	double round_s;		/* one round: wire_s + sync_s */
	double wire_s;		/* its messages: every size, both directions */
	double sync_s;		/* its bootstrap exchanges */
	double total_s;
};

void rb_qual_cost(const struct rb_opts *o, const struct rb_qual_cfg *q,
		  int nnodes, int nrails, double line_gbps,
		  struct rb_qual_cost *c);

/* ---- one pair (qual_pair.c) -------------------------------------------- */

/* This rank's figures for one message size of one pairing. */
struct rb_qual_cell {
	struct rb_stats send_us;	/* this rank -> peer, per message */
	struct rb_stats bidir_us;	/* both ways at once (--bidir) */
	int64_t recv_wrong;		/* bytes received wrong; -1 unchecked */
	int64_t bidir_wrong;
	int32_t send_iters;		/* messages timed: -n, or fewer when */
	int32_t bidir_iters;		/* the series ran out of budget */
};

/* This rank's record of one round, gathered by rank 0. */
struct rb_qual_rec {
	int32_t peer;		/* -1: no pair this round */
	int32_t status;		/* 0, or -RB_E* when the pair failed */
	int32_t nsizes;		/* cells that follow */
	int32_t have_lat;
	int32_t lat_iters;
	char link[28];		/* first word of this rank's link to peer */
	struct rb_stats lat_us;	/* ping-pong this rank started, one way */
	struct rb_qual_cell cells[];
};

/* Bytes of one record with nsizes cells. */
static inline size_t rb_qual_rec_bytes(int nsizes)
{
	return sizeof(struct rb_qual_rec) +
	       (size_t)nsizes * sizeof(struct rb_qual_cell);
}

struct rb_qual_pair_args {
	struct rb_tp *tp;
	struct rb_tp_mr *send_mr;	/* sizes[last] + ack area, each */
	struct rb_tp_mr *recv_mr;
	void *expected;			/* as large as recv_mr */
	const char *const *hosts;	/* for timeout messages */
	int64_t timeout_ms;
	int64_t budget_ms;		/* per series, see rb_qual_pair_run */
	int iters;
	int warmup_iters;
	int check;
	int bidir;
	const uint64_t *sizes;
	int nsizes;
	size_t ack_off;			/* where acks live in both buffers */
	double *times;			/* [iters] scratch */
};

/* Measures rank me with peer: for every size, me -> peer and peer -> me
 * (the lower rank sends first), both at once with bidir, then 8-byte
 * ping-pongs started by each side unless no_lat. Both ranks call it with
 * the same arguments. Each series (one direction at one size) stops its
 * warm-up and timed messages after budget_ms (keeping one timed message),
 * so a pair takes at most series x (budget + 2 timeouts). Sizes are at
 * least 8 bytes. Fills rec (peer, cells, lat); rec->link is the caller's.
 * \return 0, or the transport's failure after logging which peer, host
 * and link. */
int rb_qual_pair_run(const struct rb_qual_pair_args *a, int me, int peer,
		     int no_lat, struct rb_qual_rec *rec);

/* The payload src sends dst at size bytes: 64-bit words of a counter-based
 * generator keyed by (src, dst, size), so the receiver computes it
 * independently. */
void rb_qual_pattern(void *buf, size_t len, int src, int dst, uint64_t size);
/* \return how many of len bytes differ. */
int64_t rb_qual_count_wrong(const void *got, const void *want, size_t len);

/* ---- localisation (localise.c) ----------------------------------------- */

enum rb_loc_kind {
	RB_LOC_INTER,		/* group = rail, src/dst = nodes */
	RB_LOC_INTRA,		/* group = node, src/dst = local ranks */
};

/* One directed measurement: src sends to dst. */
struct rb_loc_pair {
	enum rb_loc_kind kind;
	int group;
	int src;
	int dst;
	double first_gbps;	/* GB/s, p50 of the concurrent pass */
	double retest_gbps;	/* GB/s, p50 measured alone; < 0: none */
	int baseline;		/* retested alone as its rail's yardstick */
	int64_t wrong;		/* bytes; <= 0 fine */
	/* Set by rb_loc_judge: */
	double ref_gbps;	/* the group's reference, GB/s */
	double expect_gbps;	/* line rate as GB/s, 0 unknown */
	int slow;
};

/* The NIC of one node on one rail. */
struct rb_loc_nic {
	int present;		/* the node has a rank on this rail */
	char name[64];		/* "rail1", "mlx5_1:1" */
	double line_gbps;	/* Gb/s, 0 unknown */
};

struct rb_loc_in {
	int nnodes;
	int nrails;
	const char *const *hosts;	/* [nnodes] */
	const struct rb_loc_nic *nics;	/* [nnodes * nrails], node-major */
	struct rb_loc_pair *pairs;	/* judged in place */
	int npairs;
	double threshold;	/* of the reference, (0, 1] */
	double line_threshold;	/* of line rate, (0, 1] */
	double intra_threshold;	/* of the intra-node reference, 0: threshold */
	double expect_gbps;	/* Gb/s override, 0 none */
	const char *topo_findings;	/* '#' lines, or NULL */
};

/* What each rail (and the intra-node paths) is measured against. */
struct rb_loc_ref {
	int npairs;
	double ref_gbps;	/* median over nodes of each node's median */
	double first_median_gbps;	/* median of all first figures */
	double alone_gbps;	/* median alone: baselines, else all retested */
	double base_gbps;	/* median of its baselines alone, 0 none; its
				 * pairs retested alone are held to the lower
				 * of ref_gbps and this */
	double line_gbps;	/* Gb/s all pairs should reach, 0 unknown */
	int line_known;		/* every NIC has a line rate (or override) */
	int slow;		/* the whole rail is slow */
	double slow_vs_gbps;	/* what it was slow against, GB/s */
};

enum rb_loc_class {
	RB_LOC_DATA,		/* received bytes differ from the pattern */
	RB_LOC_RAIL,		/* every pair of a rail slow: switch, config */
	RB_LOC_NODE,		/* a node slow on every rail: the host */
	RB_LOC_NIC,		/* a node's NIC on one rail */
	RB_LOC_LINK,		/* one pair: cable, switch port or path */
	RB_LOC_INTRA_NODE,	/* most intra-node paths of a node */
	RB_LOC_INTRA_PATH,	/* one intra-node pair */
	RB_LOC_SPEED,		/* a NIC's line rate differs from its rail's */
	RB_LOC_TOPO,		/* topology cross-check finding */
};

struct rb_loc_culprit {
	enum rb_loc_class cls;
	int node;		/* -1 when none */
	int peer;		/* link: the other node, else -1 */
	int rail;		/* -1 when none */
	int local_a;		/* intra path: its local ranks, else -1 */
	int local_b;
	double measured_gbps;	/* GB/s, 0 for SPEED/TOPO */
	double expected_gbps;
	char text[1024];	/* one line, no trailing newline */
};

struct rb_loc_out {
	struct rb_loc_ref *rails;	/* [nrails] */
	struct rb_loc_ref intra;
	struct rb_loc_culprit *culprits;	/* most severe first */
	int nculprits;
	int pass;
};

/* Sets ref_gbps, expect_gbps and slow of every pair, and the references
 * (rails[nrails], *intra): a pair is slow below threshold (intra-node:
 * intra_threshold) x its group's reference, or below line_threshold x its
 * line rate unless its whole rail is slow. Judges rb_loc_final().
 * \return 0 or -RB_ENOMEM. */
int rb_loc_judge(const struct rb_loc_in *in, struct rb_loc_ref *rails,
		 struct rb_loc_ref *intra);

/* Judges, then names the culprits (docs/qualify.md "Localisation").
 * \return 0 or -RB_ENOMEM; out is freed with rb_loc_out_free. */
int rb_loc_run(const struct rb_loc_in *in, struct rb_loc_out *out);
void rb_loc_out_free(struct rb_loc_out *out);
/* The NIC of node on rail. */
static inline const struct rb_loc_nic *rb_loc_nic(const struct rb_loc_in *in,
						  int node, int rail)
{
	return &in->nics[(size_t)node * in->nrails + rail];
}

/* Median of n values, the upper middle one for even n (so that of two
 * values the better counts); sorts v. 0 when n is 0. */
double rb_loc_median(double *v, int n);
/* The figure judged: the best of the first figure and the retest. */
double rb_loc_final(const struct rb_loc_pair *p);
/* 100 x measured / expected, 0 when expected is 0. */
double rb_loc_pct(double measured, double expected);
/* \return "nic", "link", ... as the JSON names the class. */
const char *rb_loc_class_name(enum rb_loc_class c);

/* ---- the benchmark (qual_run.c) ---------------------------------------- */

/* p2p_bench: parse, plan, bootstrap, links, rounds, retests, verdict.
 * \return the process exit code (enum rb_exit). */
int rb_qual_main(int argc, char **argv);

#endif
