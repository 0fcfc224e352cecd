/* SPDX-License-Identifier: BSD-3-Clause */
/* Every algorithm's schedule, run for 1..17 ranks over the in-process
 * loopback transport, checked element by element against the expected
 * data and against a naive fold of all ranks' inputs; plus executor
 * behaviour (timeouts, failed requests, deadlock, reuse) and traffic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/coll_world.h"

#define MAX_RANKS RB_TEST_MAX_RANKS

/* ---- the sweep ---------------------------------------------------------- */

struct sweep {
	const char *algo;
	enum rb_coll_kind kind;
	int nranks;
	char name[64];
};

/* Every dtype x op x placement x count for one algorithm and rank count. */
static void test_sweep(void **state)
{
	const struct sweep *sw = *state;
	int runs;
	int failed = rb_test_sweep(sw->algo, sw->kind, sw->nranks, NULL, &runs);

	if (failed)
		fail_msg("%d of %d runs failed", failed, runs);
}

/* The same data when the transport combines receive-reduce steps on
 * arrival (as shm does) instead of the executor staging them in TMP:
 * ring all-reduce on 1..9 ranks, hier all-reduce on 3 nodes x 2 ranks. */
static void test_sweep_combined(void **state)
{
	static const int node_of[6] = { 0, 0, 1, 1, 2, 2 };
	static const int local_of[6] = { 0, 1, 0, 1, 0, 1 };
	static const int rail_of[6] = { 0, 1, 0, 1, 0, 1 };
	const struct rb_coll_topo topo = { 3, node_of, local_of, rail_of };
	int runs;
	int failed = 0;

	(void)state;
	rb_loop_set_combine(1);
	for (int n = 1; n <= 9; n++)
		failed += rb_test_sweep("ring", RB_COLL_ALLREDUCE, n, NULL, &runs);
	failed += rb_test_sweep("hier", RB_COLL_ALLREDUCE, 6, &topo, &runs);
	rb_loop_set_combine(0);
	if (failed)
		fail_msg("%d runs failed with combine-on-arrival", failed);
}

/* ---- traffic: bytes each rank sends match docs/algorithms.md ------------ */

static uint64_t traffic_run(const struct rb_test_case *c, uint64_t *sent,
			    uint64_t *msgs)
{
	struct rb_test_world w;
	char msg[256] = "";
	uint64_t total = 0;
	int rc = rb_test_world_run(&w, c, msg, sizeof(msg));

	if (rc)
		fail_msg("%s n=%d: %s %s", c->algo, c->nranks, rb_strerror(rc),
			 msg);
	for (int r = 0; r < c->nranks; r++) {
		sent[r] = rb_loop_bytes_sent(w.tps[r]);
		msgs[r] = rb_loop_msgs_sent(w.tps[r]);
		total += sent[r];
	}
	rb_test_world_free(&w);
	return total;
}

static void test_traffic(void **state)
{
	uint64_t sent[MAX_RANKS];
	uint64_t msgs[MAX_RANKS];

	(void)state;
	for (int n = 2; n <= MAX_RANKS; n++) {
		struct rb_test_case c = {
			.kind = RB_COLL_ALLREDUCE, .nranks = n,
			.count = 96 * (size_t)n, .dtype = RB_FLOAT,
			.op = RB_OP_SUM, .seed = 7,
		};
		uint64_t bytes = c.count * 4;
		int p = 1;
		int lg = 0;

		while (p * 2 <= n) {
			p *= 2;
			lg++;
		}
		/* ring: 2(n-1)/n of the buffer from every rank; with a chunk
		 * of a quarter segment, 4 messages per step. */
		c.algo = "ring";
		c.chunk_bytes = bytes / (size_t)n / 4;
		traffic_run(&c, sent, msgs);
		for (int r = 0; r < n; r++) {
			assert_int_equal(sent[r], 2 * (uint64_t)(n - 1) * bytes / (uint64_t)n);
			assert_int_equal(msgs[r], 2 * (uint64_t)(n - 1) * 4);
		}
		/* rd: the whole buffer log2(p) times, plus the fold. */
		c.algo = "rd";
		c.chunk_bytes = 0;
		assert_int_equal(traffic_run(&c, sent, msgs),
				 ((uint64_t)p * (uint64_t)lg + 2 * (uint64_t)(n - p)) * bytes);
		/* rh: 2(p-1)/p of the buffer per survivor, plus the fold. */
		c.algo = "rh";
		c.count = 96 * (size_t)p;
		bytes = c.count * 4;
		assert_int_equal(traffic_run(&c, sent, msgs),
				 (2 * (uint64_t)(p - 1) + 2 * (uint64_t)(n - p)) * bytes);
		/* all-gather ring and all-to-all pairwise: (n-1) blocks. */
		c.kind = RB_COLL_ALLGATHER;
		c.algo = "ring";
		c.count = 40 * (size_t)n;
		traffic_run(&c, sent, msgs);
		for (int r = 0; r < n; r++)
			assert_int_equal(sent[r], (uint64_t)(n - 1) * 40 * 4);
		c.kind = RB_COLL_ALLTOALL;
		c.algo = "pairwise";
		traffic_run(&c, sent, msgs);
		for (int r = 0; r < n; r++)
			assert_int_equal(sent[r], (uint64_t)(n - 1) * 40 * 4);
	}
}

/* ---- executor behaviour -------------------------------------------------- */

/* A bare executor over a hand-written schedule for rank r of tps. */
struct bare {
	struct rb_sched sched;
	void *buf;
	struct rb_tp_mr *mr;
	struct rb_exec *ex;
	struct rb_tp *tp;
};

static int bare_create(struct bare *b, struct rb_tp *tp, size_t len,
		       const char *const *hosts)
{
	struct rb_exec_args ea = {
		.tp = tp,
		.sched = &b->sched,
		.dtype = RB_INT32,
		.op = RB_OP_SUM,
		.hosts = hosts,
	};

	b->tp = tp;
	b->buf = calloc(1, len);
	assert_non_null(b->buf);
	assert_int_equal(rb_tp_mem_reg(tp, b->buf, len, RB_MEM_HOST, &b->mr), 0);
	ea.recv_mr = b->mr;
	return rb_exec_create(&ea, &b->ex);
}

static void bare_free(struct bare *b)
{
	rb_exec_destroy(b->ex);
	rb_tp_mem_dereg(b->tp, b->mr);
	free(b->buf);
	rb_sched_free(&b->sched);
	memset(b, 0, sizeof(*b));
}

static void test_exec_timeout(void **state)
{
	static const char *const hosts[] = { "h0", "h1" };
	struct rb_tp *tps[2];
	struct bare b = { 0 };
	char log[1024] = "";
	FILE *cap = tmpfile();
	int saved = dup(2);
	uint64_t t0;
	uint64_t dt;
	int rc;

	(void)state;
	assert_non_null(cap);
	assert_int_equal(rb_loop_world_create(2, tps), 0);
	rb_sched_recv(&b.sched, 1, RB_BUF_RECV, 0, 8);
	rb_sched_wait(&b.sched, -1);
	assert_int_equal(bare_create(&b, tps[0], 8, hosts), 0);
	fflush(stderr);
	dup2(fileno(cap), 2);
	t0 = rb_time_ns();
	rc = rb_exec_run(b.ex, 50);
	dt = rb_time_ns() - t0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	log[fread(log, 1, sizeof(log) - 1, cap)] = '\0';
	fclose(cap);
	assert_int_equal(rc, -RB_ETIMEDOUT);
	assert_true(dt >= 50 * 1000000ull);
	assert_true(dt < 5000 * 1000000ull);
	assert_non_null(strstr(log, "timed out after 50 ms waiting for recv from rank 1 (host h1, loop 0->1)"));
	assert_int_equal(strchr(log, '\n') - log + 1, (long)strlen(log));
	bare_free(&b);
	rb_loop_world_destroy(tps, 2);
}

/* Mismatched lengths fail both requests; the executors report it. */
static void test_exec_req_error(void **state)
{
	struct rb_tp *tps[2];
	struct bare b[2] = { 0 };
	struct rb_exec *ex[2];

	(void)state;
	assert_int_equal(rb_loop_world_create(2, tps), 0);
	rb_sched_send(&b[0].sched, 1, RB_BUF_RECV, 0, 8);
	rb_sched_wait(&b[0].sched, -1);
	rb_sched_recv(&b[1].sched, 0, RB_BUF_RECV, 0, 16);
	rb_sched_wait(&b[1].sched, 0);
	for (int r = 0; r < 2; r++) {
		assert_int_equal(bare_create(&b[r], tps[r], 16, NULL), 0);
		ex[r] = b[r].ex;
	}
	assert_int_equal(rb_loop_exec_all(tps, ex, 2, NULL, 0), -RB_EINVAL);
	/* A failed executor refuses to start again. */
	assert_int_equal(rb_exec_start(ex[0]), -RB_EINVAL);
	for (int r = 0; r < 2; r++)
		bare_free(&b[r]);
	rb_loop_world_destroy(tps, 2);
}

/* Both ranks receive before sending: the loop driver must notice. */
static void test_exec_deadlock(void **state)
{
	struct rb_tp *tps[2];
	struct bare b[2] = { 0 };
	struct rb_exec *ex[2];
	char why[256] = "";

	(void)state;
	assert_int_equal(rb_loop_world_create(2, tps), 0);
	for (int r = 0; r < 2; r++) {
		rb_sched_recv(&b[r].sched, 1 - r, RB_BUF_RECV, 0, 4);
		rb_sched_wait(&b[r].sched, 0);
		rb_sched_send(&b[r].sched, 1 - r, RB_BUF_RECV, 4, 4);
		assert_int_equal(bare_create(&b[r], tps[r], 8, NULL), 0);
		ex[r] = b[r].ex;
	}
	assert_int_equal(rb_loop_exec_all(tps, ex, 2, why, sizeof(why)),
			 -RB_ETIMEDOUT);
	assert_non_null(strstr(why, "deadlock"));
	for (int r = 0; r < 2; r++)
		bare_free(&b[r]);
	rb_loop_world_destroy(tps, 2);
}

/* Steps outside the registered buffers are refused at creation. */
static void test_exec_bad_sched(void **state)
{
	struct rb_tp *tps[1];
	struct bare b = { 0 };

	(void)state;
	assert_int_equal(rb_loop_world_create(1, tps), 0);
	rb_sched_send(&b.sched, 0, RB_BUF_RECV, 4, 8);
	assert_int_equal(bare_create(&b, tps[0], 8, NULL), -RB_EINVAL);
	bare_free(&b);
	rb_sched_send(&b.sched, 3, RB_BUF_RECV, 0, 8);
	assert_int_equal(bare_create(&b, tps[0], 8, NULL), -RB_EINVAL);
	bare_free(&b);
	rb_sched_reduce(&b.sched, RB_BUF_RECV, 0, RB_BUF_TMP, 0, 8);
	assert_int_equal(bare_create(&b, tps[0], 8, NULL), -RB_EINVAL);
	bare_free(&b);
	rb_loop_world_destroy(tps, 1);
}

/* One executor runs many times; each run sees fresh data. */
static void test_exec_reuse(void **state)
{
	for (int ip = 0; ip < 2; ip++) {
		struct rb_test_case c = {
			.algo = "ring", .kind = RB_COLL_ALLREDUCE, .nranks = 5,
			.count = 1003, .dtype = RB_INT32, .op = RB_OP_SUM,
			.in_place = ip, .chunk_bytes = 64, .seed = 1,
		};
		struct rb_test_world w;
		char msg[256] = "";

		(void)state;
		assert_int_equal(rb_test_world_setup(&w, &c), 0);
		for (int run = 0; run < 3; run++) {
			c.seed = 100 + (uint64_t)run;
			for (int r = 0; r < c.nranks; r++) {
				struct rb_test_rank *rs = &w.rs[r];

				rb_coll_fill_input(c.kind, rs->input, c.count,
						   c.dtype, c.op, r, c.nranks,
						   c.seed);
				memcpy(ip ? rs->recv : rs->send, rs->input,
				       c.count * 4);
			}
			assert_int_equal(rb_loop_exec_all(w.tps, w.ex, w.n,
							  NULL, 0), 0);
			assert_int_equal(rb_test_world_check(&w, &c, msg, sizeof(msg)),
					 0);
		}
		rb_test_world_free(&w);
	}
}

/* The default pipeline chunk (no chunk_bytes) with several chunks per
 * segment and a partial last chunk. */
static void test_default_chunk(void **state)
{
	const size_t per_rank = 5 * (512 * 1024 / 4) / 2 + 3;

	(void)state;
	for (int ip = 0; ip < 2; ip++) {
		struct rb_test_case ar = {
			.algo = "ring", .kind = RB_COLL_ALLREDUCE, .nranks = 3,
			.count = 3 * per_rank, .dtype = RB_FLOAT,
			.op = RB_OP_SUM, .in_place = ip, .seed = 77,
		};
		struct rb_test_case ag = {
			.algo = "ring", .kind = RB_COLL_ALLGATHER, .nranks = 3,
			.count = 3 * per_rank, .dtype = RB_FLOAT,
			.in_place = ip, .seed = 78,
		};

		assert_int_equal(rb_test_case_run(&ar), 0);
		assert_int_equal(rb_test_case_run(&ag), 0);
	}
}

static void test_algo_names(void **state)
{
	struct rb_coll_args a = {
		.kind = RB_COLL_ALLREDUCE, .rank = 0, .nranks = 4,
		.count = 1024, .dtype = RB_FLOAT, .op = RB_OP_SUM,
	};
	struct rb_sched s = { 0 };
	char buf[128];

	(void)state;
	assert_string_equal(rb_coll_algo_list(RB_COLL_ALLREDUCE, buf,
					      sizeof(buf)),
			    "auto, ring, rd, rh, hier");
	assert_string_equal(rb_coll_algo_list(RB_COLL_ALLTOALL, buf,
					      sizeof(buf)),
			    "auto, pairwise, hier");
	assert_string_equal(rb_coll_algo_find(a.kind, "auto", &a)->name, "rd");
	a.count = 1 << 20;
	assert_string_equal(rb_coll_algo_find(a.kind, "auto", &a)->name,
			    "ring");
	assert_null(rb_coll_algo_find(a.kind, "pairwise", &a));
	assert_int_equal(rb_coll_sched_build("bogus", &a, &s), -RB_EINVAL);
	a.kind = RB_COLL_ALLGATHER;
	a.count = 1023;
	assert_int_equal(rb_coll_sched_build("ring", &a, &s), -RB_EINVAL);
	a.count = 1024;
	a.rank = 4;
	assert_int_equal(rb_coll_sched_build("ring", &a, &s), -RB_EINVAL);
	a.rank = 3;
	assert_int_equal(rb_coll_sched_build("ring", &a, &s), 0);
	assert_true(s.nsteps > 0);
	rb_sched_free(&s);
}

static const struct {
	const char *algo;
	enum rb_coll_kind kind;
} sweep_algos[] = {
	{ "ring", RB_COLL_ALLREDUCE },
	{ "rd", RB_COLL_ALLREDUCE },
	{ "rh", RB_COLL_ALLREDUCE },
	{ "ring", RB_COLL_ALLGATHER },
	{ "pairwise", RB_COLL_ALLTOALL },
};

#define NSWEEPS (RB_ARRAY_SIZE(sweep_algos) * MAX_RANKS)

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_algo_names),
		cmocka_unit_test(test_traffic),
		cmocka_unit_test(test_sweep_combined),
		cmocka_unit_test(test_exec_timeout),
		cmocka_unit_test(test_exec_req_error),
		cmocka_unit_test(test_exec_deadlock),
		cmocka_unit_test(test_exec_bad_sched),
		cmocka_unit_test(test_exec_reuse),
		cmocka_unit_test(test_default_chunk),
	};
	static struct sweep sweeps[NSWEEPS];
	static struct CMUnitTest tests[NSWEEPS + RB_ARRAY_SIZE(fixed)];
	size_t nt = 0;

	for (size_t i = 0; i < RB_ARRAY_SIZE(fixed); i++)
		tests[nt++] = fixed[i];
	for (size_t a = 0; a < RB_ARRAY_SIZE(sweep_algos); a++) {
		for (int n = 1; n <= MAX_RANKS; n++) {
			struct sweep *sw = &sweeps[a * MAX_RANKS + (size_t)n - 1];

			sw->algo = sweep_algos[a].algo;
			sw->kind = sweep_algos[a].kind;
			sw->nranks = n;
			snprintf(sw->name, sizeof(sw->name), "%s_%s_n%d",
				 rb_coll_kind_name(sw->kind), sw->algo, n);
			tests[nt++] = (struct CMUnitTest){
				.name = sw->name,
				.test_func = test_sweep,
				.initial_state = sw,
			};
		}
	}
	return _cmocka_run_group_tests("algos", tests, nt, NULL, NULL);
}
