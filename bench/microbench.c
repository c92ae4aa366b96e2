/*
 * bench/microbench.c - the same-binary micro-benchmarks: one C program,
 * timed in Skiff (linked in with scripts/mkimage) and, with the loader
 * issue's harness, in a Linux guest under the identical QEMU.
 *
 * Each figure is the median of ROUNDS timed batches, printed as
 * "name value unit" lines.  Threads that must be apart are pinned to
 * CPUs 0 and 1 (sched_setaffinity), colocated ones both to CPU 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 7

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median over ROUNDS of fn(n)'s time per operation, in ns. */
static double median(void (*fn)(long), long n)
{
	double t[ROUNDS];

	fn(n / 10 + 1);                                 /* warm up */
	for (int r = 0; r < ROUNDS; r++) {
		double start = now_ns();
		fn(n);
		t[r] = (now_ns() - start) / n;
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
	return t[ROUNDS / 2];
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* --- the operations --- */

static void null_syscall(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static void direct_getppid(long n)
{
	for (long i = 0; i < n; i++)
		getppid();
}

static void clock_read(long n)
{
	struct timespec ts;

	for (long i = 0; i < n; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
}

static void malloc_free(long n)
{
	for (long i = 0; i < n; i++) {
		void *volatile p = malloc(64);
		free(p);
	}
}

static void mmap_small(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		munmap(p, 4096);
	}
}

#define BIG (256L << 20)
static void mmap_touch(long n)                  /* n: MiB, in 256 MiB mappings */
{
	for (long done = 0; done < n; done += BIG >> 20) {
		char *p = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (long off = 0; off < BIG; off += 4096)
			p[off] = 1;
		munmap(p, BIG);
	}
}

/* A buffer grown by doubling, 256 KiB to 64 MiB, touching each new page:
 * realloc of large blocks remaps (musl's mallocng: mremap; Skiff's heap:
 * its mapped blocks), so what is measured is mostly the touching. */
static void realloc_grow(long n)
{
	for (long i = 0; i < n; i++) {
		size_t size = 256 << 10;
		char *p = malloc(size);

		for (size_t off = 0; off < size; off += 4096)
			p[off] = 1;
		while (size < (64UL << 20)) {
			char *q = realloc(p, size * 2);

			if (!q)
				break;
			p = q;
			for (size_t off = size; off < size * 2; off += 4096)
				p[off] = 1;
			size *= 2;
		}
		free(p);
	}
}

/* A pipe round trip: one byte there and back between two threads. */
static int ping[2], pong[2];
static int partner_cpu;

static void *echo(void *arg)
{
	char c;

	pin(partner_cpu);
	for (long n = (long)arg; n > 0; n--) {
		if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1)
			break;
	}
	return NULL;
}

static void pipe_round_trip(long n)
{
	pthread_t t;
	char c = 'x';

	pthread_create(&t, NULL, echo, (void *)n);
	for (long i = 0; i < n; i++) {
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			break;
	}
	pthread_join(t, NULL);
}

/* A context switch: mutex + condvar ping-pong (two switches a round). */
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long turn;

static void *ponger(void *arg)
{
	pin(partner_cpu);
	for (long n = (long)arg; n > 0; n--) {
		pthread_mutex_lock(&m);
		while (!(turn & 1))
			pthread_cond_wait(&cv, &m);
		turn++;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

static void condvar_switch(long n)
{
	pthread_t t;

	turn = 0;
	pthread_create(&t, NULL, ponger, (void *)n);
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&m);
		turn++;
		pthread_cond_signal(&cv);
		while (turn & 1)
			pthread_cond_wait(&cv, &m);
		pthread_mutex_unlock(&m);
	}
	pthread_join(t, NULL);
}

static void *nothing(void *arg)
{
	return arg;
}

static void create_join(long n)
{
	for (long i = 0; i < n; i++) {
		pthread_t t;
		pthread_create(&t, NULL, nothing, NULL);
		pthread_join(t, NULL);
	}
}

int main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 1;     /* more iterations: steadier */
	int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

	pipe(ping);
	pipe(pong);
	pin(0);
	printf("null_syscall %.1f ns\n", median(null_syscall, 20000 * scale));
	printf("getppid_direct %.1f ns\n", median(direct_getppid, 20000 * scale));
	printf("clock_gettime %.1f ns\n", median(clock_read, 20000 * scale));
	printf("malloc_free_64 %.1f ns\n", median(malloc_free, 20000 * scale));
	printf("mmap_munmap_4k %.1f ns\n", median(mmap_small, 2000 * scale));
	printf("mmap_touch_per_mib %.1f ns\n", median(mmap_touch, 256) * 1);
	printf("realloc_grow_to_64m %.1f ns\n", median(realloc_grow, 4));
	partner_cpu = 0;
	printf("pipe_round_trip_colocated %.1f ns\n", median(pipe_round_trip, 2000 * scale));
	printf("switch_colocated %.1f ns\n", median(condvar_switch, 2000 * scale) / 2);
	if (cpus > 1) {
		partner_cpu = 1;
		printf("pipe_round_trip_apart %.1f ns\n", median(pipe_round_trip, 2000 * scale));
		printf("switch_apart %.1f ns\n", median(condvar_switch, 2000 * scale) / 2);
	}
	printf("thread_create_join %.1f ns\n", median(create_join, 500 * scale));
	return 0;
}
