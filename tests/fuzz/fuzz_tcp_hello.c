/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz target (libFuzzer): the tcp transport's hello check
 * (rb_tcp_hello_check, transports/tcp_hello.c), which decides whether the
 * first bytes of an accepted connection make it a peer. The first byte
 * picks the accepting rank (1..7 of 8) and the stream count (1..16), the
 * second which rank's published address the connection comes from (8: one
 * nobody published), the rest is what the connection sent. The job secret
 * is 32 zero bytes here, so that inputs can reach the accepted path. Any
 * answer that breaks the check's contract aborts. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "transports/tcp.h"

#define FUZZ_NRANKS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char secret[RB_SECRET_BYTES];
	struct tcp_peer peers[FUZZ_NRANKS];
	struct tcp_tp t;
	struct in_addr src;
	char why[160];
	int rank = -7;
	int stream = -7;
	int me;
	int rc;

	if (size < 2)
		return 0;
	memset(&t, 0, sizeof(t));
	memset(peers, 0, sizeof(peers));
	me = 1 + data[0] % (FUZZ_NRANKS - 1);
	t.base.rank = me;
	t.base.nranks = FUZZ_NRANKS;
	t.nstreams = 1 + (data[0] >> 3) % TCP_MAX_STREAMS;
	t.args = (struct rb_tp_args){ .rank = me, .nranks = FUZZ_NRANKS,
				      .job_secret = secret };
	t.peers = peers;
	for (int r = 0; r < FUZZ_NRANKS; r++) {
		for (int s = 0; s < TCP_MAX_STREAMS; s++)
			peers[r].conn[s].fd = (r + s) % 5 ? -1 : 3; /* some connected */
		peers[r].ip.s_addr = htonl(0x0ac80001u + (uint32_t)r);
	}
	src.s_addr = htonl(0x0ac80001u + (uint32_t)(data[1] % (FUZZ_NRANKS + 1)));
	memset(why, 'x', sizeof(why));
	rc = rb_tcp_hello_check(&t, data + 2, size - 2, src, &rank, &stream, why,
				sizeof(why));
	if (rc == 0) {
		struct tcp_hello h;

		/* Accepted: exactly a hello, with the secret, from the address
		 * of a lower rank, for a free stream of that rank. */
		memcpy(&h, data + 2, sizeof(h));
		if (size - 2 != sizeof(h) || rank < 0 || rank >= me ||
		    stream < 0 || stream >= t.nstreams ||
		    (uint32_t)rank != h.rank || (uint32_t)stream != h.stream ||
		    memcmp(h.secret, secret, sizeof(secret)) ||
		    peers[rank].ip.s_addr != src.s_addr ||
		    peers[rank].conn[stream].fd >= 0)
			abort();
		return 0;
	}
	/* Refused: -RB_EPEER, outputs untouched, one line of reason. */
	if (rc != -RB_EPEER || rank != -7 || stream != -7 ||
	    !memchr(why, '\0', sizeof(why)) || !why[0] || strchr(why, '\n'))
		abort();
	return 0;
}
