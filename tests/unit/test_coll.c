/* SPDX-License-Identifier: BSD-3-Clause */
/* Collective descriptors: buffer sizes, bus-bandwidth factors, and the
 * verifiable data (exact in every type up to 1024 ranks, sensitive to
 * misplaced elements), plus the exact comparison that counts #wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectives/coll.h"
#include "tests/unit/coll_world.h"

static void test_sizes(void **state)
{
	const struct rb_coll_desc *ar = rb_coll_desc_get(RB_COLL_ALLREDUCE);
	const struct rb_coll_desc *ag = rb_coll_desc_get(RB_COLL_ALLGATHER);
	const struct rb_coll_desc *aa = rb_coll_desc_get(RB_COLL_ALLTOALL);
	struct rb_coll_sizes s;

	(void)state;
	assert_null(rb_coll_desc_get(RB_NCOLLS));
	assert_string_equal(ar->name, "allreduce");
	assert_string_equal(ag->name, "allgather");
	assert_string_equal(aa->name, "alltoall");
	assert_true(ar->has_op);
	assert_false(ag->has_op);
	assert_false(aa->has_op);
	ar->sizes(1000, 3, 8, &s);
	assert_int_equal(s.send_count, 1000);
	assert_int_equal(s.recv_count, 1000);
	assert_int_equal(s.param_count, 1000);
	assert_int_equal(s.inplace_off, 0);
	ag->sizes(1024, 3, 8, &s);
	assert_int_equal(s.send_count, 128);
	assert_int_equal(s.recv_count, 1024);
	assert_int_equal(s.param_count, 128);
	assert_int_equal(s.inplace_off, 3 * 128);
	aa->sizes(1024, 5, 8, &s);
	assert_int_equal(s.send_count, 1024);
	assert_int_equal(s.recv_count, 1024);
	assert_int_equal(s.param_count, 128);
	assert_int_equal(s.inplace_off, 0);
	for (int n = 1; n <= 64; n++) {
		assert_int_equal(ar->count_align(n), 1);
		assert_int_equal(ag->count_align(n), n);
		assert_int_equal(aa->count_align(n), n);
	}
}

static void test_busbw(void **state)
{
	static const struct {
		int n;
		double allreduce;
		double gather;
	} want[] = {
		{ 1, 0.0, 0.0 },
		{ 2, 1.0, 0.5 },
		{ 3, 4.0 / 3.0, 2.0 / 3.0 },
		{ 4, 1.5, 0.75 },
		{ 8, 1.75, 0.875 },
		{ 16, 1.875, 0.9375 },
		{ 1024, 2046.0 / 1024.0, 1023.0 / 1024.0 },
	};

	(void)state;
	for (size_t i = 0; i < RB_ARRAY_SIZE(want); i++) {
		int n = want[i].n;

		assert_float_equal(rb_coll_desc_get(RB_COLL_ALLREDUCE)->busbw_factor(n),
				   want[i].allreduce, 1e-12);
		assert_float_equal(rb_coll_desc_get(RB_COLL_ALLGATHER)->busbw_factor(n),
				   want[i].gather, 1e-12);
		assert_float_equal(rb_coll_desc_get(RB_COLL_ALLTOALL)->busbw_factor(n),
				   want[i].gather, 1e-12);
	}
}

/*
 * Folds every rank's input in the data type's own arithmetic (rb_reduce),
 * in rank order and in reverse order, and requires both to equal the
 * expected data bit for bit in value: the data must be exact whatever the
 * order of reduction.
 */
static void check_exact(enum rb_dtype t, enum rb_redop op, int nranks,
			size_t count)
{
	size_t esz = rb_dtype_size(t);
	char *in = malloc((size_t)nranks * count * esz);
	char *fwd = malloc(count * esz);
	char *rev = malloc(count * esz);
	char *want = malloc(count * esz);
	size_t distinct = 0;

	assert_true(in && fwd && rev && want);
	for (int r = 0; r < nranks; r++)
		rb_coll_fill_input(RB_COLL_ALLREDUCE, in + (size_t)r * count * esz,
				   count, t, op, r, nranks, 42);
	memcpy(fwd, in, count * esz);
	for (int r = 1; r < nranks; r++)
		rb_reduce(fwd, in + (size_t)r * count * esz, count, t, op);
	memcpy(rev, in + (size_t)(nranks - 1) * count * esz, count * esz);
	for (int r = nranks - 2; r >= 0; r--)
		rb_reduce(rev, in + (size_t)r * count * esz, count, t, op);
	rb_coll_fill_expected(RB_COLL_ALLREDUCE, want, count, t, op, 0, nranks,
			      42);
	if (rb_coll_count_wrong(fwd, want, count, t) ||
	    rb_coll_count_wrong(rev, want, count, t))
		fail_msg("%s %s over %d ranks is not exact",
			 rb_dtype_name(t), rb_redop_name(op), nranks);
	/* Neighbouring results differ often, so shifted data shows. */
	for (size_t i = 1; i < count; i++)
		distinct += rb_test_elem_get(want, i, t) != rb_test_elem_get(want, i - 1, t);
	if (distinct < count / 2)
		fail_msg("%s %s over %d ranks: only %zu of %zu results differ from their neighbour",
			 rb_dtype_name(t), rb_redop_name(op), nranks, distinct,
			 count);
	free(in);
	free(fwd);
	free(rev);
	free(want);
}

static void test_exact(void **state)
{
	static const int ranks[] = { 1, 2, 3, 7, 17, 64, 255, 256, 257, 1024 };

	(void)state;
	for (int t = 0; t < RB_NDTYPES; t++)
		for (int op = 0; op < RB_NREDOPS; op++)
			for (size_t k = 0; k < RB_ARRAY_SIZE(ranks); k++)
				check_exact((enum rb_dtype)t, (enum rb_redop)op,
					    ranks[k], 256);
}

/* The bf16 and half sums keep their per-rank inputs within range even at
 * 1024 ranks: sum of magnitudes <= 256 (bf16) and 2048 (half). */
static void test_sum_bounds(void **state)
{
	static const struct {
		enum rb_dtype t;
		double lim;
	} lims[] = { { RB_BF16, 256 }, { RB_HALF, 2048 }, { RB_FLOAT, 16777216 } };
	const size_t count = 512;

	(void)state;
	for (size_t k = 0; k < RB_ARRAY_SIZE(lims); k++) {
		for (int n = 1; n <= 1024; n *= 4) {
			uint64_t buf[512];
			double mag[512] = { 0 };

			for (int r = 0; r < n; r++) {
				rb_coll_fill_input(RB_COLL_ALLREDUCE, buf, count,
						   lims[k].t, RB_OP_SUM, r, n, 9);
				for (size_t i = 0; i < count; i++) {
					double v = rb_test_elem_get(buf, i, lims[k].t);

					mag[i] += v < 0 ? -v : v;
				}
			}
			for (size_t i = 0; i < count; i++)
				assert_true(mag[i] <= lims[k].lim);
		}
	}
}

/* Gathers: every element of every rank is placed where expected, and the
 * values of different ranks' blocks differ. */
static void test_gather_data(void **state)
{
	const int n = 8;
	const size_t count = 8 * 64;
	const size_t per = 64;

	(void)state;
	for (int t = 0; t < RB_NDTYPES; t++) {
		size_t esz = rb_dtype_size((enum rb_dtype)t);
		char *in = malloc((size_t)n * count * esz);
		char *want = malloc(count * esz);
		char *got = malloc(count * esz);

		assert_true(in && want && got);
		for (int r = 0; r < n; r++)
			rb_coll_fill_input(RB_COLL_ALLTOALL, in + r * count * esz,
					   count, t, RB_OP_SUM, r, n, 5);
		for (int r = 0; r < n; r++) {
			/* all-to-all: block s of rank r = block r of rank s */
			for (int s = 0; s < n; s++)
				memcpy(got + s * per * esz,
				       in + (s * count + r * per) * esz,
				       per * esz);
			rb_coll_fill_expected(RB_COLL_ALLTOALL, want, count, t,
					      RB_OP_SUM, r, n, 5);
			assert_int_equal(rb_coll_count_wrong(got, want, count, t), 0);
			/* Swapping two blocks is caught in most elements. */
			memcpy(got, want + 3 * per * esz, per * esz);
			assert_true(rb_coll_count_wrong(got, want, count, t) >
				    per / 2);
		}
		for (int r = 0; r < n; r++)
			rb_coll_fill_input(RB_COLL_ALLGATHER, in + r * per * esz,
					   count, t, RB_OP_SUM, r, n, 5);
		rb_coll_fill_expected(RB_COLL_ALLGATHER, want, count, t,
				      RB_OP_SUM, 2, n, 5);
		assert_int_equal(rb_coll_count_wrong(in, want, count, t), 0);
		free(in);
		free(want);
		free(got);
	}
}

/* Different seeds give different data. */
static void test_seed(void **state)
{
	float a[256];
	float b[256];

	(void)state;
	rb_coll_fill_input(RB_COLL_ALLREDUCE, a, 256, RB_FLOAT, RB_OP_SUM, 1, 4, 1);
	rb_coll_fill_input(RB_COLL_ALLREDUCE, b, 256, RB_FLOAT, RB_OP_SUM, 1, 4, 2);
	assert_true(rb_coll_count_wrong(a, b, 256, RB_FLOAT) > 128);
	rb_coll_fill_input(RB_COLL_ALLREDUCE, b, 256, RB_FLOAT, RB_OP_SUM, 2, 4, 1);
	assert_true(rb_coll_count_wrong(a, b, 256, RB_FLOAT) > 128);
}

/* One changed element counts as one; a swapped block as most of it. */
static void test_count_wrong(void **state)
{
	const size_t count = 1024;

	(void)state;
	for (int t = 0; t < RB_NDTYPES; t++) {
		size_t esz = rb_dtype_size((enum rb_dtype)t);
		char *want = malloc(count * esz);
		char *got = malloc(count * esz);

		assert_true(want && got);
		for (int op = 0; op < RB_NREDOPS; op++) {
			rb_coll_fill_expected(RB_COLL_ALLREDUCE, want, count, t,
					      op, 0, 4, 3);
			memcpy(got, want, count * esz);
			assert_int_equal(rb_coll_count_wrong(got, want, count, t), 0);
			/* Flip the lowest bit of element 517. */
			got[517 * esz] ^= 1;
			assert_int_equal(rb_coll_count_wrong(got, want, count, t), 1);
			memcpy(got, want, count * esz);
			/* Swap elements [0, 64) with [64, 128). */
			memcpy(got, want + 64 * esz, 64 * esz);
			memcpy(got + 64 * esz, want, 64 * esz);
			if (rb_coll_count_wrong(got, want, count, t) < 64)
				fail_msg("%s %s: swapped blocks mostly undetected",
					 rb_dtype_name(t), rb_redop_name(op));
		}
		free(want);
		free(got);
	}
}

/* +0 and -0 compare equal; NaN never does. */
static void test_count_wrong_special(void **state)
{
	float fz[2] = { 0.0f, 1.0f };
	float fn[2] = { -0.0f, 1.0f };
	uint16_t hz[1] = { 0x0000 };
	uint16_t hn[1] = { 0x8000 };
	uint16_t hnan[1] = { 0x7e00 };

	(void)state;
	assert_int_equal(rb_coll_count_wrong(fz, fn, 2, RB_FLOAT), 0);
	assert_int_equal(rb_coll_count_wrong(hz, hn, 1, RB_HALF), 0);
	assert_int_equal(rb_coll_count_wrong(hz, hn, 1, RB_BF16), 0);
	assert_int_equal(rb_coll_count_wrong(hnan, hnan, 1, RB_HALF), 1);
	assert_int_equal(rb_coll_count_wrong(hz, hn, 1,
					     (enum rb_dtype)(RB_NDTYPES + 3)),
			 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_busbw),
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_sum_bounds),
		cmocka_unit_test(test_gather_data),
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_count_wrong),
		cmocka_unit_test(test_count_wrong_special),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
