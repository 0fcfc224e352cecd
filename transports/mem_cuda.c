/* SPDX-License-Identifier: BSD-3-Clause */
/* CUDA device memory kind: cudaMalloc'd buffers and explicit copies to and
 * from host memory (for filling inputs and checking results). Built only
 * when the CUDA toolkit is present (HAVE_CUDA). */
#include <cuda_runtime.h>

#include "transports/transport.h"

/* Converts a CUDA error to -RB_E*, logging the call that failed. */
static int cuda_rc(cudaError_t e, const char *what)
{
	if (e == cudaSuccess)
		return 0;
	rb_err("%s: %s", what, cudaGetErrorString(e));
	return e == cudaErrorMemoryAllocation ? -RB_ENOMEM : -RB_ENOTSUP;
}

static int cuda_alloc(size_t len, void **buf_p)
{
	void *p = NULL;
	int rc = cuda_rc(cudaMalloc(&p, len ? len : 1), "cudaMalloc");

	if (!rc)
		*buf_p = p;
	return rc;
}

static void cuda_free(void *buf)
{
	if (buf)
		cudaFree(buf);
}

static int cuda_to_host(void *dst, const void *src, size_t len)
{
	return cuda_rc(cudaMemcpy(dst, src, len, cudaMemcpyDeviceToHost),
		       "cudaMemcpy to host");
}

static int cuda_from_host(void *dst, const void *src, size_t len)
{
	return cuda_rc(cudaMemcpy(dst, src, len, cudaMemcpyHostToDevice),
		       "cudaMemcpy from host");
}

const struct rb_mem_ops rb_mem_cuda_ops = {
	.name = "cuda",
	.alloc = cuda_alloc,
	.free = cuda_free,
	.copy_to_host = cuda_to_host,
	.copy_from_host = cuda_from_host,
};
