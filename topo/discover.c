/* SPDX-License-Identifier: BSD-3-Clause */
/* Topology discovery over hwloc: loads this machine or an XML export and
 * lists its GPUs and NICs (PCI functions) with their NUMA locality, PCIe
 * switch, link bandwidth and, on the live machine, NIC line rate. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/rb.h"
#include "topo/topo_priv.h"

#define DISC_PCI_VENDOR_NVIDIA 0x10de

/* Name prefixes of OS devices that stand for a GPU (hwloc tags them GPU
 * or CoProc depending on version, so match by name). */
static const char *const disc_gpu_osdev_prefixes[] = {
	"cuda", "nvml", "rsmi",
};

static int disc_is_gpu_osdev(hwloc_obj_t os)
{
	size_t i;

	if (!os->name)
		return 0;
	for (i = 0; i < RB_ARRAY_SIZE(disc_gpu_osdev_prefixes); i++) {
		size_t n = strlen(disc_gpu_osdev_prefixes[i]);

		if (!strncmp(os->name, disc_gpu_osdev_prefixes[i], n))
			return 1;
	}
	return 0;
}

/* First cuda/nvml/rsmi OS device below a PCI function, or NULL. */
static hwloc_obj_t disc_gpu_osdev(hwloc_obj_t pci)
{
	hwloc_obj_t c;

	for (c = pci->io_first_child; c; c = c->next_sibling)
		if (c->type == HWLOC_OBJ_OS_DEVICE && disc_is_gpu_osdev(c))
			return c;
	return NULL;
}

/* An NVIDIA display/3D controller, or any function with a GPU OS device:
 * one PCI function is one GPU however many OS devices it carries. */
static int disc_is_gpu(hwloc_obj_t pci)
{
	unsigned cls = pci->attr->pcidev.class_id;

	if (pci->attr->pcidev.vendor_id == DISC_PCI_VENDOR_NVIDIA &&
	    (cls == 0x0300 || cls == 0x0302))
		return 1;
	return disc_gpu_osdev(pci) != NULL;
}

static int disc_has_osdev(hwloc_obj_t pci, hwloc_obj_osdev_type_t type)
{
	hwloc_obj_t c;

	for (c = pci->io_first_child; c; c = c->next_sibling)
		if (c->type == HWLOC_OBJ_OS_DEVICE && c->attr->osdev.type == type)
			return 1;
	return 0;
}

/* Ethernet, InfiniBand, fabric controllers, old-style IB (serial bus
 * 0x0c06), or anything carrying a verbs device. */
static int disc_is_nic(hwloc_obj_t pci)
{
	unsigned cls = pci->attr->pcidev.class_id;

	if (cls == 0x0200 || cls == 0x0207 || cls == 0x0208 || cls == 0x0c06)
		return 1;
	return disc_has_osdev(pci, HWLOC_OBJ_OSDEV_OPENFABRICS);
}

static void disc_busid(hwloc_obj_t pci, char *buf, size_t len)
{
	const struct hwloc_pcidev_attr_s *a = &pci->attr->pcidev;

	snprintf(buf, len, "%04x:%02x:%02x.%x", (unsigned)a->domain,
		 (unsigned)a->bus, (unsigned)a->dev, (unsigned)a->func);
}

static void disc_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* NUMA node and CPU list of the first non-I/O ancestor (hwloc's notion of
 * an I/O device's locality). */
static void disc_locality(hwloc_topology_t hw, hwloc_obj_t obj, int *numa_p,
			  char *cpuset, size_t len)
{
	hwloc_obj_t anc = hwloc_get_non_io_ancestor_obj(hw, obj);

	*numa_p = -1;
	cpuset[0] = '\0';
	if (!anc)
		return;
	if (anc->nodeset && !hwloc_bitmap_iszero(anc->nodeset))
		*numa_p = hwloc_bitmap_first(anc->nodeset);
	if (anc->cpuset)
		hwloc_bitmap_list_snprintf(cpuset, len, anc->cpuset);
}

static void disc_switch(hwloc_obj_t pci, char *buf, size_t len)
{
	hwloc_obj_t sw = rb_topo_switch_of(pci);

	buf[0] = '\0';
	if (sw)
		disc_busid(sw, buf, len);
}

/* The host bridge above a PCI function, named by its bus range. */
static void disc_host_bridge(hwloc_obj_t pci, char *buf, size_t len)
{
	hwloc_obj_t b;

	buf[0] = '\0';
	for (b = pci->parent; b && b->type == HWLOC_OBJ_BRIDGE; b = b->parent) {
		if (b->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_HOST) {
			snprintf(buf, len, "%04x:[%02x-%02x]",
				 (unsigned)b->attr->bridge.downstream.pci.domain,
				 (unsigned)b->attr->bridge.downstream.pci.secondary_bus,
				 (unsigned)b->attr->bridge.downstream.pci.subordinate_bus);
			return;
		}
	}
}

static void disc_fill_gpu(struct rb_topo *t, hwloc_obj_t pci,
			  struct rb_topo_gpu *g)
{
	hwloc_obj_t os = disc_gpu_osdev(pci);
	const char *model = NULL;

	memset(g, 0, sizeof(*g));
	disc_busid(pci, g->busid, sizeof(g->busid));
	g->vendor_id = pci->attr->pcidev.vendor_id;
	g->device_id = pci->attr->pcidev.device_id;
	g->class_id = pci->attr->pcidev.class_id;
	if (os) {
		disc_copy(g->osdev, sizeof(g->osdev), os->name);
		model = hwloc_obj_get_info_by_name(os, "GPUModel");
	}
	if (!model)
		model = hwloc_obj_get_info_by_name(pci, "PCIDevice");
	disc_copy(g->model, sizeof(g->model), model);
	disc_locality(t->hw, pci, &g->numa, g->cpuset, sizeof(g->cpuset));
	disc_switch(pci, g->switch_busid, sizeof(g->switch_busid));
	disc_host_bridge(pci, g->host_bridge, sizeof(g->host_bridge));
	g->pcie_gbps = 8.0 * pci->attr->pcidev.linkspeed;
}

/* Reads a small sysfs file into buf. \return 0 or -1. */
static int disc_read_sysfs(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n ? 0 : -1;
}

/* Line rate of a live NIC port in Gb/s: the verbs port rate ("400 Gb/sec
 * (4X NDR)"), else the interface speed in Mb/s; 0 when neither is known
 * (virtio and interfaces that are down report -1). */
static double disc_line_gbps(const struct rb_topo_nic *n)
{
	char path[256];
	char buf[64];
	double v;

	if (n->name[0]) {
		snprintf(path, sizeof(path),
			 "/sys/class/infiniband/%s/ports/%d/rate", n->name,
			 n->port);
		if (!disc_read_sysfs(path, buf, sizeof(buf)) &&
		    sscanf(buf, "%lf", &v) == 1 && v > 0)
			return v;
	}
	if (n->netdev[0]) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/speed",
			 n->netdev);
		if (!disc_read_sysfs(path, buf, sizeof(buf)) &&
		    sscanf(buf, "%lf", &v) == 1 && v > 0)
			return v / 1000.0;
	}
	return 0.0;
}

static void disc_fill_nic(struct rb_topo *t, hwloc_obj_t pci,
			  const char *ibdev, hwloc_obj_t net, int port,
			  struct rb_topo_nic *n)
{
	const char *p;

	memset(n, 0, sizeof(*n));
	disc_copy(n->name, sizeof(n->name), ibdev);
	n->port = port;
	if (net) {
		disc_copy(n->netdev, sizeof(n->netdev), net->name);
		p = hwloc_obj_get_info_by_name(net, "Port");
		if (p && atoi(p) > 0)
			n->port = atoi(p);
	}
	disc_busid(pci, n->busid, sizeof(n->busid));
	n->vendor_id = pci->attr->pcidev.vendor_id;
	n->device_id = pci->attr->pcidev.device_id;
	n->class_id = pci->attr->pcidev.class_id;
	disc_copy(n->model, sizeof(n->model),
		  hwloc_obj_get_info_by_name(pci, "PCIDevice"));
	disc_locality(t->hw, pci, &n->numa, n->cpuset, sizeof(n->cpuset));
	disc_switch(pci, n->switch_busid, sizeof(n->switch_busid));
	disc_host_bridge(pci, n->host_bridge, sizeof(n->host_bridge));
	n->pcie_gbps = 8.0 * pci->attr->pcidev.linkspeed;
	n->rail = -1;
	if (t->this_system)
		n->line_gbps = disc_line_gbps(n);
}

/* Number of NIC entries a function yields: one per network interface, at
 * least one. */
static int disc_nic_ports(hwloc_obj_t pci)
{
	hwloc_obj_t c;
	int k = 0;

	for (c = pci->io_first_child; c; c = c->next_sibling)
		if (c->type == HWLOC_OBJ_OS_DEVICE &&
		    c->attr->osdev.type == HWLOC_OBJ_OSDEV_NETWORK)
			k++;
	return k ? k : 1;
}

/* Appends the NIC entries of one function at t->nics + t->nnics. */
static void disc_add_nic(struct rb_topo *t, hwloc_obj_t pci)
{
	const char *ibdev = NULL;
	hwloc_obj_t c;
	int port = 0;

	for (c = pci->io_first_child; c; c = c->next_sibling)
		if (c->type == HWLOC_OBJ_OS_DEVICE &&
		    c->attr->osdev.type == HWLOC_OBJ_OSDEV_OPENFABRICS && !ibdev)
			ibdev = c->name;
	for (c = pci->io_first_child; c; c = c->next_sibling) {
		if (c->type != HWLOC_OBJ_OS_DEVICE ||
		    c->attr->osdev.type != HWLOC_OBJ_OSDEV_NETWORK)
			continue;
		port++;
		t->nic_obj[t->nnics] = pci;
		disc_fill_nic(t, pci, ibdev, c, port, &t->nics[t->nnics++]);
	}
	if (!port) {
		t->nic_obj[t->nnics] = pci;
		disc_fill_nic(t, pci, ibdev, NULL, 1, &t->nics[t->nnics++]);
	}
}

static int disc_pci_cmp(hwloc_obj_t a, hwloc_obj_t b)
{
	const struct hwloc_pcidev_attr_s *x = &a->attr->pcidev;
	const struct hwloc_pcidev_attr_s *y = &b->attr->pcidev;

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->func != y->func)
		return x->func < y->func ? -1 : 1;
	return 0;
}

static int disc_obj_cmp(const void *a, const void *b)
{
	return disc_pci_cmp(*(hwloc_obj_t const *)a, *(hwloc_obj_t const *)b);
}

/* Collects GPU and NIC functions sorted by PCI address, then fills the
 * device tables (NIC entries of one function stay in port order). */
static int disc_devices(struct rb_topo *t)
{
	int npci = hwloc_get_nbobjs_by_type(t->hw, HWLOC_OBJ_PCI_DEVICE);
	hwloc_obj_t *objs;
	hwloc_obj_t o = NULL;
	int nobj = 0;
	int nnic_max = 0;
	int i;

	objs = calloc((size_t)RB_MAX(npci, 1), sizeof(*objs));
	if (!objs)
		return -RB_ENOMEM;
	while ((o = hwloc_get_next_pcidev(t->hw, o)) && nobj < npci) {
		if (disc_is_gpu(o)) {
			objs[nobj++] = o;
		} else if (disc_is_nic(o)) {
			objs[nobj++] = o;
			nnic_max += disc_nic_ports(o);
		}
	}
	qsort(objs, (size_t)nobj, sizeof(*objs), disc_obj_cmp);
	t->gpus = calloc((size_t)RB_MAX(nobj, 1), sizeof(*t->gpus));
	t->gpu_obj = calloc((size_t)RB_MAX(nobj, 1), sizeof(*t->gpu_obj));
	t->nics = calloc((size_t)RB_MAX(nnic_max, 1), sizeof(*t->nics));
	t->nic_obj = calloc((size_t)RB_MAX(nnic_max, 1), sizeof(*t->nic_obj));
	if (!t->gpus || !t->gpu_obj || !t->nics || !t->nic_obj) {
		free(objs);
		return -RB_ENOMEM;
	}
	for (i = 0; i < nobj; i++) {
		if (disc_is_gpu(objs[i])) {
			t->gpu_obj[t->ngpus] = objs[i];
			disc_fill_gpu(t, objs[i], &t->gpus[t->ngpus]);
			t->gpus[t->ngpus].index = t->ngpus;
			t->ngpus++;
		} else {
			disc_add_nic(t, objs[i]);
		}
	}
	for (i = 0; i < t->nnics; i++)
		t->nics[i].index = i;
	free(objs);
	return 0;
}

static void disc_machine(struct rb_topo *t)
{
	hwloc_obj_t root = hwloc_get_root_obj(t->hw);
	const char *host = hwloc_obj_get_info_by_name(root, "HostName");
	char name[64] = "";

	/* An XML export names the machine it came from; the live machine
	 * is named by the kernel. */
	if (t->this_system && !gethostname(name, sizeof(name) - 1))
		host = name;
	disc_copy(t->host, sizeof(t->host), host);
	hwloc_bitmap_list_snprintf(t->machine_cpuset,
				   sizeof(t->machine_cpuset), root->cpuset);
	t->machine_numa = hwloc_bitmap_weight(root->nodeset) == 1 ?
			  hwloc_bitmap_first(root->nodeset) : -1;
}

int rb_topo_xml_check(const char *path, char *why, size_t len)
{
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	int rc = 0;

	if (fd < 0) {
		snprintf(why, len, "--topo-xml '%.200s': cannot read it: %s", path,
			 strerror(errno));
		return -RB_EINVAL;
	}
	if (fstat(fd, &st)) {
		snprintf(why, len, "--topo-xml '%.200s': %s", path, strerror(errno));
		rc = -RB_EINVAL;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "--topo-xml '%.200s': not a regular file (an hwloc XML export is one)",
			 path);
		rc = -RB_EINVAL;
	} else if ((uint64_t)st.st_size > RB_TOPO_XML_MAX_BYTES) {
		snprintf(why, len, "--topo-xml '%.200s': %lld bytes, more than the %u MiB an hwloc XML export can sensibly be",
			 path, (long long)st.st_size, RB_TOPO_XML_MAX_BYTES >> 20);
		rc = -RB_EINVAL;
	}
	close(fd);
	return rc;
}

/* How long a trial load of an XML export may take. */
#define DISC_PROBE_MS 30000

/* The child's exit codes: anything else (a signal, a sanitizer's exit)
 * means hwloc crashed. */
#define DISC_PROBE_LOADED 0
#define DISC_PROBE_REFUSED 3

/* The child of disc_xml_probe: loads xml quietly and exits. */
static void disc_probe_child(const char *xml)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	hwloc_topology_t hw;
	int null = open("/dev/null", O_WRONLY);
	int rc = 1;

	/* Die of the signal itself, past any handler the parent installed
	 * (a sanitizer's, a fuzzer's): only the exit status tells. */
	for (size_t i = 0; i < RB_ARRAY_SIZE(fatal); i++)
		signal(fatal[i], SIG_DFL);
	if (null >= 0)
		dup2(null, STDERR_FILENO);
	if (!hwloc_topology_init(&hw)) {
		hwloc_topology_set_io_types_filter(hw, HWLOC_TYPE_FILTER_KEEP_ALL);
		rc = hwloc_topology_set_xml(hw, xml) || hwloc_topology_load(hw);
		hwloc_topology_destroy(hw);
	}
	_exit(rc ? DISC_PROBE_REFUSED : DISC_PROBE_LOADED);
}

/* hwloc 2.9 can crash on a malformed export (out-of-order objects end in a
 * NULL dereference inside hwloc_topology_load): load it once in a child
 * process first, so that a bad file is a usage error, not a crash of the
 * benchmark. \return 0 when the child survived (it may still have found
 * the file invalid: the real load says why), or -RB_EINVAL (logged). */
static int disc_xml_probe(const char *xml)
{
	pid_t pid = fork();
	uint64_t deadline = rb_time_ns() + DISC_PROBE_MS * 1000000ull;
	int status = 0;

	if (pid < 0)
		return 0;	/* no trial: the real load still runs */
	if (pid == 0)
		disc_probe_child(xml);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (rb_time_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			rb_err("topology XML '%s': hwloc %s did not finish loading it within %d s",
			       xml, HWLOC_VERSION, DISC_PROBE_MS / 1000);
			return -RB_EINVAL;
		}
		usleep(1000);
	}
	if (WIFSIGNALED(status) || (WEXITSTATUS(status) != DISC_PROBE_LOADED &&
				    WEXITSTATUS(status) != DISC_PROBE_REFUSED)) {
		rb_err("topology XML '%s' is not a valid hwloc export: loading it crashes hwloc %s (%s %d)",
		       xml, HWLOC_VERSION, WIFSIGNALED(status) ? "signal" : "exit status",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		return -RB_EINVAL;
	}
	return 0;
}

/* Sets up and loads the hwloc topology; logs the cause on failure. */
static int disc_hwloc_load(struct rb_topo *t, const char *xml)
{
	char why[512];

	/* hwloc's own message for a missing file is vague, and it would read
	 * a FIFO or /dev/zero without end: check first. */
	if (xml && rb_topo_xml_check(xml, why, sizeof(why))) {
		rb_err("%s", why);
		return -RB_EINVAL;
	}
	if (xml && disc_xml_probe(xml))
		return -RB_EINVAL;
	if (hwloc_topology_init(&t->hw)) {
		rb_err("hwloc_topology_init: %s", strerror(errno));
		return -RB_ENOMEM;
	}
	/* Without this every PCI and OS device is dropped. */
	hwloc_topology_set_io_types_filter(t->hw, HWLOC_TYPE_FILTER_KEEP_ALL);
	if (xml && hwloc_topology_set_xml(t->hw, xml)) {
		rb_err("topology XML '%s' is not usable by hwloc %s: %s", xml,
		       HWLOC_VERSION, strerror(errno));
		return -RB_EINVAL;
	}
	if (hwloc_topology_load(t->hw)) {
		if (xml) {
			rb_err("topology XML '%s' does not parse as hwloc XML: %s",
			       xml, strerror(errno));
			return -RB_EINVAL;
		}
		rb_err("hwloc_topology_load on this machine: %s",
		       strerror(errno));
		return -RB_ESYS;
	}
	t->this_system = hwloc_topology_is_thissystem(t->hw);
	return 0;
}

int rb_topo_load(const char *xml_path_or_NULL, struct rb_topo **topo_p)
{
	const char *what = xml_path_or_NULL ? xml_path_or_NULL : "this machine";
	struct rb_topo *t;
	int rc;

	t = calloc(1, sizeof(*t));
	if (!t) {
		rb_err("out of memory loading the topology of %s", what);
		return -RB_ENOMEM;
	}
	rc = disc_hwloc_load(t, xml_path_or_NULL);
	if (rc)
		goto out_free;	/* logged */
	disc_copy(t->source, sizeof(t->source), what);
	disc_machine(t);
	rc = disc_devices(t);
	if (!rc)
		rc = rb_topo_rails_build(t);
	if (rc) {
		rb_err("out of memory building the device tables of %s", what);
		goto out_free;
	}
	*topo_p = t;
	return 0;

out_free:
	rb_topo_free(t);
	return rc;
}

void rb_topo_free(struct rb_topo *t)
{
	if (!t)
		return;
	if (t->hw)
		hwloc_topology_destroy(t->hw);
	free(t->gpus);
	free(t->gpu_obj);
	free(t->nics);
	free(t->nic_obj);
	free(t->links);
	free(t->gpu_rail);
	free(t->rail_nic);
	free(t);
}

int rb_topo_ngpus(const struct rb_topo *t)
{
	return t->ngpus;
}

int rb_topo_nnics(const struct rb_topo *t)
{
	return t->nnics;
}

int rb_topo_nrails(const struct rb_topo *t)
{
	return t->nrails;
}

const struct rb_topo_gpu *rb_topo_gpu_at(const struct rb_topo *t, int i)
{
	return i >= 0 && i < t->ngpus ? &t->gpus[i] : NULL;
}

const struct rb_topo_nic *rb_topo_nic_at(const struct rb_topo *t, int i)
{
	return i >= 0 && i < t->nnics ? &t->nics[i] : NULL;
}

const char *rb_topo_source(const struct rb_topo *t)
{
	return t->source;
}

const char *rb_topo_host(const struct rb_topo *t)
{
	return t->host;
}
