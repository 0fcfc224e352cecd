/* SPDX-License-Identifier: BSD-3-Clause */
/* Cluster qualification without a network: the pair schedules (every pair
 * exactly once in rounds of disjoint pairs, for 1..64 players), the
 * payload pattern, the cost model, and the localisation on synthetic pair
 * matrices, which must name exactly the planted culprits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/qualify.h"

#define MAXN 64

/* Checks the rounds of s: partners symmetric, never oneself, and returns
 * in met[p * n + q] how often p met q. */
static void sched_walk(const struct rb_qual_sched *s, int *met)
{
	int n = s->n;

	memset(met, 0, sizeof(int) * (size_t)n * n);
	for (int r = 0; r < s->nrounds; r++) {
		for (int p = 0; p < n; p++) {
			int q = rb_qual_sched_partner(s, r, p);

			if (q < 0)
				continue;
			assert_true(q < n);
			assert_int_not_equal(q, p);
			/* Disjoint: q's partner is p, so nobody has two. */
			assert_int_equal(rb_qual_sched_partner(s, r, q), p);
			met[p * n + q]++;
		}
	}
}

static void test_sched_all(void **state)
{
	static int met[MAXN * MAXN];

	(void)state;
	for (int n = 1; n <= MAXN; n++) {
		struct rb_qual_sched s;
		int byes = 0;

		assert_int_equal(rb_qual_sched_init(&s, RB_QUAL_ALL, n, 0, 0), 0);
		assert_int_equal(s.nrounds, n < 2 ? 0 : n % 2 ? n : n - 1);
		sched_walk(&s, met);
		for (int p = 0; p < n; p++)
			for (int q = 0; q < n; q++)
				assert_int_equal(met[p * n + q], p != q);
		for (int r = 0; r < s.nrounds; r++)
			for (int p = 0; p < n; p++)
				byes += rb_qual_sched_partner(&s, r, p) < 0;
		/* Odd n: exactly one bye per round; even n: none. */
		assert_int_equal(byes, n % 2 && n > 1 ? s.nrounds : 0);
		assert_int_equal(rb_qual_sched_partner(&s, s.nrounds, 0), -1);
		rb_qual_sched_fini(&s);
	}
}

static void test_sched_ring(void **state)
{
	static int met[MAXN * MAXN];

	(void)state;
	for (int n = 1; n <= MAXN; n++) {
		struct rb_qual_sched s;

		assert_int_equal(rb_qual_sched_init(&s, RB_QUAL_RING, n, 0, 0), 0);
		assert_true(s.nrounds <= 3);
		sched_walk(&s, met);
		for (int p = 0; p < n; p++) {
			for (int q = 0; q < n; q++) {
				int nb = n > 1 && p != q &&
					 ((p + 1) % n == q || (q + 1) % n == p);

				assert_int_equal(met[p * n + q], nb);
			}
		}
		rb_qual_sched_fini(&s);
	}
}

static void test_sched_random(void **state)
{
	static int met[MAXN * MAXN];

	(void)state;
	for (int n = 2; n <= MAXN; n++) {
		for (int k = 1; k <= 5; k++) {
			struct rb_qual_sched s;
			struct rb_qual_sched t;
			int all = n % 2 ? n : n - 1;

			assert_int_equal(rb_qual_sched_init(&s, RB_QUAL_RANDOM, n, k,
							    (uint64_t)n * 7 + k), 0);
			assert_int_equal(s.nrounds, k < all ? k : all);
			sched_walk(&s, met);
			for (int p = 0; p < n; p++) {
				int partners = 0;

				for (int q = 0; q < n; q++) {
					assert_true(met[p * n + q] <= 1);
					partners += met[p * n + q];
				}
				/* K rounds: K partners, one fewer after a bye. */
				assert_true(partners == s.nrounds ||
					    (n % 2 && partners == s.nrounds - 1));
			}
			/* The same seed gives the same schedule on every rank. */
			assert_int_equal(rb_qual_sched_init(&t, RB_QUAL_RANDOM, n, k,
							    (uint64_t)n * 7 + k), 0);
			for (int r = 0; r < s.nrounds; r++)
				for (int p = 0; p < n; p++)
					assert_int_equal(rb_qual_sched_partner(&s, r, p),
							 rb_qual_sched_partner(&t, r, p));
			rb_qual_sched_fini(&s);
			rb_qual_sched_fini(&t);
		}
	}
}

static void test_pattern(void **state)
{
	unsigned char a[1003];
	unsigned char b[1003];

	(void)state;
	rb_qual_pattern(a, sizeof(a), 1, 2, 4096);
	rb_qual_pattern(b, sizeof(b), 1, 2, 4096);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(rb_qual_count_wrong(a, b, sizeof(a)), 0);
	/* Another direction, pair or size is another payload. */
	rb_qual_pattern(b, sizeof(b), 2, 1, 4096);
	assert_true(rb_qual_count_wrong(a, b, sizeof(a)) > 900);
	rb_qual_pattern(b, sizeof(b), 1, 2, 8192);
	assert_true(rb_qual_count_wrong(a, b, sizeof(a)) > 900);
	rb_qual_pattern(b, sizeof(b), 1, 2, 4096);
	b[0] ^= 1;
	b[500] ^= 0x80;
	b[1002] = (unsigned char)~b[1002];
	assert_int_equal(rb_qual_count_wrong(a, b, sizeof(a)), 3);
}

static void test_cost(void **state)
{
	struct rb_opts o;
	struct rb_qual_cfg q;
	struct rb_qual_cost all;
	struct rb_qual_cost ring;
	struct rb_qual_cost rnd;
	char *argv[] = { "p2p_bench" };

	(void)state;
	assert_int_equal(rb_qual_opts_parse(&o, &q, 1, argv, "p2p_bench", 0),
			 RB_OPTS_RUN);
	rb_qual_cost(&o, &q, 1000, 8, 400, &all);
	assert_int_equal(all.rounds, 999);
	assert_int_equal(all.pair_tests, 8 * 1000 * 999 / 2);
	q.pairs = RB_QUAL_RING;
	rb_qual_cost(&o, &q, 1000, 8, 400, &ring);
	assert_int_equal(ring.rounds, 2);
	assert_int_equal(ring.pair_tests, 8 * 1000);
	q.pairs = RB_QUAL_RANDOM;
	q.pairs_k = 4;
	rb_qual_cost(&o, &q, 1000, 8, 400, &rnd);
	assert_int_equal(rnd.rounds, 4);
	assert_int_equal(rnd.pair_tests, 8 * 4 * 500);
	/* A 4 MiB message at 50 GB/s takes 84 us: 26 per direction. */
	assert_true(all.round_s > 2 * 26 * 84e-6 && all.total_s > 999 * 4e-3);
	q.pairs = RB_QUAL_ALL;
	q.rails_serial = 1;
	rb_qual_cost(&o, &q, 1000, 8, 400, &ring);
	assert_int_equal(ring.rounds, 8 * 999);
}

/* ---- synthetic clusters ------------------------------------------------ */

#define SN 16	/* nodes at most */
#define SR 4	/* rails at most */

struct synth {
	int n;
	int r;
	double base;		/* GB/s of a healthy pair */
	double line;		/* Gb/s of every NIC, 0 unknown */
	double noise;		/* +- fraction, uniform */
	uint64_t seed;
	double nic[SN][SR];	/* factor of each NIC */
	double link[SR][SN][SN];	/* factor of each directed pair */
	double rail[SR];
	int ppn;		/* intra-node ranks per node (0: none) */
	const char *hosts[SN];
	char names[SN][16];
	struct rb_loc_nic nics[SN * SR];
	struct rb_loc_pair pairs[SR * SN * SN + SN * 16];
	int npairs;
	struct rb_loc_in in;
	struct rb_loc_out out;
};

static double synth_noise(struct synth *s)
{
	s->seed = s->seed * 6364136223846793005ull + 1442695040888963407ull;
	return 1 + s->noise * (2.0 * (double)(s->seed >> 11) / (double)(1ull << 53) - 1);
}

static void synth_init(struct synth *s, int n, int r)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->r = r;
	s->base = 10;
	s->ppn = 2;
	s->seed = 12345;
	for (int i = 0; i < SN; i++)
		for (int k = 0; k < SR; k++)
			s->nic[i][k] = 1;
	for (int k = 0; k < SR; k++) {
		s->rail[k] = 1;
		for (int i = 0; i < SN; i++)
			for (int j = 0; j < SN; j++)
				s->link[k][i][j] = 1;
	}
}

/* Every directed pair of every rail, and of the ranks of each node. */
static void synth_run(struct synth *s)
{
	s->npairs = 0;
	for (int i = 0; i < s->n; i++) {
		snprintf(s->names[i], sizeof(s->names[i]), "node%d", i);
		s->hosts[i] = s->names[i];
		for (int k = 0; k < s->r; k++)
		{
			s->nics[i * s->r + k] = (struct rb_loc_nic){
				.present = 1, .line_gbps = s->line };
			snprintf(s->nics[i * s->r + k].name,
				 sizeof(s->nics[0].name), "rail%d", k);
		}
	}
	for (int k = 0; k < s->r; k++)
		for (int i = 0; i < s->n; i++)
			for (int j = 0; j < s->n; j++) {
				double f = s->nic[i][k] < s->nic[j][k] ? s->nic[i][k] :
									 s->nic[j][k];

				if (i == j)
					continue;
				s->pairs[s->npairs++] = (struct rb_loc_pair){
					.kind = RB_LOC_INTER, .group = k, .src = i,
					.dst = j, .retest_gbps = -1,
					.first_gbps = s->base * f * s->rail[k] *
						      s->link[k][i][j] * synth_noise(s),
				};
			}
	for (int g = 0; g < s->n; g++)
		for (int a = 0; a < s->ppn; a++)
			for (int b = 0; b < s->ppn; b++)
				if (a != b)
					s->pairs[s->npairs++] = (struct rb_loc_pair){
						.kind = RB_LOC_INTRA, .group = g,
						.src = a, .dst = b, .retest_gbps = -1,
						.first_gbps = 30 * synth_noise(s),
					};
	s->in = (struct rb_loc_in){
		.nnodes = s->n,
		.nrails = s->r,
		.hosts = s->hosts,
		.nics = s->nics,
		.pairs = s->pairs,
		.npairs = s->npairs,
		.threshold = 0.8,
		.line_threshold = 0.8,
	};
	assert_int_equal(rb_loc_run(&s->in, &s->out), 0);
}

/* Prints the culprits, for the log of a failing case. */
static void synth_dump(const struct synth *s)
{
	for (int i = 0; i < s->out.nculprits; i++)
		printf("# culprit %d: %s\n", i, s->out.culprits[i].text);
}

static const struct rb_loc_culprit *synth_find(const struct synth *s,
					       enum rb_loc_class cls, int node,
					       int peer, int rail)
{
	for (int i = 0; i < s->out.nculprits; i++) {
		const struct rb_loc_culprit *c = &s->out.culprits[i];

		if (c->cls == cls && c->node == node && c->peer == peer &&
		    c->rail == rail)
			return c;
	}
	return NULL;
}

static void synth_expect(struct synth *s, int ncul)
{
	if (s->out.nculprits != ncul)
		synth_dump(s);
	assert_int_equal(s->out.nculprits, ncul);
	assert_int_equal(s->out.pass, ncul == 0);
}

static void test_loc_healthy(void **state)
{
	static struct synth s;
	static const int sizes[] = { 2, 3, 4, 5, 8, 16 };

	(void)state;
	for (size_t z = 0; z < RB_ARRAY_SIZE(sizes); z++) {
		for (uint64_t seed = 1; seed <= 30; seed++) {
			synth_init(&s, sizes[z], 4);
			s.noise = 0.10;
			s.seed = seed;
			s.line = seed % 2 ? 0 : 8 * s.base / 0.95;
			synth_run(&s);
			synth_expect(&s, 0);
			rb_loc_out_free(&s.out);
		}
	}
}

static void test_loc_bad_nic(void **state)
{
	static struct synth s;

	(void)state;
	for (int n = 3; n <= 8; n++) {
		synth_init(&s, n, 2);
		s.noise = 0.05;
		s.nic[2][1] = 0.25;
		synth_run(&s);
		synth_expect(&s, 1);
		assert_non_null(synth_find(&s, RB_LOC_NIC, 2, -1, 1));
		assert_non_null(strstr(s.out.culprits[0].text, "host node2 rail 1"));
		assert_true(s.out.culprits[0].measured_gbps < 0.3 * s.base);
		rb_loc_out_free(&s.out);
	}
}

static void test_loc_bad_link(void **state)
{
	static struct synth s;

	(void)state;
	for (int both = 0; both < 2; both++) {
		synth_init(&s, 4, 2);
		s.noise = 0.05;
		s.link[0][1][3] = 0.25;
		if (both)
			s.link[0][3][1] = 0.25;
		synth_run(&s);
		synth_expect(&s, 1);
		assert_non_null(synth_find(&s, RB_LOC_LINK, 1, 3, 0));
		rb_loc_out_free(&s.out);
	}
}

static void test_loc_two_nics(void **state)
{
	static struct synth s;

	(void)state;
	synth_init(&s, 6, 2);
	s.noise = 0.05;
	s.nic[1][0] = 0.3;
	s.nic[4][1] = 0.5;
	synth_run(&s);
	synth_expect(&s, 2);
	/* The worse one first. */
	assert_int_equal(s.out.culprits[0].node, 1);
	assert_int_equal(s.out.culprits[0].rail, 0);
	assert_non_null(synth_find(&s, RB_LOC_NIC, 4, -1, 1));
	rb_loc_out_free(&s.out);
	/* Two bad NICs on one rail of four nodes: still both, no third. */
	synth_init(&s, 4, 2);
	s.nic[1][0] = 0.3;
	s.nic[2][0] = 0.3;
	synth_run(&s);
	synth_expect(&s, 2);
	assert_non_null(synth_find(&s, RB_LOC_NIC, 1, -1, 0));
	assert_non_null(synth_find(&s, RB_LOC_NIC, 2, -1, 0));
	rb_loc_out_free(&s.out);
}

static void test_loc_slow_rail(void **state)
{
	static struct synth s;

	(void)state;
	/* No line rate: the rail against the others. */
	synth_init(&s, 4, 2);
	s.noise = 0.05;
	s.rail[1] = 0.5;
	synth_run(&s);
	synth_expect(&s, 1);
	assert_non_null(synth_find(&s, RB_LOC_RAIL, -1, -1, 1));
	assert_false(s.out.rails[1].line_known);
	rb_loc_out_free(&s.out);
	/* Line rate known, a single rail: against the line. */
	synth_init(&s, 4, 1);
	s.noise = 0.05;
	s.line = 8 * s.base;
	s.rail[0] = 0.5;
	synth_run(&s);
	synth_expect(&s, 1);
	assert_non_null(synth_find(&s, RB_LOC_RAIL, -1, -1, 0));
	assert_true(s.out.rails[0].line_known);
	rb_loc_out_free(&s.out);
}

static void test_loc_bad_node(void **state)
{
	static struct synth s;

	(void)state;
	synth_init(&s, 5, 3);
	s.noise = 0.05;
	for (int k = 0; k < 3; k++)
		s.nic[3][k] = 0.4;
	synth_run(&s);
	synth_expect(&s, 1);
	assert_non_null(synth_find(&s, RB_LOC_NODE, 3, -1, -1));
	rb_loc_out_free(&s.out);
}

/* A pair slow in the concurrent pass but fine alone is not a culprit; one
 * slow alone too is, with both figures in its line. */
static void test_loc_retest(void **state)
{
	static struct synth s;

	(void)state;
	synth_init(&s, 4, 2);
	s.link[1][0][2] = 0.3;
	s.link[0][1][3] = 0.3;
	synth_run(&s);
	rb_loc_out_free(&s.out);
	for (int i = 0; i < s.npairs; i++) {
		struct rb_loc_pair *p = &s.pairs[i];

		if (p->kind == RB_LOC_INTER && p->group == 1 && p->src == 0 &&
		    p->dst == 2)
			p->retest_gbps = s.base;	/* congestion */
		if (p->kind == RB_LOC_INTER && p->group == 0 && p->src == 1 &&
		    p->dst == 3)
			p->retest_gbps = 0.25 * s.base;
	}
	assert_int_equal(rb_loc_run(&s.in, &s.out), 0);
	synth_expect(&s, 1);
	assert_non_null(synth_find(&s, RB_LOC_LINK, 1, 3, 0));
	assert_non_null(strstr(s.out.culprits[0].text, "first pass 3"));
	assert_non_null(strstr(s.out.culprits[0].text, "alone 2.5"));
	rb_loc_out_free(&s.out);
}

static void test_loc_findings(void **state)
{
	static struct synth s;

	(void)state;
	synth_init(&s, 4, 2);
	s.line = 400;
	s.base = 48;
	synth_run(&s);
	synth_expect(&s, 0);
	rb_loc_out_free(&s.out);
	/* One NIC linked at half speed; a data error; a topology finding:
	 * data first, findings last. */
	s.nics[2 * 2 + 1].line_gbps = 200;
	s.pairs[5].wrong = 17;
	s.in.topo_findings = "# topo: host node3 has 1 rails, majority 2\n";
	assert_int_equal(rb_loc_run(&s.in, &s.out), 0);
	synth_dump(&s);
	assert_true(s.out.nculprits >= 3);
	assert_int_equal(s.out.culprits[0].cls, RB_LOC_DATA);
	assert_int_equal(s.out.culprits[s.out.nculprits - 1].cls, RB_LOC_TOPO);
	assert_non_null(synth_find(&s, RB_LOC_SPEED, 2, -1, 1));
	assert_non_null(strstr(s.out.culprits[s.out.nculprits - 1].text,
			       "host node3 has 1 rails"));
	rb_loc_out_free(&s.out);
}

static void test_loc_intra(void **state)
{
	static struct synth s;

	(void)state;
	synth_init(&s, 3, 2);
	s.ppn = 3;
	synth_run(&s);
	rb_loc_out_free(&s.out);
	for (int i = 0; i < s.npairs; i++)
		if (s.pairs[i].kind == RB_LOC_INTRA && s.pairs[i].group == 1 &&
		    s.pairs[i].src == 0 && s.pairs[i].dst == 2)
			s.pairs[i].first_gbps = 3;
	assert_int_equal(rb_loc_run(&s.in, &s.out), 0);
	synth_expect(&s, 1);
	assert_int_equal(s.out.culprits[0].cls, RB_LOC_INTRA_PATH);
	assert_int_equal(s.out.culprits[0].node, 1);
	assert_int_equal(s.out.culprits[0].local_a, 0);
	assert_int_equal(s.out.culprits[0].local_b, 2);
	rb_loc_out_free(&s.out);
}

/* A rail slow in the concurrent pass but not alone is not a culprit: its
 * baselines alone match the other rail's. */
static void test_loc_rail_alone(void **state)
{
	static struct synth s;
	int base[2] = { 0, 0 };

	(void)state;
	synth_init(&s, 4, 2);
	s.noise = 0.05;
	s.rail[1] = 0.6;	/* congested, not broken */
	synth_run(&s);
	synth_expect(&s, 1);
	assert_non_null(synth_find(&s, RB_LOC_RAIL, -1, -1, 1));
	rb_loc_out_free(&s.out);
	/* Two baseline pairs per rail, both directions, measured alone. */
	for (int i = 0; i < s.npairs; i++) {
		struct rb_loc_pair *p = &s.pairs[i];

		if (p->kind != RB_LOC_INTER || p->src > 1 || p->dst > 1 ||
		    base[p->group] == 2)
			continue;
		p->baseline = 1;
		p->retest_gbps = s.base;
		base[p->group]++;
	}
	assert_int_equal(rb_loc_run(&s.in, &s.out), 0);
	synth_expect(&s, 0);
	assert_true(s.out.rails[1].base_gbps == s.base);
	rb_loc_out_free(&s.out);
}

/* Intra-node pairs have their own threshold. */
static void test_loc_intra_threshold(void **state)
{
	static struct synth s;
	double f[] = { 0.6, 0.4 };

	(void)state;
	for (int k = 0; k < 2; k++) {
		synth_init(&s, 3, 1);
		synth_run(&s);
		rb_loc_out_free(&s.out);
		s.in.intra_threshold = 0.5;
		for (int i = 0; i < s.npairs; i++)
			if (s.pairs[i].kind == RB_LOC_INTRA && s.pairs[i].group == 2 &&
			    s.pairs[i].src == 1)
				s.pairs[i].first_gbps *= f[k];
		assert_int_equal(rb_loc_run(&s.in, &s.out), 0);
		synth_expect(&s, k);
		rb_loc_out_free(&s.out);
	}
}

/* Parses p2p_bench arguments; returns rb_qual_opts_parse's result. */
static int qparse(struct rb_opts *o, struct rb_qual_cfg *q, ...)
{
	char *argv[16] = { "p2p_bench" };
	int argc = 1;
	va_list ap;
	char *a;

	va_start(ap, q);
	while ((a = va_arg(ap, char *)) && argc < 15)
		argv[argc++] = a;
	va_end(ap);
	return rb_qual_opts_parse(o, q, argc, argv, "p2p_bench", 0);
}

static void test_opts(void **state)
{
	struct rb_opts o;
	struct rb_qual_cfg q;

	(void)state;
	assert_int_equal(qparse(&o, &q, NULL), RB_OPTS_RUN);
	assert_int_equal(o.min_bytes, 4u << 20);
	assert_int_equal(o.max_bytes, 4u << 20);
	assert_string_equal(o.transport, "shm+tcp");
	assert_int_equal(q.pairs, RB_QUAL_ALL);
	assert_true(q.threshold == 0.8 && q.line_threshold == 0.8);
	assert_int_equal(qparse(&o, &q, "--pairs", "random:3", "--threshold",
				"1", "--expect-gbps", "400", "--bidir", NULL),
			 RB_OPTS_RUN);
	assert_int_equal(q.pairs, RB_QUAL_RANDOM);
	assert_int_equal(q.pairs_k, 3);
	assert_true(q.threshold == 1 && q.expect_gbps == 400 && q.bidir);
	assert_int_equal(qparse(&o, &q, "--pairs", "ring", "--plan", "1000x8",
				NULL), RB_OPTS_RUN);
	assert_int_equal(q.plan_nodes, 1000);
	assert_int_equal(q.plan_rails, 8);
	assert_int_equal(qparse(&o, &q, "--pairs", "star", NULL), -RB_EINVAL);
	assert_int_equal(qparse(&o, &q, "--pairs", "random:0", NULL), -RB_EINVAL);
	assert_int_equal(qparse(&o, &q, "--threshold", "0", NULL), -RB_EINVAL);
	assert_int_equal(qparse(&o, &q, "--threshold", "1.5", NULL), -RB_EINVAL);
	assert_int_equal(qparse(&o, &q, "--line-threshold", "-0.2", NULL),
			 -RB_EINVAL);
	assert_int_equal(qparse(&o, &q, "--expect-gbps", "0", NULL), -RB_EINVAL);
	/* The collectives' options are not p2p_bench's. */
	assert_int_equal(qparse(&o, &q, "--algo", "ring", NULL), -RB_EINVAL);
	assert_int_equal(qparse(&o, &q, "-d", "half", NULL), -RB_EINVAL);
	/* 38 sizes: more than a run measures. */
	assert_int_equal(qparse(&o, &q, "-b", "8", "-e", "1T", NULL), -RB_EINVAL);
	assert_int_equal(qparse(&o, &q, "-b", "8", "-e", "1T", "-f", "4", NULL),
			 RB_OPTS_RUN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_all),
		cmocka_unit_test(test_sched_ring),
		cmocka_unit_test(test_sched_random),
		cmocka_unit_test(test_pattern),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_loc_healthy),
		cmocka_unit_test(test_loc_bad_nic),
		cmocka_unit_test(test_loc_bad_link),
		cmocka_unit_test(test_loc_two_nics),
		cmocka_unit_test(test_loc_slow_rail),
		cmocka_unit_test(test_loc_bad_node),
		cmocka_unit_test(test_loc_retest),
		cmocka_unit_test(test_loc_findings),
		cmocka_unit_test(test_loc_intra),
		cmocka_unit_test(test_loc_rail_alone),
		cmocka_unit_test(test_loc_intra_threshold),
		cmocka_unit_test(test_opts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
