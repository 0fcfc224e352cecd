/* SPDX-License-Identifier: BSD-3-Clause */
/* One pair of ranks, point to point: bandwidth of each direction (a
 * message, then an 8-byte ack, timed by the sender), both directions at
 * once, and 8-byte ping-pong latency, over any transport through the
 * schedule executor, so every wait has the -T deadline and a timeout names
 * the peer, its host and the link. Received payloads are compared with the
 * sender's pattern (docs/qualify.md "Measurement"). */
#include <inttypes.h>
#include <string.h>

#include "bench/qualify.h"
#include "collectives/coll.h"

/* What one transfer of a pairing is, seen from this rank. */
enum pair_step {
	PAIR_SEND,	/* message to peer, then its ack */
	PAIR_RECV,	/* message from peer, then the ack */
	PAIR_BIDIR,	/* both at once, then acks both ways */
	PAIR_PING,	/* 8 bytes there and back, started here */
	PAIR_PONG,	/* the answering side */
};

static uint64_t pair_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rb_qual_pattern(void *buf, size_t len, int src, int dst, uint64_t size)
{
	uint64_t key = pair_mix(((uint64_t)(uint32_t)src << 32 | (uint32_t)dst) ^
				pair_mix(size));
	unsigned char *p = buf;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w = pair_mix(key + i);

		memcpy(p + i, &w, 8);
	}
	if (i < len) {
		uint64_t w = pair_mix(key + i);

		memcpy(p + i, &w, len - i);
	}
}

int64_t rb_qual_count_wrong(const void *got, const void *want, size_t len)
{
	const unsigned char *g = got;
	const unsigned char *w = want;
	int64_t n = 0;

	/* Whole words first: equal words are the common case. */
	for (size_t i = 0; i < len; i++) {
		if (i + 8 <= len && !memcmp(g + i, w + i, 8)) {
			i += 7;
			continue;
		}
		n += g[i] != w[i];
	}
	return n;
}

/* Appends the steps of one transfer of len bytes. \return 0 or -RB_ENOMEM. */
static int pair_build(struct rb_sched *s, enum pair_step what, int peer,
		      size_t len, size_t ack)
{
	int rc = 0;

	rb_sched_reset(s);
	switch (what) {
	case PAIR_SEND:
		rc |= rb_sched_recv(s, peer, RB_BUF_RECV, ack, RB_QUAL_LAT_BYTES);
		rc |= rb_sched_send(s, peer, RB_BUF_SEND, 0, len);
		rc |= rb_sched_wait(s, -1);
		break;
	case PAIR_RECV:
		rc |= rb_sched_recv(s, peer, RB_BUF_RECV, 0, len);
		rc |= rb_sched_wait(s, -1);
		rc |= rb_sched_send(s, peer, RB_BUF_SEND, ack, RB_QUAL_LAT_BYTES);
		rc |= rb_sched_wait(s, -1);
		break;
	case PAIR_BIDIR:
		rc |= rb_sched_recv(s, peer, RB_BUF_RECV, 0, len);
		rc |= rb_sched_send(s, peer, RB_BUF_SEND, 0, len);
		rc |= rb_sched_wait(s, -1);
		rc |= rb_sched_recv(s, peer, RB_BUF_RECV, ack, RB_QUAL_LAT_BYTES);
		rc |= rb_sched_send(s, peer, RB_BUF_SEND, ack, RB_QUAL_LAT_BYTES);
		rc |= rb_sched_wait(s, -1);
		break;
	case PAIR_PING:
		rc |= rb_sched_send(s, peer, RB_BUF_SEND, ack, RB_QUAL_LAT_BYTES);
		rc |= rb_sched_recv(s, peer, RB_BUF_RECV, ack, RB_QUAL_LAT_BYTES);
		rc |= rb_sched_wait(s, -1);
		break;
	case PAIR_PONG:
		rc |= rb_sched_recv(s, peer, RB_BUF_RECV, ack, RB_QUAL_LAT_BYTES);
		rc |= rb_sched_wait(s, -1);
		rc |= rb_sched_send(s, peer, RB_BUF_SEND, ack, RB_QUAL_LAT_BYTES);
		rc |= rb_sched_wait(s, -1);
		break;
	}
	/* Appenders return an index or -RB_ENOMEM: any negative sets bits. */
	return rc < 0 ? -RB_ENOMEM : 0;
}

/* The first word of every timed message says whether another follows, so
 * the side that times (the leader) alone decides how many there are: -w
 * and -n, cut short once the series has used its budget (one timed
 * message at least), and the follower needs no clock. */
#define PAIR_MORE 0x6d6f7265u	/* "more" */
#define PAIR_LAST 0x6c617374u	/* "last" */

/* The word the flag travels in: the message for SEND, BIDIR; the ping. */
static size_t pair_flag_off(const struct rb_qual_pair_args *a,
			    enum pair_step what)
{
	return what == PAIR_PING || what == PAIR_PONG ? a->ack_off : 0;
}

/* Leader: warm-up and timed runs while the budget lasts; times[] in us
 * (halved for a ping-pong) as *st, their count in *n_p. */
static int pair_lead(const struct rb_qual_pair_args *a, struct rb_exec *ex,
		     enum pair_step what, struct rb_stats *st, int32_t *n_p)
{
	char *flag = (char *)a->send_mr->buf + pair_flag_off(a, what);
	uint64_t deadline = rb_time_ns() + (uint64_t)a->budget_ms * 1000000u;
	uint64_t saved;
	int warm = 0;
	int timed = 0;
	int rc = 0;

	memcpy(&saved, flag, sizeof(saved));
	for (int last = 0; !last && !rc;) {
		int warming = warm < a->warmup_iters && rb_time_ns() < deadline;
		uint64_t word;
		uint64_t t0;

		last = !warming && (timed + 1 >= a->iters || rb_time_ns() >= deadline);
		word = last ? PAIR_LAST : PAIR_MORE;
		memcpy(flag, &word, sizeof(word));
		t0 = rb_time_ns();
		rc = rb_exec_run(ex, a->timeout_ms);
		if (warming) {
			warm++;
			continue;
		}
		a->times[timed] = (double)(rb_time_ns() - t0) / 1e3;
		if (what == PAIR_PING)
			a->times[timed] /= 2;
		timed++;
	}
	memcpy(flag, &saved, sizeof(saved));
	if (!rc && st) {
		rb_stats_compute(a->times, timed, st);
		*n_p = timed;
	}
	return rc;
}

/* Follower: runs until the leader's message says it was the last. */
static int pair_follow(const struct rb_qual_pair_args *a, struct rb_exec *ex,
		       enum pair_step what, int peer)
{
	const char *flag = (const char *)a->recv_mr->buf + pair_flag_off(a, what);
	uint64_t word = PAIR_MORE;
	int rc = 0;

	for (int n = 0; !rc && word != PAIR_LAST; n++) {
		rc = rb_exec_run(ex, a->timeout_ms);
		memcpy(&word, flag, sizeof(word));
		if (!rc && word != PAIR_LAST && word != PAIR_MORE) {
			rb_err("rank %d (host %s) sent a message without a series flag (0x%" PRIx64 ") after %d: not p2p_bench's protocol",
			       peer, a->hosts ? a->hosts[peer] : "?", word, n);
			rc = -RB_EPEER;
		}
	}
	return rc;
}

/* One series of a transfer on both sides (leader: lead set), then, with
 * -c 1, one checked transfer: the receiving side (check_len > 0) poisons
 * its receive area first and counts the bytes that differ from want.
 * \return 0 or the executor's failure (logged, naming the peer). */
static int pair_series(const struct rb_qual_pair_args *a, enum pair_step what,
		       int peer, size_t len, int lead, size_t check_len,
		       const void *want, struct rb_stats *st, int32_t *n_p,
		       int64_t *wrong)
{
	struct rb_sched s = { 0 };
	struct rb_exec *ex = NULL;
	struct rb_exec_args ea = {
		.tp = a->tp,
		.sched = &s,
		.send_mr = a->send_mr,
		.recv_mr = a->recv_mr,
		.dtype = RB_INT32,
		.op = RB_OP_SUM,
		.hosts = a->hosts,
	};
	int checked = a->check && what != PAIR_PING && what != PAIR_PONG;
	int rc = pair_build(&s, what, peer, len, a->ack_off);

	rc = rc ? rc : rb_exec_create(&ea, &ex);
	if (!rc)
		rc = lead ? pair_lead(a, ex, what, st, n_p) :
			    pair_follow(a, ex, what, peer);
	if (!rc && checked) {
		if (check_len)
			memset(a->recv_mr->buf, 0xa5, check_len);
		rc = rb_exec_run(ex, a->timeout_ms);
		if (!rc && check_len)
			*wrong = rb_qual_count_wrong(a->recv_mr->buf, want,
						     check_len);
	}
	rb_exec_destroy(ex);
	rb_sched_free(&s);
	return rc;
}

/* One size: me -> peer and peer -> me, the lower rank sending first, then
 * both at once with --bidir (the lower rank leads). */
static int pair_size(const struct rb_qual_pair_args *a, int me, int peer,
		     uint64_t size, struct rb_qual_cell *c)
{
	int first = me < peer;
	size_t len = (size_t)size;
	size_t chk = a->check ? len : 0;
	int rc = 0;

	*c = (struct rb_qual_cell){ .recv_wrong = -1, .bidir_wrong = -1 };
	rb_qual_pattern(a->send_mr->buf, len, me, peer, size);
	if (a->check)
		rb_qual_pattern(a->expected, len, peer, me, size);
	for (int turn = 0; turn < 2 && !rc; turn++) {
		if ((turn == 0) == first)
			rc = pair_series(a, PAIR_SEND, peer, len, 1, 0, NULL,
					 &c->send_us, &c->send_iters, NULL);
		else
			rc = pair_series(a, PAIR_RECV, peer, len, 0, chk,
					 a->expected, NULL, NULL, &c->recv_wrong);
	}
	if (!rc && a->bidir)
		rc = pair_series(a, PAIR_BIDIR, peer, len, first, chk,
				 a->expected, &c->bidir_us, &c->bidir_iters,
				 &c->bidir_wrong);
	return rc;
}

int rb_qual_pair_run(const struct rb_qual_pair_args *a, int me, int peer,
		     int no_lat, struct rb_qual_rec *rec)
{
	int first = me < peer;
	int rc = 0;

	rec->peer = peer;
	rec->status = 0;
	rec->nsizes = a->nsizes;
	rec->have_lat = 0;
	for (int i = 0; i < a->nsizes && !rc; i++)
		rc = pair_size(a, me, peer, a->sizes[i], &rec->cells[i]);
	for (int turn = 0; turn < 2 && !rc && !no_lat; turn++)
		rc = pair_series(a, (turn == 0) == first ? PAIR_PING : PAIR_PONG,
				 peer, 0, (turn == 0) == first, 0, NULL,
				 &rec->lat_us, &rec->lat_iters, NULL);
	rec->have_lat = !rc && !no_lat;
	rec->status = rc;
	return rc;
}
