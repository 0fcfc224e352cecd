/* SPDX-License-Identifier: BSD-3-Clause */
/* The root-cause rule (bench/cause.c): ranks whose own link is down are
 * the cause and everyone who waited for them directly is told so; a rank
 * that waited for a rank that was itself waiting is secondary; without a
 * link down, chains end at the rank that failed waiting for nobody, or in
 * a cycle that blames no rank; malformed records give no verdict. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bench/cause.h"

#define N 8

/* n records: down[] and wait[] per rank. */
static void recs(struct rb_cause_rec *all, int n, const int *down, const int *wait)
{
	for (int r = 0; r < n; r++)
		all[r] = (struct rb_cause_rec){ .magic = RB_CAUSE_MAGIC, .rank = r,
						.down = down[r], .wait = wait[r],
						.timed_out = wait[r] >= 0 };
}

/* Two ranks, rank 1's rail down: it is the cause, rank 0 waited for it. */
static void test_two_ranks_down(void **state)
{
	struct rb_cause_rec all[N];
	int role[N];

	(void)state;
	recs(all, 2, (int[]){ 0, 1 }, (int[]){ 1, 0 });
	assert_int_equal(rb_cause_decide(all, 2, role), 1);
	assert_int_equal(role[0], RB_CAUSE_DIRECT);
	assert_int_equal(role[1], RB_CAUSE_DOWN);
}

/* A ring of 4: rank 2's link down; rank 3 waited for 2 (direct), rank 0
 * waited for 3 and rank 1 for 0 (secondary: 3 and 0 are innocent). */
static void test_ring_secondary(void **state)
{
	struct rb_cause_rec all[N];
	int role[N];

	(void)state;
	recs(all, 4, (int[]){ 0, 0, 1, 0 }, (int[]){ 3, 0, 1, 2 });
	assert_int_equal(rb_cause_decide(all, 4, role), 1);
	assert_int_equal(role[2], RB_CAUSE_DOWN);
	assert_int_equal(role[3], RB_CAUSE_DIRECT);
	assert_int_equal(role[0], RB_CAUSE_SECONDARY);
	assert_int_equal(role[1], RB_CAUSE_SECONDARY);
}

/* No link down: the chain 0 -> 1 -> 2 ends at rank 2, which failed
 * waiting for nobody (its transport reported the failure). */
static void test_chain_end(void **state)
{
	struct rb_cause_rec all[N];
	int role[N];

	(void)state;
	recs(all, 3, (int[]){ 0, 0, 0 }, (int[]){ 1, 2, -1 });
	assert_int_equal(rb_cause_decide(all, 3, role), 1);
	assert_int_equal(role[2], RB_CAUSE_STUCK);
	assert_int_equal(role[1], RB_CAUSE_DIRECT);
	assert_int_equal(role[0], RB_CAUSE_SECONDARY);
}

/* No link down, ranks 0 and 1 wait for each other (a path broken with
 * both links up); rank 2 waits for rank 0 and is secondary. */
static void test_cycle(void **state)
{
	struct rb_cause_rec all[N];
	int role[N];

	(void)state;
	recs(all, 3, (int[]){ 0, 0, 0 }, (int[]){ 1, 0, 0 });
	assert_int_equal(rb_cause_decide(all, 3, role), 0);
	assert_int_equal(role[0], RB_CAUSE_CYCLE);
	assert_int_equal(role[1], RB_CAUSE_CYCLE);
	assert_int_equal(role[2], RB_CAUSE_SECONDARY);
}

/* Two links down: both are causes; a rank that failed without waiting is
 * then not one. */
static void test_two_down(void **state)
{
	struct rb_cause_rec all[N];
	int role[N];

	(void)state;
	recs(all, 4, (int[]){ 1, 0, 1, 0 }, (int[]){ 1, 2, 3, -1 });
	assert_int_equal(rb_cause_decide(all, 4, role), 2);
	assert_int_equal(role[0], RB_CAUSE_DOWN);
	assert_int_equal(role[2], RB_CAUSE_DOWN);
	assert_int_equal(role[1], RB_CAUSE_DIRECT);
	assert_int_equal(role[3], RB_CAUSE_SECONDARY);
}

static void test_malformed(void **state)
{
	struct rb_cause_rec all[N];
	int role[N];

	(void)state;
	recs(all, 3, (int[]){ 0, 0, 0 }, (int[]){ 1, 2, -1 });
	all[1].magic = 0;
	assert_int_equal(rb_cause_decide(all, 3, role), -1);
	recs(all, 3, (int[]){ 0, 0, 0 }, (int[]){ 1, 2, -1 });
	all[1].rank = 2;
	assert_int_equal(rb_cause_decide(all, 3, role), -1);
	recs(all, 3, (int[]){ 0, 0, 0 }, (int[]){ 3, 2, -1 });
	assert_int_equal(rb_cause_decide(all, 3, role), -1);
	recs(all, 3, (int[]){ 0, 0, 0 }, (int[]){ 0, 2, -1 });	/* itself */
	assert_int_equal(rb_cause_decide(all, 3, role), -1);
	recs(all, 3, (int[]){ 0, 0, 0 }, (int[]){ -2, 2, -1 });
	assert_int_equal(rb_cause_decide(all, 3, role), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_ranks_down),
		cmocka_unit_test(test_ring_secondary),
		cmocka_unit_test(test_chain_end),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_two_down),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
