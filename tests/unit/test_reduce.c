/* SPDX-License-Identifier: BSD-3-Clause */
/* Reduction kernels against scalar references for every type and operator,
 * and the binary16 / bfloat16 conversions against an independent rounding
 * model (round to nearest even, subnormals, overflow, inf, NaN). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectives/coll.h"
#include "tests/unit/coll_world.h"

/* Format of a binary floating type narrower than float. */
struct fmt {
	int mant;	/* explicit significand bits */
	int emin;	/* exponent of the smallest normal */
	double max;	/* largest finite */
};

static const struct fmt fmt_half = { 10, -14, 65504.0 };
static const struct fmt fmt_bf16 = { 7, -126, 0x1.fep127 };

/* Independent model: round x to the format, ties to even, by scaling to
 * an integer number of quanta and using rint() (default mode: nearest
 * even). Values at or above max + half a quantum become infinity. */
static double model_round(const struct fmt *f, double x)
{
	double ax = fabs(x);
	int e;
	double q;

	if (isnan(x) || isinf(x))
		return x;
	if (ax == 0)
		return x;
	frexp(ax, &e);		/* ax = m * 2^e, m in [0.5, 1) */
	e -= 1;			/* ax in [2^e, 2^(e+1)) */
	if (e < f->emin)
		e = f->emin;
	q = ldexp(1.0, e - f->mant);
	ax = rint(ax / q) * q;
	if (ax > f->max)
		ax = INFINITY;
	return x < 0 ? -ax : ax;
}

/* Decode binary16 bits from the definition. */
static double model_half(uint16_t h)
{
	int e = (h >> 10) & 0x1f;
	int m = h & 0x3ff;
	double v;

	if (e == 0x1f)
		v = m ? NAN : INFINITY;
	else if (e == 0)
		v = ldexp(m, -24);
	else
		v = ldexp(1024 + m, e - 25);
	return (h & 0x8000) ? -v : v;
}

static uint32_t test_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 32);
}

static float bits_to_float(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static void test_half_decode_all(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 65536; h++) {
		double want = model_half((uint16_t)h);
		float got = rb_half_to_float((uint16_t)h);

		if (isnan(want)) {
			assert_true(isnan(got));
			/* NaN narrows to a NaN */
			assert_true((rb_float_to_half(got) & 0x7fff) > 0x7c00);
			continue;
		}
		if ((double)got != want || !signbit(got) != !signbit(want))
			fail_msg("half 0x%04x decodes to %a, want %a", h, got, want);
		/* Every half is exact in float: the round trip is identity. */
		assert_int_equal(rb_float_to_half(got), h);
	}
}

static void test_bf16_decode_all(void **state)
{
	(void)state;
	for (uint32_t b = 0; b < 65536; b++) {
		float got = rb_bf16_to_float((uint16_t)b);

		assert_memory_equal(&got, &(uint32_t){ b << 16 }, 4);
		if (isnan(got))
			assert_true(isnan(rb_bf16_to_float(rb_float_to_bf16(got))));
		else
			assert_int_equal(rb_float_to_bf16(got), b);
	}
}

static void check_narrow(float x)
{
	double hw = model_round(&fmt_half, x);
	double bw = model_round(&fmt_bf16, x);
	float h = rb_half_to_float(rb_float_to_half(x));
	float b = rb_bf16_to_float(rb_float_to_bf16(x));

	if ((double)h != hw || !signbit(h) != !signbit(hw))
		fail_msg("half(%a) = %a, want %a", x, h, hw);
	if ((double)b != bw || !signbit(b) != !signbit(bw))
		fail_msg("bf16(%a) = %a, want %a", x, b, bw);
}

static void test_narrow_cases(void **state)
{
	static const float cases[] = {
		1.0f, 0x1.002p0f,	/* 1 + 2^-11: tie, stays at even 1 */
		0x1.006p0f,		/* 1 + 3 * 2^-11: tie, up to even */
		0x1.0021p0f,		/* just above a tie */
		65504.0f, 65519.0f, 65520.0f, 1e6f,
		0x1p-14f, 0x1.ff8p-15f,	/* min normal, rounds up into it */
		0x1p-24f, 0x1p-25f,	/* min subnormal, tie to zero */
		0x1.8p-25f, 0x1.0001p-25f, 0x1p-26f, 0x1.8p-24f,
		0x1.01p0f, 0x1.03p0f, 0x1.008p0f, /* bf16 ties */
		0x1p-126f, 0x1p-149f, 0x1.fffffep127f, 0x1.ffp127f,
		0.0f, -0.0f, -1.5f, -65520.0f, 3.14159265f, -0x1.8p-25f,
	};

	(void)state;
	for (size_t i = 0; i < RB_ARRAY_SIZE(cases); i++)
		check_narrow(cases[i]);
	assert_int_equal(rb_float_to_half(INFINITY), 0x7c00);
	assert_int_equal(rb_float_to_half(-INFINITY), 0xfc00);
	assert_int_equal(rb_float_to_bf16(INFINITY), 0x7f80);
	assert_true((rb_float_to_half(NAN) & 0x7fff) > 0x7c00);
	assert_true((rb_float_to_bf16(NAN) & 0x7fff) > 0x7f80);
	/* A NaN whose payload sits only in the low bits stays a NaN. */
	assert_true((rb_float_to_bf16(bits_to_float(0x7f800001u)) & 0x7fff) >
		    0x7f80);
	assert_int_equal(rb_float_to_half(0x1.002p0f), 0x3c00);
	assert_int_equal(rb_float_to_half(0x1.006p0f), 0x3c02);
	assert_int_equal(rb_float_to_half(0x1p-25f), 0x0000);
	assert_int_equal(rb_float_to_half(0x1.8p-25f), 0x0001);
}

/* Random float bit patterns over the whole range, and dense around the
 * half range where rounding decisions happen. */
static void test_narrow_random(void **state)
{
	uint64_t s = 12345;

	(void)state;
	for (int i = 0; i < 400000; i++) {
		uint32_t u = test_rand(&s);
		float x = bits_to_float(u);

		if (i % 2) {	/* exponent within [-30, 17] */
			int e = (int)(u % 48) - 30;

			x = ldexpf(1.0f + (float)(test_rand(&s) >> 8) * 0x1p-24f,
				   e);
			if (u & 0x80000000u)
				x = -x;
		}
		if (!isnan(x))
			check_narrow(x);
	}
}

/* ---- kernels ---------------------------------------------------------- */

/* Element i of n per type: random values in the type's comfortable range,
 * so that exact references exist in double. */
static void fill_rand(void *buf, size_t n, enum rb_dtype t, uint64_t *s)
{
	for (size_t i = 0; i < n; i++) {
		int32_t r = (int32_t)test_rand(s);
		double v = (double)(r % 2001) / 8.0;	/* multiple of 1/8 */

		switch (t) {
		case RB_INT32:
			((int32_t *)buf)[i] = r % 40000;
			break;
		case RB_INT64:
			((int64_t *)buf)[i] = (int64_t)r * 1000;
			break;
		case RB_FLOAT:
			((float *)buf)[i] = (float)v;
			break;
		case RB_DOUBLE:
			((double *)buf)[i] = v;
			break;
		case RB_HALF:
			((uint16_t *)buf)[i] = rb_float_to_half((float)v / 64);
			break;
		default:
			((uint16_t *)buf)[i] = rb_float_to_bf16((float)v);
			break;
		}
	}
}

/* Scalar reference of dst op= src for element i. Integers wrap like the
 * kernels; floats round once to the type (products and sums of the chosen
 * values are exact in double before that rounding). */
static void ref_elem(void *d, const void *s, size_t i, enum rb_dtype t,
		     enum rb_redop op)
{
	switch (t) {
	case RB_INT32: {
		int64_t a = ((int32_t *)d)[i];
		int64_t b = ((const int32_t *)s)[i];
		int64_t v = op == RB_OP_SUM ? a + b : op == RB_OP_PROD ? a * b :
			    (int64_t)rb_test_op((double)a, (double)b, op);

		((int32_t *)d)[i] = (int32_t)(uint32_t)(uint64_t)v;
		break;
	}
	case RB_INT64: {
		uint64_t a = (uint64_t)((int64_t *)d)[i];
		uint64_t b = (uint64_t)((const int64_t *)s)[i];
		int64_t sa = ((int64_t *)d)[i];
		int64_t sb = ((const int64_t *)s)[i];

		((int64_t *)d)[i] = op == RB_OP_SUM ? (int64_t)(a + b) :
				    op == RB_OP_PROD ? (int64_t)(a * b) :
				    op == RB_OP_MAX ? (sa > sb ? sa : sb) :
				    (sa < sb ? sa : sb);
		break;
	}
	case RB_FLOAT:
		((float *)d)[i] = (float)rb_test_op(((float *)d)[i],
						((const float *)s)[i], op);
		break;
	case RB_DOUBLE:
		((double *)d)[i] = rb_test_op(((double *)d)[i],
					  ((const double *)s)[i], op);
		break;
	case RB_HALF:
		((uint16_t *)d)[i] = rb_float_to_half((float)model_round(&fmt_half,
			rb_test_op(model_half(((uint16_t *)d)[i]),
			       model_half(((const uint16_t *)s)[i]), op)));
		break;
	default:
		((uint16_t *)d)[i] = rb_float_to_bf16((float)model_round(&fmt_bf16,
			rb_test_op(rb_bf16_to_float(((uint16_t *)d)[i]),
			       rb_bf16_to_float(((const uint16_t *)s)[i]), op)));
		break;
	}
}

static void test_kernels(void **state)
{
	static const size_t lens[] = { 0, 1, 7, 33, 1000 };
	uint64_t seed = 99;

	(void)state;
	for (int t = 0; t < RB_NDTYPES; t++) {
		size_t esz = rb_dtype_size((enum rb_dtype)t);

		for (int op = 0; op < RB_NREDOPS; op++) {
			for (size_t k = 0; k < RB_ARRAY_SIZE(lens); k++) {
				size_t n = lens[k];
				char *d = malloc(n * esz + 8);
				char *s = malloc(n * esz + 8);
				char *want = malloc(n * esz + 8);

				assert_true(d && s && want);
				fill_rand(d, n, t, &seed);
				fill_rand(s, n, t, &seed);
				memcpy(want, d, n * esz);
				for (size_t i = 0; i < n; i++)
					ref_elem(want, s, i, t, op);
				rb_reduce(d, s, n, t, op);
				if (n && memcmp(d, want, n * esz))
					fail_msg("%s %s n=%zu differs from the scalar reference",
						 rb_dtype_name(t),
						 rb_redop_name(op), n);
				free(d);
				free(s);
				free(want);
			}
		}
	}
}

/* Integer sum and product wrap around instead of trapping. */
/* The kernels' own expressions, one element at a time and never
 * vectorised: what every ISA variant must reproduce bit for bit. */
__attribute__((optimize("no-tree-vectorize")))
static void scalar_to(void *d, const void *a, const void *b, size_t n,
		      enum rb_dtype t, enum rb_redop op)
{
	for (size_t i = 0; i < n; i++) {
		switch (t) {
		case RB_INT32: {
			int32_t x = ((const int32_t *)a)[i], y = ((const int32_t *)b)[i];

			((int32_t *)d)[i] = op == RB_OP_SUM ? (int32_t)((uint32_t)x + (uint32_t)y) :
					    op == RB_OP_PROD ? (int32_t)((uint32_t)x * (uint32_t)y) :
					    op == RB_OP_MAX ? (x > y ? x : y) : (x < y ? x : y);
			break;
		}
		case RB_INT64: {
			int64_t x = ((const int64_t *)a)[i], y = ((const int64_t *)b)[i];

			((int64_t *)d)[i] = op == RB_OP_SUM ? (int64_t)((uint64_t)x + (uint64_t)y) :
					    op == RB_OP_PROD ? (int64_t)((uint64_t)x * (uint64_t)y) :
					    op == RB_OP_MAX ? (x > y ? x : y) : (x < y ? x : y);
			break;
		}
		case RB_FLOAT: {
			float x = ((const float *)a)[i], y = ((const float *)b)[i];

			((float *)d)[i] = op == RB_OP_SUM ? x + y : op == RB_OP_PROD ? x * y :
					  op == RB_OP_MAX ? (x > y ? x : y) : (x < y ? x : y);
			break;
		}
		case RB_DOUBLE: {
			double x = ((const double *)a)[i], y = ((const double *)b)[i];

			((double *)d)[i] = op == RB_OP_SUM ? x + y : op == RB_OP_PROD ? x * y :
					   op == RB_OP_MAX ? (x > y ? x : y) : (x < y ? x : y);
			break;
		}
		default: {
			uint16_t x = ((const uint16_t *)a)[i], y = ((const uint16_t *)b)[i];
			int h = t == RB_HALF;
			float fx = h ? rb_half_to_float(x) : rb_bf16_to_float(x);
			float fy = h ? rb_half_to_float(y) : rb_bf16_to_float(y);
			float r = op == RB_OP_SUM ? fx + fy : fx * fy;

			((uint16_t *)d)[i] = op == RB_OP_MAX ? (fx >= fy ? x : y) :
					     op == RB_OP_MIN ? (fx <= fy ? x : y) :
					     h ? rb_float_to_half(r) : rb_float_to_bf16(r);
			break;
		}
		}
	}
}

static int is_nan_elem(const void *p, size_t i, enum rb_dtype t)
{
	switch (t) {
	case RB_FLOAT:
		return isnan(((const float *)p)[i]);
	case RB_DOUBLE:
		return isnan(((const double *)p)[i]);
	case RB_HALF:
		return isnan(rb_half_to_float(((const uint16_t *)p)[i]));
	case RB_BF16:
		return isnan(rb_bf16_to_float(((const uint16_t *)p)[i]));
	default:
		return 0;
	}
}

/* got == want bit for bit, except that where both operands are NaN the
 * result only has to be a NaN: IEEE 754 leaves open which operand's sign
 * and payload a NaN result carries, and a vector unit may take the other. */
static int same_bits(const void *got, const void *want, const void *a,
		     const void *b, size_t n, enum rb_dtype t)
{
	size_t esz = rb_dtype_size(t);

	for (size_t i = 0; i < n; i++) {
		if (!memcmp((const char *)got + i * esz, (const char *)want + i * esz, esz))
			continue;
		if (is_nan_elem(a, i, t) && is_nan_elem(b, i, t) &&
		    is_nan_elem(got, i, t))
			continue;
		return 0;
	}
	return 1;
}

/* Random raw bit patterns (NaNs, infinities, subnormals included), every
 * length up to 300 at odd offsets: rb_reduce and rb_reduce_to, whichever
 * ISA variant the loader chose, equal the scalar path bit for bit. */
static void test_kernels_bit_exact(void **state)
{
	uint64_t seed = 1234;
	enum { N = 300, PAD = 16 };

	(void)state;
	printf("# reduction kernels run with %s\n", rb_reduce_isa());
	for (int t = 0; t < RB_NDTYPES; t++) {
		size_t esz = rb_dtype_size((enum rb_dtype)t);

		for (int op = 0; op < RB_NREDOPS; op++) {
			unsigned char *a = malloc((N + PAD) * 8), *b = malloc((N + PAD) * 8);
			unsigned char *d = malloc((N + PAD) * 8), *w = malloc((N + PAD) * 8);

			assert_true(a && b && d && w);
			for (size_t i = 0; i < (N + PAD) * 8; i++) {
				a[i] = (unsigned char)test_rand(&seed);
				b[i] = (unsigned char)test_rand(&seed);
			}
			for (size_t n = 0; n <= N; n += n < 70 ? 1 : 37) {
				size_t off = (n % 3) * esz;	/* not vector-aligned */

				scalar_to(w + off, a + off, b + off, n, t, op);
				rb_reduce_to(d + off, a + off, b + off, n, t, op);
				if (!same_bits(d + off, w + off, a + off, b + off, n, t))
					fail_msg("rb_reduce_to %s %s n=%zu differs from the scalar path",
						 rb_dtype_name(t), rb_redop_name(op), n);
				memcpy(d + off, a + off, n * esz);
				rb_reduce(d + off, b + off, n, t, op);
				if (!same_bits(d + off, w + off, a + off, b + off, n, t))
					fail_msg("rb_reduce %s %s n=%zu differs from the scalar path",
						 rb_dtype_name(t), rb_redop_name(op), n);
				memcpy(d + off, a + off, n * esz);
				rb_reduce_to(d + off, d + off, b + off, n, t, op);
				if (!same_bits(d + off, w + off, a + off, b + off, n, t))
					fail_msg("rb_reduce_to in place %s %s n=%zu differs",
						 rb_dtype_name(t), rb_redop_name(op), n);
			}
			free(a);
			free(b);
			free(d);
			free(w);
		}
	}
}

static void test_int_wrap(void **state)
{
	int32_t a[2] = { INT32_MAX, INT32_MIN };
	int32_t b[2] = { 1, -1 };
	int64_t c[1] = { INT64_MAX };
	int64_t d[1] = { 2 };

	(void)state;
	rb_reduce(a, b, 2, RB_INT32, RB_OP_SUM);
	assert_int_equal(a[0], INT32_MIN);
	assert_int_equal(a[1], INT32_MAX);
	rb_reduce(c, d, 1, RB_INT64, RB_OP_PROD);
	assert_int_equal(c[0], -2);
}

/* Half sums round correctly: 2048 + 1 is a tie that stays at 2048, and
 * 2048 + 3 rounds up to 2052. */
static void test_half_rounding_in_sum(void **state)
{
	uint16_t a[3] = { rb_float_to_half(2048), rb_float_to_half(2048),
			  rb_float_to_half(65504) };
	uint16_t b[3] = { rb_float_to_half(1), rb_float_to_half(3),
			  rb_float_to_half(65504) };

	(void)state;
	rb_reduce(a, b, 3, RB_HALF, RB_OP_SUM);
	assert_true(rb_half_to_float(a[0]) == 2048.0f);
	assert_true(rb_half_to_float(a[1]) == 2052.0f);
	assert_true(isinf(rb_half_to_float(a[2])));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half_decode_all),
		cmocka_unit_test(test_bf16_decode_all),
		cmocka_unit_test(test_narrow_cases),
		cmocka_unit_test(test_narrow_random),
		cmocka_unit_test(test_kernels),
		cmocka_unit_test(test_kernels_bit_exact),
		cmocka_unit_test(test_int_wrap),
		cmocka_unit_test(test_half_rounding_in_sum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
