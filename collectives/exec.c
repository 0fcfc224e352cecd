/* SPDX-License-Identifier: BSD-3-Clause */
/* The schedule executor: a state machine that posts SEND/RECV steps to a
 * transport, blocks on WAIT steps and runs REDUCE/COPY inline. Nothing is
 * allocated per run; every blocking wait has a deadline. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectives/coll.h"

/* Used when neither the caller nor the transport gives a timeout. */
#define EXEC_DEFAULT_TIMEOUT_MS 60000
/* How long one progress call may block while the schedule waits. */
#define EXEC_PROGRESS_NS 1000000

struct rb_exec {
	struct rb_tp *tp;
	const struct rb_sched *sched;
	struct rb_tp_mr *mr[RB_NBUFS];
	size_t base[RB_NBUFS];	/* byte offset of each buffer in its mr */
	char *ptr[RB_NBUFS];	/* host address of each buffer */
	enum rb_dtype dtype;
	size_t esz;
	enum rb_redop op;
	const char *const *hosts;
	struct rb_exec_fail *fail;	/* the caller's, or NULL: log */
	const struct rb_mem_ops *mem;
	void *tmp;
	struct rb_tp_mr *tmp_mr;
	struct rb_tp_req *reqs;	/* one per step, used by SEND/RECV */
	/* RECV_REDUCE steps received into TMP (the transport cannot combine
	 * on arrival), and whether their reduction ran in this execution. */
	unsigned char *staged;
	unsigned char *combined;
	int pc;			/* next step to execute */
	int wait_lo;		/* transfers below this index are complete */
	int blocked;		/* step whose request is awaited, -1 none */
	int running;
	int failed;		/* a request failed: requests may be stale */
};

static const char *const exec_buf_names[RB_NBUFS] = {
	[RB_BUF_SEND] = "send",
	[RB_BUF_RECV] = "recv",
	[RB_BUF_TMP] = "tmp",
};

static int exec_is_xfer(const struct rb_step *st)
{
	return st->op == RB_STEP_SEND || st->op == RB_STEP_RECV ||
	       st->op == RB_STEP_RECV_REDUCE;
}

/* Bytes available in buffer b. */
static size_t exec_buf_len(const struct rb_exec *ex, enum rb_buf b)
{
	if (!ex->mr[b] || ex->mr[b]->len < ex->base[b])
		return 0;
	return ex->mr[b]->len - ex->base[b];
}

static int exec_range_ok(const struct rb_exec *ex, enum rb_buf b, size_t off,
			 size_t len)
{
	size_t have = exec_buf_len(ex, b);

	return (unsigned)b < RB_NBUFS && off <= have && len <= have - off;
}

/* Checks every step once, so a faulty schedule fails at creation with a
 * message instead of corrupting memory during a run. */
static int exec_check_sched(const struct rb_exec *ex)
{
	const struct rb_sched *s = ex->sched;

	for (int i = 0; i < s->nsteps; i++) {
		const struct rb_step *st = &s->steps[i];
		int ok = exec_range_ok(ex, st->buf, st->off, st->len);

		if (st->op == RB_STEP_RECV_REDUCE)
			ok = ok && st->peer >= 0 && st->peer < ex->tp->nranks &&
			     exec_range_ok(ex, st->src_buf, st->src_off, st->len) &&
			     exec_range_ok(ex, RB_BUF_TMP, st->tmp_off, st->len) &&
			     st->len % ex->esz == 0;
		else if (exec_is_xfer(st))
			ok = ok && st->peer >= 0 && st->peer < ex->tp->nranks;
		else if (st->op == RB_STEP_WAIT)
			ok = st->dep >= -1 && st->dep < i;
		else
			ok = ok && exec_range_ok(ex, st->src_buf, st->src_off,
						 st->len) &&
			     st->len % ex->esz == 0;
		if (!ok) {
			rb_err("schedule step %d of %d is invalid: op %d, peer %d, %s buffer offset %zu, %zu bytes (buffer holds %zu), dep %d",
			       i, s->nsteps, (int)st->op, st->peer,
			       (unsigned)st->buf < RB_NBUFS ?
				       exec_buf_names[st->buf] : "?",
			       st->off, st->len, exec_buf_len(ex, st->buf),
			       st->dep);
			return -RB_EINVAL;
		}
	}
	return 0;
}

static int exec_alloc_tmp(struct rb_exec *ex)
{
	size_t bytes = ex->sched->tmp_bytes;
	int rc;

	if (!bytes)
		return 0;
	ex->mem = rb_mem_find(RB_MEM_HOST);
	if (!ex->mem) {
		rb_err("executor: host memory kind is not built");
		return -RB_ENOTSUP;
	}
	rc = ex->mem->alloc(bytes, &ex->tmp);
	if (rc) {
		rb_err("executor: allocating %zu bytes of scratch: %s", bytes,
		       rb_strerror(rc));
		return rc;
	}
	rc = rb_tp_mem_reg(ex->tp, ex->tmp, bytes, RB_MEM_HOST, &ex->tmp_mr);
	if (rc) {
		rb_err("executor: registering %zu bytes of scratch with %s: %s",
		       bytes, ex->tp->ops->name, rb_strerror(rc));
		return rc;
	}
	return 0;
}

int rb_exec_create(const struct rb_exec_args *args, struct rb_exec **ex_p)
{
	struct rb_exec *ex;
	int rc;

	if (!args->tp || !args->sched || !args->recv_mr ||
	    (unsigned)args->dtype >= RB_NDTYPES ||
	    (unsigned)args->op >= RB_NREDOPS) {
		rb_err("executor: missing transport, schedule or receive buffer, or bad type/op");
		return -RB_EINVAL;
	}
	ex = calloc(1, sizeof(*ex));
	if (!ex)
		return -RB_ENOMEM;
	ex->tp = args->tp;
	ex->sched = args->sched;
	ex->dtype = args->dtype;
	ex->esz = rb_dtype_size(args->dtype);
	ex->op = args->op;
	ex->hosts = args->hosts;
	ex->fail = args->fail;
	ex->blocked = -1;
	ex->reqs = calloc((size_t)RB_MAX(args->sched->nsteps, 1),
			  sizeof(*ex->reqs));
	ex->staged = calloc((size_t)RB_MAX(args->sched->nsteps, 1), 1);
	ex->combined = calloc((size_t)RB_MAX(args->sched->nsteps, 1), 1);
	if (!ex->reqs || !ex->staged || !ex->combined) {
		rc = -RB_ENOMEM;
		goto out_destroy;
	}
	rc = exec_alloc_tmp(ex);
	if (rc)
		goto out_destroy;
	ex->mr[RB_BUF_RECV] = args->recv_mr;
	ex->mr[RB_BUF_SEND] = args->send_mr ? args->send_mr : args->recv_mr;
	ex->base[RB_BUF_SEND] = args->send_mr ? 0 : args->inplace_off_bytes;
	ex->mr[RB_BUF_TMP] = ex->tmp_mr;
	for (int b = 0; b < RB_NBUFS; b++) {
		if (ex->mr[b])
			ex->ptr[b] = (char *)ex->mr[b]->buf + ex->base[b];
	}
	rc = exec_check_sched(ex);
	if (rc)
		goto out_destroy;
	*ex_p = ex;
	return 0;

out_destroy:
	rb_exec_destroy(ex);
	return rc;
}

int rb_exec_start(struct rb_exec *ex)
{
	if (ex->running || ex->failed) {
		rb_err("executor: start while a run is %s",
		       ex->failed ? "failed" : "in progress");
		return -RB_EINVAL;
	}
	ex->pc = 0;
	ex->wait_lo = 0;
	ex->blocked = -1;
	ex->running = 1;
	return 0;
}

static int exec_post(struct rb_exec *ex, int i)
{
	const struct rb_step *st = &ex->sched->steps[i];
	struct rb_tp_req *req = &ex->reqs[i];
	int rc;

	req->done = 0;
	req->status = 0;
	req->peer = st->peer;
	req->len = st->len;
	if (st->op == RB_STEP_SEND) {
		rc = rb_tp_isend(ex->tp, st->peer, ex->mr[st->buf],
				 ex->base[st->buf] + st->off, st->len, req);
	} else if (st->op == RB_STEP_RECV) {
		rc = rb_tp_irecv(ex->tp, st->peer, ex->mr[st->buf],
				 ex->base[st->buf] + st->off, st->len, req);
	} else {
		ex->combined[i] = 0;
		ex->staged[i] = 0;
		rc = rb_tp_irecv_reduce(ex->tp, st->peer, ex->mr[st->buf],
					ex->base[st->buf] + st->off, st->len,
					ex->ptr[st->src_buf] + st->src_off,
					ex->dtype, ex->op, req);
		if (rc == -RB_ENOTSUP) {
			ex->staged[i] = 1;
			rc = rb_tp_irecv(ex->tp, st->peer, ex->mr[RB_BUF_TMP],
					 ex->base[RB_BUF_TMP] + st->tmp_off,
					 st->len, req);
		}
	}
	if (rc)
		rb_err("posting %s rank %d (%zu bytes): %s",
		       st->op == RB_STEP_SEND ? "send to" : "recv from",
		       st->peer, st->len, rb_strerror(rc));
	return rc;
}

/* \return 0 if step i's request completed fine, -RB_EAGAIN if pending. */
static int exec_req_state(struct rb_exec *ex, int i)
{
	const struct rb_step *st = &ex->sched->steps[i];
	const struct rb_tp_req *req = &ex->reqs[i];

	if (!exec_is_xfer(st))
		return 0;
	if (!req->done) {
		ex->blocked = i;
		return -RB_EAGAIN;
	}
	if (req->status < 0) {
		rb_log_culprit(st->peer);
		rb_err("%s rank %d (%zu bytes) failed: %s",
		       st->op == RB_STEP_SEND ? "send to" : "recv from",
		       st->peer, st->len, rb_strerror(req->status));
		return req->status;
	}
	/* A staged receive-reduce combines when first found complete, before
	 * any later step can read or send its destination. */
	if (st->op == RB_STEP_RECV_REDUCE && ex->staged[i] && !ex->combined[i]) {
		rb_reduce_to(ex->ptr[st->buf] + st->off,
			     ex->ptr[st->src_buf] + st->src_off,
			     ex->ptr[RB_BUF_TMP] + st->tmp_off, st->len / ex->esz,
			     ex->dtype, ex->op);
		ex->combined[i] = 1;
	}
	return 0;
}

/* Waits for every transfer below index upto. */
static int exec_wait_all(struct rb_exec *ex, int upto)
{
	for (; ex->wait_lo < upto; ex->wait_lo++) {
		int rc = exec_req_state(ex, ex->wait_lo);

		if (rc)
			return rc;
	}
	return 0;
}

static int exec_step(struct rb_exec *ex, const struct rb_step *st)
{
	char *dst;
	const char *src;

	switch (st->op) {
	case RB_STEP_SEND:
	case RB_STEP_RECV:
	case RB_STEP_RECV_REDUCE:
		return exec_post(ex, ex->pc);
	case RB_STEP_WAIT:
		if (st->dep >= 0)
			return exec_req_state(ex, st->dep);
		return exec_wait_all(ex, ex->pc);
	case RB_STEP_REDUCE:
	case RB_STEP_COPY:
		if (!st->len)
			return 0;
		dst = ex->ptr[st->buf] + st->off;
		src = ex->ptr[st->src_buf] + st->src_off;
		if (st->op == RB_STEP_REDUCE)
			rb_reduce(dst, src, st->len / ex->esz, ex->dtype,
				  ex->op);
		else if (dst != src)
			memmove(dst, src, st->len);
		return 0;
	default:
		return -RB_EINVAL;
	}
}

int rb_exec_advance(struct rb_exec *ex)
{
	const struct rb_sched *s = ex->sched;
	int rc;

	if (!ex->running)
		return ex->failed ? -RB_EINVAL : 0;
	while (ex->pc < s->nsteps) {
		rc = exec_step(ex, &s->steps[ex->pc]);
		if (rc == -RB_EAGAIN)
			return rc;
		if (rc)
			goto out_fail;
		ex->pc++;
	}
	/* Every request completes before a run ends, so its storage and the
	 * buffers are free for the next run. */
	rc = exec_wait_all(ex, s->nsteps);
	if (rc == -RB_EAGAIN)
		return rc;
	if (rc)
		goto out_fail;
	ex->running = 0;
	ex->blocked = -1;
	return 0;

out_fail:
	ex->running = 0;
	ex->failed = 1;
	return rc;
}

static void exec_log_timeout(struct rb_exec *ex, int64_t timeout_ms)
{
	const struct rb_step *st = &ex->sched->steps[ex->blocked];
	const char *host = ex->hosts && ex->hosts[st->peer] ?
				   ex->hosts[st->peer] : "?";
	char desc[256];

	char msg[sizeof(ex->fail->msg)];

	rb_tp_peer_desc(ex->tp, st->peer, desc, sizeof(desc));
	rb_log_culprit(st->peer);
	snprintf(msg, sizeof(msg), "timed out after %" PRId64 " ms waiting for %s rank %d (host %s%s%s)",
		 timeout_ms, st->op == RB_STEP_SEND ? "send to" : "recv from",
		 st->peer, host, desc[0] ? ", " : "", desc);
	if (!ex->fail) {
		rb_err("%s", msg);
		return;
	}
	*ex->fail = (struct rb_exec_fail){ .peer = st->peer, .timed_out = 1 };
	snprintf(ex->fail->msg, sizeof(ex->fail->msg), "%s", msg);
}

/* timeout_ms <= 0 means the transport's bound (tp->timeout_ms), or
 * EXEC_DEFAULT_TIMEOUT_MS when that is unset too: a run never waits
 * forever. */
int rb_exec_run(struct rb_exec *ex, int64_t timeout_ms)
{
	uint64_t deadline;
	int rc;

	if (timeout_ms <= 0)
		timeout_ms = ex->tp->timeout_ms > 0 ? ex->tp->timeout_ms :
						      EXEC_DEFAULT_TIMEOUT_MS;
	rc = rb_exec_start(ex);
	if (rc)
		return rc;
	deadline = rb_time_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		rc = rb_exec_advance(ex);
		if (rc != -RB_EAGAIN)
			return rc;
		rc = rb_tp_progress(ex->tp, EXEC_PROGRESS_NS);
		if (rc) {
			if (ex->fail && ex->blocked >= 0)
				*ex->fail = (struct rb_exec_fail){
					.peer = ex->sched->steps[ex->blocked].peer };
			ex->running = 0;
			ex->failed = 1;
			return rc;
		}
		if (!ex->reqs[ex->blocked].done && rb_time_ns() > deadline) {
			exec_log_timeout(ex, timeout_ms);
			ex->running = 0;
			ex->failed = 1;
			return -RB_ETIMEDOUT;
		}
	}
}

void rb_exec_destroy(struct rb_exec *ex)
{
	if (!ex)
		return;
	if (ex->tmp_mr)
		rb_tp_mem_dereg(ex->tp, ex->tmp_mr);
	if (ex->tmp && ex->mem)
		ex->mem->free(ex->tmp);
	free(ex->reqs);
	free(ex->staged);
	free(ex->combined);
	free(ex);
}
