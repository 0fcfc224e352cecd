/* SPDX-License-Identifier: BSD-3-Clause */
/* Diagnostics on stderr, each line prefixed "[host:rank] ", plus error-code
 * names and their exit codes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/rb.h"

/* The prefix is process-wide by nature (one rank per process); this is the
 * one piece of mutable global state outside a context struct. */
static char log_prefix[160];
static int log_verbose;
/* The first failure of this process, for the results' summary: the text of
 * the first error logged and the rank that it blamed. */
static char log_first_error[1024];
static int log_culprit = -1;

void rb_log_set_prefix(const char *host, int rank)
{
	if (rank >= 0)
		snprintf(log_prefix, sizeof(log_prefix), "[%s:%d] ", host, rank);
	else
		snprintf(log_prefix, sizeof(log_prefix), "[%s] ", host);
}

void rb_log_set_verbose(int level)
{
	log_verbose = level;
}

int rb_log_verbose(void)
{
	return log_verbose;
}

static void log_line(const char *kind, const char *fmt, va_list ap)
{
	char msg[1024];
	int n;

	if (!log_prefix[0]) {
		char host[64] = "?";

		gethostname(host, sizeof(host) - 1);
		rb_log_set_prefix(host, -1);
	}
	n = snprintf(msg, sizeof(msg), "%s%s", log_prefix, kind);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	if (!strcmp(kind, "error: ") && !log_first_error[0]) {
		snprintf(log_first_error, sizeof(log_first_error), "%s",
			 msg + n);
		rb_text_sanitize(log_first_error);
	}
	/* One write per line so lines of different ranks do not interleave. */
	fprintf(stderr, "%s\n", msg);
}

const char *rb_log_first_error(void)
{
	return log_first_error;
}

void rb_log_culprit(int rank)
{
	if (log_culprit < 0 && rank >= 0)
		log_culprit = rank;
}

int rb_log_get_culprit(void)
{
	return log_culprit;
}

void rb_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("error: ", fmt, ap);
	va_end(ap);
}

void rb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("warning: ", fmt, ap);
	va_end(ap);
}

void rb_info(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}

void rb_dbg(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 2)
		return;
	va_start(ap, fmt);
	log_line("debug: ", fmt, ap);
	va_end(ap);
}

const char *rb_strerror(int rc)
{
	static const char *const names[] = {
		[RB_OK] = "success",
		[RB_EINVAL] = "invalid argument",
		[RB_ENOMEM] = "out of memory",
		[RB_ESYS] = "system call failed",
		[RB_ENOTSUP] = "not supported",
		[RB_ETIMEDOUT] = "timed out",
		[RB_EPEER] = "peer failed",
		[RB_EDATA] = "data check failed",
		[RB_EAGAIN] = "try again",
	};

	if (rc < 0)
		rc = -rc;
	if ((size_t)rc >= RB_ARRAY_SIZE(names) || !names[rc])
		return "unknown error";
	return names[rc];
}

int rb_exit_code(int rc)
{
	if (rc < 0)
		rc = -rc;
	switch (rc) {
	case RB_OK:
		return RB_EXIT_OK;
	case RB_EINVAL:
	case RB_ENOTSUP:
		return RB_EXIT_USAGE;
	case RB_EDATA:
		return RB_EXIT_VERDICT;
	default:
		return RB_EXIT_RUNTIME;
	}
}

uint64_t rb_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
