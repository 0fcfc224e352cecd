/* SPDX-License-Identifier: BSD-3-Clause */
/* The loopback world of the algorithm tests: buffers, inputs, schedules
 * and executors for every rank of one case, and the exact check of every
 * rank's output (see coll_world.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/coll_world.h"

double rb_test_elem_get(const void *buf, size_t i, enum rb_dtype t)
{
	switch (t) {
	case RB_INT32:
		return ((const int32_t *)buf)[i];
	case RB_INT64:
		return (double)((const int64_t *)buf)[i];
	case RB_FLOAT:
		return ((const float *)buf)[i];
	case RB_DOUBLE:
		return ((const double *)buf)[i];
	case RB_HALF:
		return rb_half_to_float(((const uint16_t *)buf)[i]);
	case RB_BF16:
		return rb_bf16_to_float(((const uint16_t *)buf)[i]);
	default:
		return 0;
	}
}

double rb_test_op(double a, double b, enum rb_redop op)
{
	switch (op) {
	case RB_OP_SUM:
		return a + b;
	case RB_OP_PROD:
		return a * b;
	case RB_OP_MAX:
		return a > b ? a : b;
	default:
		return a < b ? a : b;
	}
}

void rb_test_world_free(struct rb_test_world *w)
{
	for (int r = 0; r < w->n; r++) {
		struct rb_test_rank *rs = &w->rs[r];

		rb_exec_destroy(rs->ex);
		if (w->tps[r]) {
			rb_tp_mem_dereg(w->tps[r], rs->smr);
			rb_tp_mem_dereg(w->tps[r], rs->rmr);
		}
		rb_sched_free(&rs->sched);
		free(rs->send);
		free(rs->recv);
		free(rs->input);
		free(rs->want);
	}
	rb_loop_world_destroy(w->tps, w->n);
	memset(w, 0, sizeof(*w));
}

/* Buffers, input data and registration for rank r. */
static int cw_rank_setup(struct rb_test_world *w,
			 const struct rb_test_case *c, int r)
{
	struct rb_test_rank *rs = &w->rs[r];
	size_t esz = rb_dtype_size(c->dtype);
	size_t in_bytes;

	rb_coll_desc_get(c->kind)->sizes(c->count, r, c->nranks, &rs->sz);
	in_bytes = rs->sz.send_count * esz;
	rs->recv = calloc(rs->sz.recv_count + 1, esz);
	rs->want = calloc(rs->sz.recv_count + 1, esz);
	rs->input = calloc(rs->sz.send_count + 1, esz);
	if (!c->in_place)
		rs->send = calloc(rs->sz.send_count + 1, esz);
	if (!rs->recv || !rs->want || !rs->input || (!c->in_place && !rs->send))
		return -RB_ENOMEM;
	rb_coll_fill_input(c->kind, rs->input, c->count, c->dtype, c->op, r,
			   c->nranks, c->seed);
	if (c->in_place)
		memcpy((char *)rs->recv + rs->sz.inplace_off * esz, rs->input,
		       in_bytes);
	else
		memcpy(rs->send, rs->input, in_bytes);
	if (rb_tp_mem_reg(w->tps[r], rs->recv, rs->sz.recv_count * esz,
			  RB_MEM_HOST, &rs->rmr))
		return -RB_ENOMEM;
	if (!c->in_place && rb_tp_mem_reg(w->tps[r], rs->send, in_bytes,
					  RB_MEM_HOST, &rs->smr))
		return -RB_ENOMEM;
	return 0;
}

static int cw_rank_exec(struct rb_test_world *w,
			const struct rb_test_case *c, int r)
{
	struct rb_test_rank *rs = &w->rs[r];
	struct rb_coll_args a = {
		.kind = c->kind,
		.rank = r,
		.nranks = c->nranks,
		.count = c->count,
		.dtype = c->dtype,
		.op = c->op,
		.in_place = c->in_place,
		.chunk_bytes = c->chunk_bytes,
		.topo = c->topo,
	};
	struct rb_exec_args ea = {
		.tp = w->tps[r],
		.sched = &rs->sched,
		.send_mr = rs->smr,
		.recv_mr = rs->rmr,
		.inplace_off_bytes = rs->sz.inplace_off *
				     rb_dtype_size(c->dtype),
		.dtype = c->dtype,
		.op = c->op,
	};
	int rc = rb_coll_sched_build(c->algo, &a, &rs->sched);

	if (rc)
		return rc;
	rc = rb_exec_create(&ea, &rs->ex);
	w->ex[r] = rs->ex;
	return rc;
}

int rb_test_world_setup(struct rb_test_world *w,
			const struct rb_test_case *c)
{
	int rc;

	memset(w, 0, sizeof(*w));
	rc = rb_loop_world_create(c->nranks, w->tps);
	if (rc)
		return rc;
	w->n = c->nranks;
	for (int r = 0; r < c->nranks; r++) {
		rc = cw_rank_setup(w, c, r);
		if (!rc)
			rc = cw_rank_exec(w, c, r);
		if (rc)
			return rc;
	}
	return 0;
}

/* Naive reference of element i of rank r's output, from all inputs. */
static double cw_naive_ref(const struct rb_test_world *w,
			   const struct rb_test_case *c, int r, size_t i)
{
	size_t per = c->count / (size_t)c->nranks;
	double acc;

	switch (c->kind) {
	case RB_COLL_ALLREDUCE:
		acc = rb_test_elem_get(w->rs[0].input, i, c->dtype);
		for (int s = 1; s < c->nranks; s++)
			acc = rb_test_op(acc, rb_test_elem_get(w->rs[s].input, i,
						      c->dtype), c->op);
		return acc;
	case RB_COLL_ALLGATHER:
		return rb_test_elem_get(w->rs[i / per].input, i % per, c->dtype);
	default:
		return rb_test_elem_get(w->rs[i / per].input,
				(size_t)r * per + i % per, c->dtype);
	}
}

/* \return wrong elements over all ranks (both checks), written to msg. */
size_t rb_test_world_check(struct rb_test_world *w,
			   const struct rb_test_case *c, char *msg,
			   size_t len)
{
	size_t esz = rb_dtype_size(c->dtype);
	size_t bad = 0;

	for (int r = 0; r < c->nranks; r++) {
		struct rb_test_rank *rs = &w->rs[r];
		size_t n = rs->sz.recv_count;
		size_t wrong;
		size_t naive = 0;

		rb_coll_fill_expected(c->kind, rs->want, c->count, c->dtype,
				      c->op, r, c->nranks, c->seed);
		wrong = rb_coll_count_wrong(rs->recv, rs->want, n, c->dtype);
		for (size_t i = 0; i < n; i++)
			naive += rb_test_elem_get(rs->recv, i, c->dtype) !=
				 cw_naive_ref(w, c, r, i);
		if (rs->send && memcmp(rs->send, rs->input,
				       rs->sz.send_count * esz)) {
			snprintf(msg, len, "rank %d: send buffer modified", r);
			return bad + 1;
		}
		if ((wrong || naive) && !bad)
			snprintf(msg, len,
				 "rank %d: %zu of %zu wrong vs expected, %zu vs naive fold",
				 r, wrong, n, naive);
		bad += wrong + naive;
	}
	return bad;
}

int rb_test_world_run(struct rb_test_world *w, const struct rb_test_case *c,
		      char *msg, size_t len)
{
	int rc = rb_test_world_setup(w, c);

	if (!rc)
		rc = rb_loop_exec_all(w->tps, w->ex, w->n, msg, len);
	if (!rc && rb_test_world_check(w, c, msg, len))
		rc = -RB_EDATA;
	return rc;
}

int rb_test_case_run(const struct rb_test_case *c)
{
	struct rb_test_world w;
	char msg[256] = "";
	int rc = rb_test_world_run(&w, c, msg, sizeof(msg));

	if (rc)
		print_error("%s %s n=%d%s count=%zu %s %s %s chunk=%zu: %s %s\n",
			    rb_coll_kind_name(c->kind), c->algo, c->nranks,
			    c->topo ? " (topo)" : "", c->count,
			    rb_dtype_name(c->dtype), rb_redop_name(c->op),
			    c->in_place ? "in-place" : "out-of-place",
			    c->chunk_bytes, rb_strerror(rc), msg);
	rb_test_world_free(&w);
	return rc;
}

/* Counts per rank count n: tiny (below n for all-reduce), uneven, and one
 * that takes several pipeline chunks of chunk_bytes. */
static size_t cw_sweep_counts(enum rb_coll_kind kind, int nranks,
			      size_t *counts, size_t *chunks)
{
	size_t n = (size_t)nranks;

	if (kind == RB_COLL_ALLREDUCE) {
		counts[0] = 1;
		counts[1] = n > 2 ? n - 1 : 2;
		counts[2] = 7 * n + 3;		/* uneven segments */
		counts[3] = 611;		/* many chunks of 40 bytes */
		chunks[0] = chunks[1] = chunks[2] = 0;
		chunks[3] = 40;
		return 4;
	}
	counts[0] = n;
	counts[1] = 5 * n;
	counts[2] = 61 * n;			/* several 24-byte chunks */
	chunks[0] = chunks[1] = 0;
	chunks[2] = 24;
	return 3;
}

int rb_test_sweep(const char *algo, enum rb_coll_kind kind, int nranks,
		  const struct rb_coll_topo *topo, int *runs_p)
{
	int nops = kind == RB_COLL_ALLREDUCE ? RB_NREDOPS : 1;
	size_t counts[4];
	size_t chunks[4];
	int ncounts = (int)cw_sweep_counts(kind, nranks, counts, chunks);
	int runs = RB_NDTYPES * nops * 2 * ncounts;
	int failed = 0;

	for (int i = 0; i < runs; i++) {
		int k = i % ncounts;
		struct rb_test_case c = {
			.algo = algo,
			.kind = kind,
			.nranks = nranks,
			.count = counts[k],
			.dtype = (enum rb_dtype)(i / (nops * 2 * ncounts)),
			.op = (enum rb_redop)(i / (2 * ncounts) % nops),
			.in_place = i / ncounts % 2,
			.chunk_bytes = chunks[k],
			.seed = 1000u + (uint64_t)i,
			.topo = topo,
		};

		failed += rb_test_case_run(&c) != 0;
	}
	*runs_p = runs;
	return failed;
}
