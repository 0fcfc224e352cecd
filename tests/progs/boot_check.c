/* SPDX-License-Identifier: BSD-3-Clause */
/* Exercises the bootstrap's bounded exchanges (bench/boot_mpi.c) under
 * mpiexec. Without options: every exchange kind, several rounds, results
 * compared with values each rank computes on its own; exit 0 or 1. With
 * --stall RANK: that rank sleeps --stall-s seconds before the second round
 * (as a stopped or dying peer would), and the others must each leave the
 * exchange within the deadline with -RB_ETIMEDOUT or -RB_EPEER (exit 3);
 * rank 0's message names the stalled rank. --die RANK: that rank exits
 * before the second round instead.
 * Usage: boot_check [-T SEC] [--stall RANK [--stall-s S] | --die RANK] */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

static int fails;

#define CHECK(cond, ...)                                          \
	do {                                                      \
		if (!(cond)) {                                    \
			fprintf(stderr, "boot_check: " __VA_ARGS__); \
			fprintf(stderr, "\n");                    \
			fails++;                                  \
		}                                                 \
	} while (0)

/* One round of every exchange kind; round varies the values. */
static int round_trip(const struct rb_boot_ops *ops, struct rb_boot *b,
		      int rank, int n, int round)
{
	struct {
		int32_t rank;
		int32_t round;
		char tag[24];
	} me = { rank, round, "" }, *all;
	double v[3];
	int64_t w[2];
	char id[32] = "";
	int rc;

	snprintf(me.tag, sizeof(me.tag), "r%d-%d", rank, round);
	all = calloc((size_t)n, sizeof(*all));
	if (!all)
		return -RB_ENOMEM;
	rc = ops->allgather(b, "test allgather", &me, all, sizeof(me));
	for (int r = 0; !rc && r < n; r++) {
		char want[24];

		snprintf(want, sizeof(want), "r%d-%d", r, round);
		CHECK(all[r].rank == r && all[r].round == round &&
			      !strcmp(all[r].tag, want),
		      "allgather slot %d holds rank %d round %d '%s'", r,
		      all[r].rank, all[r].round, all[r].tag);
	}
	/* gather: the same slots, on rank 0 only; the others' out stays put. */
	memset(all, 0, (size_t)n * sizeof(*all));
	rc = rc ? rc : ops->gather(b, "test gather", &me,
				   rank == 0 ? all : NULL, sizeof(me), 0);
	for (int r = 0; !rc && rank == 0 && r < n; r++)
		CHECK(all[r].rank == r && all[r].round == round,
		      "gather slot %d holds rank %d round %d", r, all[r].rank,
		      all[r].round);
	free(all);
	if (rc)
		return rc;
	v[0] = rank * 1.5 + round;
	v[1] = -rank;
	v[2] = (rank == n / 2) ? 1e9 : 0;
	rc = ops->allreduce_max_f64(b, "test max", v, 3);
	if (rc)
		return rc;
	CHECK(v[0] == (n - 1) * 1.5 + round && v[1] == 0 && v[2] == 1e9,
	      "max gave %g %g %g", v[0], v[1], v[2]);
	w[0] = rank + 1;
	w[1] = (int64_t)1 << (rank % 40);
	rc = ops->allreduce_sum_i64(b, "test sum", w, 2);
	if (rc)
		return rc;
	{
		int64_t s0 = (int64_t)n * (n + 1) / 2, s1 = 0;

		for (int r = 0; r < n; r++)
			s1 += (int64_t)1 << (r % 40);
		CHECK(w[0] == s0 && w[1] == s1, "sum gave %" PRId64 " %" PRId64
		      ", want %" PRId64 " %" PRId64, w[0], w[1], s0, s1);
	}
	/* Broadcast from the last rank: not only from rank 0. */
	if (rank == n - 1)
		snprintf(id, sizeof(id), "from-%d-round-%d", rank, round);
	rc = ops->bcast(b, "test bcast", id, sizeof(id), n - 1);
	if (rc)
		return rc;
	{
		char want[32];

		snprintf(want, sizeof(want), "from-%d-round-%d", n - 1, round);
		CHECK(!strcmp(id, want), "bcast gave '%s', want '%s'", id, want);
	}
	return ops->barrier(b, "test barrier");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stall", required_argument, NULL, 's' },
		{ "stall-s", required_argument, NULL, 'S' },
		{ "die", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 'T' },
		{ 0 }
	};
	const struct rb_boot_ops *ops = &rb_boot_mpi_ops;
	struct rb_boot *b;
	int stall = -1, die = -1, stall_s = 30;
	double timeout_s = 2;
	char host[64] = "?";
	char **names;
	int rank, n, rc = 0, c;

	while ((c = getopt_long(argc, argv, "T:", longopts, NULL)) != -1) {
		switch (c) {
		case 's': stall = atoi(optarg); break;
		case 'S': stall_s = atoi(optarg); break;
		case 'd': die = atoi(optarg); break;
		case 'T': timeout_s = atof(optarg); break;
		default:
			fprintf(stderr, "usage: boot_check [-T SEC] [--stall RANK [--stall-s S] | --die RANK]\n");
			return 2;
		}
	}
	if (ops->init(&argc, &argv, (int64_t)(timeout_s * 1000), &b))
		return 3;
	rank = ops->rank(b);
	n = ops->size(b);
	gethostname(host, sizeof(host) - 1);
	rb_log_set_prefix(host, rank);
	names = calloc((size_t)n, sizeof(*names));
	for (int r = 0; names && r < n; r++)
		if (asprintf(&names[r], "host %s, test peer %d", host, r) < 0)
			names[r] = NULL;
	ops->set_names(b, (const char *const *)names);
	for (int round = 0; round < 3 && !rc; round++) {
		if (round == 1 && rank == stall)
			sleep((unsigned)stall_s);
		if (round == 1 && rank == die)
			_exit(9);
		rc = round_trip(ops, b, rank, n, round);
	}
	if (rc) {
		printf("rank %d: exchange failed: %s\n", rank, rb_strerror(rc));
		fflush(stdout);
		ops->abort(b, rb_exit_code(rc));
	}
	printf("rank %d: %s\n", rank, fails ? "FAIL" : "all exchanges correct");
	ops->fini(b);
	for (int r = 0; names && r < n; r++)
		free(names[r]);
	free(names);
	return fails ? 1 : 0;
}
