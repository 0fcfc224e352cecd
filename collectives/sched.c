/* SPDX-License-Identifier: BSD-3-Clause */
/* Schedules: a growable array of steps that algorithms append to and the
 * executor runs. Appenders return the new step's index. */
#include <stdlib.h>

#include "collectives/coll.h"

/* \return the index of a fresh zeroed step, or -RB_ENOMEM. */
static int sched_add(struct rb_sched *s, enum rb_step_op op)
{
	if (s->nsteps == s->cap) {
		int cap = s->cap ? s->cap * 2 : 64;
		struct rb_step *steps;

		steps = realloc(s->steps, (size_t)cap * sizeof(*steps));
		if (!steps) {
			rb_err("schedule of %d steps: out of memory", cap);
			return -RB_ENOMEM;
		}
		s->steps = steps;
		s->cap = cap;
	}
	s->steps[s->nsteps] = (struct rb_step){
		.op = op,
		.peer = -1,
		.buf = RB_BUF_RECV,
		.src_buf = RB_BUF_RECV,
		.dep = -1,
	};
	return s->nsteps++;
}

static int sched_xfer(struct rb_sched *s, enum rb_step_op op, int peer,
		      enum rb_buf buf, size_t off, size_t len)
{
	int i = sched_add(s, op);

	if (i < 0)
		return i;
	s->steps[i].peer = peer;
	s->steps[i].buf = buf;
	s->steps[i].off = off;
	s->steps[i].len = len;
	return i;
}

int rb_sched_send(struct rb_sched *s, int peer, enum rb_buf buf, size_t off,
		  size_t len)
{
	return sched_xfer(s, RB_STEP_SEND, peer, buf, off, len);
}

int rb_sched_recv(struct rb_sched *s, int peer, enum rb_buf buf, size_t off,
		  size_t len)
{
	return sched_xfer(s, RB_STEP_RECV, peer, buf, off, len);
}

int rb_sched_wait(struct rb_sched *s, int dep)
{
	int i = sched_add(s, RB_STEP_WAIT);

	if (i < 0)
		return i;
	s->steps[i].dep = dep;
	return i;
}

static int sched_local(struct rb_sched *s, enum rb_step_op op,
		       enum rb_buf dst, size_t dst_off, enum rb_buf src,
		       size_t src_off, size_t len)
{
	int i = sched_add(s, op);

	if (i < 0)
		return i;
	s->steps[i].buf = dst;
	s->steps[i].off = dst_off;
	s->steps[i].src_buf = src;
	s->steps[i].src_off = src_off;
	s->steps[i].len = len;
	return i;
}

int rb_sched_reduce(struct rb_sched *s, enum rb_buf dst, size_t dst_off,
		    enum rb_buf src, size_t src_off, size_t len)
{
	return sched_local(s, RB_STEP_REDUCE, dst, dst_off, src, src_off, len);
}

int rb_sched_copy(struct rb_sched *s, enum rb_buf dst, size_t dst_off,
		  enum rb_buf src, size_t src_off, size_t len)
{
	return sched_local(s, RB_STEP_COPY, dst, dst_off, src, src_off, len);
}

int rb_sched_recv_reduce(struct rb_sched *s, int peer, enum rb_buf dst,
			 size_t dst_off, enum rb_buf src, size_t src_off,
			 size_t tmp_off, size_t len)
{
	int i = sched_local(s, RB_STEP_RECV_REDUCE, dst, dst_off, src, src_off,
			    len);

	if (i < 0)
		return i;
	s->steps[i].peer = peer;
	s->steps[i].tmp_off = tmp_off;
	return i;
}

void rb_sched_need_tmp(struct rb_sched *s, size_t bytes)
{
	if (s->tmp_bytes < bytes)
		s->tmp_bytes = bytes;
}

void rb_sched_reset(struct rb_sched *s)
{
	s->nsteps = 0;
	s->tmp_bytes = 0;
}

void rb_sched_free(struct rb_sched *s)
{
	if (!s)
		return;
	free(s->steps);
	s->steps = NULL;
	s->nsteps = 0;
	s->cap = 0;
	s->tmp_bytes = 0;
}
