/* SPDX-License-Identifier: BSD-3-Clause */
/* Build identity compiled into every binary. The Makefile recompiles this
 * file on every build, so the git revision is never stale. */
#include "common/rb.h"

const char *rb_git_sha(void)
{
	return RB_GIT_SHA;
}

const char *rb_build_config(void)
{
	return RB_BUILD_CONFIG;
}
