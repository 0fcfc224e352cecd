/* SPDX-License-Identifier: BSD-3-Clause */
/* Private to the localisation (localise.c, verdict.c): the culprit list
 * being built and the helpers both files use. */
#ifndef RB_BENCH_LOCALISE_PRIV_H
#define RB_BENCH_LOCALISE_PRIV_H

#include "bench/qualify.h"

/* The culprits being collected. */
struct rb_loc_list {
	struct rb_loc_culprit *v;
	int n;
	int cap;
};

/* The pairs of each group of one kind, contiguous: group g's are
 * idx[start[g] .. start[g + 1]). */
struct rb_loc_groups {
	int n;
	int *start;	/* [n + 1] */
	int *idx;
};

/* Appends a culprit of class cls, every index -1. \return it, or NULL
 * when memory runs out. */
struct rb_loc_culprit *rb_loc_add(struct rb_loc_list *l, enum rb_loc_class cls);
/* Groups the pairs of kind by group (0 .. n-1). \return 0 or -RB_ENOMEM. */
int rb_loc_groups(const struct rb_loc_in *in, enum rb_loc_kind kind, int n,
		  struct rb_loc_groups *g);
void rb_loc_groups_free(struct rb_loc_groups *g);
/* Culprits of whole rails, and of nodes, NICs and links (pairs judged).
 * \return 0 or -RB_ENOMEM. */
int rb_loc_rails(const struct rb_loc_in *in, const struct rb_loc_ref *rails,
		 struct rb_loc_list *l);
int rb_loc_inter(const struct rb_loc_in *in, const struct rb_loc_ref *rails,
		 struct rb_loc_list *l);

#endif
