/* SPDX-License-Identifier: BSD-3-Clause */
/* The node x local-rank grid that hierarchical algorithms are built on,
 * from the job's topology, with the checks that decide whether hier can
 * run and whether "auto" picks it (docs/algorithms.md "hier"). */
#include <stdio.h>
#include <stdlib.h>

#include "collectives/coll.h"

/* Ranks on each node. \return 0, or -RB_EINVAL after writing why. */
static int grid_count(const struct rb_coll_args *a, int nnodes, int *per,
		      char *why, size_t len)
{
	const struct rb_coll_topo *t = a->topo;

	for (int r = 0; r < a->nranks; r++) {
		int m = t ? t->node_of[r] : 0;

		if (m < 0 || m >= nnodes) {
			snprintf(why, len, "topology is inconsistent: rank %d is on node %d of %d",
				 r, m, nnodes);
			return -RB_EINVAL;
		}
		per[m]++;
	}
	return 0;
}

/* Fills the tables in rank order, which is what defines local ranks. */
static int grid_fill(const struct rb_coll_args *a, struct rb_coll_grid *g,
		     int *seen, char *why, size_t len)
{
	const struct rb_coll_topo *t = a->topo;
	int nn = g->nnodes;
	int pn = g->per_node;

	for (int r = 0; r < a->nranks; r++) {
		int m = t ? t->node_of[r] : 0;
		int l = seen[m]++;

		if (t && t->local_rank_of && t->local_rank_of[r] != l) {
			snprintf(why, len, "topology is inconsistent: rank %d has local rank %d but is rank %d of node %d in rank order",
				 r, t->local_rank_of[r], l, m);
			return -RB_EINVAL;
		}
		g->by_node[m * pn + l] = r;
		g->by_local[l * nn + m] = r;
		if (r == a->rank) {
			g->node = m;
			g->local = l;
		}
	}
	return 0;
}

int rb_coll_grid_init(const struct rb_coll_args *a, struct rb_coll_grid *g,
		      char *why, size_t len)
{
	int nn = a->topo ? a->topo->nnodes : 1;
	int *per;
	int rc;

	*g = (struct rb_coll_grid){ .nnodes = nn };
	if (nn < 1 || nn > a->nranks || (a->topo && !a->topo->node_of)) {
		snprintf(why, len, "topology is inconsistent: %d nodes for %d ranks",
			 nn, a->nranks);
		return -RB_EINVAL;
	}
	per = calloc((size_t)nn, sizeof(*per));
	g->by_node = calloc((size_t)a->nranks, sizeof(*g->by_node));
	g->by_local = calloc((size_t)a->nranks, sizeof(*g->by_local));
	if (!per || !g->by_node || !g->by_local) {
		snprintf(why, len, "out of memory");
		rc = -RB_ENOMEM;
		goto out_free;
	}
	rc = grid_count(a, nn, per, why, len);
	if (rc)
		goto out_free;
	for (int m = 1; m < nn; m++) {
		if (per[m] != per[0]) {
			snprintf(why, len, "ranks per node differ: node %d has %d, node 0 has %d",
				 m, per[m], per[0]);
			rc = -RB_EINVAL;
			goto out_free;
		}
	}
	g->per_node = per[0];
	for (int m = 0; m < nn; m++)
		per[m] = 0;
	rc = grid_fill(a, g, per, why, len);
	if (rc)
		goto out_free;
	free(per);
	return 0;

out_free:
	free(per);
	rb_coll_grid_fini(g);
	return rc;
}

int rb_coll_hier_grid(const struct rb_coll_args *a, struct rb_coll_grid *g)
{
	char why[160];
	int rc = rb_coll_grid_init(a, g, why, sizeof(why));

	if (rc)
		rb_err("hier %s: %s", rb_coll_kind_name(a->kind), why);
	return rc;
}

void rb_coll_grid_fini(struct rb_coll_grid *g)
{
	if (!g)
		return;
	free(g->by_node);
	free(g->by_local);
	g->by_node = NULL;
	g->by_local = NULL;
}

struct rb_coll_group rb_coll_grid_node(const struct rb_coll_grid *g)
{
	return (struct rb_coll_group){
		.ranks = &g->by_node[g->node * g->per_node],
		.n = g->per_node,
		.me = g->local,
	};
}

struct rb_coll_group rb_coll_grid_rail(const struct rb_coll_grid *g)
{
	return (struct rb_coll_group){
		.ranks = &g->by_local[g->local * g->nnodes],
		.n = g->nnodes,
		.me = g->node,
	};
}

int rb_coll_grid_rails_ok(const struct rb_coll_grid *g,
			  const struct rb_coll_topo *t, char *why,
			  size_t len)
{
	int nn = g->nnodes;

	for (int r = 0; r < nn * g->per_node; r++) {
		if (!t || !t->rail_of || t->rail_of[r] < 0) {
			snprintf(why, len, "rails unknown (no --net-if or --rails auto)");
			return 0;
		}
	}
	for (int l = 0; l < g->per_node; l++) {
		int rail0 = t->rail_of[g->by_local[l * nn]];

		for (int m = 1; m < nn; m++) {
			int rail = t->rail_of[g->by_local[l * nn + m]];

			if (rail != rail0) {
				snprintf(why, len, "local rank %d is on rail %d on node 0 but rail %d on node %d",
					 l, rail0, rail, m);
				return 0;
			}
		}
	}
	return 1;
}

int rb_coll_hier_supports(const struct rb_coll_args *a,
			  enum rb_coll_kind kind, char *why, size_t len)
{
	struct rb_coll_grid g;

	if (!rb_coll_args_fit(a, kind, why, len))
		return 0;
	if (rb_coll_grid_init(a, &g, why, len))
		return 0;
	rb_coll_grid_fini(&g);
	return 1;
}
