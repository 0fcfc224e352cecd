/* SPDX-License-Identifier: BSD-3-Clause */
/* The transports built into this binary. With the Makefile, the only place
 * that knows which optional transports exist. */
#include <stdio.h>
#include <string.h>

#include "transports/transport.h"

extern const struct rb_tp_ops rb_shm_ops;
extern const struct rb_tp_ops rb_mpi_ops;
extern const struct rb_tp_ops rb_tcp_ops;
#ifdef HAVE_VERBS
extern const struct rb_tp_ops rb_ib_ops;
extern const struct rb_tp_ops rb_roce_ops;
#endif

static const struct rb_tp_ops *const tp_registry[] = {
	&rb_shm_ops,
	&rb_mpi_ops,
	&rb_tcp_ops,
#ifdef HAVE_VERBS
	&rb_ib_ops,
	&rb_roce_ops,
#endif
};

const struct rb_tp_ops *rb_tp_find(const char *name)
{
	for (size_t i = 0; i < RB_ARRAY_SIZE(tp_registry); i++) {
		if (!strcmp(tp_registry[i]->name, name))
			return tp_registry[i];
	}
	return NULL;
}

const struct rb_tp_ops *rb_tp_at(int i)
{
	if (i < 0 || (size_t)i >= RB_ARRAY_SIZE(tp_registry))
		return NULL;
	return tp_registry[i];
}

const char *rb_tp_list(char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < RB_ARRAY_SIZE(tp_registry) && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 tp_registry[i]->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}
