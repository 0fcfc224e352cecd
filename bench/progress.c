/* SPDX-License-Identifier: BSD-3-Clause */
/* The progress line of rank 0 on stderr, only when stderr is a terminal:
 * the collective, the current size and an estimate of the time left
 * (docs/results.md, "Progress line"). stdout is never touched. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "bench/bench.h"

/* Bytes a size "costs" besides its own: the per-operation latency in
 * bytes' worth, so that the small sizes of a sweep are not counted free. */
#define PROGRESS_LAT_BYTES 65536.0

static double progress_weight(uint64_t size_bytes)
{
	return (double)size_bytes + PROGRESS_LAT_BYTES;
}

void rb_progress_init(struct rb_progress *p, const char *coll, const uint64_t *sizes,
		      int n, int enabled, enum rb_progress_mode mode)
{
	p->on = enabled && (mode == RB_PROGRESS_ON ||
			    (mode == RB_PROGRESS_AUTO && isatty(STDERR_FILENO)));
	p->coll = coll;
	p->sizes = sizes;
	p->n = n;
	p->t0_ns = rb_time_ns();
}

void rb_progress_step(struct rb_progress *p, int i)
{
	double done = 0;
	double left = 0;
	double el_s;
	char eta[48] = "estimating the time left";

	if (!p->on || i < 0 || i >= p->n)
		return;
	for (int k = 0; k < p->n; k++)
		*(k < i ? &done : &left) += progress_weight(p->sizes[k]);
	el_s = (double)(rb_time_ns() - p->t0_ns) / 1e9;
	if (i > 0 && done > 0)
		snprintf(eta, sizeof(eta), "about %.0f s left", el_s * left / done);
	/* \r and erase-to-end so that the line is rewritten in place. */
	fprintf(stderr, "\r%s: size %" PRIu64 " B (%d of %d), %s\033[K", p->coll,
		p->sizes[i], i + 1, p->n, eta);
	fflush(stderr);
}

void rb_progress_end(struct rb_progress *p)
{
	if (!p->on)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
}
