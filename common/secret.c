/* SPDX-License-Identifier: BSD-3-Clause */
/* The per-job secret that every listener asks its peers for: drawn from the
 * kernel's random pool at rank 0, compared in constant time (docs/tcp.md,
 * "Peer authentication"). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "common/rb.h"

int rb_secret_new(unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rb_err("getrandom: %s", strerror(errno));
			return -RB_ESYS;
		}
		got += (size_t)n;
	}
	return 0;
}

int rb_secret_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a;
	const volatile unsigned char *y = b;
	unsigned char diff = 0;

	/* Every byte is read whatever the earlier ones were: the time taken
	 * says nothing about how much of a guess was right. */
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(x[i] ^ y[i]);
	return diff == 0;
}
