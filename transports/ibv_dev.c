/* SPDX-License-Identifier: BSD-3-Clause */
/* Verbs device, port and GID selection for the ib and roce transports:
 * --ib-dev DEV[:PORT], else the rail NIC from topo/, else the first active
 * port of the right link layer; RoCE picks the v2 GID of the netdev's IPv4
 * address unless --gid-index says otherwise. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transports/ibv.h"

static const uint8_t ibv_v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					   0xff, 0xff };

int ibv_gid_is_v4(const union ibv_gid *gid)
{
	return !memcmp(gid->raw, ibv_v4_prefix, sizeof(ibv_v4_prefix));
}

const char *ibv_gid_kind_name(enum ibv_gid_kind k)
{
	switch (k) {
	case IBV_GID_IB:
		return "IB";
	case IBV_GID_ROCE_V1:
		return "RoCEv1";
	case IBV_GID_ROCE_V2:
		return "RoCEv2";
	}
	return "?";
}

const char *ibv_gid_str(const union ibv_gid *gid, char *buf, size_t len)
{
	if (!inet_ntop(AF_INET6, gid->raw, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static int ibv_want_ll(enum ibv_flavor fl)
{
	return fl == IBV_FLAVOR_ROCE ? IBV_LINK_LAYER_ETHERNET :
				       IBV_LINK_LAYER_INFINIBAND;
}

static const char *ibv_ll_name(int ll)
{
	return ll == IBV_LINK_LAYER_ETHERNET ? "Ethernet" : "InfiniBand";
}

/* Lanes and per-lane Gb/s from the port attributes (IBTA encodings). */
static void ibv_port_rate(const struct ibv_port_attr *a, int *width_p,
			  double *lane_p)
{
	static const struct { int code; int lanes; } widths[] = {
		{ 1, 1 }, { 2, 4 }, { 4, 8 }, { 8, 12 }, { 16, 2 },
	};
	static const struct { int code; double gbps; } speeds[] = {
		{ 1, 2.5 }, { 2, 5.0 }, { 4, 10.0 }, { 8, 10.0 },
		{ 16, 14.0 }, { 32, 25.0 }, { 64, 50.0 }, { 128, 100.0 },
	};

	*width_p = 0;
	*lane_p = 0.0;
	for (size_t i = 0; i < RB_ARRAY_SIZE(widths); i++)
		if (widths[i].code == a->active_width)
			*width_p = widths[i].lanes;
	for (size_t i = 0; i < RB_ARRAY_SIZE(speeds); i++)
		if (speeds[i].code == a->active_speed)
			*lane_p = speeds[i].gbps;
}

/* Appends "dev:port (link, state)" to a list of what was seen. */
static void ibv_seen_add(char *seen, size_t len, const char *dev, int port,
			 const struct ibv_port_attr *a)
{
	size_t used = strlen(seen);

	snprintf(seen + used, len - used, "%s%s:%d (%s, %s)", used ? ", " : "",
		 dev, port, ibv_ll_name(a->link_layer),
		 ibv_port_state_str(a->state));
}

/* Splits "dev[:port]". \return the port (0 = any). */
static int ibv_parse_devspec(const char *spec, char *dev, size_t len)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);

	snprintf(dev, len, "%.*s", (int)n, spec);
	return colon ? atoi(colon + 1) : 0;
}

/* \return 1 when some RDMA device port lists netdev in its GID table
 * attributes (soft devices such as rxe) or the netdev's PCI device has an
 * RDMA function. */
static int ibv_netdev_served(const char *netdev)
{
	char path[512];
	char name[64];
	struct dirent *de;
	DIR *d;
	int hit = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device/infiniband",
		 netdev);
	d = opendir(path);
	if (d) {
		closedir(d);
		return 1;
	}
	d = opendir("/sys/class/infiniband");
	while (d && !hit && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		/* port 1, first entries: enough to name the netdev */
		for (int i = 0; i < 4 && !hit; i++) {
			snprintf(path, sizeof(path),
				 "/sys/class/infiniband/%s/ports/1/gid_attrs/ndevs/%d",
				 de->d_name, i);
			FILE *f = fopen(path, "r");

			if (!f)
				continue;
			if (fgets(name, sizeof(name), f)) {
				name[strcspn(name, "\n")] = '\0';
				hit = !strcmp(name, netdev);
			}
			fclose(f);
		}
	}
	if (d)
		closedir(d);
	return hit;
}

/* Netdevs that no RDMA device serves, as "eth0, eth1" (RoCE diagnosis). */
static void ibv_orphan_netdevs(char *buf, size_t len)
{
	struct dirent *de;
	DIR *d = opendir("/sys/class/net");
	size_t used = 0;

	buf[0] = '\0';
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "lo") ||
		    ibv_netdev_served(de->d_name))
			continue;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
						 used ? ", " : "", de->d_name);
	}
	closedir(d);
}

/* Picks the GID of a RoCE port: the IPv4-mapped RoCE v2 entry (of the rail
 * netdev when one is known), else the first RoCE v2 entry. */
static int ibv_pick_gid(struct ibv_context *ctx, const struct rb_tp_args *args,
			struct ibv_port_sel *sel)
{
	int want = rb_ibv_cfg.gid_index;
	int best = -1, best_score = -1;

	for (int i = 0; i < sel->attr.gid_tbl_len; i++) {
		struct ibv_gid_entry e;
		char nd[IF_NAMESIZE] = "";
		int score;

		if (want >= 0 && i != want)
			continue;
		if (ibv_query_gid_ex(ctx, sel->port, (uint32_t)i, &e, 0))
			continue;
		if (e.ndev_ifindex)
			if_indextoname(e.ndev_ifindex, nd);
		if (want >= 0) {
			best = i;
		} else {
			if (e.gid_type != IBV_GID_TYPE_ROCE_V2)
				continue;
			score = ibv_gid_is_v4(&e.gid) ? 2 : 1;
			if (score == 2 && args->rail_netdev &&
			    !strcmp(nd, args->rail_netdev))
				score = 3;
			if (score <= best_score)
				continue;
			best = i;
			best_score = score;
		}
		sel->gid_index = i;
		sel->gid = e.gid;
		sel->gid_kind = e.gid_type == IBV_GID_TYPE_ROCE_V2 ?
					IBV_GID_ROCE_V2 : IBV_GID_ROCE_V1;
		snprintf(sel->netdev, sizeof(sel->netdev), "%s", nd);
	}
	if (best >= 0)
		return 0;
	if (want >= 0)
		rb_err("roce: GID index %d does not exist on %s:%d (table has %d entries; see /sys/class/infiniband/%s/ports/%d/gids)",
		       want, sel->dev, sel->port, sel->attr.gid_tbl_len,
		       sel->dev, sel->port);
	else
		rb_err("roce: %s:%d has no RoCE v2 GID (is an IP address configured on its netdev?); choose one with --gid-index",
		       sel->dev, sel->port);
	return -RB_EINVAL;
}

/* Checks one port and lists it in seen; fills sel when it is usable (a
 * NULL sel only lists it). \return 1 usable, 0 not. */
static int ibv_try_port(struct ibv_context *ctx, enum ibv_flavor fl,
			const char *dev, int port, struct ibv_port_sel *sel,
			char *seen, size_t seen_len)
{
	struct ibv_port_attr a;

	if (ibv_query_port(ctx, (uint8_t)port, &a))
		return 0;
	ibv_seen_add(seen, seen_len, dev, port, &a);
	if (!sel)
		return 0;
	if (a.link_layer != ibv_want_ll(fl) && !(fl == IBV_FLAVOR_IB &&
	    a.link_layer == IBV_LINK_LAYER_UNSPECIFIED))
		return 0;
	if (a.state != IBV_PORT_ACTIVE)
		return 0;
	if (fl == IBV_FLAVOR_IB && a.lid == 0)
		return 0;
	memset(sel, 0, sizeof(*sel));
	snprintf(sel->dev, sizeof(sel->dev), "%s", dev);
	sel->port = port;
	sel->attr = a;
	sel->gid_index = -1;
	sel->gid_kind = IBV_GID_IB;
	ibv_port_rate(&a, &sel->width, &sel->lane_gbps);
	sel->rate_gbps = sel->width * sel->lane_gbps;
	return 1;
}

/* Walks the devices (only want_dev when set) and their ports (only
 * want_port when > 0). \return an open context with sel filled, or NULL. */
static struct ibv_context *ibv_search(enum ibv_flavor fl, const char *want_dev,
				      int want_port, struct ibv_port_sel *sel,
				      char *seen, size_t seen_len)
{
	struct ibv_device **list;
	struct ibv_context *found = NULL;
	int n = 0;

	list = ibv_get_device_list(&n);
	for (int d = 0; list && d < n && !found; d++) {
		const char *name = ibv_get_device_name(list[d]);
		struct ibv_device_attr da;
		struct ibv_context *ctx;

		int skip_dev = want_dev && strcmp(name, want_dev);

		ctx = ibv_open_device(list[d]);
		if (!ctx)
			continue;
		if (ibv_query_device(ctx, &da))
			da.phys_port_cnt = 0;
		for (int p = 1; p <= da.phys_port_cnt && !found; p++) {
			/* other ports are still listed in the diagnosis */
			int skip = skip_dev || (want_port > 0 && p != want_port);

			if (ibv_try_port(ctx, fl, name, p, skip ? NULL : sel,
					 seen, seen_len))
				found = ctx;
		}
		if (!found)
			ibv_close_device(ctx);
	}
	if (list)
		ibv_free_device_list(list);
	return found;
}

/* Writes why nothing was found (one line). */
static void ibv_explain(enum ibv_flavor fl, const char *want, const char *seen,
			char *why, size_t len)
{
	char orphans[256];
	const char *kind = fl == IBV_FLAVOR_ROCE ? "RoCE (Ethernet)" :
						   "InfiniBand";

	if (fl == IBV_FLAVOR_ROCE) {
		ibv_orphan_netdevs(orphans, sizeof(orphans));
	} else {
		orphans[0] = '\0';
	}
	snprintf(why, len, "no active %s port%s%s; found: %s%s%s", kind,
		 want ? " matching " : "", want ? want : "",
		 seen[0] ? seen : "no RDMA devices",
		 orphans[0] ? "; netdevs without an RDMA device: " : "",
		 orphans);
}

static struct ibv_context *ibv_select(enum ibv_flavor fl,
				      const struct rb_tp_args *args,
				      struct ibv_port_sel *sel, char *why,
				      size_t len)
{
	const char *spec = rb_ibv_cfg.ib_dev;
	char seen[512] = "";
	char dev[64];
	int port = 0;
	struct ibv_context *ctx;

	if (!spec || !spec[0])
		spec = args->rail_ibdev;
	if (spec && spec[0])
		port = ibv_parse_devspec(spec, dev, sizeof(dev));
	ctx = ibv_search(fl, spec && spec[0] ? dev : NULL, port, sel, seen,
			 sizeof(seen));
	if (!ctx)
		ibv_explain(fl, spec, seen, why, len);
	return ctx;
}

int ibv_dev_probe(enum ibv_flavor fl, const struct rb_tp_args *args,
		  char *why, size_t len)
{
	struct ibv_port_sel sel;
	struct ibv_context *ctx = ibv_select(fl, args, &sel, why, len);

	if (!ctx)
		return -RB_ENOTSUP;
	ibv_close_device(ctx);
	return 0;
}

int ibv_dev_open(enum ibv_flavor fl, const struct rb_tp_args *args,
		 struct ibv_context **ctx_p, struct ibv_port_sel *sel)
{
	char why[1024];
	struct ibv_context *ctx = ibv_select(fl, args, sel, why, sizeof(why));
	const char *name = fl == IBV_FLAVOR_ROCE ? "roce" : "ib";
	int rc;

	if (!ctx) {
		rb_err("%s: %s", name, why);
		return -RB_EINVAL;
	}
	if (fl == IBV_FLAVOR_ROCE) {
		rc = ibv_pick_gid(ctx, args, sel);
		if (rc) {
			ibv_close_device(ctx);
			return rc;
		}
	} else if (rb_ibv_cfg.gid_index >= 0) {
		/* IB: a GID (GRH) only when asked for, e.g. across subnets */
		sel->gid_index = rb_ibv_cfg.gid_index;
		if (ibv_query_gid(ctx, (uint8_t)sel->port, sel->gid_index,
				  &sel->gid)) {
			rb_err("ib: GID index %d does not exist on %s:%d",
			       sel->gid_index, sel->dev, sel->port);
			ibv_close_device(ctx);
			return -RB_EINVAL;
		}
	}
	*ctx_p = ctx;
	return 0;
}

void ibv_dev_desc(const struct ibv_port_sel *sel, int nqps, char *buf,
		  size_t len)
{
	char gs[64];
	char addr[128];
	const struct ibv_port_attr *a = &sel->attr;

	if (sel->gid_index >= 0) {
		snprintf(addr, sizeof(addr), "%s gid[%d] %s%s%s",
			 ibv_gid_kind_name(sel->gid_kind), sel->gid_index,
			 ibv_gid_str(&sel->gid, gs, sizeof(gs)),
			 sel->netdev[0] ? " " : "", sel->netdev);
	} else {
		snprintf(addr, sizeof(addr), "lid %u", a->lid);
	}
	snprintf(buf, len,
		 "%s:%d %s, %s, mtu %d, %s, %dx%g = %g Gb/s, %d QP%s/peer",
		 sel->dev, sel->port, addr, ibv_port_state_str(a->state),
		 128 << a->active_mtu, ibv_ll_name(a->link_layer), sel->width,
		 sel->lane_gbps, sel->rate_gbps, nqps, nqps > 1 ? "s" : "");
}
