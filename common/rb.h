/* SPDX-License-Identifier: BSD-3-Clause */
/* railbench common definitions: error codes, logging, clock, data types,
 * reduction operators and collective kinds shared by every subsystem. */
#ifndef RB_COMMON_RB_H
#define RB_COMMON_RB_H

#include <stddef.h>
#include <stdint.h>

#define RB_VERSION "0.1.0"

/* \return the git revision of the build ("abc123def456", "-dirty" when the
 * tree had changes) and the build configuration ("release verbs cuda"). */
const char *rb_git_sha(void);
const char *rb_build_config(void);

/* Error codes. Functions return 0 on success or the negated code. */
enum rb_errcode {
	RB_OK = 0,
	RB_EINVAL,	/* bad argument or configuration */
	RB_ENOMEM,	/* allocation failed */
	RB_ESYS,	/* system call failed, errno kept */
	RB_ENOTSUP,	/* not supported / not available here */
	RB_ETIMEDOUT,	/* a deadline expired */
	RB_EPEER,	/* a peer failed or went away */
	RB_EDATA,	/* data check failed */
	RB_EAGAIN,	/* would block; try again */
};

/* Exit codes of every binary (docs/exit-codes.md). */
enum rb_exit {
	RB_EXIT_OK = 0,
	RB_EXIT_VERDICT = 1,	/* #wrong > 0 or below threshold */
	RB_EXIT_USAGE = 2,	/* usage or configuration error */
	RB_EXIT_RUNTIME = 3,	/* peer lost, timeout, system failure */
	RB_EXIT_WARN = 4,	/* data correct, fabric counters moved */
	RB_EXIT_SKIP = 77,	/* feature absent here (tests only) */
};

/* Size of the per-job secret (docs/tcp.md, "Peer authentication"). */
#define RB_SECRET_BYTES 32

/* Fills buf with len bytes from getrandom(2). \return 0 or -RB_ESYS
 * (logged). */
int rb_secret_new(unsigned char *buf, size_t len);

/* \return 1 when a and b hold the same len bytes, 0 otherwise, in a time
 * that depends on len only. */
int rb_secret_equal(const void *a, const void *b, size_t len);

/* \return a static string naming rc (negative or positive). */
const char *rb_strerror(int rc);

/* \return the exit code that corresponds to error rc. */
int rb_exit_code(int rc);

/* Logging. Every line goes to stderr prefixed "[host:rank] ". The prefix is
 * set once after bootstrap; before that it is "[host]". */
void rb_log_set_prefix(const char *host, int rank);
void rb_log_set_verbose(int level);
int rb_log_verbose(void);
/* The text of the first error this process logged (without its prefix,
 * control characters replaced), or "" if none. */
const char *rb_log_first_error(void);
/* Records the rank a detected failure blames (a peer that is gone, late or
 * stuck); the first call wins. Negative ranks are ignored. */
void rb_log_culprit(int rank);
/* \return the rank rb_log_culprit recorded first, or -1. */
int rb_log_get_culprit(void);
void rb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rb_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rb_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* \return CLOCK_MONOTONIC in nanoseconds. */
uint64_t rb_time_ns(void);

#define rb_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define RB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RB_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Element types. Order is part of the results format (names are used). */
enum rb_dtype {
	RB_INT32,
	RB_INT64,
	RB_FLOAT,
	RB_DOUBLE,
	RB_HALF,	/* IEEE 754 binary16 */
	RB_BF16,	/* bfloat16 */
	RB_NDTYPES,
};

enum rb_redop {
	RB_OP_SUM,
	RB_OP_PROD,
	RB_OP_MAX,
	RB_OP_MIN,
	RB_NREDOPS,
};

enum rb_coll_kind {
	RB_COLL_ALLREDUCE,
	RB_COLL_ALLGATHER,
	RB_COLL_ALLTOALL,
	RB_NCOLLS,
};

/* Reduction kernels (common/reduce.c), built for the widest vector ISA the
 * CPU has (AVX-512, AVX2, else the build's default), chosen at load time;
 * every variant computes the same bits (element-wise, no reassociation).
 * rb_reduce: dst[i] = dst[i] op src[i]. rb_reduce_to: dst[i] = a[i] op
 * b[i], dst may be a but must not overlap b otherwise. n elements. */
void rb_reduce(void *dst, const void *src, size_t n, enum rb_dtype dtype,
	       enum rb_redop op);
void rb_reduce_to(void *dst, const void *a, const void *b, size_t n,
		  enum rb_dtype dtype, enum rb_redop op);
/* \return the instruction set the kernels run with here ("avx2", ...). */
const char *rb_reduce_isa(void);

/* IEEE binary16 and bfloat16 <-> float. Narrowing rounds to nearest, ties
 * to even; overflow gives inf, NaN stays NaN (quiet). */
float rb_half_to_float(uint16_t h);
uint16_t rb_float_to_half(float f);
float rb_bf16_to_float(uint16_t h);
uint16_t rb_float_to_bf16(float f);

/* \return element size in bytes. */
size_t rb_dtype_size(enum rb_dtype t);
/* \return the name printed in the table ("int32", "float", "half", ...). */
const char *rb_dtype_name(enum rb_dtype t);
/* \return 0 and sets *t_p when name is a known type (aliases accepted:
 * int, float32, fp16, bfloat16, ...), -RB_EINVAL otherwise. */
int rb_dtype_parse(const char *name, enum rb_dtype *t_p);
const char *rb_redop_name(enum rb_redop op);
int rb_redop_parse(const char *name, enum rb_redop *op_p);
const char *rb_coll_kind_name(enum rb_coll_kind k);

/* Parse a byte size: decimal integer with optional K/M/G suffix (binary
 * multiples, as nccl-tests), optional trailing 'B'/'iB'.
 * \return 0 and *bytes_p, or -RB_EINVAL for anything unparsable, negative
 * or overflowing. */
int rb_parse_size(const char *s, uint64_t *bytes_p);

/* Format bytes compactly for messages ("64M", "8", "1.5K" never: exact only
 * when divisible). buf must hold 32 bytes. \return buf. */
const char *rb_format_size(uint64_t bytes, char *buf);

/* ---- user strings (text.c) ---- */

/* What rb_text_check found. */
enum rb_text_fault {
	RB_TEXT_OK = 0,
	RB_TEXT_CONTROL = 1,	/* a control character: newline, tab, ESC... */
	RB_TEXT_BAD_UTF8 = 2,	/* not well-formed UTF-8 */
};

/* \return RB_TEXT_OK when s is well-formed UTF-8 without control
 * characters (U+0000..U+001F, U+007F), else the first fault found. */
int rb_text_check(const char *s);

/* Replaces, in place, each control character and each byte of a malformed
 * UTF-8 sequence with '?'. \return how many bytes it replaced. */
size_t rb_text_sanitize(char *s);

/* For a string received from another rank in a char[len]: ends it inside
 * its buffer, then rb_text_sanitize. \return what rb_text_sanitize does. */
size_t rb_text_bound(char *s, size_t len);

#endif
