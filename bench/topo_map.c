/* SPDX-License-Identifier: BSD-3-Clause */
/* topo_map: prints a node's GPUs, NICs, GPU x NIC affinity matrix and rail
 * map (text or JSON). Under mpiexec with several ranks it also compares
 * the nodes (one summary per host name) and rank 0 reports differences. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <mpi.h>

#include "common/rb.h"
#include "topo/topo.h"

#define MAP_HOST_MAX 64

enum map_opt_id {
	MAP_O_XML = 'x',
	MAP_O_JSON = 'j',
	MAP_O_HELP = 'h',
};

struct map_opt_def {
	const char *name;
	int id;
	int has_arg;
	const char *metavar;
	const char *help;
};

/* The one option table: getopt_long's array and --help come from it. */
static const struct map_opt_def map_opt_defs[] = {
	{ .name = "topo-xml", .id = MAP_O_XML, .has_arg = 1, .metavar = "FILE",
	  .help = "read the topology from an hwloc XML export (lstopo --of xml)" },
	{ .name = "json", .id = MAP_O_JSON, .has_arg = 0,
	  .help = "print JSON (docs/topo.md) instead of text" },
	{ .name = "help", .id = MAP_O_HELP, .has_arg = 0,
	  .help = "print this help and exit" },
};

#define MAP_NOPTS RB_ARRAY_SIZE(map_opt_defs)

struct map_args {
	const char *xml;
	int json;
};

/* What every rank sends rank 0 for the cross-node check. */
struct map_node_rec {
	char host[MAP_HOST_MAX];
	char summary[RB_TOPO_SUMMARY_MAX];
};

static void map_usage(FILE *out)
{
	char left[64];
	size_t i;

	fprintf(out, "Usage: topo_map [OPTION]...\n"
		     "Shows GPUs, NICs, GPU x NIC affinity and the rail map of this node.\n"
		     "Under mpiexec, also compares all nodes (rank 0 prints the findings).\n\n");
	for (i = 0; i < MAP_NOPTS; i++) {
		const struct map_opt_def *d = &map_opt_defs[i];

		snprintf(left, sizeof(left), "-%c, --%s%s%s", d->id, d->name,
			 d->has_arg ? " " : "", d->has_arg ? d->metavar : "");
		fprintf(out, "  %-26s %s\n", left, d->help);
	}
	fprintf(out, "\nExit status: 0 ok, 2 bad option or unreadable XML, 3 runtime failure.\n");
}

/* Is c the short name of one of our options? getopt sets optopt to it
 * when a value is given to an option that takes none. */
static int map_known(int c)
{
	size_t i;

	for (i = 0; i < MAP_NOPTS; i++)
		if (map_opt_defs[i].id == c)
			return 1;
	return 0;
}

/* \return 0, 1 when --help was printed, or -RB_EINVAL (one line said). */
static int map_parse(int argc, char **argv, struct map_args *a)
{
	struct option longopts[MAP_NOPTS + 1];
	char shortopts[2 * MAP_NOPTS + 2];
	size_t i;
	size_t k = 0;
	int c;

	memset(longopts, 0, sizeof(longopts));
	shortopts[k++] = ':';
	for (i = 0; i < MAP_NOPTS; i++) {
		longopts[i] = (struct option){
			.name = map_opt_defs[i].name,
			.has_arg = map_opt_defs[i].has_arg ? required_argument :
							     no_argument,
			.val = map_opt_defs[i].id,
		};
		shortopts[k++] = (char)map_opt_defs[i].id;
		if (map_opt_defs[i].has_arg)
			shortopts[k++] = ':';
	}
	shortopts[k] = '\0';
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case MAP_O_XML:
			a->xml = optarg;
			break;
		case MAP_O_JSON:
			a->json = 1;
			break;
		case MAP_O_HELP:
			map_usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, "topo_map: option '%s' needs a value (see --help)\n",
				argv[optind - 1]);
			return -RB_EINVAL;
		default:
			if (map_known(optopt))
				fprintf(stderr, "topo_map: option '%s' takes no value (see --help)\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "topo_map: unknown option '%s' (see --help)\n",
					argv[optind - 1]);
			return -RB_EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "topo_map: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return -RB_EINVAL;
	}
	if (a->xml && !a->xml[0]) {
		fprintf(stderr, "topo_map: invalid --topo-xml '': empty file name\n");
		return -RB_EINVAL;
	}
	return 0;
}

/* Rank 0: keeps the first record of each host, runs the check, writes
 * the findings into *text_p (malloc'd). \return findings or -RB_E*. */
static int map_check(const struct map_node_rec *recs, int nranks,
		     int *nnodes_p, char **text_p)
{
	const char **sv = calloc((size_t)nranks, sizeof(*sv));
	const char **hv = calloc((size_t)nranks, sizeof(*hv));
	size_t len = 0;
	FILE *f = NULL;
	int n = 0;
	int rc = -RB_ENOMEM;
	int i;
	int j;

	*text_p = NULL;
	if (!sv || !hv)
		goto out_free;
	for (i = 0; i < nranks; i++) {
		for (j = 0; j < n && strcmp(hv[j], recs[i].host); j++)
			;
		if (j < n)
			continue;
		hv[n] = recs[i].host;
		sv[n++] = recs[i].summary;
	}
	f = open_memstream(text_p, &len);
	if (!f)
		goto out_free;
	rc = rb_topo_cross_check(sv, hv, n, f);
	fclose(f);
	*nnodes_p = n;
out_free:
	free(sv);
	free(hv);
	return rc;
}

/* Gathers every rank's host and summary on rank 0 and checks them.
 * \return findings (rank 0), 0 elsewhere, or -RB_E*. */
static int map_gather(const struct rb_topo *t, int rank, int nranks,
		      struct map_node_rec **recs_p, int *nnodes_p,
		      char **text_p)
{
	struct map_node_rec mine;
	struct map_node_rec *recs = NULL;

	memset(&mine, 0, sizeof(mine));
	if (gethostname(mine.host, sizeof(mine.host) - 1))
		snprintf(mine.host, sizeof(mine.host), "rank%d", rank);
	/* A summary that does not fit still takes part in the gather (no
	 * rank may skip a collective); rank 0 then reports it as invalid. */
	if (rb_topo_summary(t, mine.summary, sizeof(mine.summary)))
		snprintf(mine.summary, sizeof(mine.summary), "unavailable");
	if (rank == 0) {
		recs = calloc((size_t)nranks, sizeof(*recs));
		if (!recs)
			return -RB_ENOMEM;
	}
	MPI_Gather(&mine, (int)sizeof(mine), MPI_CHAR, recs,
		   (int)sizeof(mine), MPI_CHAR, 0, MPI_COMM_WORLD);
	*recs_p = recs;
	if (rank != 0)
		return 0;
	return map_check(recs, nranks, nnodes_p, text_p);
}

/* Adds "cross_check": {nodes, findings} to the JSON report. */
static int map_json_check(json_t *root, const struct map_node_rec *recs,
			  int nranks, const char *text)
{
	json_t *nodes = json_array();
	json_t *findings = json_array();
	const char *s = text ? text : "";
	const char *e;
	int i;
	int j;

	for (i = 0; nodes && i < nranks; i++) {
		for (j = 0; j < i && strcmp(recs[j].host, recs[i].host); j++)
			;
		if (j == i)
			json_array_append_new(nodes, json_pack("{s:s, s:s}",
					      "host", recs[i].host,
					      "summary", recs[i].summary));
	}
	for (; findings && *s; s = *e ? e + 1 : e) {
		e = strchr(s, '\n');
		if (!e)
			e = s + strlen(s);
		json_array_append_new(findings,
				      json_stringn(s, (size_t)(e - s)));
	}
	if (json_object_set_new(root, "cross_check",
				json_pack("{s:o, s:o}", "nodes", nodes,
					  "findings", findings)))
		return -RB_ENOMEM;
	return 0;
}

static int map_report(const struct rb_topo *t, const struct map_args *a,
		      const struct map_node_rec *recs, int nranks,
		      int nnodes, int findings, const char *text)
{
	void *js = NULL;
	int rc;

	if (!a->json) {
		rc = rb_topo_print(t, stdout);
		if (rc || !recs)
			return rc;
		printf("# topo: cross-node check of %d node%s (%d rank%s): %d finding%s\n",
		       nnodes, nnodes == 1 ? "" : "s", nranks,
		       nranks == 1 ? "" : "s", findings,
		       findings == 1 ? "" : "s");
		fputs(text ? text : "", stdout);
		return 0;
	}
	rc = rb_topo_json(t, &js);
	if (rc)
		return rc;
	if (recs)
		rc = map_json_check(js, recs, nranks, text);
	if (!rc && json_dumpf(js, stdout, JSON_INDENT(2)))
		rc = -RB_ESYS;
	if (!rc)
		fputc('\n', stdout);
	json_decref(js);
	return rc;
}

int main(int argc, char **argv)
{
	struct map_args a = { .xml = NULL, .json = 0 };
	struct map_node_rec *recs = NULL;
	struct rb_topo *t = NULL;
	char *text = NULL;
	int findings = 0;
	int nnodes = 1;
	int nranks = 1;
	int rank = 0;
	int rc;

	rc = map_parse(argc, argv, &a);
	if (rc)
		return rc > 0 ? RB_EXIT_OK : RB_EXIT_USAGE;
	/* Loaded before MPI so a bad file fails fast on every rank. */
	rc = rb_topo_load(a.xml, &t);
	if (rc)
		return rb_exit_code(rc);
	if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
		rb_err("MPI_Init failed");
		rb_topo_free(t);
		return RB_EXIT_RUNTIME;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	if (nranks > 1) {
		rc = map_gather(t, rank, nranks, &recs, &nnodes, &text);
		findings = rc > 0 ? rc : 0;
		rc = rc > 0 ? 0 : rc;
	}
	if (!rc && rank == 0)
		rc = map_report(t, &a, recs, nranks, nnodes, findings, text);
	fflush(stdout);
	free(text);
	free(recs);
	rb_topo_free(t);
	MPI_Finalize();
	return rc ? rb_exit_code(rc) : RB_EXIT_OK;
}
