/* SPDX-License-Identifier: BSD-3-Clause */
/* Zero-byte dissemination barrier: ceil(log2 n) rounds; in round k every
 * rank signals rank + 2^k and waits for rank - 2^k (docs/algorithms.md
 * "Barrier"). The harness runs it before every timed iteration, over the
 * run's own transport, so timing never waits on the bootstrap. */
#include "collectives/coll.h"

int rb_coll_barrier_build(int rank, int nranks, struct rb_sched *s)
{
	for (int k = 1; k < nranks; k *= 2) {
		if (rb_sched_send(s, (rank + k) % nranks, RB_BUF_RECV, 0, 0) < 0 ||
		    rb_sched_recv(s, (rank - k + nranks) % nranks, RB_BUF_RECV,
				  0, 0) < 0 ||
		    rb_sched_wait(s, -1) < 0)
			return -RB_ENOMEM;
	}
	return 0;
}
