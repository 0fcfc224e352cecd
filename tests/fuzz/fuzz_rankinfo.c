/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz target: the rank descriptions every rank sends rank 0 through the
 * bootstrap (struct rb_rank_info: host, link, placement and its JSON),
 * which rank 0 prints in the '#' preamble and puts in the JSON meta. The
 * input is the raw bytes of 1..4 descriptions, as another rank could send
 * them. After rb_rank_info_clean, the preamble and footer must be '#'
 * lines only, whatever the bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

/* Every line of f, from the start, begins with '#'. */
static int fuzz_all_hash(FILE *f)
{
	char line[8192];
	int at_start = 1;

	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (at_start && line[0] != '#')
			return 0;
		at_start = strchr(line, '\n') != NULL;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *out;
	int n = size ? 1 + data[0] % 4 : 1;
	struct rb_rank_info *ri = calloc((size_t)n, sizeof(*ri));
	struct rb_opts o;
	struct rb_run_meta m;
	struct rb_report *r = NULL;

	if (!ri)
		return 0;
	/* The report prints to stdout: into a scratch file (the same open
	 * file, one offset), emptied before each input and read back. */
	if (!out) {
		out = tmpfile();
		if (!out || dup2(fileno(out), STDOUT_FILENO) < 0)
			abort();
	}
	if (size > 1)
		memcpy(ri, data + 1, RB_MIN(size - 1, (size_t)n * sizeof(*ri)));
	for (int i = 0; i < n; i++)
		rb_rank_info_clean(&ri[i]);
	rb_opts_defaults(&o);
	m = (struct rb_run_meta){
		.kind = RB_COLL_ALLREDUCE,
		.transport = "shm",
		.algo = "auto",
		.algo_note = "",
		.nranks = n,
		.nnodes = 1,
		.opts = &o,
		.ranks = ri,
		.command_line = "fuzz",
		.mpi_library = "MPICH",
		.run_id = "fuzz",
	};
	fflush(stdout);
	if (ftruncate(fileno(out), 0) || lseek(fileno(out), 0, SEEK_SET))
		abort();
	if (!rb_report_open(&m, &r)) {
		rb_report_close(r, 0);
		rb_report_free(r);
		fflush(stdout);
		if (!fuzz_all_hash(out))
			abort();
	}
	free(ri);
	return 0;
}
