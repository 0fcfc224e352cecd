/* SPDX-License-Identifier: BSD-3-Clause */
/* Real lstopo exports of GPU servers kept beside the project in
 * ../shared/topo (relative to the project root). Each case is skipped with
 * a message when its file is absent; without the folder the program exits
 * 77 (skipped) before running any case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/rb.h"
#include "topo/topo.h"

#define SHARED_DIR RB_SRCDIR "/../shared/topo"
#define SHARED(name) SHARED_DIR "/" name

/* Loads path, or skips the test when the file is not there. */
static struct rb_topo *load_or_skip(const char *path)
{
	struct rb_topo *t = NULL;

	if (access(path, R_OK)) {
		print_message("# %s absent: real-export check skipped\n", path);
		skip();
	}
	assert_int_equal(rb_topo_load(path, &t), 0);
	return t;
}

static const char *rail_name(const struct rb_topo *t, int r)
{
	return rb_topo_nic_at(t, rb_topo_rail_nic(t, r))->name;
}

/* JURECA-DC GPU node: 4 A100, 4 ConnectX-6, each pair on one switch;
 * mlx5 numbering differs from GPU order; 2 Intel ports are not rails. */
static void test_jrc0386(void **state)
{
	static const char *const want[] = { "mlx5_1", "mlx5_0", "mlx5_3",
					    "mlx5_2" };
	struct rb_topo *t = load_or_skip(SHARED("psmgmt-jrc0386.xml"));
	struct rb_topo_place p;
	int hcas = 0;
	int n;
	int g;

	(void)state;
	assert_int_equal(rb_topo_ngpus(t), 4);
	for (n = 0; n < rb_topo_nnics(t); n++) {
		const struct rb_topo_nic *nic = rb_topo_nic_at(t, n);

		if (nic->vendor_id == 0x15b3)
			hcas++;
		else
			assert_int_equal(nic->rail, -1);
	}
	assert_int_equal(hcas, 4);
	assert_int_equal(rb_topo_nrails(t), 4);
	for (g = 0; g < 4; g++) {
		int nic = rb_topo_rail_nic(t, rb_topo_gpu_rail(t, g));

		assert_int_equal(rb_topo_gpu_rail(t, g), g);
		assert_string_equal(rail_name(t, g), want[g]);
		assert_int_equal(rb_topo_link(t, g, nic), RB_TOPO_PIX);
		assert_string_equal(rb_topo_gpu_at(t, g)->switch_busid,
				    rb_topo_nic_at(t, nic)->switch_busid);
	}
	assert_int_equal(rb_topo_place(t, 0, 4, &p), 0);
	assert_string_equal(p.gpu_busid, "0000:03:00.0");
	assert_string_equal(p.netdev, "ib1");
	assert_int_equal(p.numa, 3);
	assert_string_equal(p.cpuset, "48-63,176-191");
	rb_topo_free(t);
}

/* JUWELS GPU node: 4 V100 / 2 EDR HCAs, two GPUs on each HCA's switch;
 * 4 Intel X722 functions on socket 0 serve no GPU. */
static void test_jwc09n003(void **state)
{
	struct rb_topo *t = load_or_skip(SHARED("psmgmt-jwc09n003.xml"));
	int g;

	(void)state;
	assert_int_equal(rb_topo_ngpus(t), 4);
	assert_int_equal(rb_topo_nnics(t), 6);
	assert_int_equal(rb_topo_nrails(t), 2);
	assert_string_equal(rail_name(t, 0), "mlx5_0");
	assert_string_equal(rail_name(t, 1), "mlx5_1");
	for (g = 0; g < 4; g++) {
		assert_int_equal(rb_topo_gpu_rail(t, g), g / 2);
		assert_int_equal(rb_topo_link(t, g,
				 rb_topo_rail_nic(t, g / 2)), RB_TOPO_PIX);
	}
	/* Socket-0 GPUs see the Intel ports as NODE, socket-1 GPUs as SYS. */
	assert_int_equal(rb_topo_link(t, 0, 0), RB_TOPO_NODE);
	assert_int_equal(rb_topo_link(t, 3, 0), RB_TOPO_SYS);
	rb_topo_free(t);
}

/* JUSUF: one V100 and one dual-function ConnectX-6 (Ethernet + IB),
 * counted as two NICs; plus two onboard Intel ports. */
static void test_jsfc005(void **state)
{
	struct rb_topo *t = load_or_skip(SHARED("psmgmt-jsfc005.xml"));

	(void)state;
	assert_int_equal(rb_topo_ngpus(t), 1);
	assert_int_equal(rb_topo_nnics(t), 4);
	assert_string_equal(rb_topo_nic_at(t, 0)->busid, "0000:21:00.0");
	assert_string_equal(rb_topo_nic_at(t, 1)->busid, "0000:21:00.1");
	assert_string_equal(rb_topo_nic_at(t, 1)->name, "mlx5_1");
	assert_int_equal(rb_topo_nic_at(t, 1)->class_id, 0x0207);
	assert_int_equal(rb_topo_nrails(t), 1);
	/* Both functions are as far; the lower PCI address wins. */
	assert_string_equal(rail_name(t, 0), "mlx5_0");
	rb_topo_free(t);
}

/* DGX-2: 16 V100 seen as PCI devices and nvml OS devices, no NICs. */
static void test_dgx2(void **state)
{
	struct rb_topo *t = load_or_skip(SHARED("hwloc-nvidiaDGX2.xml"));
	struct rb_topo_place p;

	(void)state;
	assert_int_equal(rb_topo_ngpus(t), 16);
	assert_int_equal(rb_topo_nnics(t), 0);
	assert_int_equal(rb_topo_nrails(t), 0);
	assert_string_equal(rb_topo_gpu_at(t, 0)->osdev, "nvml0");
	assert_int_equal(rb_topo_place(t, 9, 16, &p), 0);
	assert_int_equal(p.gpu, 9);
	assert_int_equal(p.rail, -1);
	assert_string_equal(p.nic, "");
	rb_topo_free(t);
}

/* hwloc test machine: three NVIDIA functions (one with cuda0), an AMD
 * OpenCL GPU and a Matrox VGA that are not counted, one HCA under the
 * cuda0 GPU's root port. */
static void test_normalio(void **state)
{
	struct rb_topo *t =
		load_or_skip(SHARED("hwloc-32em64t-2n8c2t-pci-normalio.xml"));
	int g;

	(void)state;
	assert_int_equal(rb_topo_ngpus(t), 3);
	assert_string_equal(rb_topo_gpu_at(t, 2)->osdev, "cuda0");
	assert_int_equal(rb_topo_nnics(t), 3);
	assert_string_equal(rb_topo_nic_at(t, 0)->name, "mlx5_0");
	assert_int_equal(rb_topo_link(t, 2, 0), RB_TOPO_PIX);
	assert_int_equal(rb_topo_link(t, 1, 0), RB_TOPO_PHB);
	assert_int_equal(rb_topo_link(t, 0, 0), RB_TOPO_SYS);
	/* The verbs NIC is preferred over the 1 GbE ports at equal
	 * distance: one rail for all three GPUs. */
	assert_int_equal(rb_topo_nrails(t), 1);
	for (g = 0; g < 3; g++)
		assert_int_equal(rb_topo_gpu_rail(t, g), 0);
	rb_topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jrc0386),
		cmocka_unit_test(test_jwc09n003),
		cmocka_unit_test(test_jsfc005),
		cmocka_unit_test(test_dgx2),
		cmocka_unit_test(test_normalio),
	};

	if (access(SHARED_DIR, R_OK | X_OK)) {
		printf("1..0 # SKIP %s absent: no real exports to check\n",
		       SHARED_DIR);
		return RB_EXIT_SKIP;
	}
	return cmocka_run_group_tests_name("topo_shared", tests, NULL, NULL);
}
