/* SPDX-License-Identifier: BSD-3-Clause */
/* The driver shared by every *_bench binary: bootstrap, placement,
 * transport setup, sizes and buffers, the report, then the sweep
 * (bench/measure.c) and the exit code all ranks agree on. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/harness_priv.h"

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
		.fail = &b->fail,
	};
	int rc = rb_coll_barrier_build(b->rank, b->nranks, &b->barrier_sched);

	if (rc)
		return rc;
	return rb_exec_create(&ea, &b->barrier_ex);
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
	return rc ? rc : rb_series_reserve(&b->series, b->o.iters);
}


/* The rail devices whose counters every size records: the one the
 * transport reports it leaves by, and the --rails NICs (docs/results.md,
 * "Fabric counters"). */
static int init_health(struct bench *b)
{
	const char *names[] = {
		b->tp->nic,
		b->o.rails ? b->place.netdev : NULL,
		b->o.rails ? b->place.ibdev : NULL,
	};

	rb_health_init(&b->health, "/sys", names, (int)RB_ARRAY_SIZE(names));
	if (b->rank != 0)
		return 0;
	b->fabric = calloc((size_t)b->nranks, sizeof(*b->fabric));
	return b->fabric ? 0 : -RB_ENOMEM;
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
	for (int r = 0; r < b->nranks; r++)
		rb_rank_info_clean(&b->infos[r]);
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


static void bench_free(struct bench *b)
{
	rb_exec_destroy(b->barrier_ex);
	rb_sched_free(&b->barrier_sched);
	rb_sched_free(&b->sched);
	rb_links_close(&b->links);
	b->tp = NULL;
	rb_report_free(b->report);
	free(b->infos);
	free(b->fabric);
	rb_series_free(&b->series);
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
	rc = rc ? rc : agree(b, init_health(b), "fabric counters");
	rc = rc ? rc : agree(b, b->native ? 0 : build_barrier(b),
			     "barrier setup");
	if (rc) {
		*code_p = rc;	/* agree() already returned an exit code */
		return 0;
	}
	rc = name_run(b);
	rc = rc ? RB_EXIT_RUNTIME : agree(b, open_report(b, &b->meta), "report open");
	if (rc) {
		*code_p = rc;
		return 0;
	}
	rc = rb_bench_sweep(b);
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
		.fail = { .peer = -1 },
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
