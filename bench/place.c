/* SPDX-License-Identifier: BSD-3-Clause */
/* Rank placement for the harness: loads the topology, picks this local
 * rank's GPU, rail NIC and CPU set, binds if asked, and runs the cross-node
 * consistency check. The harness sees only strings and the rail names. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/place.h"
#include "topo/topo.h"

int rb_place_init(const struct rb_opts *o, int local_rank, int local_nranks,
		  struct rb_place *pl)
{
	struct rb_topo *t = NULL;
	struct rb_topo_place p;
	int required = o->rails || o->bind || o->topo_xml;
	void *js = NULL;
	int rc;

	*pl = (struct rb_place){ .rail = -1 };
	rc = rb_topo_load(o->topo_xml, &t);
	if (rc) {
		if (required)
			return rc;	/* logged by rb_topo_load */
		rb_warn("topology not available; ranks are not placed");
		return 0;
	}
	rc = rb_topo_place(t, local_rank, local_nranks, &p);
	if (rc)
		goto out;
	pl->have = 1;
	pl->rail = p.rail;
	pl->line_gbps = p.nic_gbps;
	snprintf(pl->netdev, sizeof(pl->netdev), "%s", p.netdev);
	snprintf(pl->ibdev, sizeof(pl->ibdev), "%s", p.nic);
	snprintf(pl->gpu, sizeof(pl->gpu), "%.39s", p.gpu >= 0 ? p.gpu_busid : "-");
	snprintf(pl->cpus, sizeof(pl->cpus), "%.63s", p.cpuset[0] ? p.cpuset : "-");
	pl->numa = p.numa;
	pl->bound = o->bind;
	rb_place_describe(pl, -1);
	if (o->bind) {
		rc = rb_topo_bind(t, &p);
		if (rc) {
			rb_err("--bind: cannot bind local rank %d to CPUs %s",
			       local_rank, p.cpuset);
			goto out;
		}
	}
	if (!rb_topo_place_json(&p, &js)) {
		char *s = json_dumps(js, JSON_COMPACT);

		if (s)
			snprintf(pl->json, sizeof(pl->json), "%s", s);
		free(s);
		json_decref(js);
	}
	rb_topo_summary(t, pl->summary, sizeof(pl->summary));
out:
	rb_topo_free(t);
	return rc;
}

void rb_place_describe(struct rb_place *pl, int rail)
{
	char r[64];

	if (rail >= 0 && pl->have && pl->rail >= 0 && rail != pl->rail)
		snprintf(r, sizeof(r), "rail %d (topology: rail %d)", rail,
			 pl->rail);
	else if (rail >= 0 || (pl->have && pl->rail >= 0))
		snprintf(r, sizeof(r), "rail %d", rail >= 0 ? rail : pl->rail);
	else
		snprintf(r, sizeof(r), "rail -");
	if (!pl->have) {
		snprintf(pl->text, sizeof(pl->text), "%s", rail >= 0 ? r : "");
		return;
	}
	snprintf(pl->text, sizeof(pl->text),
		 "gpu %.39s %.40s nic %.40s%s%.40s cpus %.60s numa %d%s", pl->gpu, r,
		 pl->ibdev[0] ? pl->ibdev : "", pl->ibdev[0] && pl->netdev[0] ? "/" : "",
		 pl->netdev[0] ? pl->netdev : (pl->ibdev[0] ? "" : "-"),
		 pl->cpus, pl->numa, pl->bound ? " (bound)" : "");
}

int rb_place_cross_check(const char *summaries, size_t stride,
			 const char *hosts, size_t host_stride, int nnodes,
			 char **findings_p)
{
	const char **sv = calloc((size_t)nnodes, sizeof(*sv));
	const char **hv = calloc((size_t)nnodes, sizeof(*hv));
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int n = 0;

	*findings_p = NULL;
	if (!sv || !hv) {
		free(sv);
		free(hv);
		return -RB_ENOMEM;
	}
	for (int i = 0; i < nnodes; i++) {
		sv[i] = summaries + (size_t)i * stride;
		hv[i] = hosts + (size_t)i * host_stride;
		/* Each came from another rank: it must end inside its slot,
		 * and be text that cannot break a '#' line. */
		if (!memchr(sv[i], '\0', stride) || !memchr(hv[i], '\0', host_stride) ||
		    rb_text_check(sv[i]) || rb_text_check(hv[i])) {
			rb_err("topology summary %d of %d is not text ending within its %zu bytes: corrupt bootstrap message",
			       i, nnodes, stride);
			free(sv);
			free(hv);
			return -RB_EINVAL;
		}
	}
	f = open_memstream(&buf, &len);
	if (f) {
		n = rb_topo_cross_check(sv, hv, nnodes, f);
		fclose(f);
	}
	free(sv);
	free(hv);
	if (n > 0)
		*findings_p = buf;
	else
		free(buf);
	return n < 0 ? n : 0;
}
