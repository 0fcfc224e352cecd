/* SPDX-License-Identifier: BSD-3-Clause */
/* Placement of local ranks (GPU, rail NIC, CPU set), CPU binding, and the
 * per-node summary with the cross-node consistency check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/rb.h"
#include "topo/topo_priv.h"

static void place_nic(const struct rb_topo_nic *n, struct rb_topo_place *p)
{
	p->rail = n->rail;
	snprintf(p->nic, sizeof(p->nic), "%s", n->name);
	snprintf(p->netdev, sizeof(p->netdev), "%s", n->netdev);
	snprintf(p->nic_busid, sizeof(p->nic_busid), "%s", n->busid);
	p->nic_gbps = n->line_gbps;
	p->nic_pcie_gbps = n->pcie_gbps;
}

int rb_topo_place(const struct rb_topo *t, int local_rank, int local_nranks,
		  struct rb_topo_place *p)
{
	const struct rb_topo_gpu *g;
	const struct rb_topo_nic *n;
	int r;

	if (local_nranks <= 0 || local_rank < 0 || local_rank >= local_nranks) {
		rb_err("topology placement: local rank %d out of range for %d local ranks",
		       local_rank, local_nranks);
		return -RB_EINVAL;
	}
	memset(p, 0, sizeof(*p));
	p->local_rank = local_rank;
	p->gpu = -1;
	p->rail = -1;
	p->numa = t->machine_numa;
	snprintf(p->cpuset, sizeof(p->cpuset), "%s", t->machine_cpuset);
	if (t->ngpus > 0) {
		g = &t->gpus[local_rank % t->ngpus];
		p->gpu = g->index;
		snprintf(p->gpu_busid, sizeof(p->gpu_busid), "%s", g->busid);
		p->numa = g->numa;
		if (g->cpuset[0])
			snprintf(p->cpuset, sizeof(p->cpuset), "%s", g->cpuset);
		r = t->gpu_rail[g->index];
		if (r >= 0)
			place_nic(&t->nics[t->rail_nic[r]], p);
		return 0;
	}
	p->no_gpu = 1;
	if (t->nrails > 0) {
		n = &t->nics[t->rail_nic[local_rank % t->nrails]];
		place_nic(n, p);
		p->numa = n->numa;
		if (n->cpuset[0])
			snprintf(p->cpuset, sizeof(p->cpuset), "%s", n->cpuset);
	}
	return 0;
}

int rb_topo_bind(const struct rb_topo *t, const struct rb_topo_place *p)
{
	hwloc_bitmap_t set;
	int rc = 0;

	if (!t->this_system) {
		rb_err("cannot bind to CPUs %s: the topology comes from %s, not this machine",
		       p->cpuset, t->source);
		return -RB_ENOTSUP;
	}
	set = hwloc_bitmap_alloc();
	if (!set)
		return -RB_ENOMEM;
	if (hwloc_bitmap_list_sscanf(set, p->cpuset) ||
	    hwloc_bitmap_iszero(set)) {
		rb_err("cannot bind local rank %d: CPU list '%s' is empty or malformed",
		       p->local_rank, p->cpuset);
		rc = -RB_EINVAL;
		goto out_free;
	}
	if (hwloc_set_cpubind(t->hw, set, HWLOC_CPUBIND_PROCESS)) {
		rb_err("hwloc_set_cpubind to CPUs %s for local rank %d: %s",
		       p->cpuset, p->local_rank, strerror(errno));
		rc = -RB_ESYS;
	}
out_free:
	hwloc_bitmap_free(set);
	return rc;
}

/* A string, or JSON null when it is empty. */
static json_t *place_str(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

int rb_topo_place_json(const struct rb_topo_place *p, void **json_p)
{
	json_t *o;

	o = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:b}",
		      "local_rank", p->local_rank,
		      "gpu", p->gpu >= 0 ? json_integer(p->gpu) : json_null(),
		      "gpu_busid", place_str(p->gpu_busid),
		      "rail", p->rail >= 0 ? json_integer(p->rail) : json_null(),
		      "nic", place_str(p->nic),
		      "netdev", place_str(p->netdev),
		      "nic_busid", place_str(p->nic_busid),
		      "nic_gbps", p->nic_gbps > 0 ? json_real(p->nic_gbps) :
						    json_null(),
		      "nic_pcie_gbps", p->nic_pcie_gbps > 0 ?
				       json_real(p->nic_pcie_gbps) : json_null(),
		      "numa", p->numa >= 0 ? json_integer(p->numa) : json_null(),
		      "cpuset", p->cpuset,
		      "no_gpu", p->no_gpu);
	if (!o)
		return -RB_ENOMEM;
	*json_p = o;
	return 0;
}

/* ---- summary ---- */

static int place_val_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Writes "v1*n1,v2*n2" (sorted values with their counts) or "-" when
 * there are none. Sorts vals (n strings of 32 bytes) in place. */
static int place_multiset(char (*vals)[32], int n, char *buf, size_t len)
{
	size_t off = 0;
	int i;
	int j;
	int k;

	if (n == 0)
		return snprintf(buf, len, "-") >= (int)len ? -RB_EINVAL : 0;
	qsort(vals, (size_t)n, sizeof(vals[0]), place_val_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && !strcmp(vals[j], vals[i]); j++)
			;
		k = snprintf(buf + off, len - off, "%s%s*%d", i ? "," : "",
			     vals[i], j - i);
		if (k < 0 || (size_t)k >= len - off)
			return -RB_EINVAL;
		off += (size_t)k;
	}
	return 0;
}

int rb_topo_summary(const struct rb_topo *t, char *buf, size_t len)
{
	char model[150];	/* 3 fields + keys fit RB_TOPO_SUMMARY_MAX */
	char pcie[150];
	char line[150];
	char (*vals)[32];
	int r;
	int k;
	int rc;

	vals = calloc((size_t)RB_MAX(t->nrails, 1), sizeof(*vals));
	if (!vals)
		return -RB_ENOMEM;
	for (r = 0; r < t->nrails; r++) {
		const struct rb_topo_nic *n = &t->nics[t->rail_nic[r]];

		snprintf(vals[r], sizeof(vals[r]), "%04x:%04x", n->vendor_id,
			 n->device_id);
	}
	rc = place_multiset(vals, t->nrails, model, sizeof(model));
	for (r = 0; r < t->nrails; r++)
		snprintf(vals[r], sizeof(vals[r]), "%.0f",
			 t->nics[t->rail_nic[r]].pcie_gbps);
	rc = rc ? rc : place_multiset(vals, t->nrails, pcie, sizeof(pcie));
	for (r = 0; r < t->nrails; r++)
		snprintf(vals[r], sizeof(vals[r]), "%.0f",
			 t->nics[t->rail_nic[r]].line_gbps);
	rc = rc ? rc : place_multiset(vals, t->nrails, line, sizeof(line));
	free(vals);
	if (rc)
		goto out_small;
	k = snprintf(buf, len,
		     "gpus=%d rails=%d nics=%d model=%s pcie_gbps=%s line_gbps=%s",
		     t->ngpus, t->nrails, t->nnics, model, pcie, line);
	if (k < 0 || (size_t)k >= len) {
		rc = -RB_EINVAL;
		goto out_small;
	}
	return 0;

out_small:
	rb_err("topology summary of %s does not fit in %zu bytes", t->host,
	       len);
	return rc;
}

/* ---- cross-node check ---- */

/* The fields compared between nodes, with how a finding reads. */
struct place_field {
	const char *key;
	const char *fmt;	/* host, value, majority word, majority value */
};

static const struct place_field place_fields[] = {
	{ .key = "gpus", .fmt = "# topo: host %s has %s GPUs, %s %s\n" },
	{ .key = "rails", .fmt = "# topo: host %s has %s rails, %s %s\n" },
	{ .key = "model",
	  .fmt = "# topo: host %s has rail NIC model %s, %s %s\n" },
	{ .key = "pcie_gbps",
	  .fmt = "# topo: host %s has rail NIC PCIe links %s Gb/s, %s %s Gb/s\n" },
	{ .key = "line_gbps",
	  .fmt = "# topo: host %s has rail NIC line rates %s Gb/s, %s %s Gb/s\n" },
};

#define PLACE_NFIELDS RB_ARRAY_SIZE(place_fields)
#define PLACE_VAL_MAX 160

/* Extracts the value of key from a summary. \return 0 or -1. */
static int place_field_get(const char *summary, const char *key, char *val,
			   size_t len)
{
	size_t klen = strlen(key);
	const char *s = summary;
	size_t n;

	while (s && *s) {
		while (*s == ' ')
			s++;
		if (!strncmp(s, key, klen) && s[klen] == '=') {
			s += klen + 1;
			n = strcspn(s, " ");
			if (n == 0 || n >= len)
				return -1;
			memcpy(val, s, n);
			val[n] = '\0';
			return 0;
		}
		s = strchr(s, ' ');
	}
	return -1;
}

/* Index of the most common value (first seen wins a tie) and its count. */
static int place_mode(char (*vals)[PLACE_VAL_MAX], int n, int *count_p)
{
	int best = 0;
	int best_count = 0;
	int i;
	int j;
	int c;

	for (i = 0; i < n; i++) {
		for (c = 0, j = 0; j < n; j++)
			c += !strcmp(vals[i], vals[j]);
		if (c > best_count) {
			best = i;
			best_count = c;
		}
	}
	*count_p = best_count;
	return best;
}

static int place_check_field(const struct place_field *f,
			     const char *const *summaries,
			     const char *const *hosts, int nnodes,
			     char (*vals)[PLACE_VAL_MAX], FILE *out)
{
	char word[64];
	int findings = 0;
	int count;
	int mode;
	int i;

	for (i = 0; i < nnodes; i++) {
		if (place_field_get(summaries[i], f->key, vals[i],
				    PLACE_VAL_MAX)) {
			rb_err("topology summary of host %s has no valid '%s' field: '%s'",
			       hosts[i], f->key, summaries[i]);
			return -RB_EINVAL;
		}
	}
	mode = place_mode(vals, nnodes, &count);
	if (2 * count > nnodes)
		snprintf(word, sizeof(word), "majority");
	else
		snprintf(word, sizeof(word), "no majority; host %s has",
			 hosts[mode]);
	for (i = 0; i < nnodes; i++) {
		if (strcmp(vals[i], vals[mode])) {
			fprintf(out, f->fmt, hosts[i], vals[i], word,
				vals[mode]);
			findings++;
		}
	}
	return findings;
}

int rb_topo_cross_check(const char *const *summaries, const char *const *hosts,
			int nnodes, FILE *out)
{
	char (*vals)[PLACE_VAL_MAX];
	int findings = 0;
	size_t f;
	int rc;

	if (nnodes <= 0)
		return 0;
	vals = calloc((size_t)nnodes, sizeof(*vals));
	if (!vals)
		return -RB_ENOMEM;
	for (f = 0; f < PLACE_NFIELDS; f++) {
		rc = place_check_field(&place_fields[f], summaries, hosts,
				       nnodes, vals, out);
		if (rc < 0) {
			findings = rc;
			break;
		}
		findings += rc;
	}
	free(vals);
	return findings;
}
