/* SPDX-License-Identifier: BSD-3-Clause */
/* Human-readable and JSON descriptions of a node's topology: devices,
 * affinity matrix, rail map and placement (format in docs/topo.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/rb.h"
#include "topo/topo_priv.h"

struct print_vendor {
	unsigned id;
	const char *name;
};

/* PCI vendors met in GPU/NIC servers; others print as their id only. */
static const struct print_vendor print_vendors[] = {
	{ .id = 0x10de, .name = "NVIDIA" },
	{ .id = 0x15b3, .name = "Mellanox" },
	{ .id = 0x8086, .name = "Intel" },
	{ .id = 0x1af4, .name = "virtio" },
	{ .id = 0x14e4, .name = "Broadcom" },
	{ .id = 0x1d0f, .name = "Amazon" },
	{ .id = 0x1002, .name = "AMD" },
	{ .id = 0x1022, .name = "AMD" },
	{ .id = 0x1077, .name = "QLogic" },
	{ .id = 0x1924, .name = "Solarflare" },
	{ .id = 0x1425, .name = "Chelsio" },
	{ .id = 0x19e5, .name = "Huawei" },
	{ .id = 0x1dd8, .name = "Pensando" },
	{ .id = 0x10ec, .name = "Realtek" },
};

const char *rb_topo_vendor_name(unsigned vendor_id)
{
	size_t i;

	for (i = 0; i < RB_ARRAY_SIZE(print_vendors); i++)
		if (print_vendors[i].id == vendor_id)
			return print_vendors[i].name;
	return NULL;
}

const char *rb_topo_nic_kind(unsigned class_id)
{
	switch (class_id) {
	case 0x0200:
		return "Ethernet";
	case 0x0207:
	case 0x0c06:
		return "InfiniBand";
	case 0x0208:
		return "Fabric";
	default:
		return "Network";
	}
}

static const char *print_or(const char *s, const char *dflt)
{
	return s && s[0] ? s : dflt;
}

/* "mlx5_0/ib0", "eth0", "mlx5_0" or "0000:17:00.0": how a NIC is named. */
static void print_nic_label(const struct rb_topo_nic *n, char *buf,
			    size_t len)
{
	if (n->name[0] && n->netdev[0])
		snprintf(buf, len, "%s/%s", n->name, n->netdev);
	else if (n->name[0] || n->netdev[0])
		snprintf(buf, len, "%s%s", n->name, n->netdev);
	else
		snprintf(buf, len, "%s", n->busid);
}

static void print_gbps(double gbps, char *buf, size_t len)
{
	if (gbps > 0)
		snprintf(buf, len, "%.0f Gb/s", gbps);
	else
		snprintf(buf, len, "?");
}

/* "8 GPUs (NVIDIA 10de:2330)", or "(2 models)" when they differ. */
static void print_gpu_kinds(const struct rb_topo *t, FILE *out)
{
	const struct rb_topo_gpu *g0 = &t->gpus[0];
	const char *vendor = rb_topo_vendor_name(g0->vendor_id);
	int models = 1;
	int i;
	int j;

	for (i = 1; i < t->ngpus; i++) {
		for (j = 0; j < i; j++)
			if (t->gpus[j].vendor_id == t->gpus[i].vendor_id &&
			    t->gpus[j].device_id == t->gpus[i].device_id)
				break;
		models += j == i;
	}
	fprintf(out, "%d GPU%s", t->ngpus, t->ngpus > 1 ? "s" : "");
	if (models > 1)
		fprintf(out, " (%d models)", models);
	else
		fprintf(out, " (%s%s%04x:%04x)", print_or(vendor, ""),
			vendor ? " " : "", g0->vendor_id, g0->device_id);
}

/* One line saying plainly what was found. */
static void print_headline(const struct rb_topo *t, FILE *out)
{
	char label[160];
	const char *vendor;
	int i;

	if (t->ngpus)
		print_gpu_kinds(t, out);
	else
		fprintf(out, "no GPUs found");
	fprintf(out, "; %d NIC%s", t->nnics, t->nnics == 1 ? "" : "s");
	for (i = 0; i < t->nnics && i < 4; i++) {
		const struct rb_topo_nic *n = &t->nics[i];

		print_nic_label(n, label, sizeof(label));
		vendor = rb_topo_vendor_name(n->vendor_id);
		fprintf(out, "%s %s (%s%s%04x:%04x, %s)", i ? "," : ":", label,
			print_or(vendor, ""), vendor ? ", " : "", n->vendor_id,
			n->device_id, rb_topo_nic_kind(n->class_id));
	}
	if (t->nnics > 4)
		fprintf(out, ", ...");
	if (!t->nnics)
		fprintf(out, "; no rails\n");
	else if (t->ngpus)
		fprintf(out, "; %d rail%s, %d non-rail NIC%s\n", t->nrails,
			t->nrails == 1 ? "" : "s", t->nnics - t->nrails,
			t->nnics - t->nrails == 1 ? "" : "s");
	else
		fprintf(out, "; no GPUs to pair, so the rails are the %s in PCI order: local rank k uses rail k mod %d\n",
			t->nics[t->rail_nic[0]].name[0] ? "RDMA (verbs) NICs" :
							  "NICs",
			t->nrails);
}

static void print_devices(const struct rb_topo *t, FILE *out)
{
	char label[160];
	char pcie[32];
	char line[32];
	char rail[32];
	int i;

	fprintf(out, "GPUs: %d\n", t->ngpus);
	for (i = 0; i < t->ngpus; i++) {
		const struct rb_topo_gpu *g = &t->gpus[i];

		print_gbps(g->pcie_gbps, pcie, sizeof(pcie));
		fprintf(out, "  GPU%-3d %s  %04x:%04x  NUMA %d  CPUs %s  host bridge %s  switch %s  PCIe %s  %s  %s\n",
			i, g->busid, g->vendor_id, g->device_id, g->numa,
			print_or(g->cpuset, "?"), print_or(g->host_bridge, "-"),
			print_or(g->switch_busid, "-"), pcie,
			print_or(g->osdev, "-"), print_or(g->model, ""));
	}
	fprintf(out, "NICs: %d\n", t->nnics);
	for (i = 0; i < t->nnics; i++) {
		const struct rb_topo_nic *n = &t->nics[i];

		print_nic_label(n, label, sizeof(label));
		print_gbps(n->pcie_gbps, pcie, sizeof(pcie));
		print_gbps(n->line_gbps, line, sizeof(line));
		if (n->rail >= 0)
			snprintf(rail, sizeof(rail), "rail %d", n->rail);
		else
			snprintf(rail, sizeof(rail), "non-rail");
		fprintf(out, "  NIC%-3d %-18s %s  %04x:%04x %-10s NUMA %d  CPUs %s  host bridge %s  switch %s  PCIe %s  line %s  %s\n",
			i, label, n->busid, n->vendor_id, n->device_id,
			rb_topo_nic_kind(n->class_id), n->numa,
			print_or(n->cpuset, "?"), print_or(n->host_bridge, "-"),
			print_or(n->switch_busid, "-"), pcie, line, rail);
	}
}

static void print_matrix(const struct rb_topo *t, FILE *out)
{
	int g;
	int n;

	if (!t->ngpus || !t->nnics) {
		fprintf(out, "Affinity: none (%s)\n",
			t->ngpus ? "no NICs" : "no GPUs");
		return;
	}
	fprintf(out, "Affinity (GPU x NIC):\n        ");
	for (n = 0; n < t->nnics; n++)
		fprintf(out, " NIC%-3d", n);
	fprintf(out, "\n");
	for (g = 0; g < t->ngpus; g++) {
		fprintf(out, "  GPU%-3d", g);
		for (n = 0; n < t->nnics; n++)
			fprintf(out, " %-6s",
				rb_topo_link_name(t->links[g * t->nnics + n]));
		fprintf(out, "\n");
	}
	fprintf(out, "  PIX same PCIe switch, PXB several switches, PHB same host bridge,\n"
		     "  NODE same NUMA node, SYS across NUMA nodes\n");
}

static void print_rails(const struct rb_topo *t, FILE *out)
{
	char label[160];
	int r;
	int g;
	int n;
	int k;

	fprintf(out, "Rails: %d%s\n", t->nrails,
		t->ngpus ? "" : " (no GPUs: NICs in PCI order, RDMA ones first)");
	for (r = 0; r < t->nrails; r++) {
		const struct rb_topo_nic *nic = &t->nics[t->rail_nic[r]];

		print_nic_label(nic, label, sizeof(label));
		fprintf(out, "  rail %-3d NIC%-3d %-18s %s", r, nic->index,
			label, nic->busid);
		for (k = 0, g = 0; g < t->ngpus; g++)
			if (t->gpu_rail[g] == r)
				fprintf(out, "%s GPU%d (%s)", k++ ? "," : "  <-",
					g, rb_topo_link_name(
					t->links[g * t->nnics + nic->index]));
		fprintf(out, "\n");
	}
	for (n = 0; n < t->nnics; n++) {
		if (t->nics[n].rail >= 0)
			continue;
		print_nic_label(&t->nics[n], label, sizeof(label));
		fprintf(out, "  non-rail NIC%-3d %-18s %s (%s)\n", n, label,
			t->nics[n].busid,
			t->ngpus ? "serves no GPU" : "no verbs device");
	}
}

/* Placement of one local rank per GPU (per rail without GPUs). */
static int print_nplace(const struct rb_topo *t)
{
	if (t->ngpus)
		return t->ngpus;
	return RB_MAX(t->nrails, 1);
}

static int print_placement(const struct rb_topo *t, FILE *out)
{
	struct rb_topo_place p;
	char gpu[64];
	char rail[32];
	int nr = print_nplace(t);
	int k;
	int rc;

	fprintf(out, "Placement (local rank -> GPU, rail, NIC, CPUs):\n");
	for (k = 0; k < nr; k++) {
		rc = rb_topo_place(t, k, nr, &p);
		if (rc)
			return rc;
		if (p.gpu >= 0)
			snprintf(gpu, sizeof(gpu), "GPU%d %s", p.gpu,
				 p.gpu_busid);
		else
			snprintf(gpu, sizeof(gpu), "no GPU");
		if (p.rail >= 0)
			snprintf(rail, sizeof(rail), "rail %d", p.rail);
		else
			snprintf(rail, sizeof(rail), "no rail");
		fprintf(out, "  rank %-3d %-20s %-8s %-10s NUMA %d  CPUs %s\n",
			k, gpu, rail, print_or(p.nic, print_or(p.netdev, "-")),
			p.numa, p.cpuset);
	}
	return 0;
}

int rb_topo_print(const struct rb_topo *t, FILE *out)
{
	char summary[RB_TOPO_SUMMARY_MAX];
	int rc;

	fprintf(out, "Topology of %s (host %s)\n", t->source,
		print_or(t->host, "unknown"));
	print_headline(t, out);
	print_devices(t, out);
	print_matrix(t, out);
	print_rails(t, out);
	rc = print_placement(t, out);
	if (rc)
		return rc;
	rc = rb_topo_summary(t, summary, sizeof(summary));
	if (rc)
		return rc;
	fprintf(out, "Summary: %s\n", summary);
	if (ferror(out)) {
		rb_err("writing the topology report: %s", strerror(errno));
		return -RB_ESYS;
	}
	return 0;
}
