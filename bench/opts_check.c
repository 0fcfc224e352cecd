/* SPDX-License-Identifier: BSD-3-Clause */
/* The checks of option values that are about strings and about the sweep
 * as a whole (bench/opts.c parses them): every argument is UTF-8 text with
 * no control character, a run id stays one name inside results/, paths
 * fit their buffers, a sweep has a bounded number of sizes. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/opts_priv.h"

int rb_opts_check_args(int argc, char **argv, char *why, size_t len)
{
	for (int i = 0; i < argc; i++) {
		int f = rb_text_check(argv[i]);
		const char *prev = i > 1 && argv[i - 1][0] == '-' ? argv[i - 1] : NULL;
		char where[96];

		if (!f)
			continue;
		/* The argument itself is not printed: it would carry the
		 * very bytes refused. */
		if (i == 0)
			snprintf(where, sizeof(where), "the program path");
		else if (prev && rb_text_check(prev) == RB_TEXT_OK)
			snprintf(where, sizeof(where), "argument %d (after %.60s)", i,
				 prev);
		else
			snprintf(where, sizeof(where), "argument %d", i);
		snprintf(why, len, "%s: %s", where,
			 f == RB_TEXT_CONTROL ?
			 "contains a control character (newline, tab, escape...)" :
			 "is not valid UTF-8");
		return -RB_EINVAL;
	}
	return 0;
}

int rb_opts_check_run_id(const char *id, const char *from, char *why,
			 size_t len)
{
	const char *bad = NULL;

	if (rb_text_check(id))
		bad = "contains a control character or is not valid UTF-8";
	else if (!id[0])
		bad = "is empty";
	else if (strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
		bad = "must be a single name inside results/ (no '/', not '.' or '..')";
	else if (strlen(id) > RB_RUN_ID_MAX)
		bad = "is too long (at most 63 bytes)";
	if (!bad)
		return 0;
	if (rb_text_check(id))
		snprintf(why, len, "%s: the run id %s", from, bad);
	else
		snprintf(why, len, "%s '%.80s': the run id %s", from, id, bad);
	return -RB_EINVAL;
}

/* Sizes from min to max: by adding step, or by multiplying by factor. */
static uint64_t opts_nsizes(const struct rb_opts *o)
{
	uint64_t n = 0;

	if (o->step_bytes)
		return (o->max_bytes - o->min_bytes) / o->step_bytes + 1;
	for (uint64_t b = o->min_bytes; b <= o->max_bytes; n++) {
		if (b > UINT64_MAX / o->step_factor) {
			n++;
			break;
		}
		b *= o->step_factor;
	}
	return n;
}

int rb_opts_check_sweep(const struct rb_opts *o, char *why, size_t len)
{
	uint64_t n;

	if (o->min_bytes == 0 || o->min_bytes > o->max_bytes ||
	    (!o->step_bytes && o->step_factor < 2))
		return 0;	/* reported by the range checks */
	n = opts_nsizes(o);
	if (n > RB_OPTS_SIZES_MAX) {
		snprintf(why, len, "sizes: %" PRIu64 "..%" PRIu64 " B in steps of %s%" PRIu64
			 " makes %" PRIu64 " sizes, more than %d; use a larger --step-bytes or --step-factor",
			 o->min_bytes, o->max_bytes, o->step_bytes ? "+" : "x",
			 o->step_bytes ? o->step_bytes : o->step_factor, n,
			 RB_OPTS_SIZES_MAX);
		return -RB_EINVAL;
	}
	return 0;
}

int rb_opts_check_paths(const struct rb_opts *o, char *why, size_t len)
{
	const char *env = getenv("RAILBENCH_RUN_ID");

	if (o->run_id && rb_opts_check_run_id(o->run_id, "--run-id", why, len))
		return -RB_EINVAL;
	if (!o->run_id && env && env[0] &&
	    rb_opts_check_run_id(env, "RAILBENCH_RUN_ID", why, len))
		return -RB_EINVAL;
	if (o->results_dir && rb_text_check(o->results_dir)) {
		snprintf(why, len, "--results: the path contains a control character or is not valid UTF-8");
		return -RB_EINVAL;
	}
	/* <dir>/<collective>-<transport>-<algo>.json.tmp<pid> must fit. */
	if (o->results_dir && strlen(o->results_dir) > PATH_MAX - 128) {
		snprintf(why, len, "--results: the path is longer than %d bytes",
			 PATH_MAX - 128);
		return -RB_EINVAL;
	}
	if (o->results_dir && !o->results_dir[0]) {
		snprintf(why, len, "--results '': expected a directory");
		return -RB_EINVAL;
	}
	return 0;
}
