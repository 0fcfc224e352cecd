/* SPDX-License-Identifier: BSD-3-Clause */
/* Names, sizes and parsers of data types, reduction operators, collective
 * kinds and byte sizes. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/rb.h"

struct type_info {
	const char *name;
	size_t size;
	const char *aliases[4];
};

static const struct type_info type_info[RB_NDTYPES] = {
	[RB_INT32] = { "int32", 4, { "int", "int32_t", "i32" } },
	[RB_INT64] = { "int64", 8, { "long", "int64_t", "i64" } },
	[RB_FLOAT] = { "float", 4, { "float32", "fp32", "f32" } },
	[RB_DOUBLE] = { "double", 8, { "float64", "fp64", "f64" } },
	[RB_HALF] = { "half", 2, { "float16", "fp16", "f16" } },
	[RB_BF16] = { "bfloat16", 2, { "bf16" } },
};

static const char *const redop_names[RB_NREDOPS] = {
	[RB_OP_SUM] = "sum",
	[RB_OP_PROD] = "prod",
	[RB_OP_MAX] = "max",
	[RB_OP_MIN] = "min",
};

static const char *const coll_names[RB_NCOLLS] = {
	[RB_COLL_ALLREDUCE] = "allreduce",
	[RB_COLL_ALLGATHER] = "allgather",
	[RB_COLL_ALLTOALL] = "alltoall",
};

size_t rb_dtype_size(enum rb_dtype t)
{
	return (unsigned)t < RB_NDTYPES ? type_info[t].size : 0;
}

const char *rb_dtype_name(enum rb_dtype t)
{
	return (unsigned)t < RB_NDTYPES ? type_info[t].name : "?";
}

int rb_dtype_parse(const char *name, enum rb_dtype *t_p)
{
	for (int t = 0; t < RB_NDTYPES; t++) {
		if (!strcasecmp(name, type_info[t].name)) {
			*t_p = (enum rb_dtype)t;
			return 0;
		}
		for (int a = 0; a < 4 && type_info[t].aliases[a]; a++) {
			if (!strcasecmp(name, type_info[t].aliases[a])) {
				*t_p = (enum rb_dtype)t;
				return 0;
			}
		}
	}
	return -RB_EINVAL;
}

const char *rb_redop_name(enum rb_redop op)
{
	return (unsigned)op < RB_NREDOPS ? redop_names[op] : "?";
}

int rb_redop_parse(const char *name, enum rb_redop *op_p)
{
	for (int op = 0; op < RB_NREDOPS; op++) {
		if (!strcasecmp(name, redop_names[op])) {
			*op_p = (enum rb_redop)op;
			return 0;
		}
	}
	return -RB_EINVAL;
}

const char *rb_coll_kind_name(enum rb_coll_kind k)
{
	return (unsigned)k < RB_NCOLLS ? coll_names[k] : "?";
}

int rb_parse_size(const char *s, uint64_t *bytes_p)
{
	unsigned long long v;
	uint64_t mult = 1;
	char *end;

	if (!s)
		return -RB_EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	/* strtoull accepts "-5" and wraps it: refuse any sign explicitly. */
	if (!isdigit((unsigned char)*s))
		return -RB_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -RB_EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		mult = 1ull << 10;
		end++;
		break;
	case 'M':
		mult = 1ull << 20;
		end++;
		break;
	case 'G':
		mult = 1ull << 30;
		end++;
		break;
	case 'T':
		mult = 1ull << 40;
		end++;
		break;
	default:
		break;
	}
	if (mult > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0')
		return -RB_EINVAL;
	if (v > UINT64_MAX / mult)
		return -RB_EINVAL;
	*bytes_p = (uint64_t)v * mult;
	return 0;
}

const char *rb_format_size(uint64_t bytes, char *buf)
{
	static const char sfx[] = "KMGT";
	int i = -1;
	uint64_t v = bytes;

	while (v >= 1024 && v % 1024 == 0 && i < 3) {
		v /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(buf, 32, "%" PRIu64, v);
	else
		snprintf(buf, 32, "%" PRIu64 "%c", v, sfx[i]);
	return buf;
}
