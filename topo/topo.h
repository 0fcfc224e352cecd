/* SPDX-License-Identifier: BSD-3-Clause */
/* Node topology over hwloc: GPUs, NICs, NUMA nodes and PCIe switches, the
 * GPU x NIC affinity matrix, the rail map and the placement of local ranks.
 * See docs/topo.md for the rules and the JSON format. */
#ifndef RB_TOPO_TOPO_H
#define RB_TOPO_TOPO_H

#include <stddef.h>
#include <stdio.h>

struct rb_topo;		/* opaque; owns the hwloc topology */

/* Largest string rb_topo_summary() writes, terminator included. */
#define RB_TOPO_SUMMARY_MAX 512

/* Affinity classes, closest first (the names nvidia-smi topo -m prints). */
enum rb_topo_link {
	RB_TOPO_PIX,	/* same PCIe switch: at most one bridge between */
	RB_TOPO_PXB,	/* several PCIe switches, no host bridge crossed */
	RB_TOPO_PHB,	/* through one PCIe host bridge */
	RB_TOPO_NODE,	/* different host bridges, same NUMA node */
	RB_TOPO_SYS,	/* across NUMA nodes / sockets */
	RB_TOPO_NLINKS,
};

/* One GPU (one PCI function), numbered in PCI bus-id order. */
struct rb_topo_gpu {
	int index;
	char busid[32];		/* "0000:1b:00.0" */
	unsigned vendor_id;
	unsigned device_id;
	unsigned class_id;
	char model[96];		/* GPUModel or PCIDevice info, else "" */
	char osdev[32];		/* first cuda/nvml/rsmi OS device, else "" */
	int numa;		/* first NUMA node of its locality, -1 unknown */
	char cpuset[256];	/* CPUs local to it, list form "0-7,16-23" */
	char switch_busid[32];	/* nearest PCIe switch (upstream port), or "" */
	char host_bridge[32];	/* its host bridge's bus range "0000:[10-2f]" */
	double pcie_gbps;	/* PCIe link bandwidth in Gb/s, 0 unknown */
};

/* One NIC: one PCI function of class Ethernet or InfiniBand (one entry per
 * network interface when a function exposes several ports). */
struct rb_topo_nic {
	int index;
	char name[64];		/* verbs device ("mlx5_0") or "" */
	char netdev[64];	/* IP interface ("ib0", "ens1f0") or "" */
	int port;		/* 1-based port of the function */
	char busid[32];
	unsigned vendor_id;
	unsigned device_id;
	unsigned class_id;	/* 0x0200 Ethernet, 0x0207 / 0x0c06 IB */
	char model[96];		/* PCIDevice info, else "" */
	int numa;
	char cpuset[256];
	char switch_busid[32];
	char host_bridge[32];
	double pcie_gbps;	/* PCIe link bandwidth in Gb/s, 0 unknown */
	double line_gbps;	/* port line rate from sysfs in Gb/s, 0 unknown */
	int rail;		/* rail served, -1 for a non-rail NIC */
};

/* What a local rank uses: its GPU, its rail NIC and the CPUs to run on. */
struct rb_topo_place {
	int local_rank;
	int gpu;		/* GPU index, -1 on a node without GPUs */
	char gpu_busid[32];	/* "" without GPU */
	int rail;		/* -1 when the node has no NIC */
	char nic[64];		/* verbs name or "" */
	char netdev[64];	/* IP interface or "" */
	char nic_busid[32];
	double nic_gbps;	/* line rate in Gb/s, 0 if unknown */
	double nic_pcie_gbps;	/* NIC PCIe link in Gb/s, 0 if unknown */
	int numa;		/* -1 if unknown */
	char cpuset[256];	/* list form "0-7,16-23" */
	int no_gpu;		/* 1: rail chosen round-robin (no GPUs here) */
};

/*
 * Loads the topology of this machine (xml_path_or_NULL == NULL) or of an
 * hwloc XML export, finds GPUs and NICs, classifies every GPU/NIC pair and
 * builds the rail map.
 * \return 0 and *topo_p; -RB_EINVAL when the XML file cannot be read or
 * parsed (logged with the file name), -RB_ENOMEM, -RB_ESYS.
 */
int rb_topo_load(const char *xml_path_or_NULL, struct rb_topo **topo_p);

/* Largest hwloc XML export accepted: a real node's is under 1 MiB. */
#define RB_TOPO_XML_MAX_BYTES (64u << 20)

/* Whether path can be an hwloc XML export: it opens without blocking, is a
 * regular file (not a FIFO, a terminal or /dev/zero) and holds at most
 * RB_TOPO_XML_MAX_BYTES. \return 0, or -RB_EINVAL with the reason, naming
 * the path, in why. */
int rb_topo_xml_check(const char *path, char *why, size_t len);

/* Releases everything. NULL-safe. */
void rb_topo_free(struct rb_topo *t);

/* Accessors. Indices are 0-based; out-of-range indices return NULL / -1. */
int rb_topo_ngpus(const struct rb_topo *t);
int rb_topo_nnics(const struct rb_topo *t);
int rb_topo_nrails(const struct rb_topo *t);
const struct rb_topo_gpu *rb_topo_gpu_at(const struct rb_topo *t, int i);
const struct rb_topo_nic *rb_topo_nic_at(const struct rb_topo *t, int i);
/* \return the NIC index serving rail r, or -1. */
int rb_topo_rail_nic(const struct rb_topo *t, int r);
/* \return the rail of GPU g, or -1 (no NIC). */
int rb_topo_gpu_rail(const struct rb_topo *t, int g);
/* \return the affinity class of GPU g and NIC n (RB_TOPO_SYS if out of
 * range). */
enum rb_topo_link rb_topo_link(const struct rb_topo *t, int g, int n);
/* \return "PIX", "PXB", "PHB", "NODE", "SYS". */
const char *rb_topo_link_name(enum rb_topo_link l);
/* \return where the topology came from: the XML path or "this machine". */
const char *rb_topo_source(const struct rb_topo *t);
/* \return the host name recorded in the topology ("" if none). */
const char *rb_topo_host(const struct rb_topo *t);

/*
 * Rail pairing on an affinity matrix (links[g * nnics + n]); GPUs and NICs
 * are indexed in PCI bus-id order. Each GPU takes one of its closest NICs;
 * among equally close NICs the one with the lowest nic_pref (NULL: all
 * equal; topo uses 0 for NICs with a verbs device, 1 for the others), then
 * the one serving fewest GPUs so far, then the lowest PCI address; GPUs
 * then move between interchangeable NICs until their loads differ by at
 * most one. Rails are numbered in GPU order. Writes gpu_rail[ngpus],
 * nic_rail[nnics] (-1: serves no GPU), rail_nic[] (at most
 * min(ngpus, nnics) entries) and *nrails_p. Pure: no hwloc involved.
 * \return 0, or -RB_EINVAL for negative counts.
 */
int rb_topo_rails_assign(const enum rb_topo_link *links, const int *nic_pref,
			 int ngpus, int nnics, int *gpu_rail, int *nic_rail,
			 int *rail_nic, int *nrails_p);

/*
 * Placement of local rank local_rank out of local_nranks on this node:
 * GPU (local_rank mod ngpus) and its rail; cpuset = CPUs local to the GPU.
 * Without GPUs (no_gpu = 1): rail (local_rank mod nrails), where the rails
 * are the NICs with a verbs device, or every NIC when none has one (in PCI
 * order); cpuset = CPUs local to that NIC, or the whole machine without
 * NICs.
 * \return 0, or -RB_EINVAL when local_rank is not in [0, local_nranks).
 */
int rb_topo_place(const struct rb_topo *t, int local_rank, int local_nranks,
		  struct rb_topo_place *p);

/*
 * Binds the calling process to p->cpuset with hwloc_set_cpubind.
 * \return 0; -RB_ENOTSUP when t describes another machine (XML); -RB_EINVAL
 * for an empty or unparsable cpuset; -RB_ESYS when the bind fails.
 */
int rb_topo_bind(const struct rb_topo *t, const struct rb_topo_place *p);

/*
 * Builds a jansson object describing p (keys in docs/topo.md). *json_p is a
 * json_t * owned by the caller (json_decref).
 * \return 0 or -RB_ENOMEM.
 */
int rb_topo_place_json(const struct rb_topo_place *p, void **json_p);

/*
 * Whole-node description as a jansson object (devices, affinity matrix,
 * rail map, placement of ngpus local ranks, summary); format in
 * docs/topo.md. \return 0 or -RB_ENOMEM.
 */
int rb_topo_json(const struct rb_topo *t, void **json_p);

/* Prints devices, affinity matrix, rail map and placement as text.
 * \return 0, or -RB_ESYS when writing fails. */
int rb_topo_print(const struct rb_topo *t, FILE *out);

/*
 * Compact one-line summary of the node for the cross-node check:
 * "gpus=8 rails=8 nics=10 model=15b3:1021*8 pcie_gbps=504*8 line_gbps=400*8"
 * (model and speeds of the rail NICs; "-" when there is none).
 * \return 0, or -RB_EINVAL when buf is too small.
 */
int rb_topo_summary(const struct rb_topo *t, char *buf, size_t len);

/*
 * Compares node summaries: prints one '#'-prefixed line to out for each
 * host whose GPU count, rail count, rail NIC model or link speeds differ
 * from the majority ("# topo: host node7 has 7 rails, majority 8").
 * \return the number of findings (>= 0), or -RB_EINVAL for a summary that
 * does not parse (logged with its host).
 */
int rb_topo_cross_check(const char *const *summaries, const char *const *hosts,
			int nnodes, FILE *out);

#endif
