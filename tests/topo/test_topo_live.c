/* SPDX-License-Identifier: BSD-3-Clause */
/* The topology of the machine running the test: whatever it holds, the
 * result must be consistent with sysfs, placeable and bindable. */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <hwloc.h>

#include "common/rb.h"
#include "topo/topo.h"

static void test_live_devices(void **state)
{
	struct rb_topo *t = NULL;
	char path[256];
	int n;

	(void)state;
	assert_int_equal(rb_topo_load(NULL, &t), 0);
	assert_string_equal(rb_topo_source(t), "this machine");
	assert_true(rb_topo_host(t)[0] != '\0');
	for (n = 0; n < rb_topo_nnics(t); n++) {
		const struct rb_topo_nic *nic = rb_topo_nic_at(t, n);

		assert_int_equal(strlen(nic->busid), 12);
		/* hwloc only reports interfaces the kernel has. */
		if (nic->netdev[0]) {
			snprintf(path, sizeof(path), "/sys/class/net/%s",
				 nic->netdev);
			assert_int_equal(access(path, F_OK), 0);
		}
		if (n > 0)
			assert_true(strcmp(rb_topo_nic_at(t, n - 1)->busid,
					   nic->busid) <= 0);
	}
	assert_true(rb_topo_nrails(t) <= RB_MAX(rb_topo_nnics(t), 0));
	rb_topo_free(t);
}

/* Is the CPU we run on in the list form set cpus? */
static int running_inside(const char *cpus)
{
	hwloc_bitmap_t set = hwloc_bitmap_alloc();
	int cpu = sched_getcpu();
	int in;

	assert_non_null(set);
	assert_int_equal(hwloc_bitmap_list_sscanf(set, cpus), 0);
	in = cpu >= 0 && hwloc_bitmap_isset(set, (unsigned)cpu);
	hwloc_bitmap_free(set);
	return in;
}

/* Every local rank of a full node can be placed and bound, and the CPU
 * the kernel then runs us on is inside the placement's CPU list. */
static void test_live_place_bind(void **state)
{
	struct rb_topo *t = NULL;
	struct rb_topo_place p;
	char sum[RB_TOPO_SUMMARY_MAX];
	const char *sums[1];
	const char *hosts[1] = { "self" };
	FILE *devnull;
	int nr;
	int k;

	(void)state;
	assert_int_equal(rb_topo_load(NULL, &t), 0);
	nr = RB_MAX(RB_MAX(rb_topo_ngpus(t), rb_topo_nrails(t)), 1);
	for (k = 0; k < nr; k++) {
		assert_int_equal(rb_topo_place(t, k, nr, &p), 0);
		assert_int_equal(p.no_gpu, rb_topo_ngpus(t) == 0);
		assert_true(p.cpuset[0] != '\0');
		if (rb_topo_nrails(t) > 0)
			assert_true(p.rail >= 0);
		assert_int_equal(rb_topo_bind(t, &p), 0);
		assert_true(running_inside(p.cpuset));
	}
	assert_int_equal(rb_topo_summary(t, sum, sizeof(sum)), 0);
	sums[0] = sum;
	devnull = fopen("/dev/null", "w");
	assert_non_null(devnull);
	assert_int_equal(rb_topo_cross_check(sums, hosts, 1, devnull), 0);
	fclose(devnull);
	snprintf(p.cpuset, sizeof(p.cpuset), "not-a-list");
	assert_int_equal(rb_topo_bind(t, &p), -RB_EINVAL);
	rb_topo_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_live_devices),
		cmocka_unit_test(test_live_place_bind),
	};

	return cmocka_run_group_tests_name("topo_live", tests, NULL, NULL);
}
