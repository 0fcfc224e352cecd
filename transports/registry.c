/* SPDX-License-Identifier: BSD-3-Clause */
/* The transports built into this binary, and the command-line options they
 * own. With the Makefile, the only place that knows which optional
 * transports exist. */
#include <stdio.h>
#include <string.h>

#include "transports/transport.h"

extern const struct rb_tp_ops rb_shm_ops;
extern const struct rb_tp_ops rb_mpi_ops;
extern const struct rb_tp_ops rb_tcp_ops;
#ifdef HAVE_VERBS
extern const struct rb_tp_ops rb_ib_ops;
extern const struct rb_tp_ops rb_roce_ops;
#endif

static const struct rb_tp_ops *const tp_registry[] = {
	&rb_shm_ops,
	&rb_mpi_ops,
	&rb_tcp_ops,
#ifdef HAVE_VERBS
	&rb_ib_ops,
	&rb_roce_ops,
#endif
};

/* Walks the option rows of every transport, skipping rows whose name an
 * earlier transport already declared (ib and roce share theirs).
 * \return row i and its owner, or NULL past the end. */
static const struct rb_tp_opt *tp_opt_walk(int i, const struct rb_tp_ops **owner_p)
{
	int n = 0;

	for (size_t t = 0; t < RB_ARRAY_SIZE(tp_registry); t++) {
		const struct rb_tp_opt *row = tp_registry[t]->options;

		for (; row && row->name; row++) {
			int seen = 0;

			for (size_t u = 0; u < t && !seen; u++)
				for (const struct rb_tp_opt *o = tp_registry[u]->options;
				     o && o->name && !seen; o++)
					seen = !strcmp(o->name, row->name);
			if (seen)
				continue;
			if (n++ == i) {
				if (owner_p)
					*owner_p = tp_registry[t];
				return row;
			}
		}
	}
	return NULL;
}

const struct rb_tp_opt *rb_tp_opt_at(int i)
{
	return i < 0 ? NULL : tp_opt_walk(i, NULL);
}

int rb_tp_opt_parse(int i, const char *arg, char *why, size_t len)
{
	const struct rb_tp_ops *owner = NULL;
	const struct rb_tp_opt *row = i < 0 ? NULL : tp_opt_walk(i, &owner);

	if (!row || !owner->parse_opt) {
		snprintf(why, len, "option %d: no transport owns it", i);
		return -RB_EINVAL;
	}
	return owner->parse_opt(row->id, arg, why, len);
}

static const struct rb_tp_ops *tp_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < RB_ARRAY_SIZE(tp_registry); i++) {
		if (strlen(tp_registry[i]->name) == len &&
		    !strncmp(tp_registry[i]->name, name, len))
			return tp_registry[i];
	}
	return NULL;
}

/* "shm+tcp" names the links composition (route.c) of two built transports
 * that serve peer sets (no library backend). */
const struct rb_tp_ops *rb_tp_find(const char *name)
{
	const char *plus = strchr(name, '+');
	const struct rb_tp_ops *a;
	const struct rb_tp_ops *b;

	if (!plus)
		return tp_by_name(name, strlen(name));
	a = tp_by_name(name, (size_t)(plus - name));
	b = tp_by_name(plus + 1, strlen(plus + 1));
	if (!a || !b || ((a->caps | b->caps) & RB_TP_CAP_NATIVE_COLL))
		return NULL;
	return &rb_route_ops;
}

const struct rb_tp_ops *rb_tp_at(int i)
{
	if (i < 0 || (size_t)i >= RB_ARRAY_SIZE(tp_registry))
		return NULL;
	return tp_registry[i];
}

const char *rb_tp_list(char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < RB_ARRAY_SIZE(tp_registry) && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 tp_registry[i]->name);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}
