/* SPDX-License-Identifier: BSD-3-Clause */
/* Bootstrap over MPI (MPICH): rank, size and the small exchanges the harness
 * needs. Launch with mpiexec locally, or mpirun/srun on a cluster. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

struct rb_boot {
	MPI_Comm comm;
	int rank;
	int size;
	char library[MPI_MAX_LIBRARY_VERSION_STRING];
};

static int mpi_rc(int rc, const char *what)
{
	char msg[MPI_MAX_ERROR_STRING];
	int len = 0;

	if (rc == MPI_SUCCESS)
		return 0;
	MPI_Error_string(rc, msg, &len);
	rb_err("%s: %s", what, msg);
	return -RB_EPEER;
}

static int mpi_init(int *argc, char ***argv, struct rb_boot **boot_p)
{
	struct rb_boot *b;
	int len = 0;
	int rc;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -RB_ENOMEM;
	rc = mpi_rc(MPI_Init(argc, argv), "MPI_Init");
	if (rc) {
		free(b);
		return rc;
	}
	/* Errors come back as codes so a lost peer is reported, not fatal. */
	MPI_Comm_dup(MPI_COMM_WORLD, &b->comm);
	MPI_Comm_set_errhandler(b->comm, MPI_ERRORS_RETURN);
	MPI_Comm_rank(b->comm, &b->rank);
	MPI_Comm_size(b->comm, &b->size);
	MPI_Get_library_version(b->library, &len);
	/* Keep only the first line ("MPICH Version: 4.0.2" style). */
	b->library[strcspn(b->library, "\n")] = '\0';
	for (char *c = b->library; *c; c++)
		if (*c == '\t')
			*c = ' ';
	*boot_p = b;
	return 0;
}

static int mpi_rank(struct rb_boot *b)
{
	return b->rank;
}

static int mpi_size(struct rb_boot *b)
{
	return b->size;
}

static int mpi_barrier(struct rb_boot *b)
{
	return mpi_rc(MPI_Barrier(b->comm), "MPI_Barrier");
}

static int mpi_allgather(struct rb_boot *b, const void *in, void *out,
			 size_t len)
{
	return mpi_rc(MPI_Allgather(in, (int)len, MPI_BYTE, out, (int)len,
				    MPI_BYTE, b->comm), "MPI_Allgather");
}

static int mpi_max_f64(struct rb_boot *b, double *v, int n)
{
	return mpi_rc(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX,
				    b->comm), "MPI_Allreduce");
}

static int mpi_sum_i64(struct rb_boot *b, int64_t *v, int n)
{
	return mpi_rc(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_SUM,
				    b->comm), "MPI_Allreduce");
}

static int mpi_bcast(struct rb_boot *b, void *buf, size_t len, int root)
{
	return mpi_rc(MPI_Bcast(buf, (int)len, MPI_BYTE, root, b->comm),
		      "MPI_Bcast");
}

static void mpi_abort(struct rb_boot *b, int code)
{
	MPI_Abort(b ? b->comm : MPI_COMM_WORLD, code);
	exit(code);	/* not reached with a conforming MPI */
}

static const char *mpi_library(struct rb_boot *b)
{
	return b->library;
}

static void mpi_fini(struct rb_boot *b)
{
	if (!b)
		return;
	MPI_Comm_free(&b->comm);
	MPI_Finalize();
	free(b);
}

const struct rb_boot_ops rb_boot_mpi_ops = {
	.name = "mpi",
	.init = mpi_init,
	.rank = mpi_rank,
	.size = mpi_size,
	.barrier = mpi_barrier,
	.allgather = mpi_allgather,
	.allreduce_max_f64 = mpi_max_f64,
	.allreduce_sum_i64 = mpi_sum_i64,
	.bcast = mpi_bcast,
	.abort = mpi_abort,
	.library = mpi_library,
	.fini = mpi_fini,
};
