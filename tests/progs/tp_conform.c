/* SPDX-License-Identifier: BSD-3-Clause */
/* Transport conformance under mpiexec: opens any transport by name, then
 * checks sizes, per-pair ordering, small-message bursts and (--kill-test)
 * dead-peer detection; prints TAP on rank 0. Exit 0 pass, 1 fail, 2 usage,
 * 3 runtime failure, 77 transport not available here. */
#include <getopt.h>
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/rb.h"
#include "transports/transport.h"

#define CONF_KEY_MAX 320	/* hostname + network namespace id */
#define CONF_MAX_MSG ((16u << 20) + 4096)
#define CONF_ORDER_MSGS 8
#define CONF_BURST_MSGS 2000
#define CONF_BURST_MAX 64
#define CONF_VICTIM_EXIT 99	/* --kill-test: the rank that died on purpose */

static const size_t conf_sizes[] = {
	0, 1, 7, 4096, 65535, (1u << 20) + 13, 16u << 20,
};

/* Sizes of the in-flight ordering case: eager and single-copy paths mixed. */
static const size_t conf_order_sizes[CONF_ORDER_MSGS] = {
	1, 4096, 65535, (1u << 20) + 13, 7, 0, 200000, 3,
};

struct conf_opt {
	const char *name;
	int has_arg;
	int val;
	const char *metavar;
	const char *help;
};

static const struct conf_opt conf_opt_table[] = {
	{ "transport", 1, 't', "NAME", "transport to test (required)" },
	{ "net-if", 1, 'i', "IF[,IF]", "network interface(s) (tcp)" },
	{ "timeout", 1, 'T', "MS", "bound on every wait (default 20000)" },
	{ "self", 0, 's', NULL, "also exchange with this rank itself" },
	{ "kill-test", 0, 'k', NULL, "rank 1 exits mid-run; rank 0 must notice" },
	{ "help", 0, 'h', NULL, "this text" },
};

struct conf {
	const char *transport;
	int64_t timeout_ms;
	int self;
	int kill_test;
	int rank;
	int nranks;
	char host[256];
	char *keys;		/* [nranks][CONF_KEY_MAX], host name first */
	const char **hosts;
	int *node_of;
	int *local_rank_of;
	unsigned char secret[RB_SECRET_BYTES];	/* rank 0's, sent to all */
	struct rb_tp *tp;
	int *peers;		/* ranks exchanged with */
	int npeers;
	char **sbuf;		/* [npeers] CONF_MAX_MSG bytes each */
	char **rbuf;
	struct rb_tp_mr **smr;
	struct rb_tp_mr **rmr;
	int tap_n;
};

static void conf_usage(FILE *f)
{
	fprintf(f, "usage: mpiexec -n N tp_conform --transport NAME [options]\n");
	for (size_t i = 0; i < RB_ARRAY_SIZE(conf_opt_table); i++) {
		const struct conf_opt *o = &conf_opt_table[i];

		fprintf(f, "  -%c, --%s%s%-8s %s\n", o->val, o->name,
			o->metavar ? " " : "", o->metavar ? o->metavar : "",
			o->help);
	}
}

/* Hands --NAME VALUE to the transport that owns the option. \return 0 or
 * -RB_EINVAL after printing why. */
static int conf_tp_opt(const char *name, const char *val)
{
	char why[256];

	for (int i = 0; rb_tp_opt_at(i); i++) {
		if (strcmp(rb_tp_opt_at(i)->name, name))
			continue;
		if (!rb_tp_opt_parse(i, val, why, sizeof(why)))
			return 0;
		fprintf(stderr, "tp_conform: invalid %s\n", why);
		return -RB_EINVAL;
	}
	fprintf(stderr, "tp_conform: --%s: no transport built here owns it\n", name);
	return -RB_EINVAL;
}

/* \return 0, or RB_EXIT_USAGE after printing why. */
static int conf_parse(struct conf *c, int argc, char **argv)
{
	struct option lo[RB_ARRAY_SIZE(conf_opt_table) + 1];
	char shortopts[64] = "";
	char *end;
	int ch;

	for (size_t i = 0; i < RB_ARRAY_SIZE(conf_opt_table); i++) {
		const struct conf_opt *o = &conf_opt_table[i];

		lo[i] = (struct option){ .name = o->name,
					 .has_arg = o->has_arg,
					 .val = o->val };
		snprintf(shortopts + strlen(shortopts),
			 sizeof(shortopts) - strlen(shortopts), "%c%s",
			 o->val, o->has_arg ? ":" : "");
	}
	lo[RB_ARRAY_SIZE(conf_opt_table)] = (struct option){ 0 };
	while ((ch = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			c->transport = optarg;
			break;
		case 'i':
			if (conf_tp_opt("net-if", optarg))
				return RB_EXIT_USAGE;
			break;
		case 'T':
			c->timeout_ms = strtoll(optarg, &end, 10);
			if (*end || end == optarg || c->timeout_ms <= 0) {
				fprintf(stderr, "tp_conform: invalid --timeout '%s': want milliseconds > 0\n",
					optarg);
				return RB_EXIT_USAGE;
			}
			break;
		case 's':
			c->self = 1;
			break;
		case 'k':
			c->kill_test = 1;
			break;
		case 'h':
			conf_usage(stdout);
			exit(RB_EXIT_OK);
		default:
			conf_usage(stderr);
			return RB_EXIT_USAGE;
		}
	}
	if (!c->transport || optind != argc) {
		fprintf(stderr, "tp_conform: --transport is required and no operands are taken\n");
		return RB_EXIT_USAGE;
	}
	return 0;
}

/* Gathers "host net:[id]" of every rank; ranks with equal keys share a
 * node (same host and network namespace). \return 0 or -RB_ENOMEM. */
static int conf_nodes(struct conf *c)
{
	char key[CONF_KEY_MAX] = "";
	char ns[64] = "?";
	ssize_t n;
	int nnodes = 0;

	gethostname(c->host, sizeof(c->host) - 1);
	rb_log_set_prefix(c->host, c->rank);
	n = readlink("/proc/self/ns/net", ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 1] = '\0';
	/* key = host '\0' namespace: both parts compared below. */
	memcpy(key, c->host, strlen(c->host) + 1);
	memcpy(key + strlen(c->host) + 1, ns, strlen(ns) + 1);
	c->keys = calloc((size_t)c->nranks, CONF_KEY_MAX);
	c->hosts = calloc((size_t)c->nranks, sizeof(*c->hosts));
	c->node_of = calloc((size_t)c->nranks, sizeof(*c->node_of));
	if (!c->keys || !c->hosts || !c->node_of)
		return -RB_ENOMEM;
	MPI_Allgather(key, CONF_KEY_MAX, MPI_CHAR, c->keys, CONF_KEY_MAX,
		      MPI_CHAR, MPI_COMM_WORLD);
	for (int r = 0; r < c->nranks; r++) {
		const char *kr = c->keys + (size_t)r * CONF_KEY_MAX;

		c->hosts[r] = kr;
		c->node_of[r] = -1;
		for (int q = 0; q < r && c->node_of[r] < 0; q++) {
			const char *kq = c->keys + (size_t)q * CONF_KEY_MAX;

			if (!strcmp(kq, kr) &&
			    !strcmp(kq + strlen(kq) + 1, kr + strlen(kr) + 1))
				c->node_of[r] = c->node_of[q];
		}
		if (c->node_of[r] < 0)
			c->node_of[r] = nnodes++;
	}
	return 0;
}

static int conf_args(struct conf *c, struct rb_tp_args *a)
{
	int rc = c->rank == 0 ? rb_secret_new(c->secret, sizeof(c->secret)) : 0;

	MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (rc)
		return rc;
	MPI_Bcast(c->secret, sizeof(c->secret), MPI_BYTE, 0, MPI_COMM_WORLD);
	c->local_rank_of = calloc((size_t)c->nranks, sizeof(int));
	if (!c->local_rank_of)
		return -RB_ENOMEM;
	*a = (struct rb_tp_args){
		.spec = c->transport,
		.rank = c->rank,
		.nranks = c->nranks,
		.host = c->host,
		.hosts = c->hosts,
		.node_of = c->node_of,
		.local_rank_of = c->local_rank_of,
		.timeout_ms = c->timeout_ms,
		.job_secret = c->secret,
		.rail = -1,
	};
	for (int r = 0; r < c->nranks; r++) {
		for (int q = 0; q < r; q++)
			c->local_rank_of[r] += c->node_of[q] == c->node_of[r];
		if (c->node_of[r] != c->node_of[c->rank])
			continue;
		if (r < c->rank)
			a->local_rank++;
		a->local_nranks++;
	}
	return 0;
}

/* open, exchange addresses, connect, barrier, post_connect. */
static int conf_connect(struct conf *c, const struct rb_tp_ops *ops,
			const struct rb_tp_args *a)
{
	char blob[RB_TP_ADDR_MAX] = { 0 };
	size_t len = sizeof(blob);
	char *all;
	int rc;

	rc = ops->open(a, &c->tp);
	if (rc)
		return rc;
	rc = ops->get_addr(c->tp, blob, &len);
	if (rc)
		return rc;
	all = malloc((size_t)c->nranks * RB_TP_ADDR_MAX);
	if (!all)
		return -RB_ENOMEM;
	MPI_Allgather(blob, RB_TP_ADDR_MAX, MPI_BYTE, all, RB_TP_ADDR_MAX,
		      MPI_BYTE, MPI_COMM_WORLD);
	rc = ops->connect(c->tp, all, RB_TP_ADDR_MAX);
	free(all);
	MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (rc)
		return rc;
	MPI_Barrier(MPI_COMM_WORLD);
	if (ops->post_connect)
		rc = ops->post_connect(c->tp);
	return rc;
}

/* Buffers and registrations for every peer. \return 0 or -RB_E*. */
static int conf_buffers(struct conf *c)
{
	const struct rb_mem_ops *mem = rb_mem_find(RB_MEM_HOST);
	int rc;

	c->peers = calloc((size_t)c->nranks, sizeof(*c->peers));
	for (int r = 0; c->peers && r < c->nranks; r++) {
		if (r != c->rank || c->self)
			c->peers[c->npeers++] = r;
	}
	c->sbuf = calloc((size_t)c->nranks, sizeof(*c->sbuf));
	c->rbuf = calloc((size_t)c->nranks, sizeof(*c->rbuf));
	c->smr = calloc((size_t)c->nranks, sizeof(*c->smr));
	c->rmr = calloc((size_t)c->nranks, sizeof(*c->rmr));
	if (!c->peers || !c->sbuf || !c->rbuf || !c->smr || !c->rmr)
		return -RB_ENOMEM;
	for (int i = 0; i < c->npeers; i++) {
		rc = mem->alloc(CONF_MAX_MSG, (void **)&c->sbuf[i]);
		if (!rc)
			rc = mem->alloc(CONF_MAX_MSG, (void **)&c->rbuf[i]);
		if (!rc)
			rc = rb_tp_mem_reg(c->tp, c->sbuf[i], CONF_MAX_MSG,
					   RB_MEM_HOST, &c->smr[i]);
		if (!rc)
			rc = rb_tp_mem_reg(c->tp, c->rbuf[i], CONF_MAX_MSG,
					   RB_MEM_HOST, &c->rmr[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static void conf_free(struct conf *c)
{
	const struct rb_mem_ops *mem = rb_mem_find(RB_MEM_HOST);

	for (int i = 0; c->sbuf && c->rbuf && c->smr && c->rmr &&
			i < c->npeers; i++) {
		if (c->tp) {
			rb_tp_mem_dereg(c->tp, c->smr[i]);
			rb_tp_mem_dereg(c->tp, c->rmr[i]);
		}
		mem->free(c->sbuf[i]);
		mem->free(c->rbuf[i]);
	}
	rb_tp_close(c->tp);
	c->tp = NULL;
	free(c->smr);
	free(c->rmr);
	free(c->sbuf);
	free(c->rbuf);
	free(c->peers);
	free(c->keys);
	free(c->hosts);
	free(c->node_of);
	free(c->local_rank_of);
}

/* ---- data patterns ------------------------------------------------------ */

static uint32_t conf_seed(int src, int dst, unsigned tag)
{
	uint32_t h = (uint32_t)src * 0x9e3779b1u ^ (uint32_t)dst * 0x85ebca77u ^
		     (tag + 1) * 0xc2b2ae3du;

	return h ^ h >> 15;
}

/* Byte i of message (src -> dst, tag): each byte lane (i mod 4) follows
 * one byte of the 32-bit seed, so two messages differ somewhere in every
 * 4 bytes; the offset terms catch shifted or swapped blocks. */
static uint8_t conf_byte(uint32_t seed, size_t i)
{
	return (uint8_t)((seed >> (8 * (i & 3))) + i + (i >> 8) * 3 +
			 (i >> 16) * 5);
}

static void conf_fill(char *buf, size_t len, int src, int dst, unsigned tag)
{
	uint32_t seed = conf_seed(src, dst, tag);

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)conf_byte(seed, i);
}

/* \return number of wrong bytes; logs the first. */
static size_t conf_check(const char *buf, size_t len, int src, int dst,
			 unsigned tag, const char *what)
{
	uint32_t seed = conf_seed(src, dst, tag);
	size_t wrong = 0;
	size_t first = 0;

	for (size_t i = 0; i < len; i++) {
		if ((uint8_t)buf[i] != conf_byte(seed, i) && !wrong++)
			first = i;
	}
	if (wrong)
		rb_err("%s: %zu of %zu bytes from rank %d wrong, first at offset %zu (0x%02x, want 0x%02x)",
		       what, wrong, len, src, first, (uint8_t)buf[first],
		       conf_byte(seed, first));
	return wrong;
}

/* ---- cases -------------------------------------------------------------- */

/* Drives progress until every request is done or the timeout expires.
 * \return 0, the first failed request's status, or -RB_ETIMEDOUT (logged
 * with the first pending request's peer). */
static int conf_wait(struct conf *c, struct rb_tp_req *reqs, int n,
		     const char *what)
{
	uint64_t deadline = rb_time_ns() + (uint64_t)c->timeout_ms * 1000000u;
	int pending = n;
	int rc;

	while (pending) {
		rc = rb_tp_progress(c->tp, 1000000);
		if (rc && rc != -RB_EPEER)
			return rc;
		pending = 0;
		for (int i = 0; i < n; i++)
			pending += !reqs[i].done;
		if (pending && rb_time_ns() > deadline) {
			for (int i = 0; i < n; i++) {
				if (reqs[i].done)
					continue;
				rb_err("%s: timed out after %lld ms with %d requests pending, first with rank %d (host %s)",
				       what, (long long)c->timeout_ms, pending,
				       reqs[i].peer, c->hosts[reqs[i].peer]);
				break;
			}
			return -RB_ETIMEDOUT;
		}
	}
	for (int i = 0; i < n; i++) {
		if (reqs[i].status)
			return reqs[i].status;
	}
	return 0;
}

/* Posts one message each way with every peer; even ranks post the send
 * first, odd ranks the receive, so both arrival orders are exercised. */
static int conf_post_pair(struct conf *c, int i, size_t roff, size_t soff,
			  size_t len, struct rb_tp_req *rr,
			  struct rb_tp_req *sr)
{
	int p = c->peers[i];
	int rc;

	if (c->rank % 2 == 0) {
		rc = rb_tp_isend(c->tp, p, c->smr[i], soff, len, sr);
		if (!rc)
			rc = rb_tp_irecv(c->tp, p, c->rmr[i], roff, len, rr);
	} else {
		rc = rb_tp_irecv(c->tp, p, c->rmr[i], roff, len, rr);
		if (!rc)
			rc = rb_tp_isend(c->tp, p, c->smr[i], soff, len, sr);
	}
	if (rc)
		rb_err("posting %zu bytes with rank %d: %s", len, p,
		       rb_strerror(rc));
	return rc;
}

/* One size, every pair, one message each way. \return wrong bytes or
 * a negative error. */
static long long conf_case_size(struct conf *c, size_t len, unsigned tag)
{
	struct rb_tp_req *reqs = calloc(2 * (size_t)c->npeers + 1,
					sizeof(*reqs));
	long long wrong = 0;
	int rc = reqs ? 0 : -RB_ENOMEM;

	for (int i = 0; !rc && i < c->npeers; i++) {
		conf_fill(c->sbuf[i], len, c->rank, c->peers[i], tag);
		memset(c->rbuf[i], 0xa5, len + 1);
		rc = conf_post_pair(c, i, 0, 0, len, &reqs[2 * i],
				    &reqs[2 * i + 1]);
	}
	if (!rc)
		rc = conf_wait(c, reqs, 2 * c->npeers, "size exchange");
	for (int i = 0; !rc && i < c->npeers; i++) {
		wrong += (long long)conf_check(c->rbuf[i], len, c->peers[i],
					       c->rank, tag, "size exchange");
		/* One byte past the message must be untouched. */
		wrong += (uint8_t)c->rbuf[i][len] != 0xa5;
	}
	free(reqs);
	return rc ? rc : wrong;
}

/* CONF_ORDER_MSGS messages of mixed sizes in flight per pair, both ways.
 * Swapped delivery shows up as a length mismatch or a wrong pattern. */
static long long conf_case_order(struct conf *c)
{
	size_t n = (size_t)c->npeers * CONF_ORDER_MSGS;
	struct rb_tp_req *reqs = calloc(2 * n + 1, sizeof(*reqs));
	size_t off[CONF_ORDER_MSGS];
	size_t o = 0;
	long long wrong = 0;
	int rc = reqs ? 0 : -RB_ENOMEM;

	for (int m = 0; m < CONF_ORDER_MSGS; m++) {
		off[m] = o + 1;	/* odd offsets: no alignment assumed */
		o = off[m] + conf_order_sizes[m];
	}
	for (int i = 0; !rc && i < c->npeers; i++) {
		for (int m = 0; !rc && m < CONF_ORDER_MSGS; m++) {
			size_t k = (size_t)i * CONF_ORDER_MSGS + (size_t)m;

			conf_fill(c->sbuf[i] + off[m], conf_order_sizes[m],
				  c->rank, c->peers[i], 100u + (unsigned)m);
			rc = conf_post_pair(c, i, off[m], off[m],
					    conf_order_sizes[m], &reqs[2 * k],
					    &reqs[2 * k + 1]);
		}
	}
	if (!rc)
		rc = conf_wait(c, reqs, (int)(2 * n), "ordering");
	for (int i = 0; !rc && i < c->npeers; i++) {
		for (int m = 0; m < CONF_ORDER_MSGS; m++)
			wrong += (long long)conf_check(c->rbuf[i] + off[m],
				conf_order_sizes[m], c->peers[i], c->rank,
				100u + (unsigned)m, "ordering");
	}
	free(reqs);
	return rc ? rc : wrong;
}

/* CONF_BURST_MSGS tiny messages per pair, all posted before any wait. */
static long long conf_case_burst(struct conf *c)
{
	size_t n = (size_t)c->npeers * CONF_BURST_MSGS;
	struct rb_tp_req *reqs = calloc(2 * n + 1, sizeof(*reqs));
	long long wrong = 0;
	int rc = reqs ? 0 : -RB_ENOMEM;

	for (int i = 0; !rc && i < c->npeers; i++) {
		for (int m = 0; !rc && m < CONF_BURST_MSGS; m++) {
			size_t k = (size_t)i * CONF_BURST_MSGS + (size_t)m;
			size_t off = (size_t)m * CONF_BURST_MAX;
			size_t len = 1 + (size_t)m % CONF_BURST_MAX;

			conf_fill(c->sbuf[i] + off, len, c->rank, c->peers[i],
				  1000u + (unsigned)m);
			rc = conf_post_pair(c, i, off, off, len, &reqs[2 * k],
					    &reqs[2 * k + 1]);
		}
	}
	if (!rc)
		rc = conf_wait(c, reqs, (int)(2 * n), "burst");
	for (int i = 0; !rc && i < c->npeers; i++) {
		for (int m = 0; m < CONF_BURST_MSGS; m++)
			wrong += (long long)conf_check(
				c->rbuf[i] + (size_t)m * CONF_BURST_MAX,
				1 + (size_t)m % CONF_BURST_MAX, c->peers[i],
				c->rank, 1000u + (unsigned)m, "burst");
	}
	free(reqs);
	return rc ? rc : wrong;
}

/* Combines every rank's result of one case and prints its TAP line.
 * \return 1 if the case failed anywhere. */
static int conf_report(struct conf *c, long long local, const char *name)
{
	long long worst_err = local < 0 ? local : 0;
	long long wrong = local > 0 ? local : 0;

	MPI_Allreduce(MPI_IN_PLACE, &worst_err, 1, MPI_LONG_LONG, MPI_MIN,
		      MPI_COMM_WORLD);
	MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_LONG_LONG, MPI_SUM,
		      MPI_COMM_WORLD);
	c->tap_n++;
	if (c->rank == 0) {
		if (!c->npeers)
			printf("ok %d - %s # SKIP no peer (1 rank, no --self)\n",
			       c->tap_n, name);
		else if (worst_err)
			printf("not ok %d - %s\n#   %s\n", c->tap_n, name,
			       rb_strerror((int)worst_err));
		else if (wrong)
			printf("not ok %d - %s\n#   %lld wrong bytes\n",
			       c->tap_n, name, wrong);
		else
			printf("ok %d - %s\n", c->tap_n, name);
		fflush(stdout);
	}
	return worst_err || wrong;
}

static int conf_run_cases(struct conf *c)
{
	char name[96];
	int failed = 0;

	for (size_t s = 0; s < RB_ARRAY_SIZE(conf_sizes); s++) {
		snprintf(name, sizeof(name), "sizes pair exchange %zu B",
			 conf_sizes[s]);
		failed += conf_report(c, conf_case_size(c, conf_sizes[s],
							(unsigned)s), name);
	}
	failed += conf_report(c, conf_case_order(c),
			      "ordering with 8 mixed-size messages in flight per pair");
	failed += conf_report(c, conf_case_burst(c),
			      "burst of 2000 small messages per pair");
	return failed;
}

/* Ranks other than 0 and 1 wait for rank 0's verdict over the transport
 * itself: exiting earlier would make mpiexec end the job. */
static void conf_kill_bystanders(struct conf *c)
{
	struct rb_tp_req req = { 0 };
	int i0 = c->self && c->rank == 0;	/* rank 0's own buffers */

	if (c->rank >= 2) {
		if (!rb_tp_irecv(c->tp, 0, c->rmr[0], 0, 1, &req))
			conf_wait(c, &req, 1, "verdict from rank 0");
		return;
	}
	for (int r = 2; r < c->nranks; r++) {
		if (!rb_tp_isend(c->tp, r, c->smr[i0], 0, 1, &req))
			conf_wait(c, &req, 1, "verdict to bystander");
	}
}

/* Rank 1 pushes part of a 16 MiB message to rank 0 and exits; rank 0
 * expects its receives to fail with -RB_EPEER or time out, not hang.
 * \return the exit code of this process. */
static int conf_kill_case(struct conf *c)
{
	struct rb_tp_req reqs[2] = { 0 };
	uint64_t t0;
	int rc;

	if (c->rank == 1) {
		conf_fill(c->sbuf[0], 16u << 20, 1, 0, 7);
		rb_tp_isend(c->tp, 0, c->smr[0], 0, 16u << 20, &reqs[0]);
		fflush(NULL);
		_exit(CONF_VICTIM_EXIT);
	}
	if (c->rank != 0) {
		conf_kill_bystanders(c);
		return RB_EXIT_OK;
	}
	t0 = rb_time_ns();
	rc = rb_tp_irecv(c->tp, 1, c->rmr[0], 0, 16u << 20, &reqs[0]);
	if (!rc)
		rc = rb_tp_irecv(c->tp, 1, c->rmr[0], 0, 1, &reqs[1]);
	if (!rc)
		rc = conf_wait(c, reqs, 2, "dead peer");
	if (rc == -RB_EPEER || rc == -RB_ETIMEDOUT)
		printf("ok 1 - dead peer reported as '%s' after %.3f s\n",
		       rb_strerror(rc), (double)(rb_time_ns() - t0) / 1e9);
	else
		printf("not ok 1 - dead peer reported as '%s'\n",
		       rb_strerror(rc));
	fflush(stdout);
	conf_kill_bystanders(c);
	return rc == -RB_EPEER || rc == -RB_ETIMEDOUT ? RB_EXIT_OK :
							RB_EXIT_VERDICT;
}

/* mpiexec tears the whole job down as soon as one rank exits, so with
 * --kill-test each rank runs in a child process: the parent the launcher
 * watches outlives a victim child long enough for rank 0 to notice.
 * \return -1 in the child, else the parent's exit code. */
static int conf_fork_guard(const struct conf *c)
{
	struct timespec ts = {
		.tv_sec = (time_t)(c->timeout_ms / 1000 + 5),
	};
	pid_t pid = fork();
	int st;

	if (pid < 0) {
		perror("tp_conform: fork");
		return RB_EXIT_RUNTIME;
	}
	if (pid == 0)
		return -1;
	if (waitpid(pid, &st, 0) < 0)
		return RB_EXIT_RUNTIME;
	if (WIFEXITED(st) && WEXITSTATUS(st) == CONF_VICTIM_EXIT) {
		nanosleep(&ts, NULL);
		return RB_EXIT_OK;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : RB_EXIT_RUNTIME;
}

/* Finds, probes and connects the transport on every rank. \return 0,
 * RB_EXIT_SKIP when probe says not supported, or another exit code. */
static int conf_setup(struct conf *c)
{
	const struct rb_tp_ops *ops = rb_tp_find(c->transport);
	struct rb_tp_args args;
	char why[256] = "";
	char list[128];
	int rc;

	if (!ops) {
		if (c->rank == 0)
			fprintf(stderr, "tp_conform: unknown transport '%s' (built: %s)\n",
				c->transport, rb_tp_list(list, sizeof(list)));
		return RB_EXIT_USAGE;
	}
	rc = conf_nodes(c);
	if (rc)
		return RB_EXIT_RUNTIME;
	if (conf_args(c, &args))
		return RB_EXIT_RUNTIME;
	rc = ops->probe(&args, why, sizeof(why));
	for (int p = 0; !rc && p < c->nranks; p++) {
		if (p != c->rank && !rb_tp_reach(ops, &args, p)) {
			snprintf(why, sizeof(why), "%s cannot reach rank %d (host %s): another node",
				 c->transport, p, c->hosts[p]);
			rc = -RB_ENOTSUP;
		}
	}
	MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (rc) {
		if (why[0])
			fprintf(stderr, "tp_conform: probe: %s\n", why);
		return rc == -RB_ENOTSUP ? RB_EXIT_SKIP : rb_exit_code(rc);
	}
	rc = conf_connect(c, ops, &args);
	if (!rc)
		rc = conf_buffers(c);
	if (rc) {
		rb_err("%s: setup failed: %s", c->transport, rb_strerror(rc));
		return rb_exit_code(rc);
	}
	if (c->rank == 0)
		printf("# transport %s: %s, %d ranks\n", c->transport,
		       c->tp->desc, c->nranks);
	return 0;
}

int main(int argc, char **argv)
{
	struct conf c = { .timeout_ms = 20000 };
	int rc;

	rc = conf_parse(&c, argc, argv);
	if (rc)
		return rc;
	if (c.kill_test) {
		rc = conf_fork_guard(&c);
		if (rc >= 0)
			return rc;
	}
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &c.rank);
	MPI_Comm_size(MPI_COMM_WORLD, &c.nranks);
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = conf_setup(&c);
	if (rc == RB_EXIT_SKIP || rc == RB_EXIT_USAGE) {
		conf_free(&c);
		MPI_Finalize();
		return rc;
	}
	if (rc)
		MPI_Abort(MPI_COMM_WORLD, rc);
	MPI_Barrier(MPI_COMM_WORLD);
	if (c.kill_test && c.nranks < 2) {
		if (c.rank == 0)
			printf("ok 1 - dead peer # SKIP needs 2 ranks\n");
	} else if (c.kill_test) {
		/* No MPI_Finalize: rank 1 is gone, a collective would hang. */
		rc = conf_kill_case(&c);
		fflush(NULL);
		_exit(rc);
	}
	rc = c.kill_test ? 0 : conf_run_cases(&c);
	conf_free(&c);
	MPI_Finalize();
	return rc ? RB_EXIT_VERDICT : RB_EXIT_OK;
}
