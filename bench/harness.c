/* SPDX-License-Identifier: BSD-3-Clause */
/* The sweep driver shared by every *_bench binary: bootstrap, placement,
 * transport setup, then per size and placement: warm-up, timed iterations
 * (one barrier before each; an iteration's time is the max over ranks),
 * data check, statistics and a report row (docs/statistics.md). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	double *times;			/* [iters] */
	struct rb_report *report;
	struct rb_rank_info *infos;	/* rank 0: [nranks] */
	char run_id[64];
	char results_dir[PATH_MAX];
	char *cmdline;
	char *topo_findings;
	int boot_failed;		/* an exchange failed: no finalize */
};

/* All ranks agree on the worst exit code of a step (bench/links.c). */
static int agree(struct bench *b, int rc, const char *what)
{
	return rb_boot_agree(b->bops, b->boot, rc, what, &b->boot_failed);
}

/* Marks the bootstrap failed when an exchange fails. \return rc. */
static int boot_rc(struct bench *b, int rc)
{
	if (rc)
		b->boot_failed = 1;
	return rc;
}

static int boot_peers(struct bench *b)
{
	int rc = rb_world_init(&b->world, b->bops, b->boot);

	b->boot_failed |= b->world.boot_failed;
	if (rc)
		return rc;
	b->rank = b->world.rank;
	b->nranks = b->world.nranks;
	b->nnodes = b->world.nnodes;
	b->local_rank = b->world.local_rank;
	b->local_nranks = b->world.local_nranks;
	b->hosts = b->world.hosts;
	b->node_of = b->world.node_of;
	return 0;
}

/* What bootstrap messages call each rank: its host, and once the transport
 * is connected, this rank's link to it. */
static int name_peers(struct bench *b)
{
	return rb_world_name_peers(&b->world, b->tp);
}

/* Cross-node topology check: one summary per node, printed by rank 0. */
static int topo_check(struct bench *b)
{
	int rc = rb_world_topo_check(&b->world, b->place.summary,
				     &b->topo_findings);

	b->boot_failed |= b->world.boot_failed;
	return rc;
}

static int open_links(struct bench *b)
{
	struct rb_links_setup ls = {
		.prog = b->prog,
		.spec = b->o.transport,
		.rank = b->rank,
		.nranks = b->nranks,
		.nnodes = b->nnodes,
		.local_rank = b->local_rank,
		.local_nranks = b->local_nranks,
		.hosts = b->hosts,
		.node_of = b->node_of,
		.timeout_ms = b->o.timeout_ms,
		.rail_netdev = b->o.rails && b->place.netdev[0] ? b->place.netdev : NULL,
		.rail_ibdev = b->o.rails && b->place.ibdev[0] ? b->place.ibdev : NULL,
		.rail = b->place.rail,
		.bops = b->bops,
		.boot = b->boot,
	};
	int rc = rb_links_open(&ls, &b->links);

	b->boot_failed |= b->links.boot_failed;
	b->tp = b->links.tp;
	return rc;
}

/* Zero-byte dissemination barrier over the transport itself, so timing
 * never waits on the bootstrap's progress engine. */
static int build_barrier(struct bench *b)
{
	struct rb_exec_args ea = {
		.tp = b->tp,
		.sched = &b->barrier_sched,
		.send_mr = b->links.recv_mr,
		.recv_mr = b->links.recv_mr,
		.dtype = b->o.dtype,
		.op = b->o.op,
		.hosts = b->hosts,
	};
	int rc = rb_coll_barrier_build(b->rank, b->nranks, &b->barrier_sched);

	if (rc)
		return rc;
	return rb_exec_create(&ea, &b->barrier_ex);
}

static int iter_barrier(struct bench *b)
{
	if (b->native)
		return rb_tp_barrier(b->tp);
	return rb_exec_run(b->barrier_ex, b->o.timeout_ms);
}

/* Table counts of the sweep: sizes rounded down to whole elements and to
 * the collective's alignment; duplicates and zero counts dropped. */
static int plan_sizes(struct bench *b)
{
	size_t ts = rb_dtype_size(b->o.dtype);
	uint64_t align = b->desc->count_align(b->nranks);
	uint64_t bytes = b->o.min_bytes;
	int cap = 0;

	while (bytes <= b->o.max_bytes) {
		uint64_t count = bytes / ts / align * align;

		if (count && (!b->ncounts || b->counts[b->ncounts - 1] != count)) {
			if (b->ncounts == cap) {
				uint64_t *p;

				cap = cap ? 2 * cap : 64;
				p = realloc(b->counts, (size_t)cap * sizeof(*p));
				if (!p)
					return -RB_ENOMEM;
				b->counts = p;
			}
			b->counts[b->ncounts++] = count;
		}
		if (b->o.step_bytes)
			bytes += b->o.step_bytes;
		else if (bytes > UINT64_MAX / b->o.step_factor)
			break;
		else
			bytes *= b->o.step_factor;
	}
	if (!b->ncounts) {
		if (b->rank == 0)
			fprintf(stderr, "%s: invalid sizes: no size in %" PRIu64 "..%" PRIu64
				" B holds a whole %s of %s with %d ranks (need at least %" PRIu64 " B)\n",
				b->prog, b->o.min_bytes, b->o.max_bytes, b->desc->name,
				rb_dtype_name(b->o.dtype), b->nranks, align * ts);
		return -RB_EINVAL;
	}
	return 0;
}

static int alloc_buffers(struct bench *b)
{
	struct rb_coll_sizes s;
	size_t ts = rb_dtype_size(b->o.dtype);
	int rc;

	b->desc->sizes(b->counts[b->ncounts - 1], b->rank, b->nranks, &s);
	rc = rb_links_buffers(&b->links, s.send_count * ts, s.recv_count * ts);
	b->times = calloc((size_t)b->o.iters, sizeof(*b->times));
	if (!rc && !b->times)
		rc = -RB_ENOMEM;
	return rc;
}

/* One execution of the collective for the current size and placement. */
static int run_once(struct bench *b, struct rb_exec *ex,
		    const struct rb_tp_coll *call)
{
	if (b->native)
		return rb_tp_coll(b->tp, call);
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

static int prepare(struct bench *b, uint64_t count, int in_place,
		   const struct rb_coll_sizes *s, struct rb_tp_coll *call,
		   struct rb_exec **ex_p)
{
	struct rb_coll_args a = {
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
	struct rb_exec_args ea = {
		.tp = b->tp,
		.sched = &b->sched,
		.send_mr = in_place ? NULL : b->links.send_mr,
		.recv_mr = b->links.recv_mr,
		.inplace_off_bytes = s->inplace_off * rb_dtype_size(b->o.dtype),
		.dtype = b->o.dtype,
		.op = b->o.op,
		.hosts = b->hosts,
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

/* Warm-up, timed iterations and the data check of one placement. */
static int measure(struct bench *b, uint64_t count, int in_place,
		   uint64_t seed, struct rb_row *row)
{
	struct rb_coll_sizes s;
	struct rb_tp_coll call;
	struct rb_exec *ex = NULL;
	size_t ts = rb_dtype_size(b->o.dtype);
	int64_t wrong = 0;
	int rc;

	b->desc->sizes(count, b->rank, b->nranks, &s);
	rc = agree(b, prepare(b, count, in_place, &s, &call, &ex),
		   "schedule setup");
	if (rc)
		goto out;
	fill_input(b, in_place, count, &s, seed);
	for (int i = 0; i < b->o.warmup_iters && !rc; i++)
		rc = run_once(b, ex, &call);
	for (int i = 0; i < b->o.iters && !rc; i++) {
		uint64_t t0;

		rc = iter_barrier(b);
		t0 = rb_time_ns();
		rc = rc ? rc : run_once(b, ex, &call);
		b->times[i] = (double)(rb_time_ns() - t0) / 1e3;
	}
	if (!rc && b->o.check) {
		/* Fresh input: in-place iterations overwrote it. */
		memset(b->links.recvbuf, 0xa5, s.recv_count * ts);
		fill_input(b, in_place, count, &s, seed + 1);
		rc = run_once(b, ex, &call);
		if (!rc) {
			rb_coll_fill_expected(b->kind, b->links.expected, count, b->o.dtype,
					      b->o.op, b->rank, b->nranks, seed + 1);
			wrong = (int64_t)rb_coll_count_wrong(b->links.recvbuf, b->links.expected,
							     s.recv_count, b->o.dtype);
		}
	}
	if (rc)
		goto out;
	rc = boot_rc(b, b->bops->allreduce_max_f64(b->boot, "iteration times",
						   b->times, b->o.iters));
	if (!rc && b->o.check)
		rc = boot_rc(b, b->bops->allreduce_sum_i64(b->boot, "#wrong sum",
							   &wrong, 1));
	if (rc)
		goto out;
	*row = (struct rb_row){
		.size_bytes = RB_MAX(s.send_count, s.recv_count) * ts,
		.count = count,
		.wrong = b->o.check ? wrong : -1,
		.valid = 1,
	};
	rb_stats_compute(b->times, b->o.iters, &row->t_us);
	row->algbw_gbps = rb_algbw_gbps(row->size_bytes, row->t_us.avg);
	row->busbw_gbps = row->algbw_gbps * b->desc->busbw_factor(b->nranks);
out:
	rb_exec_destroy(ex);
	return rc;
}

/* Rank 0: run id and results directory. */
static int name_run(struct bench *b)
{
	int rc = rb_world_name_run(&b->world, b->o.run_id, b->o.results_dir,
				   b->run_id, sizeof(b->run_id),
				   b->results_dir, sizeof(b->results_dir));

	b->boot_failed |= b->world.boot_failed;
	return rc;
}

static int open_report(struct bench *b, struct rb_run_meta *m)
{
	struct rb_rank_info me = { .rank = b->rank, .pid = (int)getpid() };
	int rc;

	snprintf(me.host, sizeof(me.host), "%s", b->hosts[b->rank]);
	snprintf(me.tp_desc, sizeof(me.tp_desc), "%s", b->tp->desc);
	rb_place_describe(&b->place, b->tp->rail);
	snprintf(me.place, sizeof(me.place), "%s", b->place.text);
	me.rail = b->tp->rail;
	snprintf(me.place_json, sizeof(me.place_json), "%s", b->place.json);
	b->infos = calloc((size_t)b->nranks, sizeof(*b->infos));
	if (!b->infos)
		return -RB_ENOMEM;
	rc = boot_rc(b, b->bops->allgather(b->boot, "rank descriptions", &me,
					   b->infos, sizeof(me)));
	if (rc || b->rank != 0)
		return rc;
	*m = (struct rb_run_meta){
		.kind = b->kind,
		.transport = b->o.transport,
		.algo = b->algo_name,
		.algo_note = b->auto_note,
		.nranks = b->nranks,
		.nnodes = b->nnodes,
		.opts = &b->o,
		.ranks = b->infos,
		.command_line = b->cmdline,
		.mpi_library = b->bops->library(b->boot),
		.run_id = b->run_id,
		.results_dir = b->o.no_results ? NULL : b->results_dir,
		.topo_findings = b->topo_findings,
	};
	return rb_report_open(m, &b->report);
}

/* Collective arguments of this rank at the sweep's largest size. */
static struct rb_coll_args largest_args(const struct bench *b,
					const struct rb_coll_topo *topo)
{
	return (struct rb_coll_args){
		.kind = b->kind,
		.rank = b->rank,
		.nranks = b->nranks,
		.count = b->counts[b->ncounts - 1],
		.dtype = b->o.dtype,
		.op = b->o.op,
		.topo = topo,
	};
}

/* Decides between the library collective and a schedule. */
static int choose_algo(struct bench *b)
{
	int has_native = !!(b->tops->caps & RB_TP_CAP_NATIVE_COLL);

	if (!strcmp(b->o.algo, "native") && !has_native) {
		if (b->rank == 0)
			fprintf(stderr, "%s: invalid --algo 'native': transport %s has no library collectives\n",
				b->prog, b->o.transport);
		return -RB_EINVAL;
	}
	b->native = has_native && (!strcmp(b->o.algo, "native") ||
				   !strcmp(b->o.algo, "auto"));
	b->algo_name = b->native ? "native" : b->o.algo;
	if (!b->native) {
		struct rb_coll_args a = largest_args(b, NULL);
		char names[256];

		if (!rb_coll_algo_find(b->kind, b->o.algo, &a)) {
			if (b->rank == 0)
				fprintf(stderr, "%s: invalid --algo '%s': for %s with transport %s expected %s%s\n",
					b->prog, b->o.algo, b->desc->name, b->o.transport,
					rb_coll_algo_list(b->kind, names, sizeof(names)),
					has_native ? ", native" : "");
			return -RB_EINVAL;
		}
	}
	return 0;
}

/* Once the topology is known: can the algorithm run here (hier refuses
 * uneven ranks per node), and why does auto (not) pick hier. */
static int check_algo(struct bench *b)
{
	struct rb_coll_args a = largest_args(b, &b->links.topo);
	const struct rb_coll_algo *al;
	char why[256] = "";

	if (b->native)
		return 0;
	al = rb_coll_algo_find(b->kind, b->o.algo, &a);
	if (!strcmp(b->o.algo, "auto")) {
		rb_coll_auto_why(&a, why, sizeof(why));
		if (why[0])
			snprintf(b->auto_note, sizeof(b->auto_note),
				 "auto does not pick hier: %.200s", why);
		else
			snprintf(b->auto_note, sizeof(b->auto_note),
				 "auto picks hier");
		return 0;
	}
	if (al && !al->supports(&a, why, sizeof(why))) {
		if (b->rank == 0)
			fprintf(stderr, "%s: invalid --algo '%s': %s\n", b->prog,
				b->o.algo, why);
		return -RB_EINVAL;
	}
	return 0;
}

static int sweep(struct bench *b)
{
	int rc = 0;

	for (int i = 0; i < b->ncounts && !rc; i++) {
		struct rb_row oop = { 0 };
		struct rb_row ip = { 0 };
		uint64_t seed = 0x5eed0000u + (uint64_t)i * 16;

		rc = measure(b, b->counts[i], 0, seed, &oop);
		if (!rc && b->o.in_place)
			rc = measure(b, b->counts[i], 1, seed + 8, &ip);
		if (!rc && b->rank == 0)
			rc = rb_report_row(b->report, &oop, &ip);
	}
	return rc;
}

static void bench_free(struct bench *b)
{
	rb_exec_destroy(b->barrier_ex);
	rb_sched_free(&b->barrier_sched);
	rb_sched_free(&b->sched);
	rb_links_close(&b->links);
	b->tp = NULL;
	rb_report_free(b->report);
	free(b->infos);
	free(b->times);
	free(b->counts);
	rb_world_fini(&b->world);
	b->hosts = NULL;
	b->node_of = NULL;
	free(b->cmdline);
	free(b->topo_findings);
}

/* Everything after option parsing. \return 0 or -RB_E*; *code_p gets the
 * exit code when it is already agreed by all ranks. */
static int run(struct bench *b, int *code_p)
{
	struct rb_run_meta meta;
	int rc;

	rc = boot_peers(b);
	if (rc)
		return rc;
	rc = name_peers(b);
	if (rc)
		return rc;
	rc = agree(b, rb_place_init(&b->o, b->local_rank, b->local_nranks,
				    &b->place), "placement");
	rc = rc ? rc : agree(b, topo_check(b), "topology check");
	b->tops = rb_tp_find(b->o.transport);
	rc = rc ? rc : agree(b, plan_sizes(b), "size plan");
	rc = rc ? rc : agree(b, choose_algo(b), "algorithm choice");
	rc = rc ? rc : open_links(b);
	rc = rc ? rc : agree(b, name_peers(b), "peer names");
	rc = rc ? rc : agree(b, check_algo(b), "algorithm check");
	rc = rc ? rc : agree(b, alloc_buffers(b), "buffer allocation");
	rc = rc ? rc : agree(b, b->native ? 0 : build_barrier(b),
			     "barrier setup");
	if (rc) {
		*code_p = rc;	/* agree() already returned an exit code */
		return 0;
	}
	rc = name_run(b);
	rc = rc ? RB_EXIT_RUNTIME : agree(b, open_report(b, &meta), "report open");
	if (rc) {
		*code_p = rc;
		return 0;
	}
	rc = sweep(b);
	if (rc)
		return rc;	/* runtime failure: the caller aborts the job */
	if (b->rank == 0) {
		rc = rb_report_close(b->report, 0);
		*code_p = rc ? RB_EXIT_RUNTIME : rb_report_verdict(b->report);
	}
	return boot_rc(b, b->bops->bcast(b->boot, "exit code", code_p,
					 sizeof(*code_p), 0));
}

int rb_bench_main(enum rb_coll_kind kind, int argc, char **argv)
{
	struct bench b = {
		.kind = kind,
		.desc = rb_coll_desc_get(kind),
		.bops = &rb_boot_mpi_ops,
	};
	const char *slash = strrchr(argv[0], '/');
	const char *pmi_rank = getenv("PMI_RANK");
	int print = !pmi_rank || !strcmp(pmi_rank, "0");
	int code = 0;
	int rc;

	b.prog = slash ? slash + 1 : argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	rb_opts_defaults(&b.o);
	/* Options first, so bad input never needs the launcher's cooperation. */
	rc = rb_opts_parse(&b.o, argc, argv, b.prog, print);
	if (rc < 0)
		return RB_EXIT_USAGE;
	if (rc == RB_OPTS_EXIT_OK)
		return RB_EXIT_OK;
	rb_log_set_verbose(b.o.verbose);
	b.cmdline = rb_join_args(argc, argv);
	if (b.bops->init(&argc, &argv, b.o.timeout_ms, &b.boot)) {
		free(b.cmdline);
		return RB_EXIT_RUNTIME;
	}
	rc = run(&b, &code);
	if (rc || b.boot_failed) {
		/* A rank lost a peer or timed out (already logged, naming the
		 * peer). Results of finished sizes are on disk; end the job. */
		code = rc ? rb_exit_code(rc) : RB_EXIT_RUNTIME;
		if (b.rank == 0 && b.report)
			rb_report_close(b.report, code);
		fflush(stdout);
		b.bops->abort(b.boot, code);
	}
	bench_free(&b);
	b.bops->fini(b.boot);
	return code;
}
