/* SPDX-License-Identifier: BSD-3-Clause */
/* Host copy bandwidth, the reference of scripts/bench-shm-vs-mpi.sh: THREADS
 * threads, thread i on CPU i mod ncpus, start together and each memcpy()s
 * its own SIZE-byte buffer over and over for MS ms. A thread's rate is the
 * bytes it copied per second (GB/s = 1e9 B/s; a copy of B bytes counts B,
 * not the 2B of read plus write). Prints the medians over REPS rounds of
 *   threads T size_bytes S per_thread_gbps X slowest_gbps Y total_gbps Z
 * (total: the sum of the threads' rates in a round; per_thread: total / T;
 * slowest: the slowest thread of the round).
 * Exit 0, or 2 on bad usage, 3 when memory or threads are not available. */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rb.h"

#define MB_MAX_THREADS 256
#define MB_MAX_REPS 100

struct mb_thread {
	pthread_t tid;
	int cpu;
	size_t size;
	char *src;
	char *dst;
	uint64_t run_ns;
	pthread_barrier_t *start;
	double gbps;		/* this round's rate */
};

static void *mb_run(void *arg)
{
	struct mb_thread *t = arg;
	cpu_set_t set;
	uint64_t t0;
	uint64_t now;
	uint64_t bytes = 0;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_barrier_wait(t->start);
	t0 = rb_time_ns();
	do {
		memcpy(t->dst, t->src, t->size);
		/* Keep the copy: the compiler may not drop it. */
		__asm__ volatile("" : : "r"(t->dst) : "memory");
		bytes += t->size;
		now = rb_time_ns();
	} while (now - t0 < t->run_ns);
	t->gbps = (double)bytes / (double)(now - t0);	/* B/ns = GB/s */
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

/* One round: all threads at once. \return 0, or -RB_ESYS when a thread
 * cannot start (the started ones then wait at the barrier until the process
 * ends). */
static int mb_round(struct mb_thread *th, int n, double *slowest_p,
		    double *total_p)
{
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		th[i].start = &start;
		if (pthread_create(&th[i].tid, NULL, mb_run, &th[i])) {
			fprintf(stderr, "memcpy_bw: cannot start thread %d of %d\n",
				i + 1, n);
			return -RB_ESYS;
		}
	}
	*slowest_p = 0;
	*total_p = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(th[i].tid, NULL);
		if (!i || th[i].gbps < *slowest_p)
			*slowest_p = th[i].gbps;
		*total_p += th[i].gbps;
	}
	pthread_barrier_destroy(&start);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: memcpy_bw [-s SIZE] [-t THREADS] [-r REPS] [-m MS]\n"
		"  defaults: -s 64M -t 1 -r 5 -m 200\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t size = 64ull << 20;
	double slow[MB_MAX_REPS];
	double total[MB_MAX_REPS];
	struct mb_thread *th;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nthreads = 1;
	int reps = 5;
	int ms = 200;
	int c;

	while ((c = getopt(argc, argv, "s:t:r:m:")) != -1) {
		switch (c) {
		case 's':
			if (rb_parse_size(optarg, &size) || !size)
				return usage();
			break;
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		case 'm':
			ms = atoi(optarg);
			break;
		default:
			return usage();
		}
	}
	if (optind < argc || nthreads < 1 || nthreads > MB_MAX_THREADS ||
	    reps < 1 || reps > MB_MAX_REPS || ms < 1)
		return usage();
	th = calloc((size_t)nthreads, sizeof(*th));
	if (!th)
		return 3;
	for (int i = 0; i < nthreads; i++) {
		th[i] = (struct mb_thread){
			.cpu = (int)(i % (ncpu > 0 ? ncpu : 1)),
			.size = (size_t)size,
			.src = malloc((size_t)size),
			.dst = malloc((size_t)size),
			.run_ns = (uint64_t)ms * 1000000u,
		};
		if (!th[i].src || !th[i].dst) {
			fprintf(stderr, "memcpy_bw: cannot allocate 2 x %llu bytes\n",
				(unsigned long long)size);
			return 3;
		}
		/* First touch outside the timed copies. */
		memset(th[i].src, 1, (size_t)size);
		memset(th[i].dst, 2, (size_t)size);
	}
	for (int r = 0; r < reps; r++)
		if (mb_round(th, nthreads, &slow[r], &total[r]))
			return 3;
	qsort(slow, (size_t)reps, sizeof(slow[0]), cmp_double);
	qsort(total, (size_t)reps, sizeof(total[0]), cmp_double);
	printf("threads %d size_bytes %llu per_thread_gbps %.3f slowest_gbps %.3f total_gbps %.3f\n",
	       nthreads, (unsigned long long)size,
	       total[(reps - 1) / 2] / nthreads, slow[(reps - 1) / 2],
	       total[(reps - 1) / 2]);
	for (int i = 0; i < nthreads; i++) {
		free(th[i].src);
		free(th[i].dst);
	}
	free(th);
	return 0;
}
