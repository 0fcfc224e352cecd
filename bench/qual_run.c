/* SPDX-License-Identifier: BSD-3-Clause */
/* p2p_bench's driver: bootstrap, placement, links, the plan (a schedule
 * per rail over the nodes, one per node over its local ranks), the rounds
 * between nodes and inside nodes, the retest of suspects alone, and the
 * verdict. Each round is one gather to rank 0, which writes the rows, and
 * one broadcast of whether to go on (docs/qualify.md). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/links.h"
#include "bench/place.h"
#include "bench/qual_priv.h"
#include "bench/world.h"

/* A series' share of -T: its warm-up and timed messages stop after it. */
#define QUAL_BUDGET_DIV 4
/* Line rate --plan assumes without --expect-gbps, Gb/s. */
#define QUAL_PLAN_GBPS 400.0

enum qual_phase { QUAL_INTER, QUAL_INTRA };

/* The ranks of one group (a rail, a node) and its schedule. */
struct qual_group {
	int n;
	int *ranks;		/* [n], in node (or local rank) order */
	struct rb_qual_sched sched;
	int offset;		/* first round (rails one at a time) */
};

struct qual {
	struct rb_opts o;
	struct rb_qual_cfg q;
	const char *prog;
	const struct rb_boot_ops *bops;
	struct rb_boot *boot;
	struct rb_world w;
	struct rb_place place;
	struct rb_links links;
	char *topo_findings;
	char *cmdline;
	char run_id[64];
	char results_dir[PATH_MAX];
	uint64_t sizes[RB_QUAL_MAX_SIZES];
	int nsizes;
	int nrails;
	struct qual_group *rails;	/* [nrails] */
	struct qual_group *nodes;	/* [nnodes] */
	int *pos;			/* [nranks]: index in its rail */
	int inter_rounds;
	int intra_rounds;
	size_t rec_bytes;
	struct rb_qual_rec *mine;
	char *recs;			/* rank 0: [nranks * rec_bytes] */
	double *times;
	struct rb_qual_rank *ranks;	/* rank 0: [nranks] */
	const char **node_hosts;	/* [nnodes] */
	struct rb_qual_meta meta;
	struct rb_qual_report *rep;
	int boot_failed;
};

static int qual_agree(struct qual *x, int rc, const char *what)
{
	return rb_boot_agree(x->bops, x->boot, rc, what, &x->boot_failed);
}

static int qual_boot_rc(struct qual *x, int rc)
{
	if (rc)
		x->boot_failed = 1;
	return rc;
}

/* --plan: the schedule's cost, no bootstrap. */
static void qual_plan(const struct qual *x)
{
	struct rb_qual_cost c;
	double line = x->q.expect_gbps > 0 ? x->q.expect_gbps : QUAL_PLAN_GBPS;
	char mode[32];
	char sz[2][32];

	rb_qual_cost(&x->o, &x->q, x->q.plan_nodes, x->q.plan_rails, line, &c);
	printf("# p2p plan: %d nodes x %d rails at %.4g Gb/s%s, pairs %s, %s, sizes %s..%s, iters %d, warm-up %d, check %s%s\n",
	       x->q.plan_nodes, x->q.plan_rails, line,
	       x->q.expect_gbps > 0 ? "" : " (assumed; --expect-gbps)",
	       rb_qual_mode_name(&x->q, mode, sizeof(mode)),
	       x->q.rails_serial ? "one rail at a time" : "rails concurrent",
	       rb_format_size(x->sizes[0], sz[0]),
	       rb_format_size(x->sizes[x->nsizes - 1], sz[1]), x->o.iters,
	       x->o.warmup_iters, x->o.check ? "on" : "off",
	       x->q.bidir ? ", bidir" : "");
	printf("rounds %d\npair_tests %" PRId64 "\nround_s %.6f\nwire_s %.6f\nsync_s %.6f\ntotal_s %.3f\n",
	       c.rounds, c.pair_tests, c.round_s, c.wire_s, c.sync_s, c.total_s);
	printf("# between nodes only; retests of suspects and the intra-node rounds come on top (docs/qualify.md \"Cost\")\n");
}

/* One node, one rank, nothing to pair: every rank sees the same job, so
 * all return 2 together after rank 0's one line. */
static int qual_check_job(struct qual *x)
{
	int *cnt = calloc((size_t)x->w.nnodes + 1, sizeof(int));
	int most = 0;
	int bad;

	if (!cnt)
		return RB_EXIT_RUNTIME;
	for (int r = 0; r < x->w.nranks; r++)
		most = RB_MAX(most, ++cnt[x->w.node_of[r]]);
	free(cnt);
	bad = x->w.nranks == 1 || (x->w.nnodes == 1 && !x->q.intra_only) ||
	      (x->q.intra_only && most < 2);
	if (!bad || x->w.rank != 0)
		return bad ? RB_EXIT_USAGE : 0;
	if (x->w.nranks == 1)
		fprintf(stderr, "%s: invalid job: 1 rank has no partner; launch one rank per NIC on each node (mpiexec -ppn RAILS)\n",
			x->prog);
	else if (x->w.nnodes == 1 && !x->q.intra_only)
		fprintf(stderr, "%s: invalid job: all %d ranks are on one node (host %s), so there is no link between nodes to qualify, only intra-node pairs; run across nodes, or add --intra-only to measure those\n",
			x->prog, x->w.nranks, x->w.hosts[0]);
	else
		fprintf(stderr, "%s: invalid job: --intra-only with one rank per node has no intra-node pair\n",
			x->prog);
	return RB_EXIT_USAGE;
}

/* Sizes the groups, one array of ranks each. */
static int qual_group_alloc(struct qual_group *g, int ngroups)
{
	for (int k = 0; k < ngroups; k++) {
		g[k].ranks = calloc((size_t)g[k].n + 1, sizeof(int));
		if (!g[k].ranks)
			return -RB_ENOMEM;
		g[k].n = 0;
	}
	return 0;
}

/* Groups: rail k holds the ranks of local rank k, node by node; node g
 * holds its ranks by local rank. Rails play concurrently (their rounds
 * overlap) or one after the other (offsets). */
static int qual_groups(struct qual *x)
{
	const struct rb_coll_topo *t = &x->links.topo;
	int n = x->w.nranks;
	int rc;

	for (int r = 0; r < n; r++)
		x->nrails = RB_MAX(x->nrails, t->local_rank_of[r] + 1);
	x->rails = calloc((size_t)x->nrails, sizeof(*x->rails));
	x->nodes = calloc((size_t)x->w.nnodes, sizeof(*x->nodes));
	x->pos = calloc((size_t)n, sizeof(int));
	if (!x->rails || !x->nodes || !x->pos)
		return -RB_ENOMEM;
	for (int r = 0; r < n; r++) {
		x->rails[t->local_rank_of[r]].n++;
		x->nodes[t->node_of[r]].n++;
	}
	rc = qual_group_alloc(x->rails, x->nrails);
	rc = rc ? rc : qual_group_alloc(x->nodes, x->w.nnodes);
	for (int r = 0; r < n && !rc; r++) {
		struct qual_group *g = &x->rails[t->local_rank_of[r]];

		x->pos[r] = g->n;
		g->ranks[g->n++] = r;
		g = &x->nodes[t->node_of[r]];
		g->ranks[g->n++] = r;
	}
	for (int k = 0; k < x->nrails && !rc; k++) {
		struct qual_group *g = &x->rails[k];

		rc = rb_qual_sched_init(&g->sched, x->q.pairs, g->n, x->q.pairs_k,
					x->q.seed + (uint64_t)k);
		g->offset = x->q.rails_serial ? x->inter_rounds : 0;
		x->inter_rounds = x->q.rails_serial ?
					  x->inter_rounds + g->sched.nrounds :
					  RB_MAX(x->inter_rounds, g->sched.nrounds);
	}
	for (int k = 0; k < x->w.nnodes && !rc; k++) {
		rc = rb_qual_sched_init(&x->nodes[k].sched, RB_QUAL_ALL,
					x->nodes[k].n, 0, 0);
		x->intra_rounds = RB_MAX(x->intra_rounds, x->nodes[k].sched.nrounds);
	}
	if (x->q.intra_only)
		x->inter_rounds = 0;
	return rc;
}

/* This rank's partner in round g of a phase, or -1. */
static int qual_partner(const struct qual *x, enum qual_phase ph, int g)
{
	int me = x->w.rank;
	const struct qual_group *grp;
	int p;

	if (ph == QUAL_INTER) {
		grp = &x->rails[x->links.topo.local_rank_of[me]];
		p = rb_qual_sched_partner(&grp->sched, g - grp->offset, x->pos[me]);
	} else {
		grp = &x->nodes[x->w.node_of[me]];
		p = rb_qual_sched_partner(&grp->sched, g, x->w.local_rank);
	}
	return p < 0 ? -1 : grp->ranks[p];
}

/* Every rank's identity, NIC and line rate, to rank 0. */
static int qual_describe(struct qual *x)
{
	struct rb_qual_rank me = {
		.rank = x->w.rank,
		.node = x->w.node_of[x->w.rank],
		.local_rank = x->w.local_rank,
		.rail = x->links.tp->rail,
		.pid = (int)getpid(),
		.line_gbps = x->links.tp->line_gbps,
	};
	int rc;

	snprintf(me.host, sizeof(me.host), "%s", x->w.hosts[x->w.rank]);
	snprintf(me.nic, sizeof(me.nic), "%s", x->links.tp->nic);
	snprintf(me.tp_desc, sizeof(me.tp_desc), "%s", x->links.tp->desc);
	rb_place_describe(&x->place, x->links.tp->rail);
	snprintf(me.place, sizeof(me.place), "%s", x->place.text);
	x->ranks = calloc((size_t)x->w.nranks, sizeof(*x->ranks));
	x->node_hosts = calloc((size_t)x->w.nnodes, sizeof(char *));
	if (!x->ranks || !x->node_hosts)
		return -RB_ENOMEM;
	for (int r = x->w.nranks - 1; r >= 0; r--)
		x->node_hosts[x->w.node_of[r]] = x->w.hosts[r];
	rc = x->bops->gather(x->boot, "rank descriptions", &me, x->ranks,
			     sizeof(me), 0);
	return qual_boot_rc(x, rc);
}

/* Buffers: the largest message and an ack area after it, both ways. */
static int qual_buffers(struct qual *x)
{
	size_t ack = (size_t)x->sizes[x->nsizes - 1];
	size_t bytes;

	ack = (ack + RB_QUAL_ACK_OFF_ALIGN - 1) / RB_QUAL_ACK_OFF_ALIGN *
	      RB_QUAL_ACK_OFF_ALIGN;
	bytes = ack + RB_QUAL_ACK_OFF_ALIGN;
	x->rec_bytes = rb_qual_rec_bytes(x->nsizes);
	x->mine = calloc(1, x->rec_bytes);
	x->times = calloc((size_t)x->o.iters, sizeof(double));
	if (x->w.rank == 0)
		x->recs = calloc((size_t)x->w.nranks, x->rec_bytes);
	if (!x->mine || !x->times || (x->w.rank == 0 && !x->recs))
		return -RB_ENOMEM;
	return rb_links_buffers(&x->links, bytes, bytes);
}

/* Arguments of a pair: every size, or the largest alone for a retest. */
static struct rb_qual_pair_args qual_pair_args(const struct qual *x,
					       int retest)
{
	int nsizes = retest ? 1 : x->nsizes;

	return (struct rb_qual_pair_args){
		.tp = x->links.tp,
		.send_mr = x->links.send_mr,
		.recv_mr = x->links.recv_mr,
		.expected = x->links.expected,
		.hosts = x->w.hosts,
		.timeout_ms = x->o.timeout_ms,
		.budget_ms = x->o.timeout_ms / QUAL_BUDGET_DIV,
		.iters = x->o.iters,
		.warmup_iters = x->o.warmup_iters,
		.check = x->o.check,
		.bidir = x->q.bidir && !retest,
		.sizes = x->sizes + (x->nsizes - nsizes),
		.nsizes = nsizes,
		.ack_off = x->links.send_bytes - RB_QUAL_ACK_OFF_ALIGN,
		.times = x->times,
	};
}

/* How long rank 0 waits for a round: every series may use its budget and
 * two timeouts (its last message and the checked one), plus one. */
static int64_t qual_round_ms(const struct qual *x,
			     const struct rb_qual_pair_args *pa, int lat)
{
	int series = pa->nsizes * (2 + (pa->bidir ? 1 : 0)) + (lat ? 2 : 0);

	return series * (x->o.timeout_ms / QUAL_BUDGET_DIV + 2 * x->o.timeout_ms) +
	       x->o.timeout_ms;
}

static struct rb_qual_rec *qual_rec(const struct qual *x, int r)
{
	return (struct rb_qual_rec *)(x->recs + (size_t)r * x->rec_bytes);
}

/* Bandwidth figures of one direction from its per-message times. */
static void qual_bw(struct rb_qual_row *w, uint64_t bytes,
		    const struct rb_stats *t)
{
	w->bw_p50_gbps = rb_algbw_gbps(bytes, t->p50);
	w->bw_min_gbps = rb_algbw_gbps(bytes, t->max);
	w->bw_p99_gbps = rb_algbw_gbps(bytes, t->p99);
	w->judged_gbps = w->bw_p50_gbps;
}

static void qual_row_base(const struct qual *x, int a, int b, int cell,
			  const struct rb_qual_rec *ra,
			  const struct rb_qual_rec *rb, struct rb_qual_row *w)
{
	const struct rb_qual_rank *ka = &x->ranks[a];
	const struct rb_qual_rank *kb = &x->ranks[b];
	int inter = ka->node != kb->node;

	*w = (struct rb_qual_row){
		.rail = inter ? ka->local_rank : -1,
		.src_rank = a,
		.dst_rank = b,
		.src_local = ka->local_rank,
		.dst_local = kb->local_rank,
		.size_bytes = x->sizes[x->nsizes - ra->nsizes + cell],
		.retest_p50_gbps = -1,
		.retest_min_gbps = -1,
		.retest_p99_gbps = -1,
		.lat_p50_us = -1,
		.lat_p99_us = -1,
		.line_gbps = -1,
		.pct_line = -1,
		.ref_gbps = -1,
		.pct_ref = -1,
	};
	snprintf(w->kind, sizeof(w->kind), "%s", inter ? "inter" : "intra");
	snprintf(w->direction, sizeof(w->direction), "uni");
	snprintf(w->src_host, sizeof(w->src_host), "%s", ka->host);
	snprintf(w->dst_host, sizeof(w->dst_host), "%s", kb->host);
	snprintf(w->src_nic, sizeof(w->src_nic), "%s", inter ? ka->nic : ra->link);
	snprintf(w->dst_nic, sizeof(w->dst_nic), "%s", inter ? kb->nic : rb->link);
}

/* Rows of the pair (a, b), a < b, from their records. */
static int qual_rows(struct qual *x, int a, int b)
{
	const struct rb_qual_rec *ra = qual_rec(x, a);
	const struct rb_qual_rec *rb = qual_rec(x, b);
	int rc = 0;

	for (int i = 0; i < ra->nsizes && !rc; i++) {
		for (int d = 0; d < 2 + (x->q.bidir ? 1 : 0) && !rc; d++) {
			const struct rb_qual_rec *src = d == 1 ? rb : ra;
			const struct rb_qual_rec *dst = d == 1 ? ra : rb;
			struct rb_qual_row w;

			qual_row_base(x, d == 1 ? b : a, d == 1 ? a : b, i, src, dst, &w);
			if (d < 2) {
				qual_bw(&w, w.size_bytes, &src->cells[i].send_us);
				w.wrong = dst->cells[i].recv_wrong;
				if (src->have_lat) {
					w.lat_p50_us = src->lat_us.p50;
					w.lat_p99_us = src->lat_us.p99;
				}
			} else {
				snprintf(w.direction, sizeof(w.direction), "bidir");
				qual_bw(&w, 2 * w.size_bytes, &ra->cells[i].bidir_us);
				w.wrong = ra->cells[i].bidir_wrong < 0 ? -1 :
					  ra->cells[i].bidir_wrong + rb->cells[i].bidir_wrong;
			}
			rc = rb_qual_report_add(x->rep, &w);
		}
	}
	return rc;
}

/* A retest's figures into the rows of the pair at the largest size: the
 * best attempt alone counts (contention only ever slows a pair down). */
static void qual_retest_rows(struct qual *x, int a, int b, const char *reason)
{
	int n;
	struct rb_qual_row *rows = rb_qual_report_rows(x->rep, &n);

	for (int i = 0; i < n; i++) {
		struct rb_qual_row *w = &rows[i];
		int fwd = w->src_rank == a && w->dst_rank == b;
		const struct rb_qual_rec *src = qual_rec(x, fwd ? a : b);
		const struct rb_qual_rec *dst = qual_rec(x, fwd ? b : a);
		struct rb_qual_row t;

		if ((!fwd && (w->src_rank != b || w->dst_rank != a)) ||
		    w->size_bytes != x->sizes[x->nsizes - 1] ||
		    strcmp(w->direction, "uni"))
			continue;
		qual_bw(&t, w->size_bytes, &src->cells[0].send_us);
		w->retests++;
		snprintf(w->retest_reason, sizeof(w->retest_reason), "%s", reason);
		w->wrong = RB_MAX(w->wrong, dst->cells[0].recv_wrong);
		if (t.bw_p50_gbps <= w->retest_p50_gbps)
			continue;
		w->retest_p50_gbps = t.bw_p50_gbps;
		w->retest_min_gbps = t.bw_min_gbps;
		w->retest_p99_gbps = t.bw_p99_gbps;
		w->judged_gbps = RB_MAX(w->bw_p50_gbps, t.bw_p50_gbps);
	}
}

/* Rank 0 after a round's gather: rows, failures. \return 1 to stop. */
static int qual_collect(struct qual *x, const char *retest)
{
	int stop = 0;

	for (int a = 0; a < x->w.nranks; a++) {
		const struct rb_qual_rec *ra = qual_rec(x, a);
		int b = ra->peer;

		if (b < 0)
			continue;
		if (ra->status || qual_rec(x, b)->status) {
			if (a < b || !qual_rec(x, b)->status)
				rb_qual_report_note(x->rep, "pair failed: rank %d (host %s, rail %d, nic %s) and rank %d (host %s, rail %d, nic %s): %s; see the messages of both ranks",
						    a, x->ranks[a].host, x->ranks[a].local_rank,
						    x->ranks[a].nic, b, x->ranks[b].host,
						    x->ranks[b].local_rank, x->ranks[b].nic,
						    rb_strerror(ra->status ? ra->status :
								qual_rec(x, b)->status));
			stop = 1;
			continue;
		}
		if (a > b)
			continue;
		if (retest)
			qual_retest_rows(x, a, b, retest);
		else if (qual_rows(x, a, b))
			stop = 1;
	}
	return stop;
}

/* One round: measure with peer (or idle), gather, rank 0 writes, all
 * learn whether to go on. \return 0, or -RB_EPEER (agreed) when a pair
 * failed, or a bootstrap failure. */
static int qual_round(struct qual *x, int peer, const char *retest)
{
	struct rb_qual_pair_args pa = qual_pair_args(x, retest != NULL);
	int lat = !retest;
	int32_t stop = 0;
	int rc;

	memset(x->mine, 0, x->rec_bytes);
	x->mine->peer = peer;
	if (peer >= 0) {
		char desc[256] = "";

		rb_tp_peer_desc(x->links.tp, peer, desc, sizeof(desc));
		desc[strcspn(desc, " ")] = '\0';
		snprintf(x->mine->link, sizeof(x->mine->link), "%.27s", desc);
		rb_qual_pair_run(&pa, x->w.rank, peer, !lat, x->mine);
	}
	rc = x->bops->gather(x->boot, "pair figures", x->mine, x->recs,
			     x->rec_bytes, qual_round_ms(x, &pa, lat));
	if (qual_boot_rc(x, rc))
		return rc;
	if (x->w.rank == 0) {
		stop = qual_collect(x, retest);
		if (rb_qual_report_flush(x->rep, stop))
			stop = 1;
	}
	rc = x->bops->bcast(x->boot, "go on", &stop, sizeof(stop), 0);
	if (qual_boot_rc(x, rc))
		return rc;
	return stop ? -RB_EPEER : 0;
}

static int qual_phase(struct qual *x, enum qual_phase ph)
{
	int nrounds = ph == QUAL_INTER ? x->inter_rounds : x->intra_rounds;
	uint64_t t0 = rb_time_ns();
	int rc = 0;

	for (int g = 0; g < nrounds && !rc; g++)
		rc = qual_round(x, qual_partner(x, ph, g), NULL);
	if (!rc && x->w.rank == 0 && nrounds)
		rb_qual_report_note(x->rep, "%s: %d rounds in %.1f s",
				    ph == QUAL_INTER ? "between nodes" : "inside nodes",
				    nrounds, (double)(rb_time_ns() - t0) / 1e9);
	return rc;
}

/* What rank 0 tells every rank before each retest. */
struct qual_job {
	int32_t a;		/* -1: no more */
	int32_t b;
	int32_t suspect;
	int32_t baseline;
};

/* Suspects retested alone, one pair at a time, every other rank idle:
 * rank 0 names the next pair before each attempt. */
static int qual_retests(struct qual *x)
{
	struct rb_qual_retest t = { 0 };
	int attempts = 0;
	int rc = 0;

	if (x->w.rank == 0 && rb_qual_retest_plan(&t, x->rep, &x->q, x->nrails)) {
		rb_err("cannot plan the retests: out of memory; judging the concurrent pass only");
		t.nitems = 0;
	}
	for (;;) {
		unsigned wait_us = 0;
		int k = x->w.rank == 0 ? rb_qual_retest_next(&t, &wait_us) : -1;
		struct qual_job job = { .a = -1, .b = -1 };
		int peer;

		if (wait_us)
			usleep(wait_us);	/* the others wait in the broadcast */
		if (k >= 0)
			job = (struct qual_job){ .a = t.items[k].a, .b = t.items[k].b,
						 .suspect = t.items[k].suspect,
						 .baseline = t.items[k].baseline };
		rc = qual_boot_rc(x, x->bops->bcast(x->boot, "next retest", &job,
						    sizeof(job), 0));
		if (rc || job.a < 0)
			break;
		peer = x->w.rank == job.a ? job.b : x->w.rank == job.b ? job.a : -1;
		rc = qual_round(x, peer, !job.baseline ? "suspect" :
					 job.suspect ? "suspect+baseline" : "baseline");
		if (rc)
			break;
		if (x->w.rank == 0)
			rb_qual_retest_update(&t, k);
		attempts++;
	}
	if (!rc && x->w.rank == 0 && t.nitems)
		rb_qual_report_note(x->rep, "retested %d pair%s alone in %d attempt%s",
				    t.nitems, t.nitems == 1 ? "" : "s", attempts,
				    attempts == 1 ? "" : "s");
	rb_qual_retest_free(&t);
	return rc;
}

static int qual_open_links(struct qual *x)
{
	struct rb_links_setup ls = {
		.prog = x->prog,
		.spec = x->o.transport,
		.rank = x->w.rank,
		.nranks = x->w.nranks,
		.nnodes = x->w.nnodes,
		.local_rank = x->w.local_rank,
		.local_nranks = x->w.local_nranks,
		.hosts = x->w.hosts,
		.node_of = x->w.node_of,
		.timeout_ms = x->o.timeout_ms,
		.rail_netdev = x->o.rails && x->place.netdev[0] ? x->place.netdev : NULL,
		.rail_ibdev = x->o.rails && x->place.ibdev[0] ? x->place.ibdev : NULL,
		.rail = x->place.rail,
		.bops = x->bops,
		.boot = x->boot,
	};
	int rc = rb_links_open(&ls, &x->links);

	x->boot_failed |= x->links.boot_failed;
	return rc;
}

static int qual_open_report(struct qual *x)
{
	x->meta = (struct rb_qual_meta){
		.prog = x->prog,
		.o = &x->o,
		.q = &x->q,
		.command_line = x->cmdline,
		.mpi_library = x->bops->library(x->boot),
		.run_id = x->run_id,
		.results_dir = x->o.no_results ? NULL : x->results_dir,
		.nranks = x->w.nranks,
		.nnodes = x->w.nnodes,
		.nrails = x->nrails,
		.inter_rounds = x->inter_rounds,
		.intra_rounds = x->intra_rounds,
		.sizes = x->sizes,
		.nsizes = x->nsizes,
		.ranks = x->ranks,
		.node_hosts = x->node_hosts,
		.topo_findings = x->topo_findings,
	};
	return x->w.rank == 0 ? rb_qual_report_open(&x->meta, &x->rep) : 0;
}

/* Setup, each step agreed by all ranks. \return an agreed exit code. */
static int qual_setup(struct qual *x)
{
	int rc;

	rc = qual_agree(x, rb_world_init(&x->w, x->bops, x->boot), "peer identity");
	if (rc)
		return rc;
	x->boot_failed |= x->w.boot_failed;
	rc = qual_check_job(x);
	if (rc)
		return rc;	/* every rank knows the job's shape */
	rc = qual_agree(x, rb_world_name_peers(&x->w, NULL), "peer names");
	rc = rc ? rc : qual_agree(x, rb_place_init(&x->o, x->w.local_rank,
						   x->w.local_nranks, &x->place),
				  "placement");
	rc = rc ? rc : qual_agree(x, rb_world_topo_check(&x->w, x->place.summary,
							 &x->topo_findings),
				  "topology check");
	rc = rc ? rc : qual_open_links(x);
	rc = rc ? rc : qual_agree(x, rb_world_name_peers(&x->w, x->links.tp),
				  "peer names");
	rc = rc ? rc : qual_agree(x, qual_groups(x), "schedule");
	rc = rc ? rc : qual_agree(x, qual_buffers(x), "buffer allocation");
	rc = rc ? rc : qual_agree(x, qual_describe(x), "rank descriptions");
	if (!rc && rb_world_name_run(&x->w, x->o.run_id, x->o.results_dir,
				     x->run_id, sizeof(x->run_id),
				     x->results_dir, sizeof(x->results_dir)))
		rc = RB_EXIT_RUNTIME;
	x->boot_failed |= x->w.boot_failed;
	rc = rc ? rc : qual_agree(x, qual_open_report(x), "report open");
	return rc;
}

/* Everything after option parsing. \return 0 with the agreed exit code
 * in *code_p, or -RB_E* when the job must end without agreement. */
static int qual_run(struct qual *x, int *code_p)
{
	int32_t code = 0;
	int rc;

	*code_p = qual_setup(x);
	if (*code_p)
		return 0;
	rc = qual_boot_rc(x, x->bops->barrier(x->boot, "start"));
	rc = rc ? rc : qual_phase(x, QUAL_INTER);
	rc = rc ? rc : qual_phase(x, QUAL_INTRA);
	rc = rc ? rc : qual_retests(x);
	if (rc == -RB_EPEER && !x->boot_failed) {
		/* A pair failed and every rank knows: the files keep what was
		 * measured, the job ends together. */
		if (x->w.rank == 0)
			rb_qual_report_close(x->rep, RB_EXIT_RUNTIME, &code);
		*code_p = RB_EXIT_RUNTIME;
		return 0;
	}
	if (rc)
		return rc;
	if (x->w.rank == 0) {
		rc = rb_qual_report_close(x->rep, 0, &code);
		if (rc)
			code = RB_EXIT_RUNTIME;
	}
	rc = qual_boot_rc(x, x->bops->bcast(x->boot, "exit code", &code,
					    sizeof(code), 0));
	*code_p = code;
	return rc;
}

static void qual_free(struct qual *x)
{
	rb_qual_report_free(x->rep);
	rb_links_close(&x->links);
	for (int k = 0; x->rails && k < x->nrails; k++) {
		rb_qual_sched_fini(&x->rails[k].sched);
		free(x->rails[k].ranks);
	}
	for (int g = 0; x->nodes && g < x->w.nnodes; g++) {
		rb_qual_sched_fini(&x->nodes[g].sched);
		free(x->nodes[g].ranks);
	}
	free(x->rails);
	free(x->nodes);
	free(x->pos);
	free(x->mine);
	free(x->recs);
	free(x->times);
	free(x->ranks);
	free(x->node_hosts);
	free(x->topo_findings);
	free(x->cmdline);
	rb_world_fini(&x->w);
}

int rb_qual_main(int argc, char **argv)
{
	struct qual x = { .bops = &rb_boot_mpi_ops };
	const char *slash = strrchr(argv[0], '/');
	const char *pmi_rank = getenv("PMI_RANK");
	int print = !pmi_rank || !strcmp(pmi_rank, "0");
	int code = 0;
	int rc;

	x.prog = slash ? slash + 1 : argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Options first, so bad input never needs the launcher. */
	rc = rb_qual_opts_parse(&x.o, &x.q, argc, argv, x.prog, print);
	if (rc < 0)
		return RB_EXIT_USAGE;
	if (rc == RB_OPTS_EXIT_OK)
		return RB_EXIT_OK;
	x.nsizes = rb_qual_sizes(&x.o, x.sizes);
	if (x.q.plan_nodes) {
		if (print)
			qual_plan(&x);
		return RB_EXIT_OK;
	}
	rb_log_set_verbose(x.o.verbose);
	x.cmdline = rb_join_args(argc, argv);
	if (x.bops->init(&argc, &argv, x.o.timeout_ms, &x.boot)) {
		free(x.cmdline);
		return RB_EXIT_RUNTIME;
	}
	rc = qual_run(&x, &code);
	if (rc || x.boot_failed) {
		/* A rank was lost or stuck (named already); what was measured
		 * is on disk. End the job without waiting for it. */
		code = rc ? rb_exit_code(rc) : RB_EXIT_RUNTIME;
		if (x.w.rank == 0 && x.rep) {
			int unused;

			rb_qual_report_close(x.rep, code, &unused);
		}
		fflush(stdout);
		x.bops->abort(x.boot, code);
	}
	qual_free(&x);
	x.bops->fini(x.boot);
	return code;
}
