/* SPDX-License-Identifier: BSD-3-Clause */
/* Who is in the job: identities through the bootstrap, nodes and local
 * ranks, peer names for messages, the cross-node topology check and the
 * run's name (bench/world.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/place.h"
#include "bench/world.h"

/* Size of one node summary in the topology exchange. */
#define WORLD_SUMMARY_MAX 512

/* Marks the bootstrap failed when an exchange fails. \return rc. */
static int world_rc(struct rb_world *w, int rc)
{
	if (rc)
		w->boot_failed = 1;
	return rc;
}

static void world_identity(struct rb_world_peer *me)
{
	const char *env = getenv("RAILBENCH_HOST");
	char ns[64] = "";
	ssize_t n;

	if (env && env[0])
		snprintf(me->host, sizeof(me->host), "%s", env);
	else if (gethostname(me->host, sizeof(me->host) - 1))
		snprintf(me->host, sizeof(me->host), "unknown");
	/* A host name reaches '#' lines and JSON strings: as text only. */
	rb_text_sanitize(me->host);
	/* Ranks in different network namespaces are different nodes. */
	n = readlink("/proc/self/ns/net", ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 0] = '\0';
	snprintf(me->node_id, sizeof(me->node_id), "%s|%s", me->host, ns);
	me->pid = (int)getpid();
}

int rb_world_init(struct rb_world *w, const struct rb_boot_ops *bops,
		  struct rb_boot *boot)
{
	struct rb_world_peer me = { 0 };
	int rc;

	w->bops = bops;
	w->boot = boot;
	w->rank = bops->rank(boot);
	w->nranks = bops->size(boot);
	world_identity(&me);
	rb_log_set_prefix(me.host, w->rank);
	w->peers = calloc((size_t)w->nranks, sizeof(*w->peers));
	w->hosts = calloc((size_t)w->nranks, sizeof(*w->hosts));
	w->node_of = calloc((size_t)w->nranks, sizeof(*w->node_of));
	if (!w->peers || !w->hosts || !w->node_of)
		return -RB_ENOMEM;
	rc = world_rc(w, bops->allgather(boot, "peer identity", &me, w->peers,
					 sizeof(me)));
	if (rc)
		return rc;
	for (int r = 0; r < w->nranks; r++) {
		int node = -1;

		/* Another rank's bytes: bounded text before any use. */
		rb_text_bound(w->peers[r].host, sizeof(w->peers[r].host));
		rb_text_bound(w->peers[r].node_id, sizeof(w->peers[r].node_id));
		w->hosts[r] = w->peers[r].host;
		for (int q = 0; q < r && node < 0; q++)
			if (!strcmp(w->peers[q].node_id, w->peers[r].node_id))
				node = w->node_of[q];
		w->node_of[r] = node >= 0 ? node : w->nnodes++;
	}
	for (int r = 0; r < w->nranks; r++) {
		if (w->node_of[r] != w->node_of[w->rank])
			continue;
		w->local_nranks++;
		w->local_rank += r < w->rank;
	}
	return 0;
}

int rb_world_name_peers(struct rb_world *w, struct rb_tp *tp)
{
	if (!w->peer_names) {
		w->peer_names = calloc((size_t)w->nranks, sizeof(char *));
		if (!w->peer_names)
			return -RB_ENOMEM;
	}
	for (int r = 0; r < w->nranks; r++) {
		char desc[256] = "";
		char *n;

		if (tp && r != w->rank)
			rb_tp_peer_desc(tp, r, desc, sizeof(desc));
		if (asprintf(&n, "host %s%s%s", w->hosts[r], desc[0] ? ", " : "",
			     desc) < 0)
			return -RB_ENOMEM;
		free(w->peer_names[r]);
		w->peer_names[r] = n;
	}
	w->bops->set_names(w->boot, (const char *const *)w->peer_names);
	return 0;
}

int rb_world_topo_check(struct rb_world *w, const char *summary,
			char **findings_p)
{
	char (*sums)[WORLD_SUMMARY_MAX] = calloc((size_t)w->nranks, sizeof(*sums));
	char (*hosts)[64] = calloc((size_t)w->nranks, sizeof(*hosts));
	char mine[WORLD_SUMMARY_MAX];
	int nn = 0;
	int rc;

	*findings_p = NULL;
	if (!sums || !hosts) {
		rc = -RB_ENOMEM;
		goto out;
	}
	snprintf(mine, sizeof(mine), "%s", summary ? summary : "");
	rc = world_rc(w, w->bops->allgather(w->boot, "topology summary", mine,
					    sums, sizeof(*sums)));
	if (rc || w->rank != 0 || w->nnodes < 2)
		goto out;
	/* Keep the first rank of each node that has a topology summary. */
	for (int r = 0; r < w->nranks; r++) {
		int first = 1;

		for (int q = 0; q < r; q++)
			first &= w->node_of[q] != w->node_of[r];
		if (!first || !sums[r][0])
			continue;
		memmove(sums[nn], sums[r], sizeof(*sums));
		snprintf(hosts[nn], sizeof(*hosts), "%s", w->hosts[r]);
		nn++;
	}
	if (nn >= 2)
		rc = rb_place_cross_check(sums[0], sizeof(*sums), hosts[0],
					  sizeof(*hosts), nn, findings_p);
out:
	free(sums);
	free(hosts);
	return rc;
}

int rb_world_name_run(struct rb_world *w, const char *opt_run_id,
		      const char *opt_dir, char *run_id, size_t id_len,
		      char *dir, size_t dir_len)
{
	const char *env = getenv("RAILBENCH_RUN_ID");
	char id[64];
	time_t now = time(NULL);
	struct tm tm;

	if (opt_run_id)
		snprintf(id, sizeof(id), "%s", opt_run_id);
	else if (env && env[0])
		snprintf(id, sizeof(id), "%s", env);
	else {
		localtime_r(&now, &tm);
		strftime(id, sizeof(id), "%Y%m%d-%H%M%S", &tm);
	}
	if (world_rc(w, w->bops->bcast(w->boot, "run id", id, sizeof(id), 0)))
		return -RB_EPEER;
	snprintf(run_id, id_len, "%s", id);
	if (opt_dir)
		snprintf(dir, dir_len, "%s", opt_dir);
	else
		snprintf(dir, dir_len, "results/%s", id);
	return 0;
}

void rb_rank_info_clean(struct rb_rank_info *ri)
{
	rb_text_bound(ri->host, sizeof(ri->host));
	rb_text_bound(ri->tp_desc, sizeof(ri->tp_desc));
	rb_text_bound(ri->place, sizeof(ri->place));
	/* JSON text: the report parses it, and falls back to place. */
	ri->place_json[sizeof(ri->place_json) - 1] = '\0';
}

void rb_world_fini(struct rb_world *w)
{
	for (int r = 0; w->peer_names && r < w->nranks; r++)
		free(w->peer_names[r]);
	free(w->peer_names);
	free(w->peers);
	free(w->hosts);
	free(w->node_of);
	w->peer_names = NULL;
	w->peers = NULL;
	w->hosts = NULL;
	w->node_of = NULL;
}

char *rb_join_args(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = calloc(1, len);
	if (!s)
		return NULL;
	for (int i = 0; i < argc; i++) {
		strcat(s, argv[i]);
		if (i + 1 < argc)
			strcat(s, " ");
	}
	return s;
}
