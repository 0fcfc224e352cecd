/* SPDX-License-Identifier: BSD-3-Clause */
/* What every algorithm's cost form shares: the job's shape and the flat
 * case, where the slowest link class carries every step (docs/model.md). */
#include <string.h>

#include "collectives/coll.h"

struct rb_coll_shape rb_coll_shape_of(const struct rb_coll_args *a)
{
	int nnodes = a->topo && a->topo->nnodes > 0 ? a->topo->nnodes : 1;

	return (struct rb_coll_shape){
		.nranks = a->nranks,
		.nnodes = nnodes,
		.per_node = a->nranks / nnodes > 0 ? a->nranks / nnodes : 1,
	};
}

void rb_coll_cost_flat(const struct rb_coll_shape *sh, double steps,
		       double bytes, struct rb_coll_cost *c)
{
	enum rb_link_class k = sh->nnodes > 1 ? RB_LINK_INTER : RB_LINK_INTRA;

	memset(c, 0, sizeof(*c));
	c->steps[k] = steps;
	c->bytes[k] = bytes;
}
