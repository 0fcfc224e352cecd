/* SPDX-License-Identifier: BSD-3-Clause */
/* The hier algorithms over fake node maps (1..4 nodes of 1..17 ranks,
 * contiguous, round-robin and shuffled placement): exact data for every
 * type, op and placement; per-pair traffic proving that inter-node bytes
 * stay on one rail, with the byte counts of docs/algorithms.md; refusal of
 * uneven placements; and the "auto" rule with its reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/coll_world.h"

#define MAX_RANKS RB_TEST_MAX_RANKS
#define MAX_NODES 4

enum placement {
	PLACE_BLOCK,	/* node k holds a contiguous run of ranks */
	PLACE_RR,	/* rank r on node r % N */
	PLACE_SHUFFLE,	/* a fixed scramble */
	NPLACES,
};

static const char *const place_names[NPLACES] = {
	[PLACE_BLOCK] = "block",
	[PLACE_RR] = "rr",
	[PLACE_SHUFFLE] = "shuffle",
};

struct fake_topo {
	struct rb_coll_topo t;
	int n;
	int per[MAX_NODES];	/* ranks on each node */
	int node_of[MAX_RANKS];
	int local_of[MAX_RANKS];
	int rail_of[MAX_RANKS];
};

/* Renumbers nodes in order of their lowest rank, then derives local ranks
 * (rank order within a node) and rails (rail-optimized: rail = local). */
static void fake_finish(struct fake_topo *f)
{
	int rename[MAX_NODES];
	int next = 0;

	for (int m = 0; m < MAX_NODES; m++)
		rename[m] = -1;
	for (int r = 0; r < f->n; r++) {
		if (rename[f->node_of[r]] < 0)
			rename[f->node_of[r]] = next++;
		f->node_of[r] = rename[f->node_of[r]];
	}
	memset(f->per, 0, sizeof(f->per));
	for (int r = 0; r < f->n; r++) {
		f->local_of[r] = f->per[f->node_of[r]]++;
		f->rail_of[r] = f->local_of[r];
	}
	f->t = (struct rb_coll_topo){
		.nnodes = next,
		.node_of = f->node_of,
		.local_rank_of = f->local_of,
		.rail_of = f->rail_of,
	};
}

/* n ranks on nn nodes. Uneven block placement gives the extra ranks to the
 * last nodes (5 on 2: node 0 has 2, node 1 has 3). */
static void fake_make(struct fake_topo *f, int n, int nn, enum placement p)
{
	int base = n / nn;
	int rem = n % nn;
	int perm[MAX_RANKS];
	int r = 0;

	f->n = n;
	for (int i = 0; i < n; i++)
		perm[i] = i;
	if (p == PLACE_SHUFFLE) {
		uint64_t x = 0x2545f4914f6cdd1dull + (uint64_t)n;

		for (int i = n - 1; i > 0; i--) {
			int j;
			int t;

			x = x * 6364136223846793005ull + 1442695040888963407ull;
			j = (int)((x >> 33) % (uint64_t)(i + 1));
			t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
		}
	}
	if (p == PLACE_RR) {
		for (int i = 0; i < n; i++)
			f->node_of[i] = i % nn;
	} else {
		for (int m = 0; m < nn; m++) {
			int size = base + (m >= nn - rem);

			for (int k = 0; k < size; k++)
				f->node_of[perm[r++]] = m;
		}
	}
	fake_finish(f);
}

/* The reason hier must give for an uneven placement, from the counts. */
static int fake_uneven_why(const struct fake_topo *f, char *buf, size_t len)
{
	for (int m = 1; m < f->t.nnodes; m++) {
		if (f->per[m] != f->per[0]) {
			snprintf(buf, len, "ranks per node differ: node %d has %d, node 0 has %d",
				 m, f->per[m], f->per[0]);
			return 1;
		}
	}
	return 0;
}

static const enum rb_coll_kind hier_kinds[] = {
	RB_COLL_ALLREDUCE,
	RB_COLL_ALLGATHER,
	RB_COLL_ALLTOALL,
};

/* ---- data: every kind, type, op, placement ------------------------------ */

struct map_case {
	int n;
	int nnodes;
	enum placement place;
	char name[64];
};

/* An uneven map must be refused by supports() and by auto, with the
 * reason naming the nodes and counts. */
static void check_refused(const struct fake_topo *f, const char *want)
{
	for (size_t k = 0; k < RB_ARRAY_SIZE(hier_kinds); k++) {
		struct rb_coll_args a = {
			.kind = hier_kinds[k], .rank = 0, .nranks = f->n,
			.count = 4 * (size_t)f->n, .dtype = RB_FLOAT,
			.op = RB_OP_SUM, .topo = &f->t,
		};
		const struct rb_coll_algo *al =
			rb_coll_algo_find(a.kind, "hier", &a);
		char why[160] = "";

		assert_non_null(al);
		assert_int_equal(al->supports(&a, why, sizeof(why)), 0);
		assert_string_equal(why, want);
		assert_string_equal(rb_coll_auto_why(&a, why, sizeof(why)),
				    want);
		assert_string_not_equal(rb_coll_algo_find(a.kind, "auto",
							  &a)->name, "hier");
	}
}

static void test_map(void **state)
{
	const struct map_case *mc = *state;
	struct fake_topo f;
	char want[160];
	int failed = 0;
	int runs = 0;

	fake_make(&f, mc->n, mc->nnodes, mc->place);
	if (fake_uneven_why(&f, want, sizeof(want))) {
		check_refused(&f, want);
		return;
	}
	for (size_t k = 0; k < RB_ARRAY_SIZE(hier_kinds); k++) {
		int r;

		failed += rb_test_sweep("hier", hier_kinds[k], mc->n, &f.t, &r);
		runs += r;
	}
	if (failed)
		fail_msg("%d of %d runs failed", failed, runs);
}

/* No topology: one node, hier is the intra-node phases alone. */
static void test_no_topo(void **state)
{
	(void)state;
	for (int n = 1; n <= 6; n += 5) {
		for (size_t k = 0; k < RB_ARRAY_SIZE(hier_kinds); k++) {
			int runs;

			assert_int_equal(rb_test_sweep("hier", hier_kinds[k], n,
						       NULL, &runs), 0);
		}
	}
}

/* ---- traffic: rails and byte counts ------------------------------------- */

struct split {
	uint64_t intra;
	uint64_t inter;
	uint64_t inter_msgs;
};

/* Bytes rank r sent (out) and received (in) inside and across nodes;
 * fails if any inter-node byte went between different local ranks. */
static void traffic_split(struct rb_test_world *w, const struct fake_topo *f,
			  int r, struct split *out, struct split *in)
{
	memset(out, 0, sizeof(*out));
	memset(in, 0, sizeof(*in));
	for (int q = 0; q < f->n; q++) {
		uint64_t to = rb_loop_bytes_to(w->tps[r], q);
		uint64_t from = rb_loop_bytes_to(w->tps[q], r);

		if (f->node_of[q] == f->node_of[r]) {
			out->intra += to;
			in->intra += from;
			continue;
		}
		if (f->local_of[q] != f->local_of[r] && (to || from))
			fail_msg("rank %d (local %d) and rank %d (local %d) on different nodes exchanged %llu + %llu bytes",
				 r, f->local_of[r], q, f->local_of[q],
				 (unsigned long long)to,
				 (unsigned long long)from);
		out->inter += to;
		in->inter += from;
		out->inter_msgs += rb_loop_msgs_to(w->tps[r], q);
	}
}

/* Per-rank bytes of docs/algorithms.md "hier" for N x L and the case's
 * count (a multiple of N * L). */
static void traffic_want(const struct rb_test_case *c, uint64_t nn,
			 uint64_t pn, struct split *want)
{
	uint64_t bytes = c->count * rb_dtype_size(c->dtype);
	uint64_t blk = bytes / (nn * pn);

	switch (c->kind) {
	case RB_COLL_ALLREDUCE:
		want->intra = 2 * (pn - 1) * bytes / pn;
		want->inter = 2 * (nn - 1) * bytes / (nn * pn);
		break;
	case RB_COLL_ALLGATHER:
		want->inter = (nn - 1) * blk;
		want->intra = (pn - 1) * nn * blk;
		break;
	default:
		want->intra = (pn - 1) * nn * blk;
		want->inter = (nn - 1) * pn * blk;
		/* One rail message per remote node. */
		want->inter_msgs = nn - 1;
		break;
	}
}

static void traffic_case(const struct rb_test_case *c,
			 const struct fake_topo *f)
{
	uint64_t nn = (uint64_t)f->t.nnodes;
	struct rb_test_world w;
	struct split want = { 0 };
	char msg[256] = "";
	int rc = rb_test_world_run(&w, c, msg, sizeof(msg));

	if (rc)
		fail_msg("%s n=%d: %s %s", rb_coll_kind_name(c->kind), c->nranks,
			 rb_strerror(rc), msg);
	traffic_want(c, nn, (uint64_t)f->n / nn, &want);
	for (int r = 0; r < c->nranks; r++) {
		struct split out;
		struct split in;

		traffic_split(&w, f, r, &out, &in);
		assert_int_equal(out.intra, want.intra);
		assert_int_equal(in.intra, want.intra);
		assert_int_equal(out.inter, want.inter);
		assert_int_equal(in.inter, want.inter);
		if (c->kind == RB_COLL_ALLTOALL)
			assert_int_equal(out.inter_msgs, want.inter_msgs);
	}
	rb_test_world_free(&w);
}

/* Every kind and placement of one node map, 24 floats per rank in
 * 20-byte chunks, so every phase takes several pipeline chunks. */
static void traffic_map(const struct fake_topo *f)
{
	for (size_t k = 0; k < RB_ARRAY_SIZE(hier_kinds); k++) {
		for (int ip = 0; ip < 2; ip++) {
			struct rb_test_case c = {
				.algo = "hier",
				.kind = hier_kinds[k],
				.nranks = f->n,
				.count = 24 * (size_t)f->n,
				.dtype = RB_FLOAT,
				.op = RB_OP_SUM,
				.in_place = ip,
				.chunk_bytes = 20,
				.seed = 5,
				.topo = &f->t,
			};

			traffic_case(&c, f);
		}
	}
}

static void test_traffic(void **state)
{
	(void)state;
	for (int n = 1; n <= MAX_RANKS; n++) {
		for (int nn = 1; nn <= MAX_NODES && nn <= n; nn++) {
			for (int p = 0; p < NPLACES && n % nn == 0; p++) {
				struct fake_topo f;

				fake_make(&f, n, nn, (enum placement)p);
				traffic_map(&f);
			}
		}
	}
}

/* ---- auto and reasons --------------------------------------------------- */

static const char *auto_pick(const struct rb_coll_args *a, char *why,
			     size_t len)
{
	rb_coll_auto_why(a, why, len);
	return rb_coll_algo_find(a->kind, "auto", a)->name;
}

static void test_auto(void **state)
{
	static const int rails_bad[] = { 0, 1, 0, 1, 0, 0 };
	static const int rails_unknown[] = { 0, 1, -1, 1 };
	struct fake_topo f;
	struct rb_coll_args a = {
		.kind = RB_COLL_ALLREDUCE, .rank = 1, .nranks = 4,
		.count = 1024, .dtype = RB_FLOAT, .op = RB_OP_SUM,
	};
	struct rb_sched s = { 0 };
	char why[160];

	(void)state;
	/* No topology, and one node with known rails: today's rules. */
	assert_string_equal(auto_pick(&a, why, sizeof(why)), "rd");
	assert_string_equal(why, "one node");
	fake_make(&f, 4, 1, PLACE_BLOCK);
	a.topo = &f.t;
	a.count = 1 << 20;
	assert_string_equal(auto_pick(&a, why, sizeof(why)), "ring");
	assert_string_equal(why, "one node");
	/* 2 x 2, contiguous and round-robin, rail = local rank (rails
	 * 0 1 0 1 and 0 0 1 1 by rank): hier for every collective and
	 * size. */
	for (int p = PLACE_BLOCK; p <= PLACE_RR; p++) {
		fake_make(&f, 4, 2, (enum placement)p);
		for (size_t k = 0; k < RB_ARRAY_SIZE(hier_kinds); k++) {
			a.kind = hier_kinds[k];
			a.count = k ? 4 : 1;
			assert_string_equal(auto_pick(&a, why, sizeof(why)),
					    "hier");
			assert_string_equal(why, "");
		}
	}
	a.kind = RB_COLL_ALLGATHER;
	a.count = 1 << 20;
	/* Rails: unknown for one rank, or unknown altogether. */
	fake_make(&f, 4, 2, PLACE_BLOCK);
	memcpy(f.rail_of, rails_unknown, sizeof(rails_unknown));
	assert_string_equal(auto_pick(&a, why, sizeof(why)), "ring");
	assert_string_equal(why, "rails unknown (no --net-if or --rails auto)");
	f.t.rail_of = NULL;
	assert_string_equal(auto_pick(&a, why, sizeof(why)), "ring");
	assert_string_equal(why, "rails unknown (no --net-if or --rails auto)");
	/* 3 x 2 with node 2's ranks crossed over to the other rail. */
	fake_make(&f, 6, 3, PLACE_BLOCK);
	memcpy(f.rail_of, rails_bad, sizeof(rails_bad));
	a.nranks = 6;
	a.count = 6;
	assert_string_equal(auto_pick(&a, why, sizeof(why)), "ring");
	assert_string_equal(why, "local rank 1 is on rail 1 on node 0 but rail 0 on node 2");
	/* One rank per node. */
	fake_make(&f, 4, 4, PLACE_BLOCK);
	a.nranks = 4;
	a.count = 4;
	a.kind = RB_COLL_ALLTOALL;
	assert_string_equal(auto_pick(&a, why, sizeof(why)), "pairwise");
	assert_string_equal(why, "one rank per node");
	/* Uneven: 2 + 3. */
	fake_make(&f, 5, 2, PLACE_BLOCK);
	a.nranks = 5;
	a.count = 5;
	assert_string_equal(auto_pick(&a, why, sizeof(why)), "pairwise");
	assert_string_equal(why, "ranks per node differ: node 1 has 3, node 0 has 2");
	/* Asked for by name it stops the build (logging the reason once). */
	assert_int_equal(rb_coll_sched_build("hier", &a, &s), -RB_EINVAL);
	rb_sched_free(&s);
}

static void test_reasons(void **state)
{
	struct fake_topo f;
	struct rb_coll_args a = {
		.kind = RB_COLL_ALLGATHER, .rank = 0, .nranks = 4,
		.count = 10, .dtype = RB_INT32, .op = RB_OP_SUM,
	};
	static const char *const algos[][2] = {
		{ "ring", "allgather" }, { "hier", "allgather" },
		{ "pairwise", "alltoall" }, { "hier", "alltoall" },
	};
	char why[160];

	(void)state;
	for (size_t i = 0; i < RB_ARRAY_SIZE(algos); i++) {
		a.kind = !strcmp(algos[i][1], "allgather") ? RB_COLL_ALLGATHER :
							     RB_COLL_ALLTOALL;
		why[0] = '\0';
		assert_int_equal(rb_coll_algo_find(a.kind, algos[i][0], &a)
					 ->supports(&a, why, sizeof(why)), 0);
		assert_string_equal(why, "count 10 is not a multiple of 4 ranks");
	}
	/* An algorithm asked about another collective says so. */
	a.count = 8;
	assert_int_equal(rb_coll_algo_find(RB_COLL_ALLREDUCE, "rd", &a)
				 ->supports(&a, why, sizeof(why)), 0);
	assert_string_equal(why, "it runs allreduce, not alltoall");
	/* Inconsistent topologies are refused, never misread. */
	fake_make(&f, 4, 2, PLACE_BLOCK);
	a.topo = &f.t;
	f.local_of[3] = 0;
	assert_int_equal(rb_coll_algo_find(a.kind, "hier", &a)
				 ->supports(&a, why, sizeof(why)), 0);
	assert_string_equal(why, "topology is inconsistent: rank 3 has local rank 0 but is rank 1 of node 1 in rank order");
	f.local_of[3] = 1;
	f.node_of[2] = 2;
	assert_int_equal(rb_coll_algo_find(a.kind, "hier", &a)
				 ->supports(&a, why, sizeof(why)), 0);
	assert_string_equal(why, "topology is inconsistent: rank 2 is on node 2 of 2");
}

#define NMAPS (MAX_RANKS * MAX_NODES * NPLACES)

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_no_topo),
		cmocka_unit_test(test_traffic),
	};
	static struct map_case maps[NMAPS];
	static struct CMUnitTest tests[NMAPS + RB_ARRAY_SIZE(fixed)];
	size_t nt = 0;
	size_t nm = 0;

	for (size_t i = 0; i < RB_ARRAY_SIZE(fixed); i++)
		tests[nt++] = fixed[i];
	for (int n = 1; n <= MAX_RANKS; n++) {
		for (int nn = 1; nn <= MAX_NODES && nn <= n; nn++) {
			/* One node has only one placement. */
			for (int p = 0; p < (nn > 1 ? NPLACES : 1); p++) {
				struct map_case *mc = &maps[nm++];

				mc->n = n;
				mc->nnodes = nn;
				mc->place = (enum placement)p;
				snprintf(mc->name, sizeof(mc->name),
					 "hier_n%d_nodes%d_%s", n, nn,
					 place_names[p]);
				tests[nt++] = (struct CMUnitTest){
					.name = mc->name,
					.test_func = test_map,
					.initial_state = mc,
				};
			}
		}
	}
	return _cmocka_run_group_tests("hier", tests, nt, NULL, NULL);
}
