/* SPDX-License-Identifier: BSD-3-Clause */
/* alltoall_bench: measures alltoall over the chosen transport (see --help). */
#include "bench/bench.h"

int main(int argc, char **argv)
{
	return rb_bench_main(RB_COLL_ALLTOALL, argc, argv);
}
