/* SPDX-License-Identifier: BSD-3-Clause */
/* p2p_bench: qualifies a cluster's links pair by pair and rail by rail,
 * and names the bad node, NIC, rail or link (docs/qualify.md). */
#include "bench/qualify.h"

int main(int argc, char **argv)
{
	return rb_qual_main(argc, argv);
}
