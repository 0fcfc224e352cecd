/* SPDX-License-Identifier: BSD-3-Clause */
/* A world of 1..RB_TEST_MAX_RANKS ranks over the loopback transport that
 * runs one collective case and checks every rank's output exactly, against
 * rb_coll_fill_expected and against a naive fold of all inputs. Shared by
 * the algorithm tests. */
#ifndef RB_TESTS_UNIT_COLL_WORLD_H
#define RB_TESTS_UNIT_COLL_WORLD_H

#include "collectives/coll.h"
#include "tests/unit/loop_tp.h"

#define RB_TEST_MAX_RANKS 17

/* One execution: which algorithm, collective, placement and data. */
struct rb_test_case {
	const char *algo;
	enum rb_coll_kind kind;
	int nranks;
	size_t count;
	enum rb_dtype dtype;
	enum rb_redop op;
	int in_place;
	size_t chunk_bytes;
	uint64_t seed;
	const struct rb_coll_topo *topo;	/* NULL: one node */
};

struct rb_test_rank {
	void *send;	/* NULL in place */
	void *recv;
	void *input;	/* pristine copy of this rank's input */
	void *want;
	struct rb_tp_mr *smr;
	struct rb_tp_mr *rmr;
	struct rb_sched sched;
	struct rb_exec *ex;
	struct rb_coll_sizes sz;
};

struct rb_test_world {
	int n;
	struct rb_tp *tps[RB_TEST_MAX_RANKS];
	struct rb_test_rank rs[RB_TEST_MAX_RANKS];
	struct rb_exec *ex[RB_TEST_MAX_RANKS];
};

/* Element i of buf as a double (every generated value is exact in one). */
double rb_test_elem_get(const void *buf, size_t i, enum rb_dtype t);

/* a op b in double: the reference the reductions are checked against. */
double rb_test_op(double a, double b, enum rb_redop op);

/* Creates the world, fills inputs, builds every rank's schedule and
 * executor. \return 0 or -RB_E*; call rb_test_world_free either way. */
int rb_test_world_setup(struct rb_test_world *w,
			const struct rb_test_case *c);

/* Frees everything of w; safe after a failed setup. */
void rb_test_world_free(struct rb_test_world *w);

/* \return wrong elements over all ranks (both checks), the first failure
 * described in msg. */
size_t rb_test_world_check(struct rb_test_world *w,
			   const struct rb_test_case *c, char *msg,
			   size_t len);

/* setup, one execution of all ranks, check. w stays set up for the
 * caller to inspect (traffic counters) and free. \return 0, -RB_EDATA or
 * the failure, described in msg. */
int rb_test_world_run(struct rb_test_world *w, const struct rb_test_case *c,
		      char *msg, size_t len);

/* rb_test_world_run and free; prints the case on failure.
 * \return 0 when every rank got the right data. */
int rb_test_case_run(const struct rb_test_case *c);

/* Every dtype x op x placement x a few counts (tiny, uneven, several
 * pipeline chunks) of one algorithm on nranks ranks placed by topo.
 * \return the failed runs; *runs_p the runs. */
int rb_test_sweep(const char *algo, enum rb_coll_kind kind, int nranks,
		  const struct rb_coll_topo *topo, int *runs_p);

#endif
