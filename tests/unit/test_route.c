/* SPDX-License-Identifier: BSD-3-Clause */
/* The links composition (transports/route.c) over two in-process loopback
 * worlds, one per child: fake node maps decide which child serves a peer.
 * Checks that schedules run over it unchanged with exact data, that every
 * byte between two ranks of one node goes through the intra-node child and
 * every byte between nodes through the inter-node child, that a child
 * with a request that never completes does not starve the other, and that
 * a peer is described by its child link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectives/coll.h"
#include "tests/unit/loop_tp.h"

#define MAXR 12

struct rworld {
	int n;
	int node_of[MAXR];
	struct rb_tp *intra[MAXR];	/* loop world A */
	struct rb_tp *inter[MAXR];	/* loop world B */
	struct rb_tp *tp[MAXR];		/* route over (A, B) */
};

/* n ranks, ppn per node, nodes in rank order (rank r on node r / ppn). */
static void rworld_make(struct rworld *w, int n, int ppn)
{
	memset(w, 0, sizeof(*w));
	w->n = n;
	assert_int_equal(rb_loop_world_create(n, w->intra), 0);
	assert_int_equal(rb_loop_world_create(n, w->inter), 0);
	for (int r = 0; r < n; r++)
		w->node_of[r] = r / ppn;
	for (int r = 0; r < n; r++) {
		struct rb_tp *kids[2] = { w->intra[r], w->inter[r] };
		int child_of[MAXR];

		for (int p = 0; p < n; p++)
			child_of[p] = w->node_of[p] != w->node_of[r];
		assert_int_equal(rb_route_wrap(r, n, 10000, kids, 2, child_of,
					       NULL, &w->tp[r]), 0);
	}
}

/* Closing a route closes its children. */
static void rworld_free(struct rworld *w)
{
	for (int r = 0; r < w->n; r++)
		rb_tp_close(w->tp[r]);
	memset(w, 0, sizeof(*w));
}

/* One collective on every rank of a world: buffers, schedules, executors. */
struct rrun {
	size_t count;
	enum rb_dtype dt;
	void *send[MAXR], *recv[MAXR], *want[MAXR];
	struct rb_tp_mr *smr[MAXR], *rmr[MAXR];
	struct rb_sched sched[MAXR];
	struct rb_exec *ex[MAXR];
};

/* Builds algo's schedule of kind on every rank, runs it once, checks every
 * rank's received data against the expected values. */
static void rrun_do(struct rworld *w, struct rrun *x, const char *algo,
		    enum rb_coll_kind kind, size_t count, enum rb_dtype dt)
{
	size_t esz = rb_dtype_size(dt);
	struct rb_tp *worlds[2] = { w->intra[0], w->inter[0] };

	memset(x, 0, sizeof(*x));
	x->count = count;
	x->dt = dt;
	for (int r = 0; r < w->n; r++) {
		struct rb_coll_args a = {
			.kind = kind, .rank = r, .nranks = w->n, .count = count,
			.dtype = dt, .op = RB_OP_SUM, .chunk_bytes = 1024,
		};
		struct rb_exec_args ea;

		x->send[r] = calloc(count, esz);
		x->recv[r] = calloc(count, esz);
		x->want[r] = calloc(count, esz);
		rb_coll_fill_input(kind, x->send[r], count, dt, RB_OP_SUM, r, w->n, 7);
		rb_coll_fill_expected(kind, x->want[r], count, dt, RB_OP_SUM, r, w->n, 7);
		assert_int_equal(rb_tp_mem_reg(w->tp[r], x->send[r], count * esz,
					       RB_MEM_HOST, &x->smr[r]), 0);
		assert_int_equal(rb_tp_mem_reg(w->tp[r], x->recv[r], count * esz,
					       RB_MEM_HOST, &x->rmr[r]), 0);
		assert_int_equal(rb_coll_sched_build(algo, &a, &x->sched[r]), 0);
		ea = (struct rb_exec_args){ .tp = w->tp[r], .sched = &x->sched[r],
					    .send_mr = x->smr[r], .recv_mr = x->rmr[r],
					    .dtype = dt, .op = RB_OP_SUM };
		assert_int_equal(rb_exec_create(&ea, &x->ex[r]), 0);
	}
	assert_int_equal(rb_loop_exec_over(w->tp, x->ex, w->n, worlds, 2, NULL, 0), 0);
	for (int r = 0; r < w->n; r++)
		assert_int_equal(rb_coll_count_wrong(x->recv[r], x->want[r],
						     count, dt), 0);
}

static void rrun_free(struct rworld *w, struct rrun *x)
{
	for (int r = 0; r < w->n; r++) {
		rb_exec_destroy(x->ex[r]);
		rb_sched_free(&x->sched[r]);
		rb_tp_mem_dereg(w->tp[r], x->smr[r]);
		rb_tp_mem_dereg(w->tp[r], x->rmr[r]);
		free(x->send[r]);
		free(x->recv[r]);
		free(x->want[r]);
	}
}

/* Flat ring all-reduce over the composition, n ranks, ppn per node: data
 * exact, and each rank's bytes (all to its ring successor) counted by
 * exactly the child that serves the successor. */
static void ring_over_route(int n, int ppn, enum rb_dtype dt)
{
	struct rworld w;
	struct rrun x;

	rworld_make(&w, n, ppn);
	rrun_do(&w, &x, "ring", RB_COLL_ALLREDUCE, 1000 + 37 * (size_t)n, dt);
	for (int r = 0; r < n; r++) {
		uint64_t a = rb_loop_bytes_sent(w.intra[r]);
		uint64_t b = rb_loop_bytes_sent(w.inter[r]);

		if (n == 1) {
			assert_int_equal(a + b, 0);
		} else if (w.node_of[(r + 1) % n] == w.node_of[r]) {
			assert_true(a > 0);
			assert_int_equal(b, 0);
		} else {
			assert_true(b > 0);
			assert_int_equal(a, 0);
		}
	}
	rrun_free(&w, &x);
	rworld_free(&w);
}

static void test_route_ring(void **state)
{
	(void)state;
	for (int n = 1; n <= MAXR; n++)
		for (int ppn = 1; ppn <= 4; ppn++)
			ring_over_route(n, ppn, n % 2 ? RB_FLOAT : RB_BF16);
}

/* Pairwise all-to-all talks to every peer: per child, the bytes rank r
 * sends equal one block per peer that child serves. */
static void test_route_alltoall_split(void **state)
{
	const int n = 6, ppn = 3;
	const size_t blk = 64;	/* elements per peer */
	struct rworld w;
	struct rrun x;

	(void)state;
	rworld_make(&w, n, ppn);
	rrun_do(&w, &x, "pairwise", RB_COLL_ALLTOALL, blk * n, RB_INT32);
	for (int r = 0; r < n; r++) {
		/* ppn - 1 local peers, n - ppn remote ones */
		assert_int_equal(rb_loop_bytes_sent(w.intra[r]), (ppn - 1) * blk * 4);
		assert_int_equal(rb_loop_bytes_sent(w.inter[r]), (n - ppn) * blk * 4);
		for (int p = 0; p < n; p++) {
			int local = w.node_of[p] == w.node_of[r];

			assert_int_equal(rb_loop_bytes_to(local ? w.inter[r] : w.intra[r], p), 0);
		}
	}
	rrun_free(&w, &x);
	rworld_free(&w);
}

/* A receive that never matches on the inter-node child does not keep an
 * exchange on the intra-node child from completing. */
static void test_route_no_starvation(void **state)
{
	struct rworld w;
	char b[4][64] = { "", "", "", "" };
	struct rb_tp_mr *mr[4];
	struct rb_tp_req stuck = { 0 }, s = { 0 }, rq = { 0 };

	(void)state;
	rworld_make(&w, 4, 2);	/* ranks 0,1 on node 0; 2,3 on node 1 */
	for (int r = 0; r < 4; r++)
		assert_int_equal(rb_tp_mem_reg(w.tp[r], b[r], sizeof(b[r]),
					       RB_MEM_HOST, &mr[r]), 0);
	strcpy(b[1], "over the intra-node child");
	assert_int_equal(rb_tp_irecv(w.tp[0], 2, mr[0], 32, 8, &stuck), 0);
	assert_int_equal(rb_tp_irecv(w.tp[0], 1, mr[0], 0, 32, &rq), 0);
	assert_int_equal(rb_tp_isend(w.tp[1], 0, mr[1], 0, 32, &s), 0);
	for (int i = 0; i < 100 && !(rq.done && s.done); i++) {
		assert_int_equal(rb_tp_progress(w.tp[0], 1000), 0);
		assert_int_equal(rb_tp_progress(w.tp[1], 1000), 0);
	}
	assert_true(rq.done && s.done);
	assert_false(stuck.done);
	assert_string_equal(b[0], "over the intra-node child");
	assert_int_equal(rb_loop_bytes_sent(w.intra[1]), 32);
	assert_int_equal(rb_loop_bytes_sent(w.inter[1]), 0);
	/* now let the stuck receive complete too */
	assert_int_equal(rb_tp_isend(w.tp[2], 0, mr[2], 0, 8, &s), 0);
	for (int i = 0; i < 100 && !stuck.done; i++) {
		assert_int_equal(rb_tp_progress(w.tp[0], 1000), 0);
		assert_int_equal(rb_tp_progress(w.tp[2], 1000), 0);
	}
	assert_true(stuck.done);
	assert_int_equal(rb_loop_bytes_sent(w.inter[2]), 8);
	for (int r = 0; r < 4; r++)
		rb_tp_mem_dereg(w.tp[r], mr[r]);
	rworld_free(&w);
}

/* Peers are described by their child link; the composed description
 * joins the children's. */
static void test_route_desc(void **state)
{
	struct rworld w;
	char d[256];

	(void)state;
	rworld_make(&w, 4, 2);
	rb_tp_peer_desc(w.tp[0], 1, d, sizeof(d));
	assert_string_equal(d, "loop loop 0->1");
	rb_tp_peer_desc(w.tp[0], 3, d, sizeof(d));
	assert_string_equal(d, "loop loop 0->3");
	assert_string_equal(w.tp[0]->desc, "loop rank 0 | loop rank 0");
	rworld_free(&w);
}

/* A child missing for a peer is refused at wrap time. */
static void test_route_wrap_checks(void **state)
{
	struct rb_tp *a[2], *kids[2];
	struct rb_tp *tp = NULL;
	int child_of[2] = { 0, 1 };

	(void)state;
	assert_int_equal(rb_loop_world_create(2, a), 0);
	kids[0] = a[0];
	kids[1] = NULL;
	assert_int_equal(rb_route_wrap(0, 2, 1000, kids, 2, child_of, NULL, &tp),
			 -RB_EINVAL);
	rb_tp_close(a[1]);
}

/* --transport names: compositions of two peer-set transports only. */
static void test_route_names(void **state)
{
	(void)state;
	assert_ptr_equal(rb_tp_find("shm+tcp"), &rb_route_ops);
	assert_null(rb_tp_find("shm+nope"));
	assert_null(rb_tp_find("shm+mpi"));
	assert_null(rb_tp_find("+tcp"));
	assert_null(rb_tp_find("shm+"));
	assert_null(rb_tp_find("shm+tcp+tcp"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_ring),
		cmocka_unit_test(test_route_alltoall_split),
		cmocka_unit_test(test_route_no_starvation),
		cmocka_unit_test(test_route_desc),
		cmocka_unit_test(test_route_wrap_checks),
		cmocka_unit_test(test_route_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
