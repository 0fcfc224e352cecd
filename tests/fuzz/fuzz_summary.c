/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz target: the topology summaries the ranks exchange through the
 * bootstrap, which rank 0 parses for the cross-node check
 * (rb_place_cross_check). The first byte picks the number of nodes (1..8);
 * the rest fills their fixed-size slots as another rank's bytes would,
 * with no promise of a terminating NUL. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/place.h"
#include "common/rb.h"

#define FUZZ_SLOT 96	/* bytes per summary: small, so slots fill */
#define FUZZ_HOST 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n = size ? 1 + data[0] % 8 : 1;
	/* Exactly n slots, so that a read past the last is caught. */
	char *sums = calloc((size_t)n, FUZZ_SLOT);
	char *hosts = calloc((size_t)n, FUZZ_HOST);
	char *findings = NULL;
	int rc;

	if (!sums || !hosts)
		goto out;
	if (size > 1)
		memcpy(sums, data + 1, RB_MIN(size - 1, (size_t)n * FUZZ_SLOT));
	for (int i = 0; i < n; i++)
		snprintf(hosts + i * FUZZ_HOST, FUZZ_HOST, "node%d", i);
	rc = rb_place_cross_check(sums, FUZZ_SLOT, hosts, FUZZ_HOST, n, &findings);
	if (rc && rc != -RB_EINVAL)
		abort();
	/* Findings are '#' lines of the preamble: nothing else. */
	for (char *p = findings; p && *p; p = strchr(p, '\n') + 1) {
		if (p[0] != '#' || !strchr(p, '\n'))
			abort();
	}
out:
	free(findings);
	free(sums);
	free(hosts);
	return 0;
}
