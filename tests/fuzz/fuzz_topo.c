/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz target: topology loading from an hwloc XML export (--topo-xml) and
 * all that railbench derives from it: device tables, rail map, placement,
 * the JSON and text descriptions, the summary and its cross-node check.
 * The JSON must always parse back, and a node's own summary must always
 * parse in the cross-node check. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/rb.h"
#include "topo/topo.h"

/* Our own products of t must read back. */
static void fuzz_derived(const struct rb_topo *t)
{
	void *j = NULL;
	char *text;
	json_t *back;
	char sum[512];
	const char *sums[2] = { sum, sum };
	const char *hosts[2] = { "a", "b" };
	FILE *null = fopen("/dev/null", "w");

	if (!rb_topo_json(t, &j)) {
		text = json_dumps(j, 0);
		back = text ? json_loads(text, 0, NULL) : NULL;
		if (!back)
			abort();
		json_decref(back);
		free(text);
		json_decref(j);
	}
	if (null) {
		rb_topo_print(t, null);
		if (!rb_topo_summary(t, sum, sizeof(sum)) &&
		    rb_topo_cross_check(sums, hosts, 2, null) < 0)
			abort();
		fclose(null);
	}
	for (int r = 0; r < 4; r++) {
		struct rb_topo_place p;

		if (!rb_topo_place(t, r, 4, &p)) {
			void *pj = NULL;

			if (!rb_topo_place_json(&p, &pj))
				json_decref(pj);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-topo", MFD_CLOEXEC);
	char path[64];
	struct rb_topo *t = NULL;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (!rb_topo_load(path, &t)) {
			fuzz_derived(t);
			rb_topo_free(t);
		}
	}
	close(fd);
	return 0;
}
