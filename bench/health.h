/* SPDX-License-Identifier: BSD-3-Clause */
/* Fabric health (internal to bench/): the error and carrier counters of
 * this rank's rail devices, read from sysfs at the start and end of each
 * size, their deltas per rank for the results, and this rank's own link
 * state after a failure (docs/results.md, "Fabric counters"). Knows no
 * transport: the devices are the names the links report (rb_tp.nic, the
 * --rails NICs). */
#ifndef RB_BENCH_HEALTH_H
#define RB_BENCH_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define RB_HEALTH_MAX_DEVS 4
#define RB_HEALTH_NCTRS 4	/* counters per device kind */

enum rb_health_kind {
	RB_HEALTH_NONE,
	RB_HEALTH_NET,		/* /sys/class/net/IF */
	RB_HEALTH_RDMA,		/* /sys/class/infiniband/DEV/ports/N */
};

/* One device's deltas over one size, as every rank sends them to rank 0
 * (fixed size: it travels through the bootstrap as bytes). */
struct rb_health_dev_delta {
	char name[48];		/* "rail0", "mlx5_0:1" */
	int32_t kind;		/* enum rb_health_kind */
	uint32_t have;		/* bit i: counter i was readable both times */
	int64_t delta[RB_HEALTH_NCTRS];
};

struct rb_health_delta {
	int32_t ndevs;
	int32_t pad;
	struct rb_health_dev_delta dev[RB_HEALTH_MAX_DEVS];
};

struct rb_health_dev {
	char name[48];
	enum rb_health_kind kind;
	char dir[256];		/* sysfs directory of the device or port */
	uint32_t have;		/* counters read at the start */
	uint64_t start[RB_HEALTH_NCTRS];
};

struct rb_health {
	int ndevs;
	struct rb_health_dev dev[RB_HEALTH_MAX_DEVS];
};

/* \return the name of counter i of a kind ("carrier_changes"), NULL past
 * the end. */
const char *rb_health_ctr_name(enum rb_health_kind kind, int i);

/* \return 1 when a nonzero delta of counter i of kind makes the verdict
 * WARN (carrier changes and errors; drops and discards are recorded only). */
int rb_health_ctr_warns(enum rb_health_kind kind, int i);

/* Finds the devices among names[n] (NULL or "" entries skipped, repeats
 * once): a network interface under root/class/net, else "DEV[:PORT]" (port
 * 1 by default) under root/class/infiniband. root is "/sys" but for tests.
 * Names that are neither are left out. Never fails. */
void rb_health_init(struct rb_health *h, const char *root,
		    const char *const *names, int n);

/* Reads every counter now: the start of a size. */
void rb_health_begin(struct rb_health *h);

/* Reads every counter again; d gets the deltas since rb_health_begin. */
void rb_health_end(const struct rb_health *h, struct rb_health_delta *d);

/* Rank 0: the deltas of every rank as a JSON array of {"rank", "host",
 * "device", "kind", "<counter>": delta...} (one per rank and device).
 * \return a new reference, or NULL when no rank has a device. */
json_t *rb_health_json(const struct rb_health_delta *all, int nranks,
		       const char *const *hosts);

/* Rank 0: appends to buf one line per rank and device whose warning
 * counters moved, "host node1 rail0: carrier_changes +2 (size 1048576 B)"
 * (no '#', no newline inside a line; lines end with '\n'). Host names
 * are printed with control characters replaced. \return the number of
 * lines appended (those that did not fit are counted too). */
int rb_health_findings(const struct rb_health_delta *all, int nranks,
		       const char *const *hosts, uint64_t size_bytes,
		       char *buf, size_t len);

/* This rank's own links now: writes "my rail0 is down (operstate down,
 * carrier 0)" into why for the first device that is not up. \return 1
 * when one is down, 0 when all are up or unknown. */
int rb_health_link_down(const struct rb_health *h, char *why, size_t len);

#endif
