/* SPDX-License-Identifier: BSD-3-Clause */
/* Option checks shared by opts.c and its tests (bench/opts_check.c). */
#ifndef RB_BENCH_OPTS_PRIV_H
#define RB_BENCH_OPTS_PRIV_H

#include <stddef.h>

#include "bench/bench.h"

/* Longest run id, in bytes: it names one directory under results/. */
#define RB_RUN_ID_MAX 63
/* Most sizes one sweep may visit (-b, -e, -f or -i): a sweep beyond it is
 * a typo (-i 1 -e 1G), not a measurement plan. */
#define RB_OPTS_SIZES_MAX 4096

/* Every argument, argv[0] included, is well-formed UTF-8 without control
 * characters: they reach the '#' preamble and the JSON command_line.
 * \return 0, or -RB_EINVAL with the argument's position (never its bytes)
 * in why. */
int rb_opts_check_args(int argc, char **argv, char *why, size_t len);

/* A run id is one name inside results/: not empty, no '/', not "." or
 * "..", printable UTF-8, at most RB_RUN_ID_MAX bytes. from names its
 * source in the message ("--run-id", "RAILBENCH_RUN_ID"). \return 0 or
 * -RB_EINVAL with why. */
int rb_opts_check_run_id(const char *id, const char *from, char *why,
			 size_t len);

/* The number of sizes of the sweep is at most RB_OPTS_SIZES_MAX. \return 0
 * or -RB_EINVAL with why. */
int rb_opts_check_sweep(const struct rb_opts *o, char *why, size_t len);

/* --run-id (or $RAILBENCH_RUN_ID) and --results as rb_opts_check_run_id
 * and rb_text_check accept them, the path short enough for its files.
 * \return 0 or -RB_EINVAL with why. */
int rb_opts_check_paths(const struct rb_opts *o, char *why, size_t len);

#endif
