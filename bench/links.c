/* SPDX-License-Identifier: BSD-3-Clause */
/* The run's links: opens the --transport (one transport, or a composition
 * such as shm+tcp that hands each peer to a child), checks that it reaches
 * every peer, exchanges addresses through the bootstrap, connects, gathers
 * each rank's rail for the algorithms, and registers the benchmark
 * buffers. The harness sees only rb_tp_* wrappers (docs/links.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/links.h"

int rb_boot_agree(const struct rb_boot_ops *bops, struct rb_boot *boot,
		  int rc, const char *what, int *boot_failed_p)
{
	double code = rc ? (double)rb_exit_code(rc) : 0;

	if (bops->allreduce_max_f64(boot, what, &code, 1)) {
		*boot_failed_p = 1;
		return RB_EXIT_RUNTIME;
	}
	return (int)code;
}

static int links_agree(const struct rb_links_setup *s, struct rb_links *l,
		       int rc, const char *what)
{
	return rb_boot_agree(s->bops, s->boot, rc, what, &l->boot_failed);
}

static int links_boot(struct rb_links *l, int rc)
{
	if (rc)
		l->boot_failed = 1;
	return rc;
}

/* Local rank of every rank: its index among its node's ranks. */
static int links_topo(const struct rb_links_setup *s, struct rb_links *l)
{
	l->local_rank_of = calloc((size_t)s->nranks, sizeof(int));
	l->rail_of = calloc((size_t)s->nranks, sizeof(int));
	if (!l->local_rank_of || !l->rail_of)
		return -RB_ENOMEM;
	for (int r = 0; r < s->nranks; r++) {
		l->rail_of[r] = -1;
		for (int q = 0; q < r; q++)
			l->local_rank_of[r] += s->node_of[q] == s->node_of[r];
	}
	l->topo = (struct rb_coll_topo){
		.nnodes = s->nnodes,
		.node_of = s->node_of,
		.local_rank_of = l->local_rank_of,
		.rail_of = l->rail_of,
	};
	return 0;
}

/* Names the first peer the transport cannot reach in msg. \return 0 or
 * -RB_EINVAL. */
static int links_reach(const struct rb_links_setup *s, struct rb_links *l,
		       char *msg, size_t len)
{
	for (int p = 0; p < s->nranks; p++) {
		if (p == s->rank || rb_tp_reach(l->ops, &l->args, p))
			continue;
		snprintf(msg, len, "%s: invalid --transport '%s': it cannot reach rank %d (host %s) from rank %d (host %s)%s",
			 s->prog, s->spec, p, s->hosts[p], s->rank,
			 s->hosts[s->rank],
			 s->node_of[p] != s->node_of[s->rank] ?
				 ", another node: compose an inter-node transport, e.g. --transport shm+tcp" :
				 "");
		return -RB_EINVAL;
	}
	return 0;
}

/* Probe and reach on every rank; the lowest rank that fails prints its
 * one line, so a configuration error is reported once, not per rank.
 * \return the agreed exit code. */
static int links_check(const struct rb_links_setup *s, struct rb_links *l)
{
	char why[256] = "";
	char msg[512] = "";
	int *codes = calloc((size_t)s->nranks, sizeof(int));
	int code;
	int rc;

	if (!codes)
		return links_agree(s, l, -RB_ENOMEM, "transport probe");
	rc = l->ops->probe(&l->args, why, sizeof(why));
	if (rc)
		snprintf(msg, sizeof(msg), "%s: transport %s cannot run here: %s",
			 s->prog, s->spec, why);
	else
		rc = links_reach(s, l, msg, sizeof(msg));
	code = rc ? rb_exit_code(rc) : 0;
	rc = links_boot(l, s->bops->allgather(s->boot, "transport probe", &code,
					      codes, sizeof(code)));
	if (rc) {
		free(codes);
		return RB_EXIT_RUNTIME;
	}
	code = 0;
	for (int r = 0; r < s->nranks; r++) {
		if (codes[r] && !code && r == s->rank)
			fprintf(stderr, "%s\n", msg);
		code = RB_MAX(code, codes[r]);
	}
	free(codes);
	return code;
}

/* Address exchange, connect, the barrier after it, post_connect. */
static int links_connect(const struct rb_links_setup *s, struct rb_links *l)
{
	char blob[RB_TP_ADDR_MAX] = { 0 };
	size_t len = sizeof(blob);
	char *blobs = calloc((size_t)s->nranks, RB_TP_ADDR_MAX);
	int rc;

	rc = blobs ? rb_tp_get_addr(l->tp, blob, &len) : -RB_ENOMEM;
	rc = links_agree(s, l, rc, "transport address");
	if (rc)
		goto out;
	rc = links_boot(l, s->bops->allgather(s->boot, "transport addresses",
					      blob, blobs, RB_TP_ADDR_MAX));
	if (!rc)
		rc = rb_tp_connect(l->tp, blobs, RB_TP_ADDR_MAX);
	rc = links_agree(s, l, rc, "transport connect");
	if (rc)
		goto out;
	rc = links_boot(l, s->bops->barrier(s->boot, "connected"));
	if (!rc)
		rc = rb_tp_post_connect(l->tp);
	rc = links_agree(s, l, rc, "transport post-connect");
out:
	free(blobs);
	return rc;
}

/* Rank 0 draws the job's secret and sends it to every rank through the
 * bootstrap; transports that listen accept only peers presenting it
 * (docs/tcp.md, "Peer authentication"). \return the agreed exit code. */
static int links_secret(const struct rb_links_setup *s, struct rb_links *l)
{
	int rc = s->rank == 0 ? rb_secret_new(l->secret, sizeof(l->secret)) : 0;

	rc = links_agree(s, l, rc, "job secret");
	if (rc)
		return rc;
	rc = links_boot(l, s->bops->bcast(s->boot, "job secret", l->secret,
					  sizeof(l->secret), 0));
	rc = links_agree(s, l, rc, "job secret");
	l->args.job_secret = l->secret;
	return rc;
}

int rb_links_open(const struct rb_links_setup *s, struct rb_links *l)
{
	int rail;
	int rc;

	rc = links_topo(s, l);
	if (rc)
		return links_agree(s, l, rc, "topology");
	l->ops = rb_tp_find(s->spec);
	l->args = (struct rb_tp_args){
		.spec = s->spec,
		.rank = s->rank,
		.nranks = s->nranks,
		.local_rank = s->local_rank,
		.local_nranks = s->local_nranks,
		.host = s->hosts[s->rank],
		.hosts = s->hosts,
		.node_of = s->node_of,
		.local_rank_of = l->local_rank_of,
		.timeout_ms = s->timeout_ms,
		.rail_netdev = s->rail_netdev,
		.rail_ibdev = s->rail_ibdev,
		.rail = s->rail,
	};
	rc = links_check(s, l);
	if (rc)
		return rc;
	rc = links_secret(s, l);
	if (rc)
		return rc;
	rc = links_agree(s, l, l->ops->open(&l->args, &l->tp), "transport open");
	if (rc)
		return rc;
	l->tp->ops = l->ops;
	rc = links_connect(s, l);
	if (rc)
		return rc;
	/* The rail each rank's transport actually uses (its --net-if entry,
	 * its --rails NIC): what rail-aligned algorithms group by. */
	rail = l->tp->rail;
	return links_agree(s, l, links_boot(l, s->bops->allgather(
					  s->boot, "rails", &rail, l->rail_of,
					  sizeof(rail))), "rails");
}

int rb_links_buffers(struct rb_links *l, size_t send_bytes, size_t recv_bytes)
{
	int rc;

	l->mem = rb_mem_find(RB_MEM_HOST);
	l->send_bytes = send_bytes;
	l->recv_bytes = recv_bytes;
	rc = l->mem->alloc(send_bytes, &l->sendbuf);
	rc = rc ? rc : l->mem->alloc(recv_bytes, &l->recvbuf);
	rc = rc ? rc : l->mem->alloc(recv_bytes, &l->expected);
	if (rc) {
		rb_err("cannot allocate %zu + 2 x %zu bytes of buffers", send_bytes,
		       recv_bytes);
		return rc;
	}
	rc = rb_tp_mem_reg(l->tp, l->sendbuf, send_bytes, RB_MEM_HOST,
			   &l->send_mr);
	rc = rc ? rc : rb_tp_mem_reg(l->tp, l->recvbuf, recv_bytes, RB_MEM_HOST,
				     &l->recv_mr);
	return rc;
}

void rb_links_close(struct rb_links *l)
{
	if (l->tp) {
		rb_tp_mem_dereg(l->tp, l->send_mr);
		rb_tp_mem_dereg(l->tp, l->recv_mr);
		rb_tp_close(l->tp);
	}
	if (l->mem) {
		l->mem->free(l->sendbuf);
		l->mem->free(l->recvbuf);
		l->mem->free(l->expected);
	}
	free(l->local_rank_of);
	free(l->rail_of);
	memset(l, 0, sizeof(*l));
}
