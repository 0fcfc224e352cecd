/* SPDX-License-Identifier: BSD-3-Clause */
/* An in-process loopback transport for unit tests: every rank of a world
 * lives in one process, messages are matched per (source, destination)
 * pair in post order and copied once both sides are posted, either at the
 * second post or at the next progress() call. */
#ifndef RB_TESTS_UNIT_LOOP_TP_H
#define RB_TESTS_UNIT_LOOP_TP_H

#include "collectives/coll.h"
#include "transports/transport.h"

/* Creates nranks connected transports, tps[r] for rank r.
 * \return 0, -RB_EINVAL (nranks < 1) or -RB_ENOMEM. */
int rb_loop_world_create(int nranks, struct rb_tp **tps);

/* With on, the transports' irecv_reduce combines data when it is matched
 * (as shm does on arrival); off (the default), it answers -RB_ENOTSUP and
 * the executor stages through TMP. For every world, from now on. */
void rb_loop_set_combine(int on);

/* Closes every transport of the world and frees it; NULL-safe, resets
 * tps[]. Requests still posted are abandoned. */
void rb_loop_world_destroy(struct rb_tp **tps, int nranks);

/* \return bytes rank tp has sent (matched sends) since creation. */
uint64_t rb_loop_bytes_sent(struct rb_tp *tp);

/* \return messages rank tp has sent (matched sends) since creation. */
uint64_t rb_loop_msgs_sent(struct rb_tp *tp);

/* \return bytes (messages) rank tp has sent to peer (matched sends) since
 * creation; 0 for a peer out of range. */
uint64_t rb_loop_bytes_to(struct rb_tp *tp, int peer);
uint64_t rb_loop_msgs_to(struct rb_tp *tp, int peer);

/* Runs one execution of every rank's executor: starts each, then
 * round-robins rb_exec_advance and progress until all finished.
 * \return 0; the first executor error; or -RB_ETIMEDOUT when a full round
 * completes no message and no executor finishes (deadlock), after writing
 * which ranks were stuck into why (may be NULL). */
int rb_loop_exec_all(struct rb_tp **tps, struct rb_exec **ex, int nranks,
		     char *why, size_t why_len);

/* The same for transports built over loopback worlds (a composition whose
 * children are loopback transports): tps[] are driven, and a round counts
 * as progress when any of the worlds of worlds[0..nworlds) (one loopback
 * transport of each) matched a message. */
int rb_loop_exec_over(struct rb_tp **tps, struct rb_exec **ex, int nranks,
		      struct rb_tp *const *worlds, int nworlds, char *why,
		      size_t why_len);

#endif
