/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to topo/: the layout of struct rb_topo and the helpers the files
 * of this folder share. Other folders include topo/topo.h only. */
#ifndef RB_TOPO_TOPO_PRIV_H
#define RB_TOPO_TOPO_PRIV_H

#include <hwloc.h>

#include "topo/topo.h"

struct rb_topo {
	hwloc_topology_t hw;
	int this_system;	/* 1: live machine, binding possible */
	char source[512];	/* XML path or "this machine" */
	char host[64];
	char machine_cpuset[256];
	int machine_numa;	/* the NUMA node when there is one, else -1 */
	int ngpus;
	int nnics;
	int nrails;
	struct rb_topo_gpu *gpus;	/* [ngpus], PCI order */
	struct rb_topo_nic *nics;	/* [nnics], PCI order */
	hwloc_obj_t *gpu_obj;		/* PCI object of each GPU */
	hwloc_obj_t *nic_obj;		/* PCI object of each NIC */
	enum rb_topo_link *links;	/* [ngpus * nnics] */
	int *gpu_rail;			/* [ngpus] */
	int *rail_nic;			/* [max(nrails, 1)] */
};

/* rails.c: affinity class of two PCI objects of t->hw. */
enum rb_topo_link rb_topo_classify(hwloc_obj_t a, hwloc_obj_t b);
/* rails.c: the upstream port of the PCIe switch nearest above obj, or
 * NULL when obj hangs off a root port or host bridge directly. */
hwloc_obj_t rb_topo_switch_of(hwloc_obj_t obj);
/* rails.c: fills t->links, t->gpu_rail, t->rail_nic, t->nrails and each
 * NIC's rail. \return 0 or -RB_ENOMEM. */
int rb_topo_rails_build(struct rb_topo *t);

/* print.c: "NVIDIA", "Mellanox", ... or NULL for an unknown vendor. */
const char *rb_topo_vendor_name(unsigned vendor_id);
/* print.c: "InfiniBand", "Ethernet", ... for a NIC's PCI class. */
const char *rb_topo_nic_kind(unsigned class_id);

#endif
