/* SPDX-License-Identifier: BSD-3-Clause */
/* After a failed size: the ranks exchange their own evidence (own link
 * down, the peer each was waiting for) within a short bound, apply one
 * rule (bench/cause.c) and only then print, so that the failed device is
 * named by the rank it belongs to and a secondary timeout names nobody
 * innocent (docs/exit-codes.md, "Root cause"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cause.h"
#include "bench/harness_priv.h"

/* The agreed root cause in words, the same on every rank: the ranks whose
 * own link is down; else those that failed waiting for nobody; else the
 * ranks of the waiting cycles. */
static void blame_summary(const struct bench *b, const int *role, char *buf,
			  size_t len)
{
	int want = RB_CAUSE_CYCLE;
	size_t used = 0;
	int shown = 0;

	for (int r = 0; r < b->nranks; r++) {
		if (role[r] == RB_CAUSE_DOWN)
			want = RB_CAUSE_DOWN;
		else if (role[r] == RB_CAUSE_STUCK && want != RB_CAUSE_DOWN)
			want = RB_CAUSE_STUCK;
	}
	buf[0] = '\0';
	for (int r = 0; r < b->nranks && used + 1 < len; r++) {
		int n;

		if (role[r] != want)
			continue;
		n = ++shown > 4 ? snprintf(buf + used, len - used, ", ...") :
		    snprintf(buf + used, len - used, "%srank %d (host %s)",
			     shown > 1 ? ", " : "", r, b->hosts[r]);
		used += n > 0 ? (size_t)n : 0;
		if (shown > 4)
			break;
	}
	if (used + 1 >= len)
		return;
	snprintf(buf + used, len - used, "%s",
		 want == RB_CAUSE_DOWN ? ": own link down" :
		 want == RB_CAUSE_STUCK ? ": failed without waiting for a peer" :
		 ": wait for each other with every link up, so the path between them (a switch port, a cable) is the likely cause");
}

/* This rank's one line, by its role. */
static void blame_print(const struct bench *b, const struct rb_cause_rec *all,
			const int *role, const char *down_why,
			const char *summary)
{
	const char *msg = b->fail.msg;
	int w = all[b->rank].wait;

	switch (role[b->rank]) {
	case RB_CAUSE_DOWN:
		if (msg[0])
			rb_err("%s, so this rank %s", down_why, msg);
		else
			rb_err("%s", down_why);
		break;
	case RB_CAUSE_DIRECT:
	case RB_CAUSE_CYCLE:
		if (msg[0])
			rb_err("%s; root cause: %s", msg, summary);
		break;
	case RB_CAUSE_SECONDARY:
		if (msg[0])
			rb_err("%s; a secondary timeout, rank %d is not the cause; root cause: %s",
			       msg, w, summary);
		break;
	default:
		break;	/* the transport named what failed */
	}
}

void rb_bench_blame(struct bench *b)
{
	char why[256] = "";
	char summary[512];
	int down = rb_health_link_down(&b->health, why, sizeof(why));
	struct rb_cause_rec me = {
		.magic = RB_CAUSE_MAGIC, .rank = b->rank, .down = down,
		.wait = b->fail.peer, .timed_out = b->fail.timed_out,
	};
	int64_t bound = b->o.timeout_ms > 0 ?
				RB_MIN(b->o.timeout_ms, RB_CAUSE_MAX_MS) :
				RB_CAUSE_MAX_MS;
	struct rb_cause_rec *all = calloc((size_t)b->nranks, sizeof(*all));
	int *role = calloc((size_t)b->nranks, sizeof(*role));
	int roots = -1;

	/* A failure inside a transfer (the executor recorded it) leaves the
	 * bootstrap in step, even where an exchange wrapped around the
	 * iterations marked it failed; one in an exchange does not. */
	if (all && role && (!b->boot_failed || b->fail.peer >= 0)) {
		if (b->bops->gather(b->boot, "failure causes", &me, all,
				    sizeof(me), bound) ||
		    b->bops->bcast(b->boot, "root cause", all,
				   (size_t)b->nranks * sizeof(*all), 0))
			b->boot_failed = 1;
		else
			roots = rb_cause_decide(all, b->nranks, role);
	}
	if (roots < 0) {
		/* No agreement (a rank gone or stuck, named by the bootstrap):
		 * what this rank saw itself. */
		if (down)
			rb_err("%s", why);
		if (b->fail.msg[0])
			rb_err("%s", b->fail.msg);
		goto out;
	}
	/* No rank waited for another and no link is down: each failed
	 * where it said so itself (a full disk, say); nothing to add. */
	for (int r = 0; r < b->nranks; r++) {
		if (role[r] != RB_CAUSE_STUCK)
			goto print;
	}
	goto out;
print:
	blame_summary(b, role, summary, sizeof(summary));
	blame_print(b, all, role, why, summary);
	if (b->rank == 0)
		rb_err("root cause, agreed by all ranks: %s", summary);
out:
	free(all);
	free(role);
}
