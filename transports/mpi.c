/* SPDX-License-Identifier: BSD-3-Clause */
/* The MPI library backend: MPI_Allreduce, MPI_Allgather and MPI_Alltoall
 * measured through the same harness (--algo native, the default), plus
 * point-to-point isend/irecv so railbench's own algorithms can also run over
 * the MPI library (--algo ring, ...). Expects MPI to be initialised by the
 * bootstrap.
 *
 * Every library call is bounded by --timeout: the collectives and the
 * barrier are their non-blocking forms (MPI_Iallreduce, ...) polled with
 * MPI_Test against the deadline, since a blocking MPI call waits for a
 * lost or stopped rank forever. MPI does not say which rank it waits for:
 * past the deadline the call is named and -RB_ETIMEDOUT returned, and the
 * harness finds the missing rank through the bootstrap. */
#include <mpi.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transports/transport.h"

const struct rb_tp_ops rb_mpi_ops;

struct mpi_tp {
	struct rb_tp tp;
	MPI_Comm comm;
	/* Outstanding point-to-point requests, compacted after each test. */
	MPI_Request *reqs;
	struct rb_tp_req **owners;
	int nreqs;
	int cap;
};

static struct mpi_tp *to_mpi(struct rb_tp *tp)
{
	return rb_container_of(tp, struct mpi_tp, tp);
}

static int mpi_err(int rc, const char *what)
{
	char msg[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (rc == MPI_SUCCESS)
		return 0;
	MPI_Error_string(rc, msg, &len);
	rb_err("mpi: %s: %s", what, msg);
	return -RB_EPEER;
}

/* Polls a non-blocking library call until it completes or tp's timeout
 * passes; what names it ("MPI_Iallreduce of 1024 float"). It spins, as
 * the blocking call would inside MPICH, so that the time measured is the
 * library's. \return 0, -RB_EPEER when MPI
 * reports an error, -RB_ETIMEDOUT (logged) past the deadline. */
static int mpi_wait(struct mpi_tp *m, MPI_Request *req, const char *what)
{
	int64_t bound_ms = m->tp.timeout_ms > 0 ? m->tp.timeout_ms : 30000;
	uint64_t deadline = rb_time_ns() + (uint64_t)bound_ms * 1000000u;

	for (;;) {
		int flag = 0;
		int rc = MPI_Test(req, &flag, MPI_STATUS_IGNORE);

		if (rc != MPI_SUCCESS)
			return mpi_err(rc, what);
		if (flag)
			return 0;
		if (rb_time_ns() > deadline)
			break;
	}
	/* The request stays pending: the job ends without freeing it. */
	rb_err("mpi: %s did not complete within %" PRId64 " ms: a rank is lost or stuck",
	       what, bound_ms);
	return -RB_ETIMEDOUT;
}

static int mpi_probe(const struct rb_tp_args *args, char *why, size_t len)
{
	int inited = 0;

	(void)args;
	MPI_Initialized(&inited);
	if (!inited) {
		snprintf(why, len, "MPI is not initialised");
		return -RB_ENOTSUP;
	}
	return 0;
}

static int mpi_open(const struct rb_tp_args *args, struct rb_tp **tp_p)
{
	struct mpi_tp *m = calloc(1, sizeof(*m));
	char lib[MPI_MAX_LIBRARY_VERSION_STRING];
	int len = 0;

	if (!m)
		return -RB_ENOMEM;
	MPI_Comm_dup(MPI_COMM_WORLD, &m->comm);
	MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
	m->tp.ops = &rb_mpi_ops;
	m->tp.rank = args->rank;
	m->tp.nranks = args->nranks;
	m->tp.timeout_ms = args->timeout_ms;
	m->tp.rail = -1;
	MPI_Get_library_version(lib, &len);
	lib[strcspn(lib, "\n")] = '\0';
	for (char *c = lib; *c; c++)
		if (*c == '\t')
			*c = ' ';
	snprintf(m->tp.desc, sizeof(m->tp.desc), "%.200s", lib);
	*tp_p = &m->tp;
	return 0;
}

static int mpi_get_addr(struct rb_tp *tp, void *blob, size_t *len_p)
{
	(void)tp;
	(void)blob;
	*len_p = 0;	/* MPI wires itself up */
	return 0;
}

static int mpi_connect(struct rb_tp *tp, const void *blobs, size_t stride)
{
	(void)tp;
	(void)blobs;
	(void)stride;
	return 0;
}

static int mpi_mem_reg(struct rb_tp *tp, void *buf, size_t len,
		       enum rb_mem_kind kind, struct rb_tp_mr **mr_p)
{
	(void)tp;
	if (kind != RB_MEM_HOST)
		return -RB_ENOTSUP;
	return rb_tp_mr_plain_new(buf, len, kind, mr_p);
}

static int mpi_track(struct mpi_tp *m, MPI_Request r, struct rb_tp_req *req)
{
	if (m->nreqs == m->cap) {
		int cap = m->cap ? 2 * m->cap : 64;
		MPI_Request *nr = realloc(m->reqs, (size_t)cap * sizeof(*nr));
		struct rb_tp_req **no;

		if (!nr)
			return -RB_ENOMEM;
		m->reqs = nr;
		no = realloc(m->owners, (size_t)cap * sizeof(*no));
		if (!no)
			return -RB_ENOMEM;
		m->owners = no;
		m->cap = cap;
	}
	m->reqs[m->nreqs] = r;
	m->owners[m->nreqs] = req;
	m->nreqs++;
	return 0;
}

/* Messages larger than INT_MAX bytes are sent as MPI_BYTE blocks of 1 MiB
 * elements (a contiguous type); smaller ones as plain bytes. */
static int mpi_post(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		    size_t off, size_t len, struct rb_tp_req *req, int send)
{
	struct mpi_tp *m = to_mpi(tp);
	char *p = (char *)mr->buf + off;
	MPI_Request r;
	int rc;

	if (len > (size_t)1 << 30) {
		rb_err("mpi: message of %zu bytes to rank %d exceeds 1 GiB", len, peer);
		return -RB_EINVAL;
	}
	*req = (struct rb_tp_req){ .peer = peer, .len = len };
	if (send)
		rc = MPI_Isend(p, (int)len, MPI_BYTE, peer, 0, m->comm, &r);
	else
		rc = MPI_Irecv(p, (int)len, MPI_BYTE, peer, 0, m->comm, &r);
	rc = mpi_err(rc, send ? "MPI_Isend" : "MPI_Irecv");
	return rc ? rc : mpi_track(m, r, req);
}

static int mpi_isend(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		     size_t off, size_t len, struct rb_tp_req *req)
{
	return mpi_post(tp, peer, mr, off, len, req, 1);
}

static int mpi_irecv(struct rb_tp *tp, int peer, struct rb_tp_mr *mr,
		     size_t off, size_t len, struct rb_tp_req *req)
{
	return mpi_post(tp, peer, mr, off, len, req, 0);
}

static int mpi_progress(struct rb_tp *tp, int64_t timeout_ns)
{
	struct mpi_tp *m = to_mpi(tp);
	int keep = 0;

	(void)timeout_ns;	/* MPI_Test* never blocks */
	for (int i = 0; i < m->nreqs; i++) {
		int flag = 0;
		int rc = MPI_Test(&m->reqs[i], &flag, MPI_STATUS_IGNORE);

		if (rc != MPI_SUCCESS || flag) {
			m->owners[i]->status = mpi_err(rc, "MPI_Test");
			m->owners[i]->done = 1;
			continue;
		}
		m->reqs[keep] = m->reqs[i];
		m->owners[keep] = m->owners[i];
		keep++;
	}
	m->nreqs = keep;
	return 0;
}

static MPI_Datatype mpi_dtype(enum rb_dtype t)
{
	switch (t) {
	case RB_INT32:
		return MPI_INT32_T;
	case RB_INT64:
		return MPI_INT64_T;
	case RB_FLOAT:
		return MPI_FLOAT;
	case RB_DOUBLE:
		return MPI_DOUBLE;
	default:
		return MPI_DATATYPE_NULL;	/* half, bf16: no MPI type */
	}
}

static MPI_Op mpi_op(enum rb_redop op)
{
	switch (op) {
	case RB_OP_SUM:
		return MPI_SUM;
	case RB_OP_PROD:
		return MPI_PROD;
	case RB_OP_MAX:
		return MPI_MAX;
	default:
		return MPI_MIN;
	}
}

static int mpi_coll(struct rb_tp *tp, const struct rb_tp_coll *c)
{
	struct mpi_tp *m = to_mpi(tp);
	MPI_Datatype dt = mpi_dtype(c->dtype);
	int n = (int)c->count;
	MPI_Request req = MPI_REQUEST_NULL;
	const char *call;
	char what[128];
	int rc;

	if (dt == MPI_DATATYPE_NULL) {
		rb_err("mpi: MPI has no %s type; use --algo ring or rd for it",
		       rb_dtype_name(c->dtype));
		return -RB_ENOTSUP;
	}
	switch (c->kind) {
	case RB_COLL_ALLREDUCE:
		call = "MPI_Iallreduce";
		rc = MPI_Iallreduce(c->sendbuf == c->recvbuf ? MPI_IN_PLACE : c->sendbuf,
				    c->recvbuf, n, dt, mpi_op(c->op), m->comm, &req);
		break;
	case RB_COLL_ALLGATHER:
		call = "MPI_Iallgather";
		rc = MPI_Iallgather(c->sendbuf ? c->sendbuf : MPI_IN_PLACE,
				    n, dt, c->recvbuf, n, dt, m->comm, &req);
		break;
	case RB_COLL_ALLTOALL:
		call = "MPI_Ialltoall";
		rc = MPI_Ialltoall(c->sendbuf ? c->sendbuf : MPI_IN_PLACE,
				   n, dt, c->recvbuf, n, dt, m->comm, &req);
		break;
	default:
		return -RB_ENOTSUP;
	}
	snprintf(what, sizeof(what), "%s of %d %s", call, n,
		 rb_dtype_name(c->dtype));
	rc = mpi_err(rc, call);
	return rc ? rc : mpi_wait(m, &req, what);
}

static int mpi_barrier(struct rb_tp *tp)
{
	struct mpi_tp *m = to_mpi(tp);
	MPI_Request req = MPI_REQUEST_NULL;
	int rc = mpi_err(MPI_Ibarrier(m->comm, &req), "MPI_Ibarrier");

	return rc ? rc : mpi_wait(m, &req, "MPI_Ibarrier");
}

static void mpi_peer_desc(struct rb_tp *tp, int peer, char *buf, size_t len)
{
	(void)tp;
	snprintf(buf, len, "MPI rank %d", peer);
}

static void mpi_close(struct rb_tp *tp)
{
	struct mpi_tp *m;

	if (!tp)
		return;
	m = to_mpi(tp);
	for (int i = 0; i < m->nreqs; i++)
		MPI_Cancel(&m->reqs[i]);
	MPI_Comm_free(&m->comm);
	free(m->reqs);
	free(m->owners);
	free(m);
}

const struct rb_tp_ops rb_mpi_ops = {
	.name = "mpi",
	.summary = "the MPI library's own collectives (MPICH), or its point-to-point",
	.caps = RB_TP_CAP_NATIVE_COLL,
	.probe = mpi_probe,
	.open = mpi_open,
	.get_addr = mpi_get_addr,
	.connect = mpi_connect,
	.mem_reg = mpi_mem_reg,
	.mem_dereg = rb_tp_mr_plain_dereg,
	.isend = mpi_isend,
	.irecv = mpi_irecv,
	.progress = mpi_progress,
	.peer_desc = mpi_peer_desc,
	.coll = mpi_coll,
	.barrier = mpi_barrier,
	.close = mpi_close,
};
