/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to p2p_bench's driver (qual_run.c) and its output
 * (qual_report.c): what rank 0 knows of every rank, one results row, and
 * the report (stdout, JSON, CSV). */
#ifndef RB_BENCH_QUAL_PRIV_H
#define RB_BENCH_QUAL_PRIV_H

#include "bench/qualify.h"

/* What each rank publishes once its links are open. */
struct rb_qual_rank {
	int rank;
	int node;
	int local_rank;
	int rail;		/* the rail its transport uses, -1 unknown */
	int pid;
	double line_gbps;	/* its NIC's, Gb/s, 0 unknown */
	char host[64];
	char nic[64];		/* "rail0", "mlx5_0:1", "" */
	char tp_desc[256];
	char place[256];
};

/* One row of the results: a (source, destination, rail, direction, size)
 * and its figures. Negative numbers are "none" (JSON null, empty CSV). */
struct rb_qual_row {
	char kind[8];		/* "inter" or "intra" */
	char direction[8];	/* "uni" (src to dst) or "bidir" */
	int rail;		/* inter: the rail; intra: -1 */
	int src_rank;
	int dst_rank;
	int src_local;
	int dst_local;
	char src_host[64];
	char dst_host[64];
	char src_nic[64];
	char dst_nic[64];
	uint64_t size_bytes;
	double bw_p50_gbps;	/* GB/s over the concurrent pass */
	double bw_min_gbps;
	double bw_p99_gbps;	/* reached by 99 % of iterations */
	double retest_p50_gbps;	/* alone, the best attempt; -1 not retested */
	double retest_min_gbps;
	double retest_p99_gbps;
	int retests;		/* attempts alone */
	char retest_reason[20];	/* "", "suspect", "baseline", both joined by + */
	double judged_gbps;	/* retest where there is one, else first */
	double lat_p50_us;	/* one way, 8 B; -1 for bidir rows */
	double lat_p99_us;
	double line_gbps;	/* expected line rate, Gb/s; -1 unknown */
	double pct_line;	/* judged vs line rate, %; -1 unknown */
	double ref_gbps;	/* the rail's reference pair, GB/s */
	double pct_ref;
	int64_t wrong;		/* bytes received wrong, -1 unchecked */
	int slow;		/* judged slow (set by the verdict) */
};

/* What the report needs to know about the run. */
struct rb_qual_meta {
	const char *prog;
	const struct rb_opts *o;
	const struct rb_qual_cfg *q;
	const char *command_line;
	const char *mpi_library;
	const char *run_id;
	const char *results_dir;	/* NULL: no files */
	int nranks;
	int nnodes;
	int nrails;
	int inter_rounds;
	int intra_rounds;
	const uint64_t *sizes;
	int nsizes;
	const struct rb_qual_rank *ranks;	/* [nranks] */
	const char *const *node_hosts;		/* [nnodes] */
	const char *topo_findings;		/* may be NULL */
};

struct rb_qual_report;

/* Rank 0. Prints the preamble, creates the results files.
 * \return 0, -RB_ENOMEM or -RB_ESYS (logged). */
int rb_qual_report_open(const struct rb_qual_meta *m,
			struct rb_qual_report **r_p);
/* Appends a row. \return 0 or -RB_ENOMEM. */
int rb_qual_report_add(struct rb_qual_report *r, const struct rb_qual_row *row);
/* The rows so far, *n_p of them; valid until the next add. */
struct rb_qual_row *rb_qual_report_rows(struct rb_qual_report *r, int *n_p);
/* Rewrites the files when force is set, or when a second, and ten times
 * what the last rewrite took, have passed since it. \return 0 or
 * -RB_ESYS. */
int rb_qual_report_flush(struct rb_qual_report *r, int force);
/* Prints one '#' line and keeps it in the JSON's "notes". */
void rb_qual_report_note(struct rb_qual_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Judges every row at the largest size, prints the matrices, the
 * references and the verdict (last), finalizes the files. *verdict_p gets
 * 0 (PASS) or RB_EXIT_VERDICT. exit_status != 0: the run failed before the
 * end; only the files are finalized. \return 0 or -RB_E*. */
int rb_qual_report_close(struct rb_qual_report *r, int exit_status,
			 int *verdict_p);
void rb_qual_report_free(struct rb_qual_report *r);

/* One pair to retest alone (qual_retest.c). */
struct rb_qual_item {
	int a;			/* ranks, a < b */
	int b;
	int suspect;		/* a direction was slow */
	int baseline;		/* one of its rail's yardsticks */
	int order;		/* baselines: pick x nrails + rail */
	int attempts;
	int done;
	uint64_t last_ns;	/* when its last attempt ended */
	int pi[2];		/* its two directions in in.pairs, or -1 */
	double ratio;		/* worst direction against its reference */
};

/* Rank 0's plan of retests over the report's rows. */
struct rb_qual_retest {
	struct rb_qual_report *rep;
	const struct rb_qual_cfg *q;
	int nrails;
	struct rb_loc_in in;		/* the concurrent pass, judged */
	struct rb_loc_ref *refs;	/* [nrails] */
	double *base;			/* [nrails] baselines alone so far */
	struct rb_loc_ref intra;
	int *row_of;			/* in.pairs[i] is rows[row_of[i]] */
	struct rb_qual_item *items;
	int nitems;
};

/* Judges the concurrent pass and lists what to retest: two baseline pairs
 * nearest the reference of each rail that has suspects (of every rail when
 * a whole rail looks slow; a suspect may be one), rails interleaved, then
 * the suspects worst first (at most q->max_retests).
 * \return 0 or -RB_ENOMEM. */
int rb_qual_retest_plan(struct rb_qual_retest *t, struct rb_qual_report *rep,
			const struct rb_qual_cfg *q, int nrails);
/* \return the item to test next (the first of those not done with the
 * fewest attempts: attempts come in passes), -1 when every one is done;
 * *wait_us_p: how long to wait first, so that attempts at one pair are at
 * least RB_QUAL_SPACING_MS apart. */
#define RB_QUAL_SPACING_MS 250
int rb_qual_retest_next(const struct rb_qual_retest *t, unsigned *wait_us_p);
/* After an attempt at item k (its rows updated): a suspect is done when
 * fine, clearly slow twice, or out of attempts (q->retests); a baseline
 * after two attempts. */
void rb_qual_retest_update(struct rb_qual_retest *t, int k);
void rb_qual_retest_free(struct rb_qual_retest *t);

/* Localisation input from the rows at the largest size: pairs and NICs
 * (caller frees both). Used for the suspects and for the verdict.
 * \return 0 or -RB_ENOMEM. */
int rb_qual_report_loc_in(struct rb_qual_report *r, struct rb_loc_in *in,
			  int **row_of_p);

#endif
