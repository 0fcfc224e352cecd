/* SPDX-License-Identifier: BSD-3-Clause */
/* Bootstrap over MPI (MPICH): rank, size and the small exchanges the harness
 * needs. Launch with mpiexec locally, or mpirun/srun on a cluster.
 *
 * Every exchange has a deadline. MPI's blocking collectives have none, so a
 * peer that dies while the others wait in one leaves them blocked for good.
 * Instead, each exchange is a gather to rank 0 and an answer from rank 0,
 * made of non-blocking point-to-point messages polled against the clock
 * (docs/exit-codes.md, "Deadlines between sizes"):
 *   - rank 0 waits up to the timeout for every other rank's contribution; past
 *     it, it names the ranks that did not arrive and answers the others
 *     with a failure, which makes every rank leave with exit code 3;
 *   - the other ranks wait up to twice the timeout for rank 0's answer, so
 *     rank 0, which knows who is missing, speaks first; past that, they name
 *     rank 0.
 * Rank 0 handles n-1 small messages per exchange: fine between sizes of a
 * benchmark, where a size itself moves far more. */
#include <mpi.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

/* How long one poll sleeps while an exchange waits: 50 us at first,
 * doubling up to 1 ms, so a rank that waits long (p2p_bench's idle ranks
 * while pairs measure) leaves the CPU to those that work. */
#define BOOT_POLL_US 50
#define BOOT_POLL_MAX_US 1000

/* Ranks named in one message before "and N more". */
#define BOOT_NAME_MAX 8
/* Tags cycle below the 32767 that MPI guarantees. */
#define BOOT_TAG_SPAN 30000

struct rb_boot {
	MPI_Comm comm;
	int rank;
	int size;
	int64_t timeout_ms;
	uint32_t seq;		/* exchanges so far, the same on every rank */
	int broken;		/* an exchange failed: no further exchange */
	const char *const *names;	/* per-rank descriptions, may be NULL */
	char library[MPI_MAX_LIBRARY_VERSION_STRING];
};

/* Precedes every message: lets a rank tell an answer from a failure. */
struct boot_hdr {
	uint32_t seq;
	int32_t status;		/* 0, or -RB_E* when rank 0 gave up */
	int32_t culprit;	/* first rank that did not arrive, or -1 */
	int32_t pad;
};

/* How the contributions of all ranks become the answer. */
enum boot_combine {
	BOOT_GATHER,	/* answer: every contribution, rank order */
	BOOT_GATHER_ROOT,	/* the same, kept by rank 0: the answer is a header */
	BOOT_MAX_F64,
	BOOT_SUM_I64,
	BOOT_PICK,	/* answer: the contribution of rank `root` */
};

static int mpi_rc(int rc, const char *what)
{
	char msg[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (rc == MPI_SUCCESS)
		return 0;
	MPI_Error_string(rc, msg, &len);
	rb_err("%s: %s", what, msg);
	return -RB_EPEER;
}

/* Under -disable-auto-cleanup, MPICH's hydra sends SIGUSR1 to every rank
 * once one has died; its default action would kill the survivors at once,
 * before they can name the lost rank and exit 3. Ignore it unless MPI
 * installed a handler of its own: the deadlines find the failure. */
static void boot_keep_usr1(void)
{
	struct sigaction sa;

	if (!sigaction(SIGUSR1, NULL, &sa) && sa.sa_handler == SIG_DFL &&
	    !(sa.sa_flags & SA_SIGINFO))
		signal(SIGUSR1, SIG_IGN);
}

static int mpi_init(int *argc, char ***argv, int64_t timeout_ms,
		    struct rb_boot **boot_p)
{
	struct rb_boot *b;
	int len = 0;
	int rc;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -RB_ENOMEM;
	rc = mpi_rc(MPI_Init(argc, argv), "MPI_Init");
	if (rc) {
		free(b);
		return rc;
	}
	boot_keep_usr1();
	/* Errors come back as codes so a lost peer is reported, not fatal. */
	MPI_Comm_dup(MPI_COMM_WORLD, &b->comm);
	MPI_Comm_set_errhandler(b->comm, MPI_ERRORS_RETURN);
	MPI_Comm_rank(b->comm, &b->rank);
	MPI_Comm_size(b->comm, &b->size);
	b->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	MPI_Get_library_version(b->library, &len);
	/* Keep only the first line ("MPICH Version: 4.0.2" style). */
	b->library[strcspn(b->library, "\n")] = '\0';
	for (char *c = b->library; *c; c++)
		if (*c == '\t')
			*c = ' ';
	*boot_p = b;
	return 0;
}

static int mpi_rank(struct rb_boot *b)
{
	return b->rank;
}

static int mpi_size(struct rb_boot *b)
{
	return b->size;
}

static void mpi_set_names(struct rb_boot *b, const char *const *names)
{
	b->names = names;
}

/* " (host node1, rail0 10.200.0.2:40001)" or "" when rank r is unnamed. */
static const char *boot_name(const struct rb_boot *b, int r, char *buf,
			     size_t len)
{
	if (b->names && b->names[r] && b->names[r][0])
		snprintf(buf, len, " (%s)", b->names[r]);
	else
		buf[0] = '\0';
	return buf;
}

/* Writes "rank 2 (host node2, ...), rank 5 (...) and 3 more". */
static void boot_name_missing(const struct rb_boot *b, const int *missing,
			      int nmissing, char *buf, size_t len)
{
	size_t used = 0;
	char name[320];

	buf[0] = '\0';
	for (int i = 0; i < nmissing && i < BOOT_NAME_MAX && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%srank %d%s",
					 i ? ", " : "", missing[i],
					 boot_name(b, missing[i], name,
						   sizeof(name)));
	if (nmissing > BOOT_NAME_MAX && used < len)
		snprintf(buf + used, len - used, " and %d more",
			 nmissing - BOOT_NAME_MAX);
}

/* memcpy that accepts NULL when len is 0 (a barrier has no payload). */
static void boot_copy(void *dst, const void *src, size_t len)
{
	if (len)
		memcpy(dst, src, len);
}

static void boot_combine(enum boot_combine how, int root, void *acc,
			 const void *in, int from, size_t len)
{
	switch (how) {
	case BOOT_GATHER:
	case BOOT_GATHER_ROOT:
		boot_copy((char *)acc + (size_t)from * len, in, len);
		break;
	case BOOT_MAX_F64:
		for (size_t i = 0; i < len / sizeof(double); i++) {
			double v;

			memcpy(&v, (const char *)in + i * sizeof(v), sizeof(v));
			if (v > ((double *)acc)[i])
				((double *)acc)[i] = v;
		}
		break;
	case BOOT_SUM_I64:
		for (size_t i = 0; i < len / sizeof(int64_t); i++) {
			int64_t v;

			memcpy(&v, (const char *)in + i * sizeof(v), sizeof(v));
			((int64_t *)acc)[i] += v;
		}
		break;
	case BOOT_PICK:
		if (from == root)
			boot_copy(acc, in, len);
		break;
	}
}

/* Sleeps *us_p and doubles it up to the cap. */
static void boot_nap(unsigned *us_p)
{
	usleep(*us_p);
	*us_p = RB_MIN(*us_p * 2, BOOT_POLL_MAX_US);
}

/* Polls req until it completes or the deadline passes. \return 0, 1 on
 * timeout, or -RB_EPEER when MPI reports the request failed. */
static int boot_wait_one(MPI_Request *req, uint64_t deadline, const char *what)
{
	unsigned nap = BOOT_POLL_US;

	for (;;) {
		int flag = 0;
		int rc = MPI_Test(req, &flag, MPI_STATUS_IGNORE);

		if (rc != MPI_SUCCESS)
			return mpi_rc(rc, what);
		if (flag)
			return 0;
		if (rb_time_ns() > deadline)
			return 1;
		boot_nap(&nap);
	}
}

/* Rank 0's side: collect, combine, answer. */
static int boot_root(struct rb_boot *b, const char *what, enum boot_combine how,
		     int root, const void *in, size_t in_len, void *out,
		     size_t out_len, int tag)
{
	size_t msg_len = sizeof(struct boot_hdr) + in_len;
	size_t ans_len = sizeof(struct boot_hdr) + out_len;
	/* What the other ranks are sent: the answer, or its header alone. */
	size_t send_len = how == BOOT_GATHER_ROOT ? sizeof(struct boot_hdr) :
						    ans_len;
	int n = b->size;
	MPI_Request *reqs = calloc((size_t)n, sizeof(*reqs));
	char *msgs = malloc((size_t)n * msg_len);
	char *ans = malloc(ans_len);
	int *missing = calloc((size_t)n, sizeof(*missing));
	struct boot_hdr h = { .seq = b->seq, .culprit = -1 };
	uint64_t deadline = rb_time_ns() + (uint64_t)b->timeout_ms * 1000000u;
	int left = n - 1;
	int nmissing = 0;
	unsigned nap = BOOT_POLL_US;
	int rc = 0;

	if (!reqs || !msgs || !ans || !missing) {
		rc = -RB_ENOMEM;
		goto out;
	}
	for (int r = 1; r < n; r++) {
		rc = mpi_rc(MPI_Irecv(msgs + (size_t)r * msg_len, (int)msg_len,
				      MPI_BYTE, r, tag, b->comm, &reqs[r]),
			    "MPI_Irecv");
		if (rc)
			goto out;
	}
	reqs[0] = MPI_REQUEST_NULL;
	if (how == BOOT_MAX_F64 || how == BOOT_SUM_I64 || how == BOOT_PICK)
		boot_copy(ans + sizeof(h), in, in_len);
	else
		boot_combine(how, root, ans + sizeof(h), in, 0, in_len);
	while (left > 0) {
		int idx = MPI_UNDEFINED;
		int flag = 0;
		int mrc = MPI_Testany(n, reqs, &idx, &flag, MPI_STATUS_IGNORE);

		if (mrc != MPI_SUCCESS) {
			/* MPI names no rank here; a later timeout will. */
			rc = mpi_rc(mrc, what);
			goto out_fail;
		}
		if (flag && idx != MPI_UNDEFINED) {
			const char *m = msgs + (size_t)idx * msg_len;
			struct boot_hdr mh;

			memcpy(&mh, m, sizeof(mh));
			if (mh.seq != b->seq) {
				rb_err("bootstrap: rank %d sent exchange %" PRIu32
				       " during exchange %" PRIu32 " (%s)",
				       idx, mh.seq, b->seq, what);
				rc = -RB_EPEER;
				goto out_fail;
			}
			boot_combine(how, root, ans + sizeof(h), m + sizeof(mh),
				     idx, in_len);
			left--;
			nap = BOOT_POLL_US;
			continue;
		}
		if (rb_time_ns() > deadline) {
			char list[2048];

			for (int r = 1; r < n; r++)
				if (reqs[r] != MPI_REQUEST_NULL)
					missing[nmissing++] = r;
			boot_name_missing(b, missing, nmissing, list, sizeof(list));
			rb_log_culprit(missing[0]);
			rb_err("%s did not reach the %s exchange within %" PRId64
			       " ms: lost or stuck", list, what, b->timeout_ms);
			rc = -RB_ETIMEDOUT;
			goto out_fail;
		}
		boot_nap(&nap);
	}
	memcpy(ans, &h, sizeof(h));
	for (int r = 1; r < n && !rc; r++)
		rc = mpi_rc(MPI_Isend(ans, (int)send_len, MPI_BYTE, r, tag,
				      b->comm, &reqs[r]), "MPI_Isend");
	/* The answers leave within the deadline or the receivers are gone. */
	for (int r = 1; r < n && !rc; r++) {
		int w = boot_wait_one(&reqs[r], deadline + (uint64_t)b->timeout_ms * 1000000u,
				      what);

		if (w == 1) {
			char name[320];

			rb_log_culprit(r);
			rb_err("rank %d%s did not take the answer of the %s exchange within %" PRId64 " ms",
			       r, boot_name(b, r, name, sizeof(name)), what,
			       b->timeout_ms);
			rc = -RB_ETIMEDOUT;
		} else {
			rc = w;
		}
	}
	if (!rc)
		boot_copy(out, ans + sizeof(h), out_len);
	goto out;

out_fail:
	/* Tell the ranks that did arrive, so they leave now instead of at
	 * their own, later deadline. Best effort: the job is ending. */
	h.status = rc;
	h.culprit = nmissing ? missing[0] : -1;
	memcpy(ans, &h, sizeof(h));
	for (int r = 1; r < n; r++) {
		MPI_Request s;

		if (reqs[r] != MPI_REQUEST_NULL)
			continue;	/* never arrived: no receive posted */
		if (MPI_Isend(ans, (int)sizeof(h), MPI_BYTE, r, tag, b->comm,
			      &s) == MPI_SUCCESS)
			boot_wait_one(&s, rb_time_ns() + 100000000u, what);
	}
out:
	free(reqs);
	free(msgs);
	free(ans);
	free(missing);
	return rc;
}

/* Any other rank's side: contribute, wait for the answer. */
static int boot_leaf(struct rb_boot *b, const char *what, const void *in,
		     size_t in_len, void *out, size_t out_len, int tag)
{
	size_t msg_len = sizeof(struct boot_hdr) + in_len;
	size_t ans_len = sizeof(struct boot_hdr) + out_len;
	char *msg = malloc(msg_len);
	char *ans = malloc(ans_len);
	struct boot_hdr h = { .seq = b->seq, .culprit = -1 };
	/* Twice rank 0's deadline: it names the missing ranks first. */
	uint64_t deadline = rb_time_ns() + 2 * (uint64_t)b->timeout_ms * 1000000u;
	MPI_Request rreq = MPI_REQUEST_NULL;
	MPI_Request sreq = MPI_REQUEST_NULL;
	char name[320];
	int rc;

	if (!msg || !ans) {
		rc = -RB_ENOMEM;
		goto out;
	}
	memcpy(msg, &h, sizeof(h));
	boot_copy(msg + sizeof(h), in, in_len);
	/* The answer may be a short failure notice: receive up to ans_len. */
	rc = mpi_rc(MPI_Irecv(ans, (int)ans_len, MPI_BYTE, 0, tag, b->comm,
			      &rreq), "MPI_Irecv");
	rc = rc ? rc : mpi_rc(MPI_Isend(msg, (int)msg_len, MPI_BYTE, 0, tag,
					b->comm, &sreq), "MPI_Isend");
	if (rc)
		goto out;
	rc = boot_wait_one(&rreq, deadline, what);
	if (rc == 1) {
		rb_log_culprit(0);
		rb_err("rank 0%s did not answer the %s exchange within %" PRId64
		       " ms: lost or stuck", boot_name(b, 0, name, sizeof(name)),
		       what, 2 * b->timeout_ms);
		rc = -RB_ETIMEDOUT;
		goto out;
	}
	if (rc)
		goto out;
	memcpy(&h, ans, sizeof(h));
	if (h.status) {
		char cname[320] = "";

		if (h.culprit > 0 && h.culprit < b->size) {
			rb_log_culprit(h.culprit);
			snprintf(cname, sizeof(cname), ": rank %d%s did not arrive",
				 h.culprit, boot_name(b, h.culprit, name,
						      sizeof(name)));
		}
		rb_err("rank 0 ended the %s exchange%s", what, cname);
		rc = h.status < 0 ? h.status : -RB_EPEER;
		goto out;
	}
	if (h.seq != b->seq) {
		rb_err("bootstrap: rank 0 answered exchange %" PRIu32
		       " during exchange %" PRIu32 " (%s)", h.seq, b->seq, what);
		rc = -RB_EPEER;
		goto out;
	}
	rc = boot_wait_one(&sreq, deadline, what);
	if (rc == 1)
		rc = -RB_ETIMEDOUT;
	if (!rc)
		boot_copy(out, ans + sizeof(h), out_len);
out:
	free(msg);
	free(ans);
	return rc;
}

static int boot_exchange(struct rb_boot *b, const char *what,
			 enum boot_combine how, int root, const void *in,
			 size_t in_len, void *out, size_t out_len)
{
	int tag = 1 + (int)(b->seq % BOOT_TAG_SPAN);
	int rc;

	if (b->broken) {
		rb_err("bootstrap: %s exchange after a failed one", what);
		return -RB_EPEER;
	}
	if (in_len > (size_t)INT32_MAX / 2 || out_len > (size_t)INT32_MAX / 2) {
		rb_err("bootstrap: %s exchange of %zu bytes is too large",
		       what, RB_MAX(in_len, out_len));
		return -RB_EINVAL;
	}
	if (b->size == 1) {
		if (how == BOOT_GATHER || how == BOOT_GATHER_ROOT ||
		    how == BOOT_PICK ||
		    how == BOOT_MAX_F64 || how == BOOT_SUM_I64)
			if (RB_MIN(in_len, out_len))
				memmove(out, in, RB_MIN(in_len, out_len));
		b->seq++;
		return 0;
	}
	if (b->rank == 0)
		rc = boot_root(b, what, how, root, in, in_len, out, out_len, tag);
	else
		rc = boot_leaf(b, what, in, in_len, out, out_len, tag);
	b->seq++;
	if (rc)
		b->broken = 1;
	return rc;
}

static int mpi_barrier(struct rb_boot *b, const char *what)
{
	return boot_exchange(b, what, BOOT_GATHER, 0, NULL, 0, NULL, 0);
}

static int mpi_allgather(struct rb_boot *b, const char *what, const void *in,
			 void *out, size_t len)
{
	return boot_exchange(b, what, BOOT_GATHER, 0, in, len, out,
			     len * (size_t)b->size);
}

static int mpi_gather(struct rb_boot *b, const char *what, const void *in,
		      void *out, size_t len, int64_t timeout_ms)
{
	int64_t bound = b->timeout_ms;
	int rc;

	if (timeout_ms > 0)
		b->timeout_ms = timeout_ms;
	rc = boot_exchange(b, what, BOOT_GATHER_ROOT, 0, in, len,
			   b->rank == 0 ? out : NULL,
			   b->rank == 0 ? len * (size_t)b->size : 0);
	b->timeout_ms = bound;
	return rc;
}

static int mpi_max_f64(struct rb_boot *b, const char *what, double *v, int n)
{
	size_t len = (size_t)n * sizeof(*v);

	return boot_exchange(b, what, BOOT_MAX_F64, 0, v, len, v, len);
}

static int mpi_sum_i64(struct rb_boot *b, const char *what, int64_t *v, int n)
{
	size_t len = (size_t)n * sizeof(*v);

	return boot_exchange(b, what, BOOT_SUM_I64, 0, v, len, v, len);
}

static int mpi_bcast(struct rb_boot *b, const char *what, void *buf,
		     size_t len, int root)
{
	if (root < 0 || root >= b->size)
		return -RB_EINVAL;
	return boot_exchange(b, what, BOOT_PICK, root, buf, len, buf, len);
}

/* Leaves without MPI: MPI_Abort does not return under mpiexec
 * -disable-auto-cleanup once a peer is gone, and MPI_Finalize would wait
 * for it. Every rank reaches this by itself within its deadlines. */
static void mpi_abort(struct rb_boot *b, int code)
{
	(void)b;
	fflush(NULL);
	_exit(code);
}

static const char *mpi_library(struct rb_boot *b)
{
	return b->library;
}

static void mpi_fini(struct rb_boot *b)
{
	if (!b)
		return;
	MPI_Comm_free(&b->comm);
	MPI_Finalize();
	free(b);
}

const struct rb_boot_ops rb_boot_mpi_ops = {
	.name = "mpi",
	.init = mpi_init,
	.rank = mpi_rank,
	.size = mpi_size,
	.set_names = mpi_set_names,
	.barrier = mpi_barrier,
	.allgather = mpi_allgather,
	.gather = mpi_gather,
	.allreduce_max_f64 = mpi_max_f64,
	.allreduce_sum_i64 = mpi_sum_i64,
	.bcast = mpi_bcast,
	.abort = mpi_abort,
	.library = mpi_library,
	.fini = mpi_fini,
};
