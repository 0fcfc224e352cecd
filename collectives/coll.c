/* SPDX-License-Identifier: BSD-3-Clause */
/* Collective descriptors: buffer sizing, bus-bandwidth factors and the
 * verifiable data every algorithm is checked against (docs/busbw.md,
 * docs/algorithms.md "Verifiable data"). */
#include <string.h>

#include "collectives/coll.h"

/* ---- descriptors ------------------------------------------------------- */

static size_t coll_align_one(int nranks)
{
	(void)nranks;
	return 1;
}

static size_t coll_align_n(int nranks)
{
	return nranks > 0 ? (size_t)nranks : 1;
}

static void allreduce_sizes(size_t count, int rank, int nranks,
			    struct rb_coll_sizes *s)
{
	(void)rank;
	(void)nranks;
	*s = (struct rb_coll_sizes){
		.send_count = count,
		.recv_count = count,
		.param_count = count,
		.inplace_off = 0,
	};
}

static void allgather_sizes(size_t count, int rank, int nranks,
			    struct rb_coll_sizes *s)
{
	size_t per = count / coll_align_n(nranks);

	*s = (struct rb_coll_sizes){
		.send_count = per,
		.recv_count = count,
		.param_count = per,
		.inplace_off = (size_t)rank * per,
	};
}

static void alltoall_sizes(size_t count, int rank, int nranks,
			   struct rb_coll_sizes *s)
{
	(void)rank;
	*s = (struct rb_coll_sizes){
		.send_count = count,
		.recv_count = count,
		.param_count = count / coll_align_n(nranks),
		.inplace_off = 0,
	};
}

/* 2(n-1)/n: each rank sends and receives (n-1)/n of the buffer twice. */
static double allreduce_busbw(int nranks)
{
	return nranks > 0 ? 2.0 * (nranks - 1) / nranks : 0.0;
}

/* (n-1)/n: each rank receives n-1 of the n blocks. */
static double gather_busbw(int nranks)
{
	return nranks > 0 ? (double)(nranks - 1) / nranks : 0.0;
}

static const struct rb_coll_desc coll_descs[RB_NCOLLS] = {
	[RB_COLL_ALLREDUCE] = {
		.kind = RB_COLL_ALLREDUCE,
		.name = "allreduce",
		.has_op = 1,
		.count_align = coll_align_one,
		.sizes = allreduce_sizes,
		.busbw_factor = allreduce_busbw,
	},
	[RB_COLL_ALLGATHER] = {
		.kind = RB_COLL_ALLGATHER,
		.name = "allgather",
		.has_op = 0,
		.count_align = coll_align_n,
		.sizes = allgather_sizes,
		.busbw_factor = gather_busbw,
	},
	[RB_COLL_ALLTOALL] = {
		.kind = RB_COLL_ALLTOALL,
		.name = "alltoall",
		.has_op = 0,
		.count_align = coll_align_n,
		.sizes = alltoall_sizes,
		.busbw_factor = gather_busbw,
	},
};

const struct rb_coll_desc *rb_coll_desc_get(enum rb_coll_kind kind)
{
	if ((unsigned)kind >= RB_NCOLLS)
		return NULL;
	return &coll_descs[kind];
}

/* ---- verifiable data --------------------------------------------------- */

/*
 * Every value is an integer no larger in magnitude than the type's exact
 * limit L (every integer in [-L, L] is representable; capped at 2^30 so
 * that ranges fit 32-bit arithmetic). For reductions the sum of
 * magnitudes over all ranks also stays within L, so every partial result,
 * in any order, is exact.
 */
static const int64_t coll_exact_limit[RB_NDTYPES] = {
	[RB_INT32] = INT64_C(1) << 30,
	[RB_INT64] = INT64_C(1) << 30,
	[RB_FLOAT] = INT64_C(1) << 24,
	[RB_DOUBLE] = INT64_C(1) << 30,
	[RB_HALF] = 2048,
	[RB_BF16] = 256,
};

/* Hash stream tags, so the value families are independent. */
enum coll_tag {
	COLL_TAG_SUM_G = 1,
	COLL_TAG_SUM_T,
	COLL_TAG_PROD_A,
	COLL_TAG_PROD_B,
	COLL_TAG_PROD_C,
	COLL_TAG_EXT_W,
	COLL_TAG_EXT_R,
	COLL_TAG_MOVE,
};

/* One splitmix64 round over a linear mix of the inputs: cheap enough to
 * generate large buffers, and well spread. */
static inline uint64_t coll_hash(uint64_t seed, enum coll_tag tag, size_t i,
				 int r)
{
	uint64_t x = seed * UINT64_C(0x9e3779b97f4a7c15) +
		     (uint64_t)tag * UINT64_C(0xc2b2ae3d27d4eb4f) +
		     (uint64_t)i * UINT64_C(0xd1b54a32d192ed03) +
		     (uint64_t)(uint32_t)r * UINT64_C(0x8cb92ba72f3d8dd7);

	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/* Uniform integer in [0, m) from 32 random bits, m <= 2^32, by a multiply
 * instead of a (slow) division. */
static inline uint64_t coll_range(uint32_t x, uint64_t m)
{
	return ((uint64_t)x * m) >> 32;
}

static inline uint32_t coll_lo(uint64_t h)
{
	return (uint32_t)h;
}

static inline uint32_t coll_hi(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

/* Uniform integer in [-m, m]. */
static inline int64_t coll_sym(uint32_t x, int64_t m)
{
	return (int64_t)coll_range(x, (uint64_t)(2 * m + 1)) - m;
}

/* Parameters of one reduction pattern, fixed per call. */
struct coll_gen {
	uint64_t seed;
	int nranks;
	int64_t lim;	/* exact limit L of the type */
	int64_t sum_g;	/* per-rank telescoping amplitude */
};

/*
 * sum: v(r) = g(r) - g(r-1) + [r == w] t, with g in [-G, G], G = L/(4n),
 * t in [-L/2, L/2]. The g terms telescope around the ring of ranks, so the
 * total is exactly t, and the sum of magnitudes is <= 2nG + L/2 <= L.
 */
static int64_t coll_sum_in(const struct coll_gen *g, size_t i, int r)
{
	int n = g->nranks;
	uint64_t ht = coll_hash(g->seed, COLL_TAG_SUM_T, i, 0);
	int64_t v = 0;

	if (g->sum_g > 0) {
		int prev = r ? r - 1 : n - 1;

		v = coll_sym(coll_lo(coll_hash(g->seed, COLL_TAG_SUM_G, i, r)),
			     g->sum_g) -
		    coll_sym(coll_lo(coll_hash(g->seed, COLL_TAG_SUM_G, i,
					       prev)),
			     g->sum_g);
	}
	if ((int)coll_range(coll_hi(ht), (uint64_t)n) == r)
		v += coll_sym(coll_lo(ht), g->lim / 2);
	return v;
}

static int64_t coll_sum_out(const struct coll_gen *g, size_t i)
{
	uint64_t ht = coll_hash(g->seed, COLL_TAG_SUM_T, i, 0);

	return coll_sym(coll_lo(ht), g->lim / 2);
}

/* Does rank r (or the result, r < 0) take the factor owned by rank pick? */
static inline int coll_owns(int r, uint32_t x, int n)
{
	return r < 0 || (int)coll_range(x, (uint64_t)n) == r;
}

/*
 * prod: 1 everywhere except rank a (2^k, k in 0..3), rank b (times 3 when
 * a bit says so) and ranks c, d (times -1 when their bits say so): the
 * product is +-2^k * 3^f, at most 24 in magnitude, exact in every type.
 */
static int64_t coll_prod_val(const struct coll_gen *g, size_t i, int r)
{
	int n = g->nranks;
	uint64_t ha = coll_hash(g->seed, COLL_TAG_PROD_A, i, 0);
	uint64_t hb = coll_hash(g->seed, COLL_TAG_PROD_B, i, 0);
	uint64_t bits = coll_hash(g->seed, COLL_TAG_PROD_C, i, 0);
	int64_t v = 1;

	if (coll_owns(r, coll_lo(ha), n))
		v <<= bits & 3;
	if (coll_owns(r, coll_hi(ha), n) && (bits >> 2 & 1))
		v *= 3;
	if (coll_owns(r, coll_lo(hb), n) && (bits >> 3 & 1))
		v = -v;
	if (coll_owns(r, coll_hi(hb), n) && (bits >> 4 & 1))
		v = -v;
	return v;
}

/*
 * max: rank w holds a value in (L/2, L], all others are in [-L, L/2], so the
 * maximum is rank w's value; min is the mirror image. r < 0 asks for the
 * result.
 */
static int64_t coll_max_val(const struct coll_gen *g, size_t i, int r)
{
	int64_t half = g->lim / 2;
	uint64_t hw = coll_hash(g->seed, COLL_TAG_EXT_W, i, 0);
	uint64_t hr;

	if (coll_owns(r, coll_hi(hw), g->nranks))
		return half + 1 + (int64_t)coll_range(coll_lo(hw),
						      (uint64_t)half);
	hr = coll_hash(g->seed, COLL_TAG_EXT_R, i, r);
	return (int64_t)coll_range(coll_lo(hr),
				   (uint64_t)(g->lim + half + 1)) - g->lim;
}

/* Value of element i (index in rank r's send buffer) for gathers. */
static int64_t coll_move_val(const struct coll_gen *g, size_t i, int r)
{
	return coll_sym(coll_lo(coll_hash(g->seed, COLL_TAG_MOVE, i, r)),
			g->lim);
}

/* Reduction input of rank r (r >= 0) or the expected result (r < 0). */
static int64_t coll_red_val(const struct coll_gen *g, enum rb_redop op,
			    size_t i, int r)
{
	switch (op) {
	case RB_OP_SUM:
		return r < 0 ? coll_sum_out(g, i) : coll_sum_in(g, i, r);
	case RB_OP_PROD:
		return coll_prod_val(g, i, r);
	case RB_OP_MAX:
		return coll_max_val(g, i, r);
	case RB_OP_MIN:
		return -coll_max_val(g, i, r);
	default:
		return 0;
	}
}

/* Stores the integer v (exact in t by construction) as element i. */
static void coll_store(void *buf, size_t i, enum rb_dtype t, int64_t v)
{
	switch (t) {
	case RB_INT32:
		((int32_t *)buf)[i] = (int32_t)v;
		break;
	case RB_INT64:
		((int64_t *)buf)[i] = v;
		break;
	case RB_FLOAT:
		((float *)buf)[i] = (float)v;
		break;
	case RB_DOUBLE:
		((double *)buf)[i] = (double)v;
		break;
	case RB_HALF:
		((uint16_t *)buf)[i] = rb_float_to_half((float)v);
		break;
	case RB_BF16:
		((uint16_t *)buf)[i] = rb_float_to_bf16((float)v);
		break;
	default:
		break;
	}
}

static void coll_gen_init(struct coll_gen *g, enum rb_dtype dtype,
			  int nranks, uint64_t seed)
{
	int n = nranks > 0 ? nranks : 1;

	g->seed = seed;
	g->nranks = n;
	g->lim = (unsigned)dtype < RB_NDTYPES ? coll_exact_limit[dtype] : 256;
	g->sum_g = g->lim / (4 * (int64_t)n);
}

void rb_coll_fill_input(enum rb_coll_kind kind, void *buf, size_t count,
			enum rb_dtype dtype, enum rb_redop op, int rank,
			int nranks, uint64_t seed)
{
	const struct rb_coll_desc *d = rb_coll_desc_get(kind);
	struct rb_coll_sizes sz;
	struct coll_gen g;

	if (!d || nranks < 1)
		return;
	coll_gen_init(&g, dtype, nranks, seed);
	d->sizes(count, rank, nranks, &sz);
	for (size_t i = 0; i < sz.send_count; i++) {
		int64_t v;

		if (kind == RB_COLL_ALLREDUCE)
			v = coll_red_val(&g, op, i, rank);
		else
			v = coll_move_val(&g, i, rank);
		coll_store(buf, i, dtype, v);
	}
}

void rb_coll_fill_expected(enum rb_coll_kind kind, void *buf, size_t count,
			   enum rb_dtype dtype, enum rb_redop op, int rank,
			   int nranks, uint64_t seed)
{
	const struct rb_coll_desc *d = rb_coll_desc_get(kind);
	struct rb_coll_sizes sz;
	struct coll_gen g;
	size_t per;

	if (!d || nranks < 1)
		return;
	coll_gen_init(&g, dtype, nranks, seed);
	d->sizes(count, rank, nranks, &sz);
	per = count / (size_t)nranks;
	for (size_t i = 0; i < sz.recv_count; i++) {
		int64_t v;
		int src = per ? (int)(i / per) : 0;
		size_t j = per ? i % per : i;

		if (kind == RB_COLL_ALLREDUCE)
			v = coll_red_val(&g, op, i, -1);
		else if (kind == RB_COLL_ALLGATHER)
			v = coll_move_val(&g, j, src);
		else	/* all-to-all: block `rank` of rank src's input */
			v = coll_move_val(&g, (size_t)rank * per + j, src);
		coll_store(buf, i, dtype, v);
	}
}

#define COLL_COUNT_NE(T, CONV)                                               \
	do {                                                                 \
		const T *g_ = got;                                           \
		const T *w_ = want;                                          \
		for (size_t i = 0; i < n; i++)                               \
			wrong += !(CONV(g_[i]) == CONV(w_[i]));              \
	} while (0)

#define COLL_SAME(x) (x)

/* Values compare with ==, so +0 equals -0 and a NaN is always wrong. */
size_t rb_coll_count_wrong(const void *got, const void *want, size_t n,
			   enum rb_dtype dtype)
{
	size_t wrong = 0;

	switch (dtype) {
	case RB_INT32:
		COLL_COUNT_NE(int32_t, COLL_SAME);
		break;
	case RB_INT64:
		COLL_COUNT_NE(int64_t, COLL_SAME);
		break;
	case RB_FLOAT:
		COLL_COUNT_NE(float, COLL_SAME);
		break;
	case RB_DOUBLE:
		COLL_COUNT_NE(double, COLL_SAME);
		break;
	case RB_HALF:
		COLL_COUNT_NE(uint16_t, rb_half_to_float);
		break;
	case RB_BF16:
		COLL_COUNT_NE(uint16_t, rb_bf16_to_float);
		break;
	default:
		wrong = n;
		break;
	}
	return wrong;
}
