/* SPDX-License-Identifier: BSD-3-Clause */
/* shm transport, setup side: per-rank segments with a unique name per run,
 * mapping the peers' segments, the CMA capability probe, and the checks
 * that tell whether a peer process still exists (docs/shm.md). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "transports/shm.h"

static int shm_same_node(const struct rb_tp_args *args, int peer)
{
	return !args->node_of || args->node_of[peer] == args->node_of[args->rank];
}

int rb_shm_reach(const struct rb_tp_args *args, int peer)
{
	return shm_same_node(args, peer);
}

int rb_shm_probe(const struct rb_tp_args *args, char *why, size_t len)
{
	(void)args;
	(void)why;
	(void)len;
	return 0;
}

/* FIFO of every rank in the segments of this node: its index among the
 * node's ranks (all of them, served or not, so that every segment of the
 * node has the same layout); -1 for ranks elsewhere. \return the number
 * of FIFOs. */
static int shm_fifo_map(const struct rb_tp_args *args, int *fifo_of)
{
	int n = 0;

	for (int r = 0; r < args->nranks; r++)
		fifo_of[r] = shm_same_node(args, r) ? n++ : -1;
	return n;
}

/* \return 1 if this rank talks to r over shm (itself included). */
static int shm_serves(const struct rb_tp_args *args, int r)
{
	return r == args->rank ||
	       (shm_same_node(args, r) && rb_tp_args_serves(args, r));
}

/* \return the inode number of /proc/self/ns/pid, 0 if unreadable. */
static uint64_t shm_pidns(void)
{
	char link[64];
	ssize_t n = readlink("/proc/self/ns/pid", link, sizeof(link) - 1);
	char *p;

	if (n <= 0)
		return 0;
	link[n] = '\0';
	p = strchr(link, '[');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Reads the state letter and start time of pid from /proc.
 * \return 0, or -1 if the process does not exist. */
static int shm_proc_stat(int32_t pid, char *state_p,
			 unsigned long long *start_p)
{
	char path[64];
	char buf[1024];
	unsigned long long start = 0;
	char state = '?';
	FILE *f;
	char *p;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%" PRId32 "/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and ')': fields follow the last. */
	p = strrchr(buf, ')');
	if (p && sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
			&state, &start) != 2)
		start = 0;
	*state_p = state;
	*start_p = start;
	return 0;
}

/* Picks the slot payload so that all FIFOs of a segment fit the budget. */
static size_t shm_slot_bytes(int nranks)
{
	uint64_t per = SHM_FIFO_BUDGET / ((uint64_t)nranks * SHM_NSLOTS);
	size_t s = SHM_SLOT_MAX;

	while (s > SHM_SLOT_MIN && s > per)
		s /= 2;
	return s;
}

static size_t shm_fifo_stride(size_t slot_stride)
{
	size_t ctl = (sizeof(struct shm_fifo) + SHM_LINE - 1) &
		     ~(size_t)(SHM_LINE - 1);

	return ctl + SHM_NSLOTS * slot_stride;
}

/* FIFO number idx (fifo_of[src]) of a segment. */
static struct shm_fifo *shm_fifo_at(struct shm_seg_hdr *seg, int idx)
{
	return (struct shm_fifo *)((char *)seg + seg->fifo_off +
				   (size_t)idx * seg->fifo_stride);
}

static char *shm_slots_at(struct shm_seg_hdr *seg, int idx)
{
	size_t ctl = (sizeof(struct shm_fifo) + SHM_LINE - 1) &
		     ~(size_t)(SHM_LINE - 1);

	return (char *)shm_fifo_at(seg, idx) + ctl;
}

/* Creates, sizes and maps this rank's segment with a per-run unique name. */
static int shm_seg_create(struct shm_tp *st, const struct rb_tp_args *args)
{
	size_t slot_bytes = shm_slot_bytes(st->nfifos);
	size_t fifo_stride;
	uint64_t token = 0;
	void *p;
	int fd;
	int rc;

	st->slot_stride = SHM_LINE + slot_bytes;
	fifo_stride = shm_fifo_stride(st->slot_stride);
	st->seg_bytes = 4096 + (size_t)st->nfifos * fifo_stride;
	if (getrandom(&token, sizeof(token), 0) != sizeof(token))
		token = rb_time_ns();
	snprintf(st->seg_name, sizeof(st->seg_name),
		 "/railbench-shm.%d.%d.%016" PRIx64, (int)getpid(), args->rank,
		 token);
	fd = shm_open(st->seg_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		rb_err("shm: shm_open %s: %s", st->seg_name, strerror(errno));
		return -RB_ESYS;
	}
	st->linked = 1;
	if (ftruncate(fd, (off_t)st->seg_bytes)) {
		rb_err("shm: ftruncate %s to %zu bytes: %s", st->seg_name,
		       st->seg_bytes, strerror(errno));
		rc = -RB_ESYS;
		goto out_close;
	}
	p = mmap(NULL, st->seg_bytes, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		rb_err("shm: mmap %s (%zu bytes): %s", st->seg_name,
		       st->seg_bytes, strerror(errno));
		rc = -RB_ESYS;
		goto out_close;
	}
	st->seg = p;
	*st->seg = (struct shm_seg_hdr){
		.magic = SHM_MAGIC,
		.version = SHM_VERSION,
		.rank = args->rank,
		.nfifos = st->nfifos,
		.pid = (int32_t)getpid(),
		.nslots = SHM_NSLOTS,
		.slot_bytes = slot_bytes,
		.fifo_off = 4096,
		.fifo_stride = fifo_stride,
		.bytes = st->seg_bytes,
	};
	rc = 0;
out_close:
	close(fd);
	return rc;
}

/* \return the number of CPUs this process may run on. */
static int shm_ncpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return (int)sysconf(_SC_NPROCESSORS_ONLN);
	return CPU_COUNT(&set);
}

int rb_shm_open(const struct rb_tp_args *args, struct rb_tp **tp_p)
{
	const char *env = getenv("RB_SHM_CMA");
	struct shm_tp *st;
	int rc;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -RB_ENOMEM;
	st->peers = calloc((size_t)args->nranks, sizeof(*st->peers));
	st->fifo_of = calloc((size_t)args->nranks, sizeof(*st->fifo_of));
	if (!st->peers || !st->fifo_of) {
		free(st->peers);
		free(st);
		return -RB_ENOMEM;
	}
	st->nfifos = shm_fifo_map(args, st->fifo_of);
	for (int r = 0; r < args->nranks; r++) {
		st->peers[r].served = shm_serves(args, r);
		st->nserved += st->peers[r].served && r != args->rank;
	}
	st->tp = (struct rb_tp){
		.ops = &rb_shm_ops,
		.rank = args->rank,
		.nranks = args->nranks,
		.timeout_ms = args->timeout_ms,
		.rail = -1,
	};
	for (int r = 0; r < args->nranks; r++)
		snprintf(st->peers[r].host, SHM_HOST_MAX, "%s",
			 args->hosts ? args->hosts[r] : "?");
	st->oversubscribed = args->local_nranks > shm_ncpus();
	st->spin_ns = SHM_SPIN_MAX_NS;
	/* Off by default: on the reference machine the two-copy FIFO path
	 * measured faster (docs/shm.md, "Single-copy reads"). */
	st->cma_allowed = env && !strcmp(env, "1");
	st->pidns = shm_pidns();
	rc = shm_seg_create(st, args);
	if (rc) {
		rb_shm_close(&st->tp);
		return rc;
	}
	snprintf(st->tp.desc, sizeof(st->tp.desc), "shm %u-slot x %" PRIu64
		 " KiB fifo", SHM_NSLOTS, st->seg->slot_bytes / 1024);
	*tp_p = &st->tp;
	return 0;
}

int rb_shm_get_addr(struct rb_tp *tp, void *blob, size_t *len_p)
{
	struct shm_tp *st = shm_of(tp);
	struct shm_addr a = {
		.magic = SHM_MAGIC,
		.version = SHM_VERSION,
		.rank = tp->rank,
		.pid = st->seg->pid,
		.pidns = st->pidns,
		.seg_bytes = st->seg_bytes,
		.seg_va = (uint64_t)(uintptr_t)st->seg,
	};

	if (*len_p < sizeof(a)) {
		rb_err("shm: address blob needs %zu bytes, %zu given",
		       sizeof(a), *len_p);
		return -RB_EINVAL;
	}
	snprintf(a.name, sizeof(a.name), "%s", st->seg_name);
	memcpy(blob, &a, sizeof(a));
	*len_p = sizeof(a);
	return 0;
}

/* Maps peer r's segment and checks that it is the one r described. */
static int shm_seg_map(struct shm_tp *st, int r, const struct shm_addr *a)
{
	struct shm_seg_hdr *seg;
	int fd;

	fd = shm_open(a->name, O_RDWR, 0);
	if (fd < 0) {
		rb_err("shm: shm_open %s of rank %d (host %s, pid %d): %s",
		       a->name, r, st->peers[r].host, (int)a->pid,
		       strerror(errno));
		return -RB_ESYS;
	}
	seg = mmap(NULL, a->seg_bytes, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_POPULATE, fd, 0);
	close(fd);
	if (seg == MAP_FAILED) {
		rb_err("shm: mmap %s of rank %d (%" PRIu64 " bytes): %s",
		       a->name, r, a->seg_bytes, strerror(errno));
		return -RB_ESYS;
	}
	st->peers[r].seg = seg;
	st->peers[r].seg_bytes = a->seg_bytes;
	if (seg->magic != SHM_MAGIC || seg->rank != r ||
	    seg->nfifos != st->nfifos || seg->bytes != a->seg_bytes ||
	    seg->pid != a->pid) {
		rb_err("shm: segment %s does not belong to rank %d of this run",
		       a->name, r);
		return -RB_EINVAL;
	}
	return 0;
}

/* Can this process read peer r's memory with process_vm_readv? Reads the
 * peer's own segment header through its address space and compares. */
static int shm_cma_works(struct shm_tp *st, int r, const struct shm_addr *a)
{
	struct shm_seg_hdr copy;
	struct iovec local = { .iov_base = &copy, .iov_len = sizeof(copy) };
	struct iovec remote = {
		.iov_base = (void *)(uintptr_t)a->seg_va,
		.iov_len = sizeof(copy),
	};
	ssize_t n;

	if (!st->cma_allowed || !st->peers[r].pid_ok)
		return 0;
	n = process_vm_readv(a->pid, &local, 1, &remote, 1, 0);
	if (n != (ssize_t)sizeof(copy)) {
		rb_warn("shm: process_vm_readv from rank %d (pid %d) refused (%s); RB_SHM_CMA=1 ignored, copying through the FIFO",
			r, (int)a->pid, n < 0 ? strerror(errno) : "short read");
		return 0;
	}
	/* The doorbell words change at any time: compare up to them. */
	return !memcmp(&copy, st->peers[r].seg,
		       offsetof(struct shm_seg_hdr, sleeping));
}

static int shm_connect_peer(struct shm_tp *st, int r, const struct shm_addr *a)
{
	struct shm_peer *p = &st->peers[r];
	char state;
	int rc;

	if (a->magic != SHM_MAGIC || a->version != SHM_VERSION ||
	    a->rank != r) {
		rb_err("shm: address of rank %d (host %s) is not a shm address of this version",
		       r, p->host);
		return -RB_EINVAL;
	}
	p->pid = a->pid;
	p->pid_ok = a->pidns == st->pidns && st->pidns != 0;
	if (p->pid_ok && shm_proc_stat(p->pid, &state, &p->start_time))
		p->start_time = 0;
	if (r == st->tp.rank) {
		p->seg = st->seg;
	} else {
		rc = shm_seg_map(st, r, a);
		if (rc)
			return rc;
	}
	p->tx = shm_fifo_at(p->seg, st->fifo_of[st->tp.rank]);
	p->tx_slots = shm_slots_at(p->seg, st->fifo_of[st->tp.rank]);
	p->rx = shm_fifo_at(st->seg, st->fifo_of[r]);
	p->rx_slots = shm_slots_at(st->seg, st->fifo_of[r]);
	/* Tell r whether we read its large messages in place. */
	atomic_store_explicit(&p->rx->cma,
			      shm_cma_works(st, r, a) ? SHM_CMA_OK : SHM_CMA_NO,
			      memory_order_release);
	return 0;
}

int rb_shm_connect(struct rb_tp *tp, const void *blobs, size_t stride)
{
	struct shm_tp *st = shm_of(tp);
	int ncma = 0;
	int rc;

	for (int r = 0; r < tp->nranks; r++) {
		struct shm_addr a;

		if (!st->peers[r].served)
			continue;
		memcpy(&a, (const char *)blobs + (size_t)r * stride, sizeof(a));
		rc = shm_connect_peer(st, r, &a);
		if (rc)
			return rc;
		ncma += atomic_load(&st->peers[r].rx->cma) == SHM_CMA_OK;
	}
	if (ncma)
		snprintf(tp->desc, sizeof(tp->desc),
			 "shm %u-slot x %" PRIu64 " KiB fifo, CMA from %u KiB%s",
			 SHM_NSLOTS, st->seg->slot_bytes / 1024,
			 SHM_CMA_MIN / 1024,
			 ncma < st->nserved + 1 ? " (some peers)" : "");
	return 0;
}

/* Every peer has mapped every segment (the caller barriered): the name is
 * no longer needed, and unlinking now leaves nothing behind on a crash. */
int rb_shm_post_connect(struct rb_tp *tp)
{
	struct shm_tp *st = shm_of(tp);

	if (st->linked && shm_unlink(st->seg_name)) {
		rb_err("shm: shm_unlink %s: %s", st->seg_name, strerror(errno));
		return -RB_ESYS;
	}
	st->linked = 0;
	return 0;
}

int rb_shm_peer_dead(const struct shm_peer *p)
{
	unsigned long long start;
	char state;

	if (!p->pid_ok)
		return 0;	/* another pid namespace: only timeouts tell */
	if (kill(p->pid, 0) && errno == ESRCH)
		return 1;
	if (shm_proc_stat(p->pid, &state, &start))
		return 1;
	/* An unreaped child of the launcher is a zombie, not a peer. */
	return state == 'Z' || state == 'X' ||
	       (p->start_time && start && start != p->start_time);
}

void rb_shm_close(struct rb_tp *tp)
{
	struct shm_tp *st;

	if (!tp)
		return;
	st = shm_of(tp);
	for (int r = 0; r < tp->nranks; r++) {
		struct shm_peer *p = &st->peers[r];

		if (p->seg && p->seg != st->seg)
			munmap(p->seg, p->seg_bytes);
	}
	if (st->linked && shm_unlink(st->seg_name))
		rb_warn("shm: shm_unlink %s: %s", st->seg_name,
			strerror(errno));
	if (st->seg)
		munmap(st->seg, st->seg_bytes);
	free(st->peers);
	free(st->fifo_of);
	free(st->bounce);
	free(st);
}

