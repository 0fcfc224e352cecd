/* SPDX-License-Identifier: BSD-3-Clause */
/* Measuring, per size and placement: the warm-up (bench/warmup.c), timed
 * iterations with one barrier before each, per iteration the max and the
 * mean over ranks, the data check, statistics and the report row; and the
 * priming before the first size (docs/statistics.md). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/harness_priv.h"

/* Bound of the roll call after a library call timed out (rank 0 waits
 * this long, the others twice as long). */
#define ROLL_CALL_MS 1500

/* A library collective (--transport mpi) that timed out names no rank:
 * the library does not say whom it waits for. Every rank that timed out
 * then answers a short roll call over the bootstrap, whose rank 0 names
 * the ranks that do not answer, and tells the others
 * (docs/exit-codes.md, "Library calls"). \return rc. */
static int roll_call(struct bench *b, int rc)
{
	int64_t bound = RB_MIN(b->o.timeout_ms, ROLL_CALL_MS);
	char here = 1;
	char *all = NULL;

	if (rc != -RB_ETIMEDOUT || b->boot_failed)
		return rc;
	if (b->rank == 0 && !(all = malloc((size_t)b->nranks)))
		return rc;
	if (!boot_rc(b, b->bops->gather(b->boot, "roll call after the library timeout",
					&here, all, 1, bound)))
		rb_err("every rank answered the roll call: the library call itself is stuck");
	b->boot_failed = 1;	/* the library's state is unknown now */
	free(all);
	return rc;
}

static int iter_barrier(struct bench *b)
{
	if (b->native)
		return roll_call(b, rb_tp_barrier(b->tp));
	return rb_exec_run(b->barrier_ex, b->o.timeout_ms);
}

/* One execution of the collective for the current size and placement. */
static int run_once(struct bench *b, struct rb_exec *ex,
		    const struct rb_tp_coll *call)
{
	if (b->native)
		return roll_call(b, rb_tp_coll(b->tp, call));
	return rb_exec_run(ex, b->o.timeout_ms);
}

/* Where this rank's input lives for the placement. */
static void *input_of(struct bench *b, int in_place,
		      const struct rb_coll_sizes *s)
{
	if (!in_place)
		return b->links.sendbuf;
	return (char *)b->links.recvbuf + s->inplace_off * rb_dtype_size(b->o.dtype);
}

static void fill_input(struct bench *b, int in_place, uint64_t count,
		       const struct rb_coll_sizes *s, uint64_t seed)
{
	rb_coll_fill_input(b->kind, input_of(b, in_place, s), count, b->o.dtype,
			   b->o.op, b->rank, b->nranks, seed);
}

/* This rank's collective arguments for count and the placement. */
static struct rb_coll_args coll_args(struct bench *b, uint64_t count,
				     int in_place)
{
	return (struct rb_coll_args){
		.kind = b->kind,
		.rank = b->rank,
		.nranks = b->nranks,
		.count = count,
		.dtype = b->o.dtype,
		.op = b->o.op,
		.in_place = in_place,
		.chunk_bytes = b->o.chunk_bytes,
		.topo = &b->links.topo,
	};
}

static int prepare(struct bench *b, uint64_t count, int in_place,
		   const struct rb_coll_sizes *s, struct rb_tp_coll *call,
		   struct rb_exec **ex_p)
{
	struct rb_coll_args a = coll_args(b, count, in_place);
	struct rb_exec_args ea = {
		.tp = b->tp,
		.sched = &b->sched,
		.send_mr = in_place ? NULL : b->links.send_mr,
		.recv_mr = b->links.recv_mr,
		.inplace_off_bytes = s->inplace_off * rb_dtype_size(b->o.dtype),
		.dtype = b->o.dtype,
		.op = b->o.op,
		.hosts = b->hosts,
		.fail = &b->fail,
	};
	int rc;

	*call = (struct rb_tp_coll){
		.kind = b->kind,
		.sendbuf = in_place ? (b->kind == RB_COLL_ALLREDUCE ? b->links.recvbuf : NULL)
				    : b->links.sendbuf,
		.recvbuf = b->links.recvbuf,
		.count = s->param_count,
		.dtype = b->o.dtype,
		.op = b->o.op,
	};
	*ex_p = NULL;
	if (b->native)
		return 0;
	rc = rb_coll_sched_build(b->o.algo, &a, &b->sched);
	if (rc)
		return rc;
	return rb_exec_create(&ea, ex_p);
}

/* What one iteration of a placement runs. */
struct iter_ctx {
	struct bench *b;
	struct rb_exec *ex;
	const struct rb_tp_coll *call;
};

/* One iteration as it is timed: the barrier, then the collective alone
 * between the two clock reads. */
static int timed_once(struct iter_ctx *c, int64_t *ns_p)
{
	uint64_t t0;
	int rc = iter_barrier(c->b);

	t0 = rb_time_ns();
	rc = rc ? rc : run_once(c->b, c->ex, c->call);
	*ns_p = (int64_t)(rb_time_ns() - t0);
	return rc;
}

/* rb_warmup_run's view of timed_once. */
static int warmup_iter(void *ctx, double *t_us_p)
{
	int64_t ns;
	int rc = timed_once(ctx, &ns);

	*t_us_p = (double)ns / 1e3;
	return rc;
}

/* rb_timed_run's view of timed_once. */
static int timed_iter(void *ctx, int64_t *ns_p)
{
	return timed_once(ctx, ns_p);
}

/* The cost form of the algorithm that runs count (auto picks per size). */
static void row_cost(struct bench *b, uint64_t count, struct rb_row *row)
{
	struct rb_coll_args a = coll_args(b, count, 0);
	const struct rb_coll_algo *al;
	struct rb_coll_shape sh;

	if (b->native)
		return;
	al = rb_coll_algo_find(b->kind, b->o.algo, &a);
	if (!al || !al->cost)
		return;
	sh = rb_coll_shape_of(&a);
	al->cost(&sh, (double)row->size_bytes, &row->cost);
	row->has_cost = 1;
}

/* The data check: one more iteration on fresh input. \return 0 or -RB_E*;
 * *wrong_p gets this rank's wrong elements. */
static int check_data(struct bench *b, struct iter_ctx *c, uint64_t count,
		      int in_place, const struct rb_coll_sizes *s,
		      uint64_t seed, int64_t *wrong_p)
{
	size_t ts = rb_dtype_size(b->o.dtype);
	int rc;

	/* Fresh input: in-place iterations overwrote it. */
	memset(b->links.recvbuf, 0xa5, s->recv_count * ts);
	fill_input(b, in_place, count, s, seed);
	rc = run_once(b, c->ex, c->call);
	if (rc)
		return rc;
	rb_coll_fill_expected(b->kind, b->links.expected, count, b->o.dtype,
			      b->o.op, b->rank, b->nranks, seed);
	*wrong_p = (int64_t)rb_coll_count_wrong(b->links.recvbuf, b->links.expected,
						s->recv_count, b->o.dtype);
	return 0;
}

/* Warm-up, timed iterations and the data check of one placement. With
 * prime set, only the auto warm-up runs, into b->prime (the priming before
 * the first size), and row is left alone. */
static int measure(struct bench *b, uint64_t count, int in_place,
		   uint64_t seed, int prime, struct rb_row *row)
{
	struct rb_coll_sizes s;
	struct rb_tp_coll call;
	struct iter_ctx c = { .b = b, .call = &call };
	struct rb_warmup w;
	struct rb_timed timed;
	int64_t wrong = 0;
	int rc;

	b->desc->sizes(count, b->rank, b->nranks, &s);
	rc = agree(b, prepare(b, count, in_place, &s, &call, &c.ex),
		   "schedule setup");
	if (rc)
		goto out;
	fill_input(b, in_place, count, &s, seed);
	rc = rb_warmup_run(&b->o, prime, b->bops, b->boot, warmup_iter, &c, &w);
	if (rc)
		goto out;
	if (prime) {
		b->prime = w;
		goto out;
	}
	rc = boot_rc(b, rb_timed_run(&b->o, b->bops, b->boot, b->nranks,
				     timed_iter, &c, &b->series, &timed));
	if (!rc && b->o.check)
		rc = check_data(b, &c, count, in_place, &s, seed + 1, &wrong);
	if (!rc && b->o.check)
		rc = boot_rc(b, b->bops->allreduce_sum_i64(b->boot, "#wrong sum",
							   &wrong, 1));
	if (rc)
		goto out;
	*row = (struct rb_row){
		.size_bytes = RB_MAX(s.send_count, s.recv_count) * rb_dtype_size(b->o.dtype),
		.count = count,
		.wrong = b->o.check ? wrong : -1,
		.warmup = w,
		.timed = timed,
		.valid = 1,
	};
	row_cost(b, count, row);
	if (b->o.per_rank_times && b->rank == 0) {
		/* A copy: the next placement reuses the series. */
		size_t len = (size_t)b->nranks * timed.iters * sizeof(int64_t);

		row->rank_ns = malloc(len);
		if (!row->rank_ns) {
			rc = -RB_ENOMEM;
			goto out;
		}
		memcpy(row->rank_ns, b->series.all_ns, len);
		rb_straggler_analyse(row->rank_ns, b->nranks, timed.iters,
				     &row->straggler);
	}
	rb_stats_compute(b->series.max_us, timed.iters, &row->t_max_us);
	rb_stats_compute(b->series.avg_us, timed.iters, &row->t_avg_us);
	row->algbw_gbps = rb_algbw_gbps(row->size_bytes,
					rb_row_time(row, b->o.stat)->avg);
	row->busbw_gbps = row->algbw_gbps * b->desc->busbw_factor(b->nranks);
out:
	rb_exec_destroy(c.ex);
	return rc;
}

/* The fabric counters over one size: every rank's deltas since
 * rb_health_begin go to rank 0. \return 0 or -RB_E*. */
static int fabric_gather(struct bench *b)
{
	struct rb_health_delta mine;

	rb_health_end(&b->health, &mine);
	return boot_rc(b, b->bops->gather(b->boot, "fabric counters", &mine,
					  b->fabric, sizeof(mine), 0));
}

/* Rank 0: the size's deltas into its records, moved warning counters into
 * the footer. */
static int fabric_report(struct bench *b, uint64_t size_bytes)
{
	char findings[2048] = "";
	int n = rb_health_findings(b->fabric, b->nranks, b->hosts, size_bytes,
				   findings, sizeof(findings));

	return rb_report_fabric(b->report,
				rb_health_json(b->fabric, b->nranks, b->hosts),
				findings, n);
}

/* The priming runs the auto warm-up on the first size before anything is
 * timed, so that start-up costs (connections made on first use, first touch
 * of buffers, the barrier's own first rounds) land in no size's figures,
 * whatever -w says; -w 0 skips it (a cold run). */
/* Rank 0: the row, then its fabric counters. \return 0 or -RB_E*. */
static int report_row(struct bench *b, const struct rb_row *oop,
		      const struct rb_row *ip)
{
	int rc = rb_report_row(b->report, oop, ip);

	return rc ? rc : fabric_report(b, oop->size_bytes);
}

int rb_bench_sweep(struct bench *b)
{
	struct rb_row unused = { 0 };
	struct rb_progress prog;
	uint64_t *bytes = calloc((size_t)b->ncounts, sizeof(*bytes));
	int rc = 0;

	if (!bytes)
		return -RB_ENOMEM;
	for (int i = 0; i < b->ncounts; i++)
		bytes[i] = b->counts[i] * rb_dtype_size(b->o.dtype);
	rb_progress_init(&prog, rb_coll_kind_name(b->kind), bytes, b->ncounts,
			 b->rank == 0, b->o.progress);
	if (b->o.warmup_auto || b->o.warmup_iters > 0) {
		rc = measure(b, b->counts[0], 0, 0x5eed0000u, 1, &unused);
		if (!rc && b->rank == 0)
			rb_report_prime(b->report, &b->prime);
	}
	for (int i = 0; i < b->ncounts && !rc; i++) {
		struct rb_row oop = { 0 };
		struct rb_row ip = { 0 };
		uint64_t seed = 0x5eed0000u + (uint64_t)i * 16;

		rb_health_begin(&b->health);
		rb_progress_step(&prog, i);
		rc = measure(b, b->counts[i], 0, seed, 0, &oop);
		if (!rc && b->o.in_place)
			rc = measure(b, b->counts[i], 1, seed + 8, 0, &ip);
		rc = rc ? rc : fabric_gather(b);
		/* Every rank learns that rank 0 could not write the results
		 * (a full disk), so that all leave now, none blamed. */
		if (!rc && agree(b, b->rank == 0 ? report_row(b, &oop, &ip) : 0,
				 "results write"))
			rc = -RB_ESYS;
		free(oop.rank_ns);
		free(ip.rank_ns);
	}
	rb_progress_end(&prog);
	if (rc)
		rb_bench_blame(b);
	free(bytes);
	return rc;
}
