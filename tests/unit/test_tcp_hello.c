/* SPDX-License-Identifier: BSD-3-Clause */
/* The tcp hello check (transports/tcp_hello.c): an accepted connection is
 * taken for a peer only with the job's secret, a lower rank this rank
 * serves, a valid stream, the source address that rank published, and a
 * stream not yet connected; everything else is refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "transports/tcp.h"

#define NR 4

struct hworld {
	struct tcp_tp t;
	struct tcp_peer peers[NR];
	unsigned char secret[RB_SECRET_BYTES];
};

/* Rank 2 of 4 with 2 streams: ranks 0 and 1 connect to it, from
 * 10.200.0.1 and 10.200.0.2. */
static void hworld_make(struct hworld *w)
{
	memset(w, 0, sizeof(*w));
	assert_int_equal(rb_secret_new(w->secret, sizeof(w->secret)), 0);
	w->t.base.rank = 2;
	w->t.base.nranks = NR;
	w->t.nstreams = 2;
	w->t.args = (struct rb_tp_args){ .rank = 2, .nranks = NR,
					 .job_secret = w->secret };
	w->t.peers = w->peers;
	for (int r = 0; r < NR; r++) {
		for (int s = 0; s < TCP_MAX_STREAMS; s++)
			w->peers[r].conn[s].fd = -1;
		w->peers[r].ip.s_addr = htonl(0x0ac80001u + (uint32_t)r);
	}
}

/* A hello as rank `rank` would send it on `stream`. */
static struct tcp_hello hello_from(struct hworld *w, int rank, int stream)
{
	struct tcp_hello h;
	int saved = w->t.base.rank;

	w->t.base.rank = rank;
	rb_tcp_hello_make(&w->t, stream, &h);
	w->t.base.rank = saved;
	return h;
}

static int check(struct hworld *w, const void *h, size_t len, int src_rank,
		 int *rank_p, int *stream_p, char *why)
{
	return rb_tcp_hello_check(&w->t, h, len, w->peers[src_rank].ip, rank_p,
				  stream_p, why, 160);
}

static void test_accepts_peer(void **state)
{
	struct hworld w;
	struct tcp_hello h;
	char why[160] = "";
	int rank = -1;
	int stream = -1;

	(void)state;
	hworld_make(&w);
	h = hello_from(&w, 1, 1);
	assert_int_equal(check(&w, &h, sizeof(h), 1, &rank, &stream, why), 0);
	assert_int_equal(rank, 1);
	assert_int_equal(stream, 1);
	h = hello_from(&w, 0, 0);
	assert_int_equal(check(&w, &h, sizeof(h), 0, &rank, &stream, why), 0);
	assert_int_equal(rank, 0);
	assert_int_equal(stream, 0);
}

/* Each field wrong on its own: refused, outputs untouched, a reason. */
static void test_refuses(void **state)
{
	struct hworld w;
	struct tcp_hello h;
	char why[160];
	int rank = -7;
	int stream = -7;

	(void)state;
	hworld_make(&w);

	h = hello_from(&w, 1, 0);
	h.secret[RB_SECRET_BYTES - 1] ^= 1;	/* one bit off, at the end */
	assert_int_equal(check(&w, &h, sizeof(h), 1, &rank, &stream, why), -RB_EPEER);
	assert_non_null(strstr(why, "wrong job secret"));

	h = hello_from(&w, 1, 0);
	h.magic = 0x52425443u;			/* an older hello's magic */
	assert_int_equal(check(&w, &h, sizeof(h), 1, &rank, &stream, why), -RB_EPEER);
	assert_non_null(strstr(why, "not a railbench hello"));

	h = hello_from(&w, 1, 0);		/* right secret, wrong source */
	assert_int_equal(check(&w, &h, sizeof(h), 3, &rank, &stream, why), -RB_EPEER);
	assert_non_null(strstr(why, "published address is 10.200.0.2"));

	h = hello_from(&w, 3, 0);		/* a higher rank never connects */
	assert_int_equal(check(&w, &h, sizeof(h), 3, &rank, &stream, why), -RB_EPEER);
	assert_non_null(strstr(why, "claims rank 3"));

	h = hello_from(&w, 2, 0);		/* itself */
	assert_int_equal(check(&w, &h, sizeof(h), 2, &rank, &stream, why), -RB_EPEER);

	h = hello_from(&w, 1, 0);
	h.stream = 2;
	assert_int_equal(check(&w, &h, sizeof(h), 1, &rank, &stream, why), -RB_EPEER);
	h = hello_from(&w, 1, 0);
	h.nstreams = 3;
	assert_int_equal(check(&w, &h, sizeof(h), 1, &rank, &stream, why), -RB_EPEER);
	assert_non_null(strstr(why, "streams"));

	h = hello_from(&w, 1, 0);		/* a short hello */
	assert_int_equal(check(&w, &h, sizeof(h) - 1, 1, &rank, &stream, why), -RB_EPEER);
	assert_non_null(strstr(why, "closed after"));
	assert_int_equal(check(&w, &h, 0, 1, &rank, &stream, why), -RB_EPEER);

	w.peers[1].conn[0].fd = 99;		/* stream already connected */
	assert_int_equal(check(&w, &h, sizeof(h), 1, &rank, &stream, why), -RB_EPEER);
	assert_non_null(strstr(why, "already connected"));
	assert_int_equal(rank, -7);
	assert_int_equal(stream, -7);
}

/* A peer this rank does not serve (another child of a composition). */
static void test_refuses_unserved(void **state)
{
	struct hworld w;
	struct tcp_hello h;
	unsigned char serve[NR] = { 0, 1, 0, 1 };
	char why[160];
	int rank;
	int stream;

	(void)state;
	hworld_make(&w);
	w.t.args.serve = serve;
	h = hello_from(&w, 0, 0);
	assert_int_equal(check(&w, &h, sizeof(h), 0, &rank, &stream, why), -RB_EPEER);
	h = hello_from(&w, 1, 0);
	assert_int_equal(check(&w, &h, sizeof(h), 1, &rank, &stream, why), 0);
}

static void test_secret(void **state)
{
	unsigned char a[RB_SECRET_BYTES];
	unsigned char b[RB_SECRET_BYTES];

	(void)state;
	assert_int_equal(rb_secret_new(a, sizeof(a)), 0);
	assert_int_equal(rb_secret_new(b, sizeof(b)), 0);
	/* Two draws of 256 bits are equal with probability 2^-256. */
	assert_false(rb_secret_equal(a, b, sizeof(a)));
	memcpy(b, a, sizeof(a));
	assert_true(rb_secret_equal(a, b, sizeof(a)));
	b[0] ^= 0x80;
	assert_false(rb_secret_equal(a, b, sizeof(a)));
	assert_true(rb_secret_equal(a, b, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_peer),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_refuses_unserved),
		cmocka_unit_test(test_secret),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
