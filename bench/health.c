/* SPDX-License-Identifier: BSD-3-Clause */
/* Fabric health: sysfs error and carrier counters of this rank's rail
 * devices around every size, and its own link state after a failure
 * (docs/results.md, "Fabric counters"). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/health.h"
#include "common/rb.h"

static const struct health_ctr {
	const char *name;
	const char *path;	/* under the device's directory */
	int warns;
} health_ctrs[][RB_HEALTH_NCTRS] = {
	[RB_HEALTH_NET] = {
		{ "carrier_changes", "carrier_changes", 1 },
		{ "rx_errors", "statistics/rx_errors", 1 },
		{ "tx_errors", "statistics/tx_errors", 1 },
		{ "rx_dropped", "statistics/rx_dropped", 0 },
	},
	[RB_HEALTH_RDMA] = {
		{ "link_downed", "counters/link_downed", 1 },
		{ "symbol_error", "counters/symbol_error", 1 },
		{ "port_rcv_errors", "counters/port_rcv_errors", 1 },
		{ "port_xmit_discards", "counters/port_xmit_discards", 0 },
	},
};

const char *rb_health_ctr_name(enum rb_health_kind kind, int i)
{
	if (kind != RB_HEALTH_NET && kind != RB_HEALTH_RDMA)
		return NULL;
	if (i < 0 || i >= RB_HEALTH_NCTRS)
		return NULL;
	return health_ctrs[kind][i].name;
}

int rb_health_ctr_warns(enum rb_health_kind kind, int i)
{
	return rb_health_ctr_name(kind, i) && health_ctrs[kind][i].warns;
}

static int health_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads the first line of dir/file into buf. \return 0 or -1. */
static int health_read(const char *dir, const char *file, char *buf,
		       size_t len)
{
	char path[512];
	FILE *f;
	int rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, (int)len, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		rc = 0;
	}
	fclose(f);
	return rc;
}

static int health_read_u64(const char *dir, const char *file, uint64_t *v_p)
{
	char buf[64];
	char *end;
	unsigned long long v;

	if (health_read(dir, file, buf, sizeof(buf)))
		return -1;
	v = strtoull(buf, &end, 10);
	if (end == buf)
		return -1;
	*v_p = v;
	return 0;
}

/* Adds name as a device when sysfs knows it. */
static void health_add(struct rb_health *h, const char *root, const char *name)
{
	struct rb_health_dev *d = &h->dev[h->ndevs];
	char ib[48];
	const char *colon;
	long port = 1;

	if (h->ndevs == RB_HEALTH_MAX_DEVS || strlen(name) >= sizeof(d->name))
		return;
	for (int i = 0; i < h->ndevs; i++) {
		if (!strcmp(h->dev[i].name, name))
			return;
	}
	*d = (struct rb_health_dev){ .kind = RB_HEALTH_NONE };
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (!strchr(name, '/')) {
		snprintf(d->dir, sizeof(d->dir), "%s/class/net/%s", root, name);
		if (health_is_dir(d->dir))
			d->kind = RB_HEALTH_NET;
	}
	colon = strchr(name, ':');
	if (d->kind == RB_HEALTH_NONE && !strchr(name, '/')) {
		snprintf(ib, sizeof(ib), "%.*s",
			 (int)(colon ? (size_t)(colon - name) : strlen(name)), name);
		if (colon)
			port = strtol(colon + 1, NULL, 10);
		snprintf(d->dir, sizeof(d->dir), "%s/class/infiniband/%s/ports/%ld",
			 root, ib, port);
		if (port > 0 && health_is_dir(d->dir))
			d->kind = RB_HEALTH_RDMA;
	}
	if (d->kind != RB_HEALTH_NONE)
		h->ndevs++;
}

void rb_health_init(struct rb_health *h, const char *root,
		    const char *const *names, int n)
{
	h->ndevs = 0;
	for (int i = 0; i < n; i++) {
		if (names[i] && names[i][0])
			health_add(h, root, names[i]);
	}
}

void rb_health_begin(struct rb_health *h)
{
	for (int i = 0; i < h->ndevs; i++) {
		struct rb_health_dev *d = &h->dev[i];

		d->have = 0;
		for (int c = 0; c < RB_HEALTH_NCTRS; c++) {
			if (!health_read_u64(d->dir, health_ctrs[d->kind][c].path,
					     &d->start[c]))
				d->have |= 1u << c;
		}
	}
}

void rb_health_end(const struct rb_health *h, struct rb_health_delta *out)
{
	memset(out, 0, sizeof(*out));
	out->ndevs = h->ndevs;
	for (int i = 0; i < h->ndevs; i++) {
		const struct rb_health_dev *d = &h->dev[i];
		struct rb_health_dev_delta *o = &out->dev[i];

		snprintf(o->name, sizeof(o->name), "%s", d->name);
		o->kind = (int32_t)d->kind;
		for (int c = 0; c < RB_HEALTH_NCTRS; c++) {
			uint64_t v;

			if (!(d->have & (1u << c)) ||
			    health_read_u64(d->dir, health_ctrs[d->kind][c].path, &v))
				continue;
			o->have |= 1u << c;
			/* A counter that went backwards was reset (driver
			 * reload): count from zero. */
			o->delta[c] = (int64_t)(v >= d->start[c] ? v - d->start[c] : v);
		}
	}
}

/* A device record received from a peer: kind and count within bounds, name
 * terminated. \return 1 when usable. */
static int health_dev_ok(const struct rb_health_dev_delta *d)
{
	return (d->kind == RB_HEALTH_NET || d->kind == RB_HEALTH_RDMA) &&
	       memchr(d->name, '\0', sizeof(d->name));
}

static int health_ndevs(const struct rb_health_delta *d)
{
	return d->ndevs < 0 ? 0 : RB_MIN(d->ndevs, RB_HEALTH_MAX_DEVS);
}

json_t *rb_health_json(const struct rb_health_delta *all, int nranks,
		       const char *const *hosts)
{
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	for (int r = 0; r < nranks; r++) {
		for (int i = 0; i < health_ndevs(&all[r]); i++) {
			const struct rb_health_dev_delta *d = &all[r].dev[i];
			json_t *o;

			if (!health_dev_ok(d))
				continue;
			o = json_pack("{s:i, s:s?, s:s, s:s}", "rank", r, "host",
				      hosts ? hosts[r] : NULL, "device", d->name,
				      "kind", d->kind == RB_HEALTH_NET ? "net" : "rdma");
			if (!o)
				continue;
			for (int c = 0; c < RB_HEALTH_NCTRS; c++) {
				if (d->have & (1u << c))
					json_object_set_new(o, health_ctrs[d->kind][c].name,
							    json_integer(d->delta[c]));
			}
			json_array_append_new(arr, o);
		}
	}
	if (!json_array_size(arr)) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

/* Host name with control characters (newlines above all) replaced, so a
 * footer line stays one line. */
static void health_clean(const char *in, char *out, size_t len)
{
	size_t i = 0;

	for (; in && in[i] && i + 1 < len; i++)
		out[i] = (unsigned char)in[i] < 0x20 || in[i] == 0x7f ? '?' : in[i];
	out[i] = '\0';
}

int rb_health_findings(const struct rb_health_delta *all, int nranks,
		       const char *const *hosts, uint64_t size_bytes,
		       char *buf, size_t len)
{
	size_t used = strlen(buf);
	int lines = 0;

	for (int r = 0; r < nranks; r++) {
		for (int i = 0; i < health_ndevs(&all[r]); i++) {
			const struct rb_health_dev_delta *d = &all[r].dev[i];
			char line[512];
			char host[64];
			size_t n;

			if (!health_dev_ok(d))
				continue;
			health_clean(hosts ? hosts[r] : "?", host, sizeof(host));
			n = (size_t)snprintf(line, sizeof(line), "host %s %s:", host,
					     d->name);
			for (int c = 0; c < RB_HEALTH_NCTRS; c++) {
				if (!(d->have & (1u << c)) || !d->delta[c] ||
				    !health_ctrs[d->kind][c].warns)
					continue;
				n += (size_t)snprintf(line + n, sizeof(line) - RB_MIN(n, sizeof(line)),
						      " %s +%" PRId64, health_ctrs[d->kind][c].name,
						      d->delta[c]);
				if (n >= sizeof(line))
					n = sizeof(line) - 1;
			}
			if (line[n - 1] == ':')
				continue;	/* nothing that warns moved */
			lines++;
			n = (size_t)snprintf(buf + used, len - used, "%s (rank %d, size %" PRIu64 " B)\n",
					     line, r, size_bytes);
			if (used + n < len)
				used += n;
			else
				buf[used] = '\0';	/* counted, not kept */
		}
	}
	return lines;
}

int rb_health_link_down(const struct rb_health *h, char *why, size_t len)
{
	for (int i = 0; i < h->ndevs; i++) {
		const struct rb_health_dev *d = &h->dev[i];
		char state[64] = "";
		char carrier[16] = "";

		if (d->kind == RB_HEALTH_NET) {
			/* carrier cannot be read while the interface is down. */
			if (health_read(d->dir, "operstate", state, sizeof(state)))
				continue;
			if (health_read(d->dir, "carrier", carrier, sizeof(carrier)))
				snprintf(carrier, sizeof(carrier), "unknown");
			if (!strcmp(state, "up") || (!strcmp(state, "unknown") &&
						      !strcmp(carrier, "1")))
				continue;
			snprintf(why, len, "my %s is down (operstate %s, carrier %s)",
				 d->name, state, carrier);
			return 1;
		}
		if (health_read(d->dir, "state", state, sizeof(state)))
			continue;
		if (strstr(state, "ACTIVE"))
			continue;
		snprintf(why, len, "my %s is down (port state %s)", d->name, state);
		return 1;
	}
	return 0;
}
