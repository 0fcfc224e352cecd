/* SPDX-License-Identifier: BSD-3-Clause */
/* tcp transport, the hello: what a connecting rank sends first, and the
 * check that decides whether an accepted connection is a peer at all
 * (docs/tcp.md, "Peer authentication"). Pure functions over bytes, so that
 * unit tests and the fuzzer call them without sockets. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "transports/tcp.h"

void rb_tcp_hello_make(const struct tcp_tp *t, int stream, struct tcp_hello *h)
{
	*h = (struct tcp_hello){ .magic = TCP_HELLO_MAGIC,
				 .rank = (uint32_t)t->base.rank,
				 .stream = (uint32_t)stream,
				 .nstreams = (uint32_t)t->nstreams };
	memcpy(h->secret, t->args.job_secret, sizeof(h->secret));
}

int rb_tcp_hello_check(const struct tcp_tp *t, const void *buf, size_t len,
		       struct in_addr src, int *rank_p, int *stream_p,
		       char *why, size_t why_len)
{
	struct tcp_hello h = { 0 };
	char ips[INET_ADDRSTRLEN];
	int secret_ok;

	memcpy(&h, buf, RB_MIN(len, sizeof(h)));
	/* Compared before anything else is looked at, and always in full. */
	secret_ok = rb_secret_equal(h.secret, t->args.job_secret,
				    sizeof(h.secret));
	if (len != sizeof(h)) {
		snprintf(why, why_len, "closed after %zu bytes of a %zu-byte hello",
			 len, sizeof(h));
		return -RB_EPEER;
	}
	if (h.magic != TCP_HELLO_MAGIC) {
		snprintf(why, why_len, "not a railbench hello");
		return -RB_EPEER;
	}
	if (!secret_ok) {
		snprintf(why, why_len, "wrong job secret (another job, or not railbench)");
		return -RB_EPEER;
	}
	if (h.nstreams != (uint32_t)t->nstreams || h.stream >= h.nstreams) {
		snprintf(why, why_len, "stream %u of %u, here %d streams per peer",
			 h.stream, h.nstreams, t->nstreams);
		return -RB_EPEER;
	}
	if (h.rank >= (uint32_t)t->base.rank ||
	    !rb_tp_args_serves(&t->args, (int)h.rank)) {
		snprintf(why, why_len, "claims rank %u, which does not connect to rank %d",
			 h.rank, t->base.rank);
		return -RB_EPEER;
	}
	if (t->peers[h.rank].ip.s_addr != src.s_addr) {
		snprintf(why, why_len, "claims rank %u, whose published address is %s",
			 h.rank, inet_ntop(AF_INET, &t->peers[h.rank].ip, ips,
					   sizeof(ips)));
		return -RB_EPEER;
	}
	if (t->peers[h.rank].conn[h.stream].fd >= 0) {
		snprintf(why, why_len, "stream %u of rank %u is already connected",
			 h.stream, h.rank);
		return -RB_EPEER;
	}
	*rank_p = (int)h.rank;
	*stream_p = (int)h.stream;
	return 0;
}
