/* SPDX-License-Identifier: BSD-3-Clause */
/* Fabric counters (bench/health.c) over a fake sysfs tree: which names are
 * devices, the deltas between two snapshots (also across a counter reset),
 * the footer findings (only counters that warn; host names kept on one
 * line), the JSON per rank, malformed records from peers, and a rank's
 * own link state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bench/health.h"

struct fake {
	char root[64];
};

static void put(const struct fake *f, const char *rel, const char *text)
{
	char path[512];
	char *p;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	for (p = strchr(path + strlen(f->root) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int fake_setup(void **state)
{
	static struct fake f;

	snprintf(f.root, sizeof(f.root), "/tmp/rbhealth.XXXXXX");
	assert_non_null(mkdtemp(f.root));
	put(&f, "class/net/rail0/carrier_changes", "4\n");
	put(&f, "class/net/rail0/statistics/rx_errors", "10\n");
	put(&f, "class/net/rail0/statistics/tx_errors", "0\n");
	put(&f, "class/net/rail0/statistics/rx_dropped", "7\n");
	put(&f, "class/net/rail0/operstate", "up\n");
	put(&f, "class/net/rail0/carrier", "1\n");
	put(&f, "class/infiniband/mlx5_0/ports/1/counters/link_downed", "0\n");
	put(&f, "class/infiniband/mlx5_0/ports/1/counters/symbol_error", "100\n");
	put(&f, "class/infiniband/mlx5_0/ports/1/counters/port_rcv_errors", "0\n");
	put(&f, "class/infiniband/mlx5_0/ports/1/counters/port_xmit_discards", "3\n");
	put(&f, "class/infiniband/mlx5_0/ports/1/state", "4: ACTIVE\n");
	*state = &f;
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_devices(void **state)
{
	struct fake *f = *state;
	const char *names[] = { "rail0", NULL, "", "mlx5_0:1", "nope", "rail0",
				"mlx5_0:2", "../etc" };
	struct rb_health h;

	rb_health_init(&h, f->root, names, (int)(sizeof(names) / sizeof(names[0])));
	assert_int_equal(h.ndevs, 2);
	assert_string_equal(h.dev[0].name, "rail0");
	assert_int_equal(h.dev[0].kind, RB_HEALTH_NET);
	assert_string_equal(h.dev[1].name, "mlx5_0:1");
	assert_int_equal(h.dev[1].kind, RB_HEALTH_RDMA);
}

static void test_deltas_and_findings(void **state)
{
	struct fake *f = *state;
	const char *names[] = { "rail0", "mlx5_0:1" };
	const char *hosts[] = { "node0", "node\n1" };
	struct rb_health h;
	struct rb_health_delta all[2];
	char buf[1024] = "";
	json_t *j;

	rb_health_init(&h, f->root, names, 2);
	rb_health_begin(&h);
	rb_health_end(&h, &all[0]);	/* nothing moved */
	put(f, "class/net/rail0/carrier_changes", "6\n");
	put(f, "class/net/rail0/statistics/rx_dropped", "9\n");
	put(f, "class/infiniband/mlx5_0/ports/1/counters/symbol_error", "5\n");
	rb_health_end(&h, &all[1]);
	assert_int_equal(all[0].ndevs, 2);
	for (int c = 0; c < RB_HEALTH_NCTRS; c++) {
		assert_int_equal(all[0].dev[0].delta[c], 0);
		assert_int_equal(all[0].dev[1].delta[c], 0);
	}
	assert_int_equal(all[1].dev[0].have, 0xf);
	assert_int_equal(all[1].dev[0].delta[0], 2);	/* carrier_changes */
	assert_int_equal(all[1].dev[0].delta[1], 0);
	assert_int_equal(all[1].dev[0].delta[3], 2);	/* rx_dropped */
	/* 100 -> 5: the counter was reset, counted from zero. */
	assert_int_equal(all[1].dev[1].delta[1], 5);

	/* Rank 0 nothing; rank 1 warns for carrier and symbol errors, not
	 * for the drops; its host name stays on one line. */
	assert_int_equal(rb_health_findings(all, 2, hosts, 4096, buf, sizeof(buf)), 2);
	assert_string_equal(buf,
			    "host node?1 rail0: carrier_changes +2 (rank 1, size 4096 B)\n"
			    "host node?1 mlx5_0:1: symbol_error +5 (rank 1, size 4096 B)\n");
	j = rb_health_json(all, 2, hosts);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 2), "device")),
			    "rail0");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 2),
							    "carrier_changes")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 3),
							    "port_xmit_discards")), 0);
	json_decref(j);
	put(f, "class/net/rail0/carrier_changes", "4\n");
	put(f, "class/net/rail0/statistics/rx_dropped", "7\n");
	put(f, "class/infiniband/mlx5_0/ports/1/counters/symbol_error", "100\n");
}

/* Records come from peers: a bad kind or an unterminated name is skipped,
 * a device count out of range is clamped. */
static void test_malformed(void **state)
{
	struct rb_health_delta d;
	char buf[256] = "";
	json_t *j;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.ndevs = 1000;
	d.dev[0].kind = 7;
	d.dev[0].have = 0xf;
	d.dev[0].delta[0] = 1;
	memset(d.dev[1].name, 'x', sizeof(d.dev[1].name));
	d.dev[1].kind = RB_HEALTH_NET;
	d.dev[1].have = 0xf;
	d.dev[1].delta[0] = 1;
	assert_int_equal(rb_health_findings(&d, 1, NULL, 8, buf, sizeof(buf)), 0);
	assert_null(rb_health_json(&d, 1, NULL));
	d.ndevs = -3;
	assert_null(rb_health_json(&d, 1, NULL));
	snprintf(d.dev[0].name, sizeof(d.dev[0].name), "eth0");
	d.dev[0].kind = RB_HEALTH_NET;
	d.ndevs = 1;
	j = rb_health_json(&d, 1, NULL);
	assert_non_null(j);
	json_decref(j);
}

/* Findings that do not fit are counted, and no line is cut. */
static void test_findings_overflow(void **state)
{
	struct rb_health_delta d[8];
	char buf[100] = "";

	(void)state;
	memset(d, 0, sizeof(d));
	for (int r = 0; r < 8; r++) {
		d[r].ndevs = 1;
		snprintf(d[r].dev[0].name, sizeof(d[r].dev[0].name), "rail0");
		d[r].dev[0].kind = RB_HEALTH_NET;
		d[r].dev[0].have = 0xf;
		d[r].dev[0].delta[2] = 1;
	}
	assert_int_equal(rb_health_findings(d, 8, NULL, 1, buf, sizeof(buf)), 8);
	assert_true(strlen(buf) > 0);
	assert_int_equal(buf[strlen(buf) - 1], '\n');
}

static void test_link_down(void **state)
{
	struct fake *f = *state;
	const char *names[] = { "rail0", "mlx5_0:1" };
	struct rb_health h;
	char why[128] = "";

	rb_health_init(&h, f->root, names, 2);
	assert_int_equal(rb_health_link_down(&h, why, sizeof(why)), 0);
	put(f, "class/infiniband/mlx5_0/ports/1/state", "1: DOWN\n");
	assert_int_equal(rb_health_link_down(&h, why, sizeof(why)), 1);
	assert_string_equal(why, "my mlx5_0:1 is down (port state 1: DOWN)");
	put(f, "class/net/rail0/operstate", "down\n");
	put(f, "class/net/rail0/carrier", "");	/* unreadable while down */
	assert_int_equal(rb_health_link_down(&h, why, sizeof(why)), 1);
	assert_string_equal(why, "my rail0 is down (operstate down, carrier unknown)");
	put(f, "class/net/rail0/operstate", "up\n");
	put(f, "class/net/rail0/carrier", "1\n");
	put(f, "class/infiniband/mlx5_0/ports/1/state", "4: ACTIVE\n");
	assert_int_equal(rb_health_link_down(&h, why, sizeof(why)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_deltas_and_findings),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_findings_overflow),
		cmocka_unit_test(test_link_down),
	};

	return cmocka_run_group_tests(tests, fake_setup, fake_teardown);
}
