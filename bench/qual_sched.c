/* SPDX-License-Identifier: BSD-3-Clause */
/* Who meets whom in which round: the round-robin tournament (circle
 * method), ring neighbours, K rounds of a relabelled tournament; and the
 * cost of a plan at a given line rate (docs/qualify.md "Schedule",
 * "Cost"). Pure functions. */
#include <stdlib.h>
#include <string.h>

#include "bench/qualify.h"

/* Assumptions of the cost model (docs/qualify.md "Cost"). */
#define SCHED_COST_LAT_S 5e-6		/* one-way latency of a small message */
#define SCHED_COST_SYNC_RANK_S 5e-6	/* rank 0's share per rank and exchange */
#define SCHED_COST_SYNCS 2		/* bootstrap exchanges per round */

/* splitmix64: the seed stream of the random relabelling. */
static uint64_t sched_mix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Rounds of the tournament among n players. */
static int sched_all_rounds(int n)
{
	if (n < 2)
		return 0;
	return n % 2 ? n : n - 1;
}

/* Circle method with m = n rounded up to even: player m-1 stays put and
 * meets r in round r; any other p meets the q with p + q = 2r (mod m-1).
 * m-1 is odd, so q != p unless p = r. Partners >= n are byes. */
static int sched_all_partner(int n, int r, int p)
{
	int m = n % 2 ? n + 1 : n;
	int q;

	if (p == m - 1)
		q = r;
	else if (p == r)
		q = m - 1;
	else
		q = ((2 * r - p) % (m - 1) + (m - 1)) % (m - 1);
	return q < n ? q : -1;
}

static int sched_ring_rounds(int n)
{
	if (n < 2)
		return 0;
	if (n == 2)
		return 1;
	return n % 2 ? 3 : 2;
}

/* Edges {i, i+1 mod n}: round 0 holds those with even i, round 1 those
 * with odd i; for odd n the closing edge {n-1, 0} needs round 2. */
static int sched_ring_partner(int n, int r, int p)
{
	if (n == 2)
		return 1 - p;
	if (r == 2)
		return p == n - 1 ? 0 : p == 0 ? n - 1 : -1;
	if (p % 2 == r) {		/* p starts an edge of this round */
		if (p + 1 < n)
			return p + 1;
		return n % 2 ? -1 : 0;
	}
	if (p > 0)
		return p - 1;
	return n % 2 ? -1 : n - 1;	/* p = 0 closes the ring (even n) */
}

int rb_qual_sched_init(struct rb_qual_sched *s, enum rb_qual_mode mode,
		       int n, int k, uint64_t seed)
{
	*s = (struct rb_qual_sched){ .mode = mode, .n = n };
	if (n < 0 || (mode == RB_QUAL_RANDOM && k < 1))
		return -RB_EINVAL;
	switch (mode) {
	case RB_QUAL_ALL:
		s->nrounds = sched_all_rounds(n);
		return 0;
	case RB_QUAL_RING:
		s->nrounds = sched_ring_rounds(n);
		return 0;
	case RB_QUAL_RANDOM:
		break;
	default:
		return -RB_EINVAL;
	}
	s->nrounds = RB_MIN(k, sched_all_rounds(n));
	if (n == 0)
		return 0;
	s->label = calloc((size_t)n, sizeof(int));
	s->player = calloc((size_t)n, sizeof(int));
	if (!s->label || !s->player) {
		rb_qual_sched_fini(s);
		return -RB_ENOMEM;
	}
	/* Fisher-Yates over the labels. */
	for (int i = 0; i < n; i++)
		s->player[i] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(sched_mix(&seed) % (uint64_t)(i + 1));
		int t = s->player[i];

		s->player[i] = s->player[j];
		s->player[j] = t;
	}
	for (int i = 0; i < n; i++)
		s->label[s->player[i]] = i;
	return 0;
}

int rb_qual_sched_partner(const struct rb_qual_sched *s, int r, int p)
{
	int q;

	if (r < 0 || r >= s->nrounds || p < 0 || p >= s->n)
		return -1;
	switch (s->mode) {
	case RB_QUAL_ALL:
		return sched_all_partner(s->n, r, p);
	case RB_QUAL_RING:
		return sched_ring_partner(s->n, r, p);
	case RB_QUAL_RANDOM:
		q = sched_all_partner(s->n, r, s->label[p]);
		return q < 0 ? -1 : s->player[q];
	}
	return -1;
}

void rb_qual_sched_fini(struct rb_qual_sched *s)
{
	free(s->label);
	free(s->player);
	s->label = NULL;
	s->player = NULL;
	s->nrounds = 0;
}

/* Pairs one schedule measures over all its rounds. */
static int64_t sched_pairs(const struct rb_qual_sched *s)
{
	int64_t twice = 0;

	for (int r = 0; r < s->nrounds; r++)
		for (int p = 0; p < s->n; p++)
			twice += rb_qual_sched_partner(s, r, p) >= 0;
	return twice / 2;
}

/* Seconds one pair spends in one round at bytes_per_s: per size, each
 * direction (and both at once with --bidir) for warm-up + timed + checked
 * iterations, each a message and an ack; then two ping-pong series. */
static double sched_pair_s(const struct rb_opts *o, const struct rb_qual_cfg *q,
			   double bytes_per_s)
{
	uint64_t sizes[RB_QUAL_MAX_SIZES];
	int nsizes = rb_qual_sizes(o, sizes);
	int per_dir = o->warmup_iters + o->iters + (o->check ? 1 : 0);
	double t = 0;

	for (int i = 0; i < nsizes; i++) {
		double one = (double)sizes[i] / bytes_per_s + 2 * SCHED_COST_LAT_S;

		t += (2 + (q->bidir ? 1 : 0)) * per_dir * one;
	}
	t += 2.0 * (o->warmup_iters + o->iters) * 2 * SCHED_COST_LAT_S;
	return t;
}

void rb_qual_cost(const struct rb_opts *o, const struct rb_qual_cfg *q,
		  int nnodes, int nrails, double line_gbps,
		  struct rb_qual_cost *c)
{
	struct rb_qual_sched s;
	double sync_s = SCHED_COST_SYNCS * SCHED_COST_SYNC_RANK_S *
			(double)nnodes * nrails;

	*c = (struct rb_qual_cost){ 0 };
	if (rb_qual_sched_init(&s, q->pairs, nnodes, q->pairs_k, q->seed))
		return;
	c->rounds = s.nrounds * (q->rails_serial ? nrails : 1);
	c->pair_tests = sched_pairs(&s) * nrails;
	c->wire_s = sched_pair_s(o, q, line_gbps * 1e9 / 8);
	c->sync_s = sync_s;
	c->round_s = c->wire_s + sync_s;
	c->total_s = c->rounds * c->round_s;
	rb_qual_sched_fini(&s);
}
