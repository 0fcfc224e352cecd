/* SPDX-License-Identifier: BSD-3-Clause */
/* The rail pairing rule on hand-made affinity matrices, and the cross-node
 * summary check. No hwloc input needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/rb.h"
#include "topo/topo.h"

#define PIX RB_TOPO_PIX
#define PXB RB_TOPO_PXB
#define PHB RB_TOPO_PHB
#define NODE RB_TOPO_NODE
#define SYS RB_TOPO_SYS

#define MAXN 16

struct result {
	int gpu_rail[MAXN];
	int nic_rail[MAXN];
	int rail_nic[MAXN];
	int nrails;
};

static void assign(const enum rb_topo_link *links, const int *pref,
		   int ngpus, int nnics, struct result *r)
{
	memset(r, 0x7f, sizeof(*r));
	assert_int_equal(rb_topo_rails_assign(links, pref, ngpus, nnics,
					      r->gpu_rail, r->nic_rail,
					      r->rail_nic, &r->nrails), 0);
}

static void assert_ints(const int *got, const int *want, int n)
{
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

/* 8 GPUs / 8 NICs, one PIX NIC each, numbered out of order: 1:1 in GPU
 * order whatever the NIC order. */
static void test_one_to_one(void **state)
{
	static const int nic_of_gpu[8] = { 3, 0, 6, 1, 7, 2, 5, 4 };
	enum rb_topo_link links[8 * 8];
	struct result r;
	int g;
	int n;

	(void)state;
	for (g = 0; g < 8; g++)
		for (n = 0; n < 8; n++)
			links[g * 8 + n] = n == nic_of_gpu[g] ? PIX :
					   (g < 4) == (n < 4) ? NODE : SYS;
	assign(links, NULL, 8, 8, &r);
	assert_int_equal(r.nrails, 8);
	for (g = 0; g < 8; g++) {
		assert_int_equal(r.gpu_rail[g], g);
		assert_int_equal(r.rail_nic[g], nic_of_gpu[g]);
		assert_int_equal(r.nic_rail[nic_of_gpu[g]], g);
	}
}

/* 4 GPUs and 2 NICs on one switch: equally close, so 2 GPUs per NIC. */
static void test_tie_balanced(void **state)
{
	static const enum rb_topo_link links[] = {
		PIX, PIX, PIX, PIX, PIX, PIX, PIX, PIX,
	};
	static const int want_gpu[] = { 0, 1, 0, 1 };
	struct result r;

	(void)state;
	assign(links, NULL, 4, 2, &r);
	assert_int_equal(r.nrails, 2);
	assert_ints(r.gpu_rail, want_gpu, 4);
	assert_int_equal(r.rail_nic[0], 0);
	assert_int_equal(r.rail_nic[1], 1);
}

/* GPU0 could use either NIC, GPU1 only NIC0: the balancing pass moves
 * GPU0 to NIC1 instead of stacking both on NIC0. */
static void test_balance_moves(void **state)
{
	static const enum rb_topo_link links[] = {
		PIX, PIX,
		PIX, PXB,
	};
	static const int want_nic_rail[] = { 1, 0 };
	struct result r;

	(void)state;
	assign(links, NULL, 2, 2, &r);
	assert_int_equal(r.nrails, 2);
	assert_int_equal(r.gpu_rail[0], 0);
	assert_int_equal(r.gpu_rail[1], 1);
	assert_ints(r.nic_rail, want_nic_rail, 2);
}

/* Closeness beats balance: a NIC only NODE-close serves nobody while a
 * PIX NIC exists, and is reported as non-rail. */
static void test_closest_first(void **state)
{
	static const enum rb_topo_link links[] = {
		NODE, PIX, PHB,
		NODE, PIX, PHB,
		NODE, PIX, PHB,
		NODE, PIX, PHB,
	};
	static const int want_nic_rail[] = { -1, 0, -1 };
	struct result r;
	int g;

	(void)state;
	assign(links, NULL, 4, 3, &r);
	assert_int_equal(r.nrails, 1);
	for (g = 0; g < 4; g++)
		assert_int_equal(r.gpu_rail[g], 0);
	assert_ints(r.nic_rail, want_nic_rail, 3);
}

/* Equally far NICs: the one with a verbs device (pref 0) wins over a
 * management port at a lower PCI address, for every GPU. */
static void test_preference(void **state)
{
	static const enum rb_topo_link links[] = {
		SYS, SYS, SYS,
		SYS, SYS, SYS,
	};
	static const int pref[] = { 1, 0, 1 };
	static const int want_nic_rail[] = { -1, 0, -1 };
	struct result r;

	(void)state;
	assign(links, pref, 2, 3, &r);
	assert_int_equal(r.nrails, 1);
	assert_int_equal(r.gpu_rail[0], 0);
	assert_int_equal(r.gpu_rail[1], 0);
	assert_ints(r.nic_rail, want_nic_rail, 3);
	/* Without preferences the same matrix spreads by load. */
	assign(links, NULL, 2, 3, &r);
	assert_int_equal(r.nrails, 2);
	assert_int_equal(r.rail_nic[0], 0);
	assert_int_equal(r.rail_nic[1], 1);
}

static void test_no_nics_and_bad_counts(void **state)
{
	static const enum rb_topo_link none[1] = { SYS };
	struct result r;
	int g;

	(void)state;
	assign(none, NULL, 3, 0, &r);
	assert_int_equal(r.nrails, 0);
	for (g = 0; g < 3; g++)
		assert_int_equal(r.gpu_rail[g], -1);
	assert_int_equal(rb_topo_rails_assign(none, NULL, -1, 0, r.gpu_rail,
					      r.nic_rail, r.rail_nic,
					      &r.nrails), -RB_EINVAL);
}

static void test_link_names(void **state)
{
	(void)state;
	assert_string_equal(rb_topo_link_name(PIX), "PIX");
	assert_string_equal(rb_topo_link_name(PXB), "PXB");
	assert_string_equal(rb_topo_link_name(PHB), "PHB");
	assert_string_equal(rb_topo_link_name(NODE), "NODE");
	assert_string_equal(rb_topo_link_name(SYS), "SYS");
	assert_string_equal(rb_topo_link_name(RB_TOPO_NLINKS), "?");
}

/* ---- cross-node check ---- */

#define S8 "gpus=8 rails=8 nics=10 model=15b3:1021*8 pcie_gbps=504*8 line_gbps=400*8"

/* Runs the check; returns its result and the printed text in buf. */
static int check(const char *const *sums, const char *const *hosts, int n,
		 char *buf, size_t len)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	int rc;

	assert_non_null(f);
	rc = rb_topo_cross_check(sums, hosts, n, f);
	fclose(f);
	snprintf(buf, len, "%s", text ? text : "");
	free(text);
	return rc;
}

static void test_check_same(void **state)
{
	const char *const sums[] = { S8, S8, S8 };
	const char *const hosts[] = { "a", "b", "c" };
	char out[1024];

	(void)state;
	assert_int_equal(check(sums, hosts, 3, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(check(sums, hosts, 0, out, sizeof(out)), 0);
}

static void test_check_one_rail_missing(void **state)
{
	const char *const sums[] = {
		S8, S8, S8,
		"gpus=8 rails=7 nics=9 model=15b3:1021*7 pcie_gbps=504*7 line_gbps=400*7",
	};
	const char *const hosts[] = { "node1", "node2", "node3", "node7" };
	char out[1024];

	(void)state;
	assert_int_equal(check(sums, hosts, 4, out, sizeof(out)), 4);
	assert_string_equal(out,
		"# topo: host node7 has 7 rails, majority 8\n"
		"# topo: host node7 has rail NIC model 15b3:1021*7, majority 15b3:1021*8\n"
		"# topo: host node7 has rail NIC PCIe links 504*7 Gb/s, majority 504*8 Gb/s\n"
		"# topo: host node7 has rail NIC line rates 400*7 Gb/s, majority 400*8 Gb/s\n");
}

static void test_check_degraded(void **state)
{
	const char *const sums[] = {
		S8,
		"gpus=8 rails=8 nics=10 model=15b3:1021*8 pcie_gbps=252*1,504*7 line_gbps=200*1,400*7",
		S8,
		"gpus=4 rails=8 nics=10 model=15b3:101b*8 pcie_gbps=504*8 line_gbps=400*8",
		S8,
	};
	const char *const hosts[] = { "a", "b", "c", "d", "e" };
	char out[1024];

	(void)state;
	assert_int_equal(check(sums, hosts, 5, out, sizeof(out)), 4);
	assert_string_equal(out,
		"# topo: host d has 4 GPUs, majority 8\n"
		"# topo: host d has rail NIC model 15b3:101b*8, majority 15b3:1021*8\n"
		"# topo: host b has rail NIC PCIe links 252*1,504*7 Gb/s, majority 504*8 Gb/s\n"
		"# topo: host b has rail NIC line rates 200*1,400*7 Gb/s, majority 400*8 Gb/s\n");
}

static void test_check_no_majority(void **state)
{
	const char *const sums[] = {
		S8,
		"gpus=8 rails=4 nics=10 model=15b3:1021*4 pcie_gbps=504*4 line_gbps=400*4",
	};
	const char *const hosts[] = { "a", "b" };
	char out[1024];

	(void)state;
	assert_int_equal(check(sums, hosts, 2, out, sizeof(out)), 4);
	assert_non_null(strstr(out,
		"# topo: host b has 4 rails, no majority; host a has 8\n"));
}

static void test_check_bad_summary(void **state)
{
	const char *const sums[] = { S8, "gpus=8 rails= model=x" };
	const char *const hosts[] = { "a", "b" };
	char out[1024];

	(void)state;
	assert_int_equal(check(sums, hosts, 2, out, sizeof(out)), -RB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_to_one),
		cmocka_unit_test(test_tie_balanced),
		cmocka_unit_test(test_balance_moves),
		cmocka_unit_test(test_closest_first),
		cmocka_unit_test(test_preference),
		cmocka_unit_test(test_no_nics_and_bad_counts),
		cmocka_unit_test(test_link_names),
		cmocka_unit_test(test_check_same),
		cmocka_unit_test(test_check_one_rail_missing),
		cmocka_unit_test(test_check_degraded),
		cmocka_unit_test(test_check_no_majority),
		cmocka_unit_test(test_check_bad_summary),
	};

	return cmocka_run_group_tests_name("topo_rails", tests, NULL, NULL);
}
