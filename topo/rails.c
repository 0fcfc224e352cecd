/* SPDX-License-Identifier: BSD-3-Clause */
/* GPU x NIC affinity classes (nvidia-smi topo -m: PIX, PXB, PHB, NODE, SYS)
 * computed from the hwloc PCI tree, and the rail map: which NIC each GPU
 * sends through. Rules in docs/topo.md. */
#include <stdlib.h>
#include <string.h>

#include "common/rb.h"
#include "topo/topo_priv.h"

/* Deepest PCI tree we walk; real machines stay below 16 levels. */
#define RAILS_MAX_DEPTH 64

static const char *const rails_link_names[RB_TOPO_NLINKS] = {
	[RB_TOPO_PIX] = "PIX",
	[RB_TOPO_PXB] = "PXB",
	[RB_TOPO_PHB] = "PHB",
	[RB_TOPO_NODE] = "NODE",
	[RB_TOPO_SYS] = "SYS",
};

const char *rb_topo_link_name(enum rb_topo_link l)
{
	if ((int)l < 0 || l >= RB_TOPO_NLINKS)
		return "?";
	return rails_link_names[l];
}

static int rails_is_pci_bridge(hwloc_obj_t o)
{
	return o && o->type == HWLOC_OBJ_BRIDGE &&
	       o->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI;
}

static int rails_is_host_bridge(hwloc_obj_t o)
{
	return o && o->type == HWLOC_OBJ_BRIDGE &&
	       o->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_HOST;
}

/* Position of a PCI-PCI bridge below its host bridge: 1 for a root port,
 * 2 for the upstream port of a switch under it, 3 for that switch's
 * downstream ports, 4 for the next switch's upstream port, and so on.
 * Counted here rather than read from the XML's depth attribute so that a
 * hand-edited file cannot make it wrong. */
static int rails_bridge_level(hwloc_obj_t b)
{
	int d = 0;

	while (rails_is_pci_bridge(b) && d < RAILS_MAX_DEPTH) {
		d++;
		b = b->parent;
	}
	return d;
}

/* The switch a PCI-PCI bridge belongs to, named by its upstream port; a
 * root port stands for itself. */
static hwloc_obj_t rails_switch_key(hwloc_obj_t b)
{
	int d = rails_bridge_level(b);

	if (d <= 1 || d % 2 == 0)
		return b;
	return b->parent;
}

hwloc_obj_t rb_topo_switch_of(hwloc_obj_t obj)
{
	hwloc_obj_t p = obj->parent;
	hwloc_obj_t key;

	if (!rails_is_pci_bridge(p))
		return NULL;
	key = rails_switch_key(p);
	return rails_bridge_level(key) >= 2 ? key : NULL;
}

/* Adds the switches crossed from obj up to (and including) top. */
static int rails_add_switches(hwloc_obj_t obj, hwloc_obj_t top,
			      hwloc_obj_t *set, int n)
{
	hwloc_obj_t x;
	hwloc_obj_t key;
	int i;

	for (x = obj; x && n < RAILS_MAX_DEPTH; x = x->parent) {
		if (rails_is_pci_bridge(x)) {
			key = rails_switch_key(x);
			for (i = 0; i < n && set[i] != key; i++)
				;
			if (i == n)
				set[n++] = key;
		}
		if (x == top)
			break;
	}
	return n;
}

/* Lowest common ancestor of two objects, I/O objects included (hwloc's
 * helper compares depths, which are negative for I/O objects). */
static hwloc_obj_t rails_common_ancestor(hwloc_obj_t a, hwloc_obj_t b)
{
	hwloc_obj_t chain[RAILS_MAX_DEPTH];
	hwloc_obj_t x;
	int n = 0;
	int i;

	for (x = a; x && n < RAILS_MAX_DEPTH; x = x->parent)
		chain[n++] = x;
	for (x = b; x; x = x->parent)
		for (i = 0; i < n; i++)
			if (chain[i] == x)
				return x;
	return NULL;
}

static hwloc_obj_t rails_non_io(hwloc_obj_t o)
{
	while (o && (o->type == HWLOC_OBJ_BRIDGE ||
		     o->type == HWLOC_OBJ_PCI_DEVICE ||
		     o->type == HWLOC_OBJ_OS_DEVICE ||
		     o->type == HWLOC_OBJ_MISC))
		o = o->parent;
	return o;
}

enum rb_topo_link rb_topo_classify(hwloc_obj_t a, hwloc_obj_t b)
{
	hwloc_obj_t set[RAILS_MAX_DEPTH];
	hwloc_obj_t lca = rails_common_ancestor(a, b);
	hwloc_obj_t na;
	hwloc_obj_t nb;
	int n;

	if (!lca)
		return RB_TOPO_SYS;
	if (rails_is_pci_bridge(lca)) {
		n = rails_add_switches(a->parent, lca, set, 0);
		n = rails_add_switches(b->parent, lca, set, n);
		return n <= 1 ? RB_TOPO_PIX : RB_TOPO_PXB;
	}
	if (lca->type == HWLOC_OBJ_PCI_DEVICE)
		return RB_TOPO_PIX;
	if (rails_is_host_bridge(lca))
		return RB_TOPO_PHB;
	/* Different host bridges: same NUMA node or across the SMP link. */
	na = rails_non_io(a);
	nb = rails_non_io(b);
	if (na && nb && na->nodeset && nb->nodeset &&
	    hwloc_bitmap_intersects(na->nodeset, nb->nodeset))
		return RB_TOPO_NODE;
	return RB_TOPO_SYS;
}

/* GPUs already given NIC n (gpu_nic holds NIC indices during pairing). */
static int rails_load(const int *gpu_nic, int ngpus, int n)
{
	int load = 0;
	int g;

	for (g = 0; g < ngpus; g++)
		load += gpu_nic[g] == n;
	return load;
}

/* Same class and same preference: interchangeable for GPU g. */
static int rails_equal(const enum rb_topo_link *row, const int *nic_pref,
		       int a, int b)
{
	return row[a] == row[b] &&
	       (!nic_pref || nic_pref[a] == nic_pref[b]);
}

/* Moves GPUs between interchangeable NICs until no NIC serves two GPUs
 * more than another one. Each move lowers the sum of squared loads, so
 * this ends. */
static void rails_balance(const enum rb_topo_link *links, const int *nic_pref,
			  int ngpus, int nnics, int *gpu_nic)
{
	int moved = 1;
	int g;
	int m;

	while (moved) {
		moved = 0;
		for (g = 0; g < ngpus; g++) {
			const enum rb_topo_link *row = links + g * nnics;
			int cur = gpu_nic[g];

			for (m = 0; m < nnics; m++) {
				if (m == cur || !rails_equal(row, nic_pref, m, cur))
					continue;
				if (rails_load(gpu_nic, ngpus, m) + 1 <
				    rails_load(gpu_nic, ngpus, cur)) {
					gpu_nic[g] = m;
					moved = 1;
					break;
				}
			}
		}
	}
}

/* Is NIC n a better choice than NIC best for GPU g (NICs taken so far by
 * GPUs 0..g-1 in gpu_nic)? */
static int rails_better(const enum rb_topo_link *row, const int *nic_pref,
			const int *gpu_nic, int g, int n, int best)
{
	if (best < 0)
		return 1;
	if (row[n] != row[best])
		return row[n] < row[best];
	if (nic_pref && nic_pref[n] != nic_pref[best])
		return nic_pref[n] < nic_pref[best];
	/* Equal load keeps the lower index, i.e. the lower PCI address. */
	return rails_load(gpu_nic, g, n) < rails_load(gpu_nic, g, best);
}

int rb_topo_rails_assign(const enum rb_topo_link *links, const int *nic_pref,
			 int ngpus, int nnics, int *gpu_rail, int *nic_rail,
			 int *rail_nic, int *nrails_p)
{
	int nrails = 0;
	int g;
	int n;

	if (ngpus < 0 || nnics < 0)
		return -RB_EINVAL;
	for (n = 0; n < nnics; n++)
		nic_rail[n] = -1;
	/* Pass 1: closest NIC, then preferred, then least loaded, then
	 * lowest address. gpu_rail holds NIC indices until pass 3. */
	for (g = 0; g < ngpus; g++) {
		const enum rb_topo_link *row = links + g * nnics;
		int best = -1;

		for (n = 0; n < nnics; n++)
			if (rails_better(row, nic_pref, gpu_rail, g, n, best))
				best = n;
		gpu_rail[g] = best;
	}
	if (nnics == 0) {
		*nrails_p = 0;
		return 0;
	}
	/* Pass 2: even out loads among equally close NICs. */
	rails_balance(links, nic_pref, ngpus, nnics, gpu_rail);
	/* Pass 3: number rails in GPU order. */
	for (g = 0; g < ngpus; g++) {
		n = gpu_rail[g];
		if (nic_rail[n] < 0) {
			nic_rail[n] = nrails;
			rail_nic[nrails++] = n;
		}
		gpu_rail[g] = nic_rail[n];
	}
	*nrails_p = nrails;
	return 0;
}

/* No GPU to pair with: the rails are the NICs with a verbs device, or
 * every NIC when none has one, in PCI order. */
static void rails_no_gpu(struct rb_topo *t, const int *nic_pref,
			 int *nic_rail)
{
	int best = 1;
	int n;

	for (n = 0; n < t->nnics; n++)
		best = RB_MIN(best, nic_pref[n]);
	t->nrails = 0;
	for (n = 0; n < t->nnics; n++) {
		nic_rail[n] = -1;
		if (nic_pref[n] == best) {
			nic_rail[n] = t->nrails;
			t->rail_nic[t->nrails++] = n;
		}
	}
}

int rb_topo_rails_build(struct rb_topo *t)
{
	size_t cells = (size_t)t->ngpus * (size_t)t->nnics;
	size_t nn = (size_t)RB_MAX(t->nnics, 1);
	int *nic_rail;
	int *nic_pref;
	int g;
	int n;
	int rc = -RB_ENOMEM;

	t->links = calloc(RB_MAX(cells, 1), sizeof(*t->links));
	t->gpu_rail = calloc((size_t)RB_MAX(t->ngpus, 1), sizeof(int));
	t->rail_nic = calloc(nn, sizeof(int));
	nic_rail = calloc(nn, sizeof(int));
	nic_pref = calloc(nn, sizeof(int));
	if (!t->links || !t->gpu_rail || !t->rail_nic || !nic_rail || !nic_pref)
		goto out;
	for (g = 0; g < t->ngpus; g++)
		for (n = 0; n < t->nnics; n++)
			t->links[g * t->nnics + n] =
				rb_topo_classify(t->gpu_obj[g], t->nic_obj[n]);
	/* RDMA-capable NICs (with a verbs device) before plain Ethernet
	 * ones such as a management port at the same distance. */
	for (n = 0; n < t->nnics; n++)
		nic_pref[n] = t->nics[n].name[0] ? 0 : 1;
	if (t->ngpus > 0) {
		rc = rb_topo_rails_assign(t->links, nic_pref, t->ngpus,
					  t->nnics, t->gpu_rail, nic_rail,
					  t->rail_nic, &t->nrails);
		if (rc)
			goto out;
	} else {
		rails_no_gpu(t, nic_pref, nic_rail);
	}
	for (n = 0; n < t->nnics; n++)
		t->nics[n].rail = nic_rail[n];
	rc = 0;
out:
	free(nic_rail);
	free(nic_pref);
	return rc;
}

int rb_topo_rail_nic(const struct rb_topo *t, int r)
{
	return r >= 0 && r < t->nrails ? t->rail_nic[r] : -1;
}

int rb_topo_gpu_rail(const struct rb_topo *t, int g)
{
	return g >= 0 && g < t->ngpus ? t->gpu_rail[g] : -1;
}

enum rb_topo_link rb_topo_link(const struct rb_topo *t, int g, int n)
{
	if (g < 0 || g >= t->ngpus || n < 0 || n >= t->nnics)
		return RB_TOPO_SYS;
	return t->links[g * t->nnics + n];
}
