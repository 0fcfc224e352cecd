/* SPDX-License-Identifier: BSD-3-Clause */
/* Host memory kind: page-aligned allocations, plain memcpy. */
#include <stdlib.h>
#include <string.h>

#include "transports/transport.h"

int rb_tp_mr_plain_new(void *buf, size_t len, enum rb_mem_kind kind,
		       struct rb_tp_mr **mr_p)
{
	struct rb_tp_mr *mr = malloc(sizeof(*mr));

	if (!mr)
		return -RB_ENOMEM;
	*mr = (struct rb_tp_mr){ .buf = buf, .len = len, .kind = kind };
	*mr_p = mr;
	return 0;
}

void rb_tp_mr_plain_dereg(struct rb_tp *tp, struct rb_tp_mr *mr)
{
	(void)tp;
	free(mr);
}

static int host_alloc(size_t len, void **buf_p)
{
	void *p = NULL;

	/* Page alignment suits registration (verbs) and vector loops. */
	if (posix_memalign(&p, 4096, len ? len : 1))
		return -RB_ENOMEM;
	*buf_p = p;
	return 0;
}

static void host_free(void *buf)
{
	free(buf);
}

static int host_copy(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
	return 0;
}

static const struct rb_mem_ops rb_mem_host_ops = {
	.name = "host",
	.alloc = host_alloc,
	.free = host_free,
	.copy_to_host = host_copy,
	.copy_from_host = host_copy,
};

#ifdef HAVE_CUDA
extern const struct rb_mem_ops rb_mem_cuda_ops;
#endif

const struct rb_mem_ops *rb_mem_find(enum rb_mem_kind kind)
{
	switch (kind) {
	case RB_MEM_HOST:
		return &rb_mem_host_ops;
#ifdef HAVE_CUDA
	case RB_MEM_CUDA:
		return &rb_mem_cuda_ops;
#endif
	default:
		return NULL;
	}
}
