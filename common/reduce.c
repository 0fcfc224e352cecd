/* SPDX-License-Identifier: BSD-3-Clause */
/* Element-wise reduction kernels (dst op= src, and dst = a op b) for every
 * data type and operator, plus the binary16 and bfloat16 conversions they
 * rely on. The op switch sits outside each loop so the compiler vectorises
 * the loops; each kernel is built for AVX-512, AVX2 and the build default
 * (target_clones), and the loader picks the widest the CPU has. Every
 * variant computes the same bits: the operation is element-wise (except
 * which operand's sign and payload a NaN result of two NaNs carries, which
 * IEEE 754 leaves open). */
#include <string.h>

#include "collectives/coll.h"

static inline uint32_t red_f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float red_u2f(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* binary16 -> float: move exponent and mantissa into place and rebias by a
 * multiplication by 2^112, which also normalises subnormals exactly. The
 * code is branch-free (selects only) so that loops using it vectorise. */
static inline float red_h2f(uint16_t h)
{
	uint32_t em = (uint32_t)h & 0x7fffu;
	uint32_t u = red_f2u(red_u2f(em << 13) * 0x1p112f);

	u |= em >= 0x7c00u ? 0x7f800000u : 0;	/* inf or NaN */
	return red_u2f(u | (((uint32_t)h & 0x8000u) << 16));
}

/* float -> binary16, round to nearest even. Subnormal results come from an
 * addition that lets the FPU do the rounding; normal results round by
 * adding half an ulp minus one plus the lowest kept bit. All three
 * candidates are computed and one is selected, without branches, so that
 * loops using it vectorise. */
static inline uint16_t red_f2h(float f)
{
	const uint32_t f16_overflow = (127u + 16u) << 23;
	const uint32_t denorm_magic = ((127u - 15u) + (23u - 10u) + 1u) << 23;
	uint32_t u = red_f2u(f);
	uint32_t sign = u & 0x80000000u;
	uint32_t a = u ^ sign;
	uint32_t big = a > 0x7f800000u ? 0x7e00u : 0x7c00u;
	uint32_t sub = red_f2u(red_u2f(a) + red_u2f(denorm_magic)) -
		       denorm_magic;
	uint32_t norm = (a + ((uint32_t)(15 - 127) << 23) + 0xfffu +
			 ((a >> 13) & 1u)) >> 13;
	/* Bit blends, not ?:, so the float addition stays unconditional. */
	uint32_t m_sub = 0u - (uint32_t)(a < (113u << 23));
	uint32_t m_big = 0u - (uint32_t)(a >= f16_overflow);
	uint32_t o = (sub & m_sub) | (norm & ~m_sub);

	o = (big & m_big) | (o & ~m_big);
	return (uint16_t)(o | (sign >> 16));
}

static inline float red_b2f(uint16_t b)
{
	return red_u2f((uint32_t)b << 16);
}

static inline uint16_t red_f2b(float f)
{
	uint32_t u = red_f2u(f);

	uint32_t nan = (u >> 16) | 0x40u;	/* NaN: keep it quiet */
	uint32_t rne = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;

	return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? nan : rne);
}

float rb_half_to_float(uint16_t h)
{
	return red_h2f(h);
}

uint16_t rb_float_to_half(float f)
{
	return red_f2h(f);
}

float rb_bf16_to_float(uint16_t b)
{
	return red_b2f(b);
}

uint16_t rb_float_to_bf16(float f)
{
	return red_f2b(f);
}

/*
 * One loop per (type, op). Integer sum and product wrap (computed unsigned)
 * instead of invoking undefined behaviour on overflow, as MPI libraries do.
 * Each kernel has two forms: NAME(d, s) is d op= s, NAME_to(d, a, b) is
 * d = a op b (one read fewer than a copy followed by a reduction).
 */
/* Blocks of a fixed RED_BLOCK elements, then the tail: at -O2 gcc only
 * vectorises loops whose trip count is a known multiple of the vector
 * width, which the inner block loop is. */
#define RED_BLOCK 32
#define RED_LOOP(EXPR)                                                       \
	do {                                                                 \
		size_t nb_ = n - n % RED_BLOCK;                              \
		for (size_t b_ = 0; b_ < nb_; b_ += RED_BLOCK) {             \
			for (size_t j_ = 0; j_ < RED_BLOCK; j_++) {          \
				size_t i = b_ + j_;                          \
				d[i] = (EXPR);                               \
			}                                                    \
		}                                                            \
		for (size_t i = nb_; i < n; i++)                             \
			d[i] = (EXPR);                                       \
	} while (0)

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
	!defined(__SANITIZE_ADDRESS__)
#define RED_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define RED_HAVE_CLONES 1
#else
#define RED_CLONES
#define RED_HAVE_CLONES 0
#endif

/* The body of one kernel over X (left) and Y (right operand). */
#define RED_INT_BODY(T, UT, X, Y)                                            \
	switch (op) {                                                        \
	case RB_OP_SUM:                                                      \
		RED_LOOP((T)((UT)(X) + (UT)(Y)));                            \
		break;                                                       \
	case RB_OP_PROD:                                                     \
		RED_LOOP((T)((UT)(X) * (UT)(Y)));                            \
		break;                                                       \
	case RB_OP_MAX:                                                      \
		RED_LOOP((X) > (Y) ? (X) : (Y));                             \
		break;                                                       \
	case RB_OP_MIN:                                                      \
		RED_LOOP((X) < (Y) ? (X) : (Y));                             \
		break;                                                       \
	default:                                                             \
		break;                                                       \
	}

#define RED_FLT_BODY(X, Y)                                                   \
	switch (op) {                                                        \
	case RB_OP_SUM:                                                      \
		RED_LOOP((X) + (Y));                                         \
		break;                                                       \
	case RB_OP_PROD:                                                     \
		RED_LOOP((X) * (Y));                                         \
		break;                                                       \
	case RB_OP_MAX:                                                      \
		RED_LOOP((X) > (Y) ? (X) : (Y));                             \
		break;                                                       \
	case RB_OP_MIN:                                                      \
		RED_LOOP((X) < (Y) ? (X) : (Y));                             \
		break;                                                       \
	default:                                                             \
		break;                                                       \
	}

/* 16-bit floats: widen to float, operate, round back. float's 24-bit
 * significand is >= 2 * 11 + 2 bits, so this double rounding is harmless:
 * the result is the correctly rounded binary16 (or bfloat16) value. */
#define RED_F16_BODY(TOF, FROMF, X, Y)                                       \
	switch (op) {                                                        \
	case RB_OP_SUM:                                                      \
		RED_LOOP(FROMF(TOF(X) + TOF(Y)));                            \
		break;                                                       \
	case RB_OP_PROD:                                                     \
		RED_LOOP(FROMF(TOF(X) * TOF(Y)));                            \
		break;                                                       \
	case RB_OP_MAX:                                                      \
		RED_LOOP(TOF(X) >= TOF(Y) ? (X) : (Y));                      \
		break;                                                       \
	case RB_OP_MIN:                                                      \
		RED_LOOP(TOF(X) <= TOF(Y) ? (X) : (Y));                      \
		break;                                                       \
	default:                                                             \
		break;                                                       \
	}

/* Both forms of one type's kernel. */
#define RED_KERNEL(NAME, T, BODY2, BODY3)                                    \
	RED_CLONES static void NAME(T *restrict d, const T *restrict s,      \
				    size_t n, enum rb_redop op)              \
	{                                                                    \
		BODY2                                                        \
	}                                                                    \
	RED_CLONES static void NAME##_to(T *restrict d, const T *restrict a, \
					 const T *restrict b, size_t n,      \
					 enum rb_redop op)                   \
	{                                                                    \
		BODY3                                                        \
	}

RED_KERNEL(red_i32, int32_t, RED_INT_BODY(int32_t, uint32_t, d[i], s[i]),
	   RED_INT_BODY(int32_t, uint32_t, a[i], b[i]))
RED_KERNEL(red_i64, int64_t, RED_INT_BODY(int64_t, uint64_t, d[i], s[i]),
	   RED_INT_BODY(int64_t, uint64_t, a[i], b[i]))
RED_KERNEL(red_f32, float, RED_FLT_BODY(d[i], s[i]), RED_FLT_BODY(a[i], b[i]))
RED_KERNEL(red_f64, double, RED_FLT_BODY(d[i], s[i]), RED_FLT_BODY(a[i], b[i]))
RED_KERNEL(red_half, uint16_t, RED_F16_BODY(red_h2f, red_f2h, d[i], s[i]),
	   RED_F16_BODY(red_h2f, red_f2h, a[i], b[i]))
RED_KERNEL(red_bf16, uint16_t, RED_F16_BODY(red_b2f, red_f2b, d[i], s[i]),
	   RED_F16_BODY(red_b2f, red_f2b, a[i], b[i]))

/* CALL(kernel) for the kernel of dtype. */
#define RED_DISPATCH(dtype, CALL)                                            \
	do {                                                                 \
		switch (dtype) {                                             \
		case RB_INT32: CALL(red_i32); break;                         \
		case RB_INT64: CALL(red_i64); break;                         \
		case RB_FLOAT: CALL(red_f32); break;                         \
		case RB_DOUBLE: CALL(red_f64); break;                        \
		case RB_HALF: CALL(red_half); break;                         \
		case RB_BF16: CALL(red_bf16); break;                         \
		default: break;                                              \
		}                                                            \
	} while (0)

void rb_reduce(void *dst, const void *src, size_t n, enum rb_dtype dtype,
	       enum rb_redop op)
{
#define RED_CALL2(K) K(dst, src, n, op)
	RED_DISPATCH(dtype, RED_CALL2);
#undef RED_CALL2
}

void rb_reduce_to(void *dst, const void *a, const void *b, size_t n,
		  enum rb_dtype dtype, enum rb_redop op)
{
	if (dst == a) {
		rb_reduce(dst, b, n, dtype, op);
		return;
	}
#define RED_CALL3(K) K##_to(dst, a, b, n, op)
	RED_DISPATCH(dtype, RED_CALL3);
#undef RED_CALL3
}

const char *rb_reduce_isa(void)
{
#if RED_HAVE_CLONES
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return "avx512f";
	if (__builtin_cpu_supports("avx2"))
		return "avx2";
#endif
	return "default";
}
