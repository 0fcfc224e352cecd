/* SPDX-License-Identifier: BSD-3-Clause */
/* Topology discovery, affinity classes, rail map and placement on the
 * project's hwloc XML fixtures (tests/topo/fixtures, layouts in
 * docs/topo.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/rb.h"
#include "topo/topo.h"

#define FIX(name) RB_SRCDIR "/tests/topo/fixtures/" name

static struct rb_topo *load(const char *path)
{
	struct rb_topo *t = NULL;

	assert_int_equal(rb_topo_load(path, &t), 0);
	assert_non_null(t);
	return t;
}

/* Row g of the affinity matrix as "PIX PXB ...". */
static void matrix_row(const struct rb_topo *t, int g, char *buf, size_t len)
{
	size_t off = 0;
	int n;

	buf[0] = '\0';
	for (n = 0; n < rb_topo_nnics(t); n++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					n ? " " : "",
					rb_topo_link_name(rb_topo_link(t, g, n)));
}

static void assert_matrix(const struct rb_topo *t, const char *const *rows)
{
	char buf[256];
	int g;

	for (g = 0; g < rb_topo_ngpus(t); g++) {
		matrix_row(t, g, buf, sizeof(buf));
		assert_string_equal(buf, rows[g]);
	}
}

static const char *rail_name(const struct rb_topo *t, int r)
{
	return rb_topo_nic_at(t, rb_topo_rail_nic(t, r))->name;
}

/* DGX-H100-like: 2 sockets, 4 two-level switches with GPU+NIC pairs,
 * verbs names deliberately out of PCI order, storage + management NICs. */
static void test_dgx_devices(void **state)
{
	static const char *const gpu_bus[] = {
		"0000:15:00.0", "0000:19:00.0", "0000:35:00.0", "0000:39:00.0",
		"0000:95:00.0", "0000:99:00.0", "0000:b5:00.0", "0000:b9:00.0",
	};
	struct rb_topo *t = load(FIX("dgx-h100.xml"));
	int g;

	(void)state;
	/* cuda<i> and nvml<i> OS devices sit under each GPU: still 8. */
	assert_int_equal(rb_topo_ngpus(t), 8);
	assert_int_equal(rb_topo_nnics(t), 11);
	for (g = 0; g < 8; g++) {
		const struct rb_topo_gpu *gpu = rb_topo_gpu_at(t, g);

		assert_string_equal(gpu->busid, gpu_bus[g]);
		assert_int_equal(gpu->numa, g < 4 ? 0 : 1);
		assert_string_equal(gpu->cpuset, g < 4 ? "0-3,8-11" : "4-7,12-15");
		assert_string_equal(gpu->model, "NVIDIA H100 80GB HBM3");
		assert_true(gpu->pcie_gbps > 504.0 && gpu->pcie_gbps < 505.0);
	}
	assert_string_equal(rb_topo_gpu_at(t, 0)->switch_busid, "0000:13:00.0");
	assert_string_equal(rb_topo_gpu_at(t, 0)->host_bridge, "0000:[10-2f]");
	assert_string_equal(rb_topo_gpu_at(t, 7)->host_bridge, "0000:[b0-cf]");
	assert_string_equal(rb_topo_nic_at(t, 6)->host_bridge, "0000:[50-5f]");
	assert_string_equal(rb_topo_nic_at(t, 0)->switch_busid, "0000:13:00.0");
	assert_string_equal(rb_topo_nic_at(t, 0)->netdev, "ibp22s0");
	assert_int_equal(rb_topo_nic_at(t, 0)->class_id, 0x0207);
	/* Storage NIC functions hang off a root port: no switch. */
	assert_string_equal(rb_topo_nic_at(t, 2)->switch_busid, "");
	assert_string_equal(rb_topo_nic_at(t, 3)->busid, "0000:20:00.1");
	assert_string_equal(rb_topo_nic_at(t, 6)->netdev, "eno1");
	assert_string_equal(rb_topo_nic_at(t, 6)->name, "");
	assert_null(rb_topo_gpu_at(t, 8));
	assert_null(rb_topo_nic_at(t, -1));
	rb_topo_free(t);
}

static void test_dgx_affinity(void **state)
{
	static const char *const rows[] = {
		"PIX PXB PHB PHB NODE NODE NODE SYS SYS SYS SYS",
		"PXB PIX PHB PHB NODE NODE NODE SYS SYS SYS SYS",
		"NODE NODE NODE NODE PIX PXB NODE SYS SYS SYS SYS",
		"NODE NODE NODE NODE PXB PIX NODE SYS SYS SYS SYS",
		"SYS SYS SYS SYS SYS SYS SYS PIX PXB NODE NODE",
		"SYS SYS SYS SYS SYS SYS SYS PXB PIX NODE NODE",
		"SYS SYS SYS SYS SYS SYS SYS NODE NODE PIX PXB",
		"SYS SYS SYS SYS SYS SYS SYS NODE NODE PXB PIX",
	};
	struct rb_topo *t = load(FIX("dgx-h100.xml"));

	(void)state;
	assert_matrix(t, rows);
	rb_topo_free(t);
}

static void test_dgx_rails(void **state)
{
	/* Rail r is GPU r's PIX NIC, whatever its verbs number. */
	static const char *const rail_nics[] = {
		"mlx5_2", "mlx5_0", "mlx5_3", "mlx5_1",
		"mlx5_6", "mlx5_4", "mlx5_7", "mlx5_5",
	};
	struct rb_topo *t = load(FIX("dgx-h100.xml"));
	int r;

	(void)state;
	assert_int_equal(rb_topo_nrails(t), 8);
	for (r = 0; r < 8; r++) {
		assert_string_equal(rail_name(t, r), rail_nics[r]);
		assert_int_equal(rb_topo_gpu_rail(t, r), r);
	}
	/* Storage (both functions) and management serve no GPU. */
	assert_int_equal(rb_topo_nic_at(t, 2)->rail, -1);
	assert_int_equal(rb_topo_nic_at(t, 3)->rail, -1);
	assert_int_equal(rb_topo_nic_at(t, 6)->rail, -1);
	assert_int_equal(rb_topo_rail_nic(t, 8), -1);
	rb_topo_free(t);
}

static void test_dgx_place(void **state)
{
	struct rb_topo *t = load(FIX("dgx-h100.xml"));
	struct rb_topo_place p;

	(void)state;
	assert_int_equal(rb_topo_place(t, 5, 8, &p), 0);
	assert_int_equal(p.local_rank, 5);
	assert_int_equal(p.gpu, 5);
	assert_string_equal(p.gpu_busid, "0000:99:00.0");
	assert_int_equal(p.rail, 5);
	assert_string_equal(p.nic, "mlx5_4");
	assert_string_equal(p.netdev, "ibp154s0");
	assert_string_equal(p.nic_busid, "0000:9a:00.0");
	assert_int_equal(p.numa, 1);
	assert_string_equal(p.cpuset, "4-7,12-15");
	assert_int_equal(p.no_gpu, 0);
	/* No line rate in an XML export. */
	assert_true(p.nic_gbps == 0.0);
	/* 16 ranks on 8 GPUs: rank 9 shares GPU 1 and its rail. */
	assert_int_equal(rb_topo_place(t, 9, 16, &p), 0);
	assert_int_equal(p.gpu, 1);
	assert_string_equal(p.nic, "mlx5_0");
	assert_string_equal(p.cpuset, "0-3,8-11");
	assert_int_equal(rb_topo_place(t, 8, 8, &p), -RB_EINVAL);
	assert_int_equal(rb_topo_place(t, -1, 8, &p), -RB_EINVAL);
	/* An XML topology describes another machine: no binding. */
	assert_int_equal(rb_topo_place(t, 0, 8, &p), 0);
	assert_int_equal(rb_topo_bind(t, &p), -RB_ENOTSUP);
	rb_topo_free(t);
}

static void test_dgx_place_json(void **state)
{
	struct rb_topo *t = load(FIX("dgx-h100.xml"));
	struct rb_topo_place p;
	void *js = NULL;
	json_t *o;

	(void)state;
	assert_int_equal(rb_topo_place(t, 2, 8, &p), 0);
	assert_int_equal(rb_topo_place_json(&p, &js), 0);
	o = js;
	assert_int_equal(json_integer_value(json_object_get(o, "gpu")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "rail")), 2);
	assert_string_equal(json_string_value(json_object_get(o, "nic")),
			    "mlx5_3");
	assert_string_equal(json_string_value(json_object_get(o, "cpuset")),
			    "0-3,8-11");
	assert_true(json_is_null(json_object_get(o, "nic_gbps")));
	assert_true(json_is_false(json_object_get(o, "no_gpu")));
	json_decref(o);
	rb_topo_free(t);
}

static void test_dgx_json_and_summary(void **state)
{
	struct rb_topo *t = load(FIX("dgx-h100.xml"));
	char sum[RB_TOPO_SUMMARY_MAX];
	char small[16];
	void *js = NULL;
	json_t *o;
	json_t *rails;

	(void)state;
	assert_int_equal(rb_topo_summary(t, sum, sizeof(sum)), 0);
	assert_string_equal(sum, "gpus=8 rails=8 nics=11 model=15b3:1021*8 pcie_gbps=504*8 line_gbps=0*8");
	assert_int_equal(rb_topo_summary(t, small, sizeof(small)), -RB_EINVAL);
	assert_int_equal(rb_topo_json(t, &js), 0);
	o = js;
	assert_int_equal(json_array_size(json_object_get(o, "gpus")), 8);
	assert_int_equal(json_array_size(json_object_get(o, "nics")), 11);
	assert_string_equal(json_string_value(json_array_get(json_array_get(
		json_object_get(o, "affinity"), 1), 0)), "PXB");
	rails = json_object_get(o, "rails");
	assert_int_equal(json_array_size(rails), 8);
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(rails, 2), "nic")), 4);
	assert_int_equal(json_array_size(json_object_get(o, "non_rail_nics")),
			 3);
	assert_string_equal(json_string_value(json_object_get(o, "summary")),
			    sum);
	json_decref(o);
	rb_topo_free(t);
}

/* Two GPUs behind each NIC's switch; one GPU is a VGA-class function and
 * an ASPEED BMC VGA (not NVIDIA) must not count. */
static void test_two_gpus_per_nic(void **state)
{
	static const char *const rows[] = {
		"PIX SYS", "PIX SYS", "SYS PIX", "SYS PIX",
	};
	struct rb_topo *t = load(FIX("two-gpus-per-nic.xml"));
	struct rb_topo_place p;
	int g;

	(void)state;
	assert_int_equal(rb_topo_ngpus(t), 4);
	assert_int_equal(rb_topo_gpu_at(t, 3)->class_id, 0x0300);
	assert_int_equal(rb_topo_nnics(t), 2);
	assert_int_equal(rb_topo_nrails(t), 2);
	assert_matrix(t, rows);
	assert_string_equal(rail_name(t, 0), "mlx5_1");
	assert_string_equal(rail_name(t, 1), "mlx5_0");
	for (g = 0; g < 4; g++)
		assert_int_equal(rb_topo_gpu_rail(t, g), g / 2);
	assert_int_equal(rb_topo_place(t, 3, 4, &p), 0);
	assert_string_equal(p.nic, "mlx5_0");
	assert_string_equal(p.netdev, "ib0");
	assert_string_equal(p.cpuset, "4-7,12-15");
	assert_true(p.nic_pcie_gbps > 252.0 && p.nic_pcie_gbps < 253.0);
	rb_topo_free(t);
}

/* No GPUs: the verbs NICs are the rails, round-robin over local ranks,
 * each rank on the CPUs of its NIC's socket. */
static void test_cpu_only(void **state)
{
	struct rb_topo *t = load(FIX("cpu-only.xml"));
	struct rb_topo_place p;
	char sum[RB_TOPO_SUMMARY_MAX];

	(void)state;
	assert_int_equal(rb_topo_ngpus(t), 0);
	assert_int_equal(rb_topo_nnics(t), 4);
	assert_int_equal(rb_topo_nrails(t), 2);
	assert_string_equal(rail_name(t, 0), "mlx5_0");
	assert_string_equal(rail_name(t, 1), "mlx5_1");
	assert_int_equal(rb_topo_nic_at(t, 0)->rail, -1);
	assert_string_equal(rb_topo_nic_at(t, 1)->netdev, "eno2");
	assert_int_equal(rb_topo_place(t, 0, 3, &p), 0);
	assert_int_equal(p.no_gpu, 1);
	assert_int_equal(p.gpu, -1);
	assert_string_equal(p.gpu_busid, "");
	assert_int_equal(p.rail, 0);
	assert_string_equal(p.cpuset, "0-3,8-11");
	assert_int_equal(rb_topo_place(t, 1, 3, &p), 0);
	assert_string_equal(p.nic, "mlx5_1");
	assert_int_equal(p.numa, 1);
	assert_string_equal(p.cpuset, "4-7,12-15");
	assert_int_equal(rb_topo_place(t, 2, 3, &p), 0);
	assert_int_equal(p.rail, 0);
	assert_string_equal(p.nic_busid, "0000:17:00.0");
	assert_int_equal(rb_topo_summary(t, sum, sizeof(sum)), 0);
	assert_string_equal(sum, "gpus=0 rails=2 nics=4 model=15b3:101b*2 pcie_gbps=252*2 line_gbps=0*2");
	rb_topo_free(t);
}

/* Neither GPU nor NIC: the whole machine, no rail. */
static void test_bare(void **state)
{
	struct rb_topo *t = load(FIX("bare.xml"));
	struct rb_topo_place p;

	(void)state;
	assert_int_equal(rb_topo_nrails(t), 0);
	assert_int_equal(rb_topo_place(t, 1, 2, &p), 0);
	assert_int_equal(p.rail, -1);
	assert_string_equal(p.nic, "");
	assert_string_equal(p.cpuset, "0-1");
	assert_int_equal(p.numa, 0);
	assert_string_equal(rb_topo_host(t), "bare-01");
	rb_topo_free(t);
}

static void test_load_errors(void **state)
{
	char path[] = "/tmp/rb-topo-badXXXXXX";
	struct rb_topo *t = NULL;
	int fd;

	(void)state;
	assert_int_equal(rb_topo_load(FIX("no-such-file.xml"), &t),
			 -RB_EINVAL);
	assert_null(t);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "<topology><object", 17), 17);
	close(fd);
	assert_int_equal(rb_topo_load(path, &t), -RB_EINVAL);
	assert_null(t);
	unlink(path);
	rb_topo_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dgx_devices),
		cmocka_unit_test(test_dgx_affinity),
		cmocka_unit_test(test_dgx_rails),
		cmocka_unit_test(test_dgx_place),
		cmocka_unit_test(test_dgx_place_json),
		cmocka_unit_test(test_dgx_json_and_summary),
		cmocka_unit_test(test_two_gpus_per_nic),
		cmocka_unit_test(test_cpu_only),
		cmocka_unit_test(test_bare),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests_name("topo_fixtures", tests, NULL, NULL);
}
