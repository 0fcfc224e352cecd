/* SPDX-License-Identifier: BSD-3-Clause */
/* Point-to-point bandwidth of a transport through the rb_tp interface, the
 * counterpart of perftest's ib_write_bw: rank 0 streams messages to rank 1
 * with a window of outstanding sends; rank 1 checks the last message's data.
 * Usage: mpiexec -n 2 ibv_bw --transport roce [-b MIN] [-e MAX] [-f F]
 *        [-n ITERS] [-w WARMUP] [--window N] [--qps N] [--ib-dev D[:P]]
 *        [--gid-index N] [-T MS]
 * Prints "# size iters time_us gbps" rows (Gb/s = 1e9 bit/s, as perftest's
 * --report_gbits). Exit 0 ok, 1 data wrong, 2 usage, 3 runtime, 77 absent. */
#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rb.h"
#include "transports/transport.h"

#define BW_MAX_WINDOW 64

struct bw {
	const char *transport;
	uint64_t min_bytes;
	uint64_t max_bytes;
	int factor;
	int iters;
	int warmup;
	int window;
	int64_t timeout_ms;
	int rank;
	int nranks;
	char host[MPI_MAX_PROCESSOR_NAME];
	const char **host_ptrs;
	int *node_of;
};

static int bw_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "ibv_bw: %s '%s'\n", msg, arg);
	return -RB_EINVAL;
}

static int bw_int(const char *s, int lo, int hi, int *v_p)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || end == s || v < lo || v > hi)
		return bw_usage("invalid number", s);
	*v_p = (int)v;
	return 0;
}

/* Hands --NAME VALUE to the transport that owns the option. */
static int bw_tp_opt(const char *name, const char *val)
{
	char why[256];

	for (int i = 0; rb_tp_opt_at(i); i++) {
		if (strcmp(rb_tp_opt_at(i)->name, name))
			continue;
		if (rb_tp_opt_parse(i, val, why, sizeof(why)))
			return bw_usage(why, val);
		return 0;
	}
	return bw_usage("option not built", name);
}

static int bw_parse(struct bw *b, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "transport", 1, NULL, 't' }, { "minbytes", 1, NULL, 'b' },
		{ "maxbytes", 1, NULL, 'e' }, { "stepfactor", 1, NULL, 'f' },
		{ "iters", 1, NULL, 'n' }, { "warmup_iters", 1, NULL, 'w' },
		{ "window", 1, NULL, 'W' }, { "qps", 1, NULL, 'q' },
		{ "ib-dev", 1, NULL, 'd' }, { "gid-index", 1, NULL, 'x' },
		{ "timeout", 1, NULL, 'T' }, { NULL, 0, NULL, 0 },
	};
	int ch, v, rc = 0;

	while (!rc && (ch = getopt_long(argc, argv, "t:b:e:f:n:w:W:q:d:x:T:",
					lo, NULL)) != -1) {
		switch (ch) {
		case 't': b->transport = optarg; break;
		case 'b': rc = rb_parse_size(optarg, &b->min_bytes); break;
		case 'e': rc = rb_parse_size(optarg, &b->max_bytes); break;
		case 'f': rc = bw_int(optarg, 2, 1024, &b->factor); break;
		case 'n': rc = bw_int(optarg, 1, 1000000, &b->iters); break;
		case 'w': rc = bw_int(optarg, 0, 1000000, &b->warmup); break;
		case 'W': rc = bw_int(optarg, 1, BW_MAX_WINDOW, &b->window); break;
		case 'q': rc = bw_tp_opt("qps", optarg); break;
		case 'd': rc = bw_tp_opt("ib-dev", optarg); break;
		case 'x': rc = bw_tp_opt("gid-index", optarg); break;
		case 'T':
			rc = bw_int(optarg, 1, 86400000, &v);
			b->timeout_ms = v;
			break;
		default: rc = -RB_EINVAL; break;
		}
		if (rc && ch != '?')
			bw_usage("invalid value", optarg ? optarg : "");
	}
	if (!rc && (!b->transport || b->min_bytes > b->max_bytes ||
		    b->max_bytes == 0))
		rc = bw_usage("need --transport and 0 < -b <= -e, got",
			      b->transport ? b->transport : "(none)");
	return rc;
}

/* Waits for every request in reqs[0..n) or fails. */
static int bw_wait(struct rb_tp *tp, struct rb_tp_req *reqs, int n)
{
	for (int i = 0; i < n; i++) {
		while (!reqs[i].done) {
			int rc = rb_tp_progress(tp, 1000000);

			if (rc)
				return rc;
		}
		if (reqs[i].status)
			return reqs[i].status;
	}
	return 0;
}

/* Streams iters messages of len bytes from rank 0 to rank 1 with up to
 * window in flight. \return 0 and the elapsed time on rank 0. */
static int bw_stream(struct bw *b, struct rb_tp *tp, struct rb_tp_mr *mr,
		     size_t len, int iters, double *sec_p)
{
	struct rb_tp_req reqs[BW_MAX_WINDOW];
	uint64_t t0;
	int rc = 0;

	memset(reqs, 0, sizeof(reqs));
	MPI_Barrier(MPI_COMM_WORLD);
	t0 = rb_time_ns();
	for (int i = 0; i < iters && !rc; i++) {
		struct rb_tp_req *r = &reqs[i % b->window];

		if (i >= b->window)
			rc = bw_wait(tp, r, 1);
		if (rc)
			break;
		if (b->rank == 0)
			rc = rb_tp_isend(tp, 1, mr, 0, len, r);
		else
			rc = rb_tp_irecv(tp, 0, mr, 0, len, r);
	}
	if (!rc)
		rc = bw_wait(tp, reqs, RB_MIN(iters, b->window));
	*sec_p = (double)(rb_time_ns() - t0) / 1e9;
	return rc;
}

static int bw_sweep(struct bw *b, struct rb_tp *tp)
{
	struct rb_tp_mr *mr = NULL;
	unsigned char *buf = NULL;
	size_t max = (size_t)b->max_bytes;
	double sec;
	int rc;

	if (posix_memalign((void **)&buf, 4096, max))
		return -RB_ENOMEM;
	rc = rb_tp_mem_reg(tp, buf, max, RB_MEM_HOST, &mr);
	if (rc)
		goto out_free;
	if (b->rank == 0)
		printf("# transport %s: %s\n#%11s %8s %12s %10s\n",
		       b->transport, tp->desc, "size", "iters", "time_us",
		       "gbps");
	for (uint64_t len = b->min_bytes; len <= b->max_bytes && !rc;
	     len *= (uint64_t)b->factor) {
		for (size_t i = 0; i < len; i++)
			buf[i] = b->rank == 0 ? (unsigned char)(i * 31 + len) : 0;
		rc = bw_stream(b, tp, mr, len, b->warmup, &sec);
		if (!rc)
			rc = bw_stream(b, tp, mr, len, b->iters, &sec);
		if (!rc && b->rank == 1) {
			for (size_t i = 0; i < len && !rc; i++)
				if (buf[i] != (unsigned char)(i * 31 + len))
					rc = -RB_EDATA;
			if (rc)
				rb_err("ibv_bw: data wrong at %llu bytes",
				       (unsigned long long)len);
		}
		if (!rc && b->rank == 0)
			printf("%12llu %8d %12.1f %10.3f\n",
			       (unsigned long long)len, b->iters, sec * 1e6,
			       (double)len * b->iters * 8 / sec / 1e9);
		fflush(stdout);
	}
	rb_tp_mem_dereg(tp, mr);
out_free:
	free(buf);
	return rc;
}

/* Opens the transport and exchanges addresses through MPI. */
static int bw_open(struct bw *b, struct rb_tp **tp_p)
{
	const struct rb_tp_ops *ops = rb_tp_find(b->transport);
	struct rb_tp_args args = {
		.rank = b->rank, .nranks = b->nranks, .local_rank = b->rank,
		.local_nranks = b->nranks, .host = b->host,
		.hosts = b->host_ptrs, .node_of = b->node_of,
		.timeout_ms = b->timeout_ms, .rail = -1, .spec = b->transport,
	};
	static char blobs[2][RB_TP_ADDR_MAX];
	char blob[RB_TP_ADDR_MAX] = { 0 };
	size_t len = sizeof(blob);
	char why[1024];
	struct rb_tp *tp;
	int rc;

	if (!ops) {
		rb_err("ibv_bw: transport %s is not built", b->transport);
		return -RB_ENOTSUP;
	}
	rc = ops->probe(&args, why, sizeof(why));
	if (rc) {
		rb_err("ibv_bw: %s: %s", b->transport, why);
		return rc;
	}
	rc = ops->open(&args, &tp);
	if (rc)
		return rc;
	rc = ops->get_addr(tp, blob, &len);
	if (!rc)
		MPI_Allgather(blob, RB_TP_ADDR_MAX, MPI_BYTE, blobs,
			      RB_TP_ADDR_MAX, MPI_BYTE, MPI_COMM_WORLD);
	if (!rc)
		rc = ops->connect(tp, blobs, RB_TP_ADDR_MAX);
	MPI_Barrier(MPI_COMM_WORLD);
	if (!rc && ops->post_connect)
		rc = ops->post_connect(tp);
	if (rc) {
		rb_tp_close(tp);
		return rc;
	}
	*tp_p = tp;
	return 0;
}

int main(int argc, char **argv)
{
	struct bw b = {
		.min_bytes = 1 << 20, .max_bytes = 8 << 20, .factor = 2,
		.iters = 100, .warmup = 10, .window = 16, .timeout_ms = 20000,
	};
	struct rb_tp *tp = NULL;
	int len, rc, any;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &b.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &b.nranks);
	MPI_Get_processor_name(b.host, &len);
	rb_log_set_prefix(b.host, b.rank);
	rc = bw_parse(&b, argc, argv);
	if (!rc && b.nranks != 2)
		rc = bw_usage("needs exactly 2 ranks, not", "mpiexec -n");
	if (rc) {
		MPI_Finalize();
		return RB_EXIT_USAGE;
	}
	static char names[2][MPI_MAX_PROCESSOR_NAME];
	const char *hp[2] = { names[0], names[1] };
	int node_of[2] = { 0, 0 };

	MPI_Allgather(b.host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, names,
		      MPI_MAX_PROCESSOR_NAME, MPI_CHAR, MPI_COMM_WORLD);
	node_of[1] = strcmp(names[0], names[1]) != 0;

	b.host_ptrs = hp;
	b.node_of = node_of;
	rc = bw_open(&b, &tp);
	if (!rc)
		rc = bw_sweep(&b, tp);
	rb_tp_close(tp);
	any = rc;
	MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	MPI_Finalize();
	if (any == -RB_ENOTSUP)
		return RB_EXIT_SKIP;
	return any ? rb_exit_code(any) : RB_EXIT_OK;
}
