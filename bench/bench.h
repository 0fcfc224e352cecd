/* SPDX-License-Identifier: BSD-3-Clause */
/* The benchmark harness: options, bootstrap, statistics, reporting and the
 * sweep driver shared by every *_bench binary. */
#ifndef RB_BENCH_BENCH_H
#define RB_BENCH_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "collectives/coll.h"
#include "common/rb.h"
#include "transports/transport.h"

/* ---- options (opts.c) -------------------------------------------------- */

/* Which statistic over ranks the table's time (and algbw, busbw) shows
 * (--stat, docs/statistics.md). */
enum rb_stat {
	RB_STAT_MAX,	/* per iteration, the slowest rank */
	RB_STAT_AVG,	/* per iteration, the mean over ranks (OSU's Avg) */
};

/* --progress: when the progress line shows (on stderr, rank 0). */
enum rb_progress_mode {
	RB_PROGRESS_AUTO,	/* when stderr is a terminal */
	RB_PROGRESS_ON,
	RB_PROGRESS_OFF,
};

struct rb_opts {
	uint64_t min_bytes;	/* -b */
	uint64_t max_bytes;	/* -e */
	uint64_t step_factor;	/* -f, >= 2 */
	uint64_t step_bytes;	/* -i, 0 = multiply by step_factor */
	int iters;		/* -n, >= 1; with --target-ci the first batch */
	double target_ci_pct;	/* --target-ci: 0 = fixed -n */
	double max_time_per_size_s;	/* --max-time-per-size */
	int per_rank_times;	/* --per-rank-times */
	int warmup_iters;	/* -w N: fixed count >= 0; auto: the count bound */
	int warmup_auto;	/* --warmup auto (the default) */
	int warmup_max_ms;	/* --warmup auto:N:MS: the time bound */
	enum rb_stat stat;	/* --stat */
	int check;		/* -c 0|1 */
	enum rb_dtype dtype;	/* -d */
	enum rb_redop op;	/* -o */
	int64_t timeout_ms;	/* -T seconds on the command line */
	const char *transport;	/* --transport */
	const char *algo;	/* --algo */
	uint64_t chunk_bytes;	/* --chunk, 0 = algorithm default */
	const char *results_dir;	/* --results; NULL = results/<run-id> */
	const char *run_id;	/* --run-id or $RAILBENCH_RUN_ID */
	int no_results;		/* --no-results */
	int no_plot;		/* --no-plot: accepted, no effect (nothing plots) */
	enum rb_progress_mode progress;	/* --progress */
	int in_place;		/* --placement: 1 both, 0 out-of-place only */
	double expect_gbps;	/* --expect-busbw: verdict threshold, 0 = none */
	const char *rails;	/* --rails auto */
	int bind;		/* --bind */
	const char *topo_xml;	/* --topo-xml */
	int verbose;		/* -v */
};

/* What parsing decided besides filling opts. */
enum rb_opts_result {
	RB_OPTS_RUN,
	RB_OPTS_EXIT_OK,	/* --help or --version printed */
};

/* Fills o with the defaults (docs/options.md). */
void rb_opts_defaults(struct rb_opts *o);

/* Parses argv (getopt_long) and validates cross-option rules. On bad input
 * prints one line "<prog>: invalid ..." to stderr (only when print is set)
 * and returns -RB_EINVAL; on --help/--version prints to stdout and returns
 * RB_OPTS_EXIT_OK; otherwise RB_OPTS_RUN. */
int rb_opts_parse(struct rb_opts *o, int argc, char **argv, const char *prog,
		  int print);

/* Cross-option checks (min <= max, ...). \return 0 or -RB_EINVAL after
 * writing the reason into why. */
int rb_opts_validate(const struct rb_opts *o, char *why, size_t len);

/* A decimal integer in [lo, hi], the whole string. \return 0 and *v_p, or
 * -RB_EINVAL with *v_p untouched. */
int rb_opts_long(const char *s, long lo, long hi, long *v_p);

/* First option id a binary's own rows may use (struct rb_opts_ext). */
#define RB_OPT_EXT_ID 2000

/* One row of a binary's option table. id 0 names a shared option by its
 * long name (its parser fills struct rb_opts; help, when not NULL,
 * replaces the shared text, e.g. to state this binary's default); an id
 * >= RB_OPT_EXT_ID is the binary's own (long only), handed to
 * rb_opts_ext.parse. */
struct rb_opt_row {
	const char *name;	/* kebab-case long option */
	int id;
	int has_arg;
	const char *metavar;
	const char *help;
};

/* A binary whose options are not the collectives' (p2p_bench): its own
 * table generates getopt's array and --help; shared options it does not
 * list are not accepted; transport options are always chained. */
struct rb_opts_ext {
	const char *usage;		/* first lines of --help */
	const struct rb_opt_row *rows;	/* ends with a row whose name is NULL */
	/* Own rows, once per occurrence. \return 0, or -RB_EINVAL after
	 * writing "--pairs 'x': expected ..." into why. */
	int (*parse)(void *ctx, int id, const char *arg, char *why, size_t len);
	/* Cross-option checks after rb_opts_validate; same contract. */
	int (*validate)(void *ctx, const struct rb_opts *o, char *why,
			size_t len);
	void *ctx;
};

/* rb_opts_parse with the binary's own table (x != NULL). */
int rb_opts_parse_ext(struct rb_opts *o, const struct rb_opts_ext *x,
		      int argc, char **argv, const char *prog, int print);

/* ---- bootstrap (boot_mpi.c) -------------------------------------------- */

struct rb_boot;

/* Every exchange is bounded by the timeout given to init (-T): past it, the
 * rank or ranks that did not arrive are named (rank, and the description
 * set_names gave) and the exchange fails with -RB_ETIMEDOUT on every rank
 * that is still there; later exchanges then fail at once. `what` names the
 * exchange in those messages ("iteration times"). */
struct rb_boot_ops {
	const char *name;
	int (*init)(int *argc, char ***argv, int64_t timeout_ms,
		    struct rb_boot **boot_p);
	int (*rank)(struct rb_boot *b);
	int (*size)(struct rb_boot *b);
	/* names[r] describes rank r in messages ("host node1, rail0 ...");
	 * the array must outlive b. NULL: ranks by number only. */
	void (*set_names)(struct rb_boot *b, const char *const *names);
	int (*barrier)(struct rb_boot *b, const char *what);
	/* out receives len bytes from every rank, rank order. */
	int (*allgather)(struct rb_boot *b, const char *what, const void *in,
			 void *out, size_t len);
	/* The same into rank 0's out only (nranks x len bytes); the other
	 * ranks' out is not touched and may be NULL. They learn only whether
	 * the exchange succeeded, so it costs n messages of len, not n^2.
	 * timeout_ms > 0 replaces init's bound for this exchange (ranks that
	 * arrive after a long but bounded piece of work). */
	int (*gather)(struct rb_boot *b, const char *what, const void *in,
		      void *out, size_t len, int64_t timeout_ms);
	/* In place over n doubles / n int64s. */
	int (*allreduce_max_f64)(struct rb_boot *b, const char *what, double *v,
				 int n);
	int (*allreduce_sum_i64)(struct rb_boot *b, const char *what,
				 int64_t *v, int n);
	int (*bcast)(struct rb_boot *b, const char *what, void *buf, size_t len,
		     int root);
	/* Ends this process with exit code code, without waiting for any
	 * other rank; does not return. */
	void (*abort)(struct rb_boot *b, int code);
	/* \return a library version string ("MPICH 4.0.2 ..."). */
	const char *(*library)(struct rb_boot *b);
	void (*fini)(struct rb_boot *b);
};

extern const struct rb_boot_ops rb_boot_mpi_ops;

/* ---- statistics (stats.c) ---------------------------------------------- */

struct rb_stats {
	double avg;
	double min;
	double max;
	double p50;
	double p99;
};

/* Statistics of n samples (n >= 1); v is sorted in place. Percentiles use
 * the nearest-rank method (docs/statistics.md). */
void rb_stats_compute(double *v, int n, struct rb_stats *s);

/* GB/s (1e9 B/s) for bytes moved in time_us microseconds; 0 if time is 0. */
double rb_algbw_gbps(uint64_t bytes, double time_us);

/* ---- warm-up (warmup.c) ----------------------------------------------- */

/* The auto rule (docs/statistics.md, "Warm-up"): windows of iterations; after
 * each, one bootstrap exchange makes every rank see the same per-iteration
 * maxima, so every rank takes the same decision and runs the same number of
 * collectives. Stable: the medians of the last RB_WARMUP_STABLE windows lie
 * within RB_WARMUP_TOL of each other. */
#define RB_WARMUP_TOL 0.05
#define RB_WARMUP_STABLE 3
#define RB_WARMUP_WIN_MIN 3	/* iterations in a window, and the first one */
#define RB_WARMUP_WIN_MAX 64
#define RB_WARMUP_WIN_US 2000.0	/* a window aims at this long */
#define RB_WARMUP_TAIL_US 50.0	/* the tail after the last exchange */
#define RB_WARMUP_TAIL_MAX 16
#define RB_WARMUP_AUTO_ITERS 1000	/* default count bound */
#define RB_WARMUP_AUTO_MS 1000	/* default time bound */

struct rb_warmup {
	int iters;		/* warm-up iterations run */
	int windows;		/* stability checks, one exchange each */
	int stable;		/* auto: the rule held before a bound; fixed: 1 */
	double ms;		/* its wall time: auto, max over ranks; fixed, this rank's */
	double p50_us;		/* auto: median of the last window, else 0 */
};

/* Length of the window after one whose median was p50_us: about
 * RB_WARMUP_WIN_US long, within [RB_WARMUP_WIN_MIN, RB_WARMUP_WIN_MAX]. */
int rb_warmup_window(double p50_us);

/* Iterations run back to back after the last window, with no exchange, so
 * that the first timed iteration follows warm iterations rather than the
 * bootstrap's idle polling: about RB_WARMUP_TAIL_US long, within
 * [1, RB_WARMUP_TAIL_MAX]. */
int rb_warmup_tail(double p50_us);

/* Whether the last RB_WARMUP_STABLE of the n window medians agree within
 * RB_WARMUP_TOL (max <= (1 + tol) x min). */
int rb_warmup_stable(const double *p50_us, int n);

/* Runs the warm-up that o asks for: -w N fixed iterations, or the auto
 * rule within o's bounds; with force_auto the auto rule whatever o says (the
 * priming before the first size). iter runs one warm-up iteration exactly
 * like a timed one and writes this rank's time in microseconds. Every rank
 * must call it with the same arguments. \return 0, or -RB_E* from an
 * iteration or an exchange; *w_p is written on success. */
int rb_warmup_run(const struct rb_opts *o, int force_auto,
		  const struct rb_boot_ops *bops, struct rb_boot *boot,
		  int (*iter)(void *ctx, double *t_us_p), void *ctx,
		  struct rb_warmup *w_p);

/* ---- confidence-driven iterations (ci.c, timed.c) --------------------- */

#define RB_CI_LEVEL 0.95	/* confidence of the interval of the median */
#define RB_CI_MIN_ITERS 6	/* first batch with --target-ci, at least */
#define RB_CI_MAX_ITERS 1000000	/* iterations per row, at most */
#define RB_CI_MAX_TIME_S 10.0	/* default --max-time-per-size */

/* 1-based ranks l <= u of the order statistics bounding a distribution-
 * free confidence interval of the median of n samples: the largest l with
 * P(x_(l) <= median <= x_(u)) >= level, u = n + 1 - l (binomial, exact up
 * to 10000 samples, normal approximation beyond; docs/statistics.md).
 * \return 0, or -RB_EINVAL when n is too small for level (n < 6 at 95 %). */
int rb_ci_median_ranks(int n, double level, int *l_p, int *u_p);

/* The interval itself over n sorted samples. \return as above. */
int rb_ci_median(const double *sorted, int n, double level, double *lo_p,
		 double *hi_p);

/* The per-iteration series of one placement. */
struct rb_series {
	double *max_us;		/* [cap + 1] T_i: max over ranks */
	double *avg_us;		/* [cap] A_i: mean over ranks */
	int64_t *ns;		/* [cap] this rank's t_i, then the sums */
	int cap;
	int64_t *all_ns;	/* rank 0, --per-rank-times: [nranks x iters] */
	size_t all_cap;
};

/* What the timed phase of a row did (docs/statistics.md). */
struct rb_timed {
	int iters;		/* timed iterations */
	int batches;		/* --target-ci: exchanges that decided */
	int has_ci;		/* enough iterations for a 95 % CI */
	double ci_lo_us;	/* 95 % CI of the median of T */
	double ci_hi_us;
	double p50_us;		/* median of T */
	double target_pct;	/* --target-ci, 0 = fixed -n */
	int met;		/* the CI lies within +-target of the median */
	double ms;		/* wall time of the timed phase, max over ranks */
};

/* \return 1 when [lo, hi] lies within +-pct % of median. */
int rb_ci_within(double lo, double hi, double median, double pct);

/* Runs the timed iterations of one row: -n of them, or with
 * o->target_ci_pct batches until the 95 % CI of the median of T is within
 * the target or o->max_time_per_size_s has passed. After each batch one
 * bounded bootstrap exchange gives every rank the same per-iteration
 * maxima and elapsed time, so every rank stops after the same iteration.
 * iter times one iteration (ns, this rank). Fills s->max_us, s->avg_us
 * (the series of all ranks, every rank), with o->per_rank_times rank 0's
 * s->all_ns, and *t_p. \return 0 or -RB_E*. */
int rb_timed_run(const struct rb_opts *o, const struct rb_boot_ops *bops,
		 struct rb_boot *boot, int nranks,
		 int (*iter)(void *ctx, int64_t *ns_p), void *ctx,
		 struct rb_series *s, struct rb_timed *t_p);

/* Makes room for n iterations (and the exchange's extra slot).
 * \return 0 or -RB_ENOMEM. */
int rb_series_reserve(struct rb_series *s, int n);
void rb_series_free(struct rb_series *s);

/* ---- stragglers (straggler.c) -------------------------------------------- */

/* Which rank was the slowest how often and by how much (--per-rank-times). */
struct rb_straggler {
	int rank;		/* slowest in the most iterations */
	int slowest_iters;	/* in how many */
	int iters;
	int nslowest;		/* distinct ranks slowest at least once */
	double excess_us;	/* its mean lead over the median rank there */
	double excess_pct;	/* the same, % of the median rank's time */
};

/* ns[r * n + i]: rank r's time of iteration i. Per iteration the slowest
 * rank and its lead over the median rank (nearest rank); the rank slowest
 * most often (lowest rank on ties) is s_p's. nranks >= 1, n >= 1. */
void rb_straggler_analyse(const int64_t *ns, int nranks, int n,
			  struct rb_straggler *s_p);

/* ---- the alpha-beta fit (fit.c) ------------------------------------------ */

/* One measured row: its cost coefficients for the fitted link class and
 * its time. */
struct rb_fit_point {
	double steps;
	double bytes;
	double t_us;
};

struct rb_fit {
	int npoints;
	double alpha_us;	/* per step */
	double beta_gbps;	/* per link, GB/s = 1e9 B/s */
	double rms_pct;		/* relative residuals (model - measured) */
	double max_pct;		/* the largest |residual| */
};

/* Least squares of t = steps x alpha + bytes / beta on relative errors
 * (each point weighted by 1/t^2), alpha >= 0 (docs/model.md).
 * \return 0, or -RB_EINVAL when fewer than 2 points or no positive beta
 * fits. */
int rb_fit_alpha_beta(const struct rb_fit_point *p, int n, struct rb_fit *f_p);

/* \return the fitted model's time of p, in us. */
double rb_fit_eval(const struct rb_fit *f, const struct rb_fit_point *p);

/* ---- report (report.c) ------------------------------------------------- */

struct rb_report;

/* One rank's line of the preamble and results metadata. */
struct rb_rank_info {
	int rank;
	char host[64];
	int pid;
	char tp_desc[256];
	int rail;		/* the rail its transport uses, -1 unknown */
	char place[256];	/* topology placement, human, "" if none */
	char place_json[1024];	/* same as a JSON object, "" if none */
};

/* Makes a description received from another rank safe to print and to
 * put in JSON: every string ends inside its buffer, and host, tp_desc and
 * place are text without control characters (rb_text_bound). */
void rb_rank_info_clean(struct rb_rank_info *ri);

struct rb_run_meta {
	enum rb_coll_kind kind;
	const char *transport;	/* --transport: "shm", "shm+tcp" */
	const char *algo;
	const char *algo_note;	/* "auto picks hier" or why not, may be "" */
	int nranks;
	int nnodes;
	const struct rb_opts *opts;
	const struct rb_rank_info *ranks;	/* [nranks] */
	const char *command_line;
	const char *mpi_library;
	const char *run_id;
	const char *results_dir;	/* NULL: no files */
	const char *topo_findings;	/* cross-node check output, may be NULL */
};

/* One measured (size, placement). */
struct rb_row {
	uint64_t size_bytes;
	uint64_t count;
	struct rb_stats t_max_us;	/* of T_i = max over ranks of t_r,i */
	struct rb_stats t_avg_us;	/* of A_i = mean over ranks of t_r,i */
	double algbw_gbps;		/* from the mean of --stat's series */
	double busbw_gbps;
	int64_t wrong;		/* -1 when not checked */
	struct rb_warmup warmup;
	struct rb_timed timed;		/* iterations, CI of the median */
	int has_cost;			/* cost form known (not native) */
	struct rb_coll_cost cost;	/* the algorithm's, at this size */
	int64_t *rank_ns;		/* --per-rank-times, rank 0: [nranks x iters], owned */
	struct rb_straggler straggler;	/* valid when rank_ns */
	int valid;		/* 0: placement not run */
};

/* \return the statistics --stat chooses for the table of row r. */
static inline const struct rb_stats *rb_row_time(const struct rb_row *r,
						 enum rb_stat stat)
{
	return stat == RB_STAT_AVG ? &r->t_avg_us : &r->t_max_us;
}

/* \return "max" or "avg". */
const char *rb_stat_name(enum rb_stat stat);

/* The progress line on stderr (rank 0, a terminal only). */
struct rb_progress {
	int on;
	const char *coll;
	const uint64_t *sizes;	/* bytes of each size of the sweep */
	int n;
	uint64_t t0_ns;
};

/* Starts the line for a sweep of n sizes: off unless enabled, and with
 * mode auto unless stderr is a terminal. */
void rb_progress_init(struct rb_progress *p, const char *coll, const uint64_t *sizes,
		      int n, int enabled, enum rb_progress_mode mode);
/* Shows size i (0-based) as the one being measured, with the time left
 * estimated from the time the earlier sizes took. */
void rb_progress_step(struct rb_progress *p, int i);
/* Erases the line. */
void rb_progress_end(struct rb_progress *p);

/* Rank 0 only. Prints the preamble and creates the results files.
 * \return 0, or -RB_ESYS when the results directory cannot be made. */
int rb_report_open(const struct rb_run_meta *m, struct rb_report **r_p);
/* Records the priming warm-up (before the first size) for the JSON meta
 * and the footer. */
void rb_report_prime(struct rb_report *r, const struct rb_warmup *w);
/* Prints one table row and rewrites the results files atomically. */
int rb_report_row(struct rb_report *r, const struct rb_row *oop,
		  const struct rb_row *ip);
/* Rank 0, after rb_report_row: the fabric counter deltas of that row's
 * size (a JSON array, reference taken; NULL: none) go into its records as
 * "fabric", and findings ('\n'-terminated lines, nfindings of them, some
 * perhaps cut off) into the footer; any finding makes the verdict WARN.
 * Rewrites the results files. \return 0 or -RB_E*. */
struct json_t;
int rb_report_fabric(struct rb_report *r, struct json_t *devs,
		     const char *findings, int nfindings);
/* Prints the footer and verdict and finalizes the files (charts are
 * drawn by scripts, never here). exit_status is what the process will exit with. */
int rb_report_close(struct rb_report *r, int exit_status);
/* \return the verdict exit code the footer printed: 0, RB_EXIT_VERDICT or
 * RB_EXIT_WARN (data correct, fabric counters moved). */
int rb_report_verdict(const struct rb_report *r);
/* Sum of #wrong so far. */
int64_t rb_report_wrong(const struct rb_report *r);
void rb_report_free(struct rb_report *r);

/* Creates path and its parents. \return 0 or -RB_ESYS (errno kept). */
int rb_report_mkdir(const char *path);
/* Writes text to path atomically: a temporary file in the same directory,
 * flushed to disk, renamed over path. \return 0 or -RB_ESYS (logged). */
int rb_report_write_file(const char *path, const char *text);

/* ---- harness (harness.c) ----------------------------------------------- */

/* The whole benchmark: parse, bootstrap, open the transport, sweep sizes,
 * report. \return the process exit code (enum rb_exit). */
int rb_bench_main(enum rb_coll_kind kind, int argc, char **argv);

#endif
