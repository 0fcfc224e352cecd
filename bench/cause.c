/* SPDX-License-Identifier: BSD-3-Clause */
/* The root-cause rule over every rank's evidence (docs/exit-codes.md,
 * "Root cause"). */
#include "bench/cause.h"

/* \return the rank where following wait from r stops: a rank that waits
 * for nobody or whose link is down, or -1 when the path runs into a cycle. */
static int cause_end(const struct rb_cause_rec *all, int n, int r)
{
	/* A path longer than n ranks has repeated one. */
	for (int steps = 0; steps <= n; steps++) {
		if (all[r].down || all[r].wait < 0)
			return r;
		r = all[r].wait;
	}
	return -1;
}

/* \return 1 when following wait from r comes back to r. */
static int cause_on_cycle(const struct rb_cause_rec *all, int n, int r)
{
	int x = all[r].wait;

	for (int steps = 0; steps < n && x >= 0; steps++) {
		if (x == r)
			return 1;
		x = all[x].wait;
	}
	return 0;
}

int rb_cause_decide(const struct rb_cause_rec *all, int n, int *role)
{
	int downs = 0;
	int roots = 0;

	for (int r = 0; r < n; r++) {
		if (all[r].magic != RB_CAUSE_MAGIC || all[r].rank != r ||
		    all[r].wait < -1 || all[r].wait >= n || all[r].wait == r)
			return -1;
		downs += all[r].down != 0;
	}
	for (int r = 0; r < n; r++) {
		int w = all[r].wait;

		if (all[r].down) {
			role[r] = RB_CAUSE_DOWN;
			roots++;
		} else if (w < 0) {
			/* Not waiting for anyone: a root cause only where no
			 * link is down (else it failed because one was). */
			role[r] = downs ? RB_CAUSE_SECONDARY : RB_CAUSE_STUCK;
			roots += !downs;
		} else if (all[w].down || (!downs && all[w].wait < 0)) {
			role[r] = RB_CAUSE_DIRECT;
		} else if (!downs && cause_end(all, n, r) < 0 &&
			   cause_on_cycle(all, n, r)) {
			role[r] = RB_CAUSE_CYCLE;
		} else {
			role[r] = RB_CAUSE_SECONDARY;
		}
	}
	return roots;
}
