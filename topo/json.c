/* SPDX-License-Identifier: BSD-3-Clause */
/* The JSON form of a node's topology (docs/topo.md, "JSON format"):
 * devices, affinity matrix, rail map, placement and summary. */
#include <stdio.h>

#include <jansson.h>

#include "common/rb.h"
#include "topo/topo_priv.h"

static json_t *js_str(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static json_t *js_pos_int(int v)
{
	return v >= 0 ? json_integer(v) : json_null();
}

static json_t *js_gbps(double v)
{
	return v > 0 ? json_real(v) : json_null();
}

static json_t *js_pci_id(unsigned vendor, unsigned device)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%04x:%04x", vendor, device);
	return json_string(buf);
}

/* Appends v to *a; on failure drops the whole array (*a = NULL) so the
 * caller's final NULL check catches it. */
static void js_append(json_t **a, json_t *v)
{
	if (*a && json_array_append_new(*a, v)) {
		json_decref(*a);
		*a = NULL;
	} else if (!*a) {
		json_decref(v);
	}
}

static json_t *js_gpu(const struct rb_topo *t, const struct rb_topo_gpu *g)
{
	return json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "index", g->index, "busid", g->busid,
			 "pci_id", js_pci_id(g->vendor_id, g->device_id),
			 "model", js_str(g->model), "osdev", js_str(g->osdev),
			 "numa", js_pos_int(g->numa),
			 "cpuset", js_str(g->cpuset),
			 "switch", js_str(g->switch_busid),
			 "host_bridge", js_str(g->host_bridge),
			 "pcie_gbps", js_gbps(g->pcie_gbps),
			 "rail", js_pos_int(t->gpu_rail[g->index]));
}

static json_t *js_nic(const struct rb_topo_nic *n)
{
	return json_pack("{s:i, s:o, s:o, s:i, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "index", n->index, "name", js_str(n->name),
			 "netdev", js_str(n->netdev), "port", n->port,
			 "busid", n->busid,
			 "pci_id", js_pci_id(n->vendor_id, n->device_id),
			 "kind", rb_topo_nic_kind(n->class_id),
			 "model", js_str(n->model),
			 "numa", js_pos_int(n->numa),
			 "cpuset", js_str(n->cpuset),
			 "switch", js_str(n->switch_busid),
			 "host_bridge", js_str(n->host_bridge),
			 "pcie_gbps", js_gbps(n->pcie_gbps),
			 "line_gbps", js_gbps(n->line_gbps),
			 "rail", js_pos_int(n->rail));
}

static json_t *js_matrix(const struct rb_topo *t)
{
	json_t *m = json_array();
	json_t *row;
	int g;
	int n;

	for (g = 0; m && g < t->ngpus; g++) {
		row = json_array();
		for (n = 0; row && n < t->nnics; n++)
			js_append(&row, json_string(rb_topo_link_name(
					t->links[g * t->nnics + n])));
		js_append(&m, row);
	}
	return m;
}

static json_t *js_rails(const struct rb_topo *t)
{
	json_t *a = json_array();
	json_t *gpus;
	int r;
	int g;

	for (r = 0; a && r < t->nrails; r++) {
		const struct rb_topo_nic *n = &t->nics[t->rail_nic[r]];

		gpus = json_array();
		for (g = 0; gpus && g < t->ngpus; g++)
			if (t->gpu_rail[g] == r)
				js_append(&gpus, json_integer(g));
		js_append(&a, json_pack("{s:i, s:i, s:o, s:o, s:s, s:o}",
					"rail", r, "nic", n->index,
					"name", js_str(n->name),
					"netdev", js_str(n->netdev),
					"busid", n->busid, "gpus", gpus));
	}
	return a;
}

static json_t *js_non_rail(const struct rb_topo *t)
{
	json_t *a = json_array();
	int n;

	for (n = 0; a && n < t->nnics; n++)
		if (t->nics[n].rail < 0)
			js_append(&a, json_integer(n));
	return a;
}

static json_t *js_devices(const struct rb_topo *t, int gpus)
{
	json_t *a = json_array();
	int i;

	for (i = 0; a && i < (gpus ? t->ngpus : t->nnics); i++)
		js_append(&a, gpus ? js_gpu(t, &t->gpus[i]) :
				     js_nic(&t->nics[i]));
	return a;
}

/* One placement per GPU, per rail without GPUs, or one without either. */
static json_t *js_placement(const struct rb_topo *t)
{
	struct rb_topo_place p;
	int nr = t->ngpus ? t->ngpus : RB_MAX(t->nrails, 1);
	json_t *a = json_array();
	void *o;
	int k;

	for (k = 0; a && k < nr; k++) {
		if (rb_topo_place(t, k, nr, &p) || rb_topo_place_json(&p, &o)) {
			json_decref(a);
			return NULL;
		}
		js_append(&a, o);
	}
	return a;
}

int rb_topo_json(const struct rb_topo *t, void **json_p)
{
	char summary[RB_TOPO_SUMMARY_MAX];
	json_t *o;
	int rc;

	rc = rb_topo_summary(t, summary, sizeof(summary));
	if (rc)
		return rc;
	o = json_pack("{s:s, s:o, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s}",
		      "source", t->source, "host", js_str(t->host),
		      "live", t->this_system,
		      "machine_cpuset", t->machine_cpuset,
		      "gpus", js_devices(t, 1), "nics", js_devices(t, 0),
		      "affinity", js_matrix(t), "rails", js_rails(t),
		      "non_rail_nics", js_non_rail(t),
		      "placement", js_placement(t), "summary", summary);
	if (!o) {
		rb_err("out of memory building the topology JSON of %s",
		       t->source);
		return -RB_ENOMEM;
	}
	*json_p = o;
	return 0;
}
