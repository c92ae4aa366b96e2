/*
 * tests/kernel/test_malloc.c - the heap (core/mm.h: malloc and friends) in
 * the booted kernel: every size class, large blocks, realloc, aligned_alloc,
 * blocks freed on other CPUs by threads hammering a shared array, running
 * out of memory and recovering, bad frees.  Each test compares
 * malloc_in_use_bytes() with what it was before, so a leak fails it.
 *
 * malloc_cost_64 also prints what a malloc(64)+free pair costs on one CPU
 * (a figure, not a test: it checks only that the loop ran).
 */
#include "core/ktest.h"
#include "core/arch.h"
#include "core/mm.h"
#include "sched/sched.h"

int *__errno_location(void);    /* musl's, per thread */
#define errno (*__errno_location())

static uint8_t pat(uintptr_t tag, size_t i)
{
	return (uint8_t)(tag >> 4) ^ (uint8_t)(i * 7) ^ (uint8_t)(i >> 8);
}

static void fill(void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)p)[i] = pat((uintptr_t)p, i);
}

/* The pattern fill() wrote when the block was at `was`. */
static bool intact(const void *p, size_t n, const void *was)
{
	for (size_t i = 0; i < n; i++) {
		if (((const uint8_t *)p)[i] != pat((uintptr_t)was, i))
			return false;
	}
	return true;
}

KTEST(malloc_basic)
{
	size_t base = malloc_in_use_bytes();
	struct malloc_stats s;
	void *a = malloc(100), *b = malloc(100), *z = malloc(0);

	KCHECK(t, a && b && z && a != b && z != a);
	KCHECK_EQ(t, (uintptr_t)a % 16, 0);
	KCHECK_EQ(t, malloc_usable_size(a), 112);
	KCHECK_EQ(t, malloc_usable_size(NULL), 0);
	fill(a, 112);
	fill(b, 112);
	KCHECK_EQ(t, malloc_in_use_bytes(), base + 2 * 112 + 16);
	malloc_stats_get(&s);
	KCHECK(t, s.cls[6].size == 112 && s.cls[6].objects_in_use >= 2);
	KCHECK(t, intact(a, 112, a) && intact(b, 112, b));
	free(a);
	free(b);
	free(z);
	free(NULL);
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
}

KTEST(malloc_every_class)
{
	size_t base = malloc_in_use_bytes();
	struct malloc_stats s;
	static void *p[MALLOC_NCLASSES][10];

	malloc_stats_get(&s);
	for (unsigned int c = 0; c < MALLOC_NCLASSES; c++) {
		size_t size = s.cls[c].size;

		for (unsigned int i = 0; i < 10; i++) {
			p[c][i] = malloc(size);
			KCHECK(t, p[c][i] != NULL);
			KCHECK_EQ(t, malloc_usable_size(p[c][i]), size);
			KCHECK_EQ(t, (uintptr_t)p[c][i] % (size & -size), 0);
			fill(p[c][i], size);
		}
	}
	for (unsigned int c = 0; c < MALLOC_NCLASSES; c++) {
		for (unsigned int i = 0; i < 10; i++) {
			KCHECK(t, intact(p[c][i], s.cls[c].size, p[c][i]));
			free(p[c][i]);
		}
	}
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
}

KTEST(malloc_large)
{
	static const size_t sizes[] = { 8193, 16384, 100000, 1 << 20, 3 << 20 };
	size_t base = malloc_in_use_bytes();
	struct malloc_stats s0, s;
	void *p[ARRAY_SIZE(sizes)];

	malloc_stats_get(&s0);
	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t u;

		p[i] = malloc(sizes[i]);
		u = malloc_usable_size(p[i]);
		KCHECK(t, p[i] != NULL);
		KCHECK(t, u >= sizes[i] && u < 2 * sizes[i]);
		KCHECK_EQ(t, (uintptr_t)p[i] % PAGE_SIZE, 0);
		fill(p[i], sizes[i]);
	}
	malloc_stats_get(&s);
	KCHECK_EQ(t, s.large_blocks, s0.large_blocks + ARRAY_SIZE(sizes));
	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		KCHECK(t, intact(p[i], sizes[i], p[i]));
		free(p[i]);
	}
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
}

KTEST(malloc_realloc_keeps_contents)
{
	size_t base = malloc_in_use_bytes(), n = 1;
	uint8_t *p = realloc(NULL, 1), *q;

	fill(p, 1);
	for (void *was = p; n < (4 << 20); n = n * 2 + 3) {      /* small to 4 MiB */
		q = realloc(p, n * 2 + 3);
		KCHECK(t, q != NULL);
		if (!q)
			break;
		KCHECK(t, intact(q, n, was));
		for (size_t i = n; i < n * 2 + 3; i++)
			q[i] = pat((uintptr_t)was, i);
		p = q;
	}
	q = realloc(p, 0);                      /* musl's: a minimum block */
	KCHECK(t, q != NULL && malloc_usable_size(q) == 16);
	free(q);
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
}

KTEST(malloc_aligned_alloc)
{
	size_t base = malloc_in_use_bytes();
	void *p;

	for (size_t a = 1; a <= (2 << 20); a *= 2) {
		size_t sizes[] = { 1, 200, a, a + a / 2 + 1 };

		for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
			p = aligned_alloc(a, sizes[i]);
			KCHECK(t, p != NULL);
			KCHECK_EQ(t, (uintptr_t)p % a, 0);
			KCHECK(t, malloc_usable_size(p) >= sizes[i]);
			memset(p, 0x5a, sizes[i]);
			free(p);
		}
		KCHECK_EQ(t, posix_memalign(&p, MAX(a, sizeof(void *)), 10), 0);
		KCHECK_EQ(t, (uintptr_t)p % a, 0);
		free(p);
	}
	p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	KCHECK_EQ(t, malloc_usable_size(p), PAGE_SIZE);    /* no header: one page */
	free(p);
	errno = 0;
	KCHECK(t, aligned_alloc(3 * 64, 10) == NULL);
	KCHECK_EQ(t, errno, EINVAL);
	KCHECK_EQ(t, posix_memalign(&p, 2, 10), EINVAL);
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
}

/* ---- many threads on every CPU, each freeing what others allocated ---- */

#define SLOTS   512
#define ROUNDS  20000
#define WORKERS 4

struct stress {
	void *slot[SLOTS];              /* atomic exchange */
	int bad;                        /* atomic */
	int nomem;                      /* atomic */
};

static struct stress stress;

/* A block carries its size and address in its first 16 bytes. */
static void stamp(uint64_t *p, size_t n)
{
	p[0] = n;
	p[1] = (uintptr_t)p;
	fill(p + 2, n - 16);
}

static bool stamped(const uint64_t *p)
{
	return p[1] == (uintptr_t)p && intact(p + 2, p[0] - 16, p + 2);
}

static void stress_worker(void *arg)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL * ((uintptr_t)arg + 1);

	for (int i = 0; i < ROUNDS; i++) {
		size_t n;
		uint64_t *p, *old;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = 16 + (x % 128 == 0 ? x % 60000 : x % 500);
		if (!(p = malloc(n))) {
			__atomic_fetch_add(&stress.nomem, 1, __ATOMIC_RELAXED);
			continue;
		}
		stamp(p, n);
		old = __atomic_exchange_n(&stress.slot[(x >> 24) % SLOTS], p, __ATOMIC_ACQ_REL);
		if (old && !stamped(old))
			__atomic_fetch_add(&stress.bad, 1, __ATOMIC_RELAXED);
		free(old);
	}
}

KTEST(malloc_cross_cpu_stress)
{
	size_t base = malloc_in_use_bytes();
	struct malloc_stats s0, s;
	struct thread *th[WORKERS];

	malloc_stats_get(&s0);
	memset(&stress, 0, sizeof(stress));
	for (unsigned int i = 0; i < WORKERS; i++) {
		th[i] = thread_create(stress_worker, (void *)(uintptr_t)i,
				      &THREAD_ATTR(.name = "mstress", .cpu = (int)(i % ncpus_online)));
		KCHECK(t, !IS_ERR(th[i]));
	}
	for (unsigned int i = 0; i < WORKERS; i++) {
		if (!IS_ERR(th[i]))
			KCHECK_EQ(t, thread_join(th[i]), 0);
	}
	for (unsigned int i = 0; i < SLOTS; i++) {
		if (stress.slot[i]) {
			KCHECK(t, stamped(stress.slot[i]));
			free(stress.slot[i]);
		}
	}
	KCHECK_EQ(t, stress.bad, 0);
	KCHECK_EQ(t, stress.nomem, 0);
	malloc_stats_get(&s);
	KCHECK_EQ(t, s.bad_frees, s0.bad_frees);
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
}

/* ---- out of memory ---- */

static uint64_t *alloc_until_null(size_t n, uint64_t *chain, unsigned int *count)
{
	uint64_t *p;

	while ((p = malloc(n))) {
		*p = (uintptr_t)chain;
		chain = p;
		(*count)++;
	}
	return chain;
}

KTEST(malloc_out_of_memory)
{
	size_t base = malloc_in_use_bytes();
	struct malloc_stats s0, s;
	unsigned int nlarge = 0, nsmall = 0;
	uint64_t *chain = NULL, *p;

	malloc_stats_get(&s0);
	errno = 0;
	chain = alloc_until_null(1 << 20, chain, &nlarge);
	KCHECK_EQ(t, errno, ENOMEM);
	chain = alloc_until_null(2000, chain, &nsmall);       /* in what is left */
	chain = alloc_until_null(16 << 10, chain, &nlarge);
	KCHECK(t, malloc(16 << 10) == NULL);
	KCHECK(t, calloc(1, 16 << 10) == NULL);
	KCHECK(t, nlarge > 0);
	malloc_stats_get(&s);
	KCHECK(t, s.alloc_failures >= s0.alloc_failures + 5);
	while (chain) {
		p = (uint64_t *)*chain;
		free(chain);
		chain = p;
	}
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
	p = malloc(4 << 20);                    /* and the memory is back */
	KCHECK(t, p != NULL);
	free(p);
	KCHECK_EQ(t, mm_check(), 0);
}

KTEST(malloc_bad_free_reported)
{
	size_t base = malloc_in_use_bytes();
	struct malloc_stats s0, s;
	static int in_data;
	int on_stack, reports = 0;
	uint8_t *a = malloc(64), *big = malloc(100000), *x = malloc(64);

	malloc_stats_get(&s0);
	printk("#   (the next 8 reports are expected)\n");
	free(&on_stack);                reports++;
	free(&in_data);                 reports++;
	free(a + 8);                    reports++;
	free(big + PAGE_SIZE);          reports++;
	free(big + 16);                 reports++;
	KCHECK(t, realloc(a + 1, 10) == NULL);  reports++;
	free(a);
	free(a);                        reports++;             /* double, small */
	free(big);
	free(big);                      reports++;             /* double, large */
	malloc_stats_get(&s);
	KCHECK_EQ(t, s.bad_frees, s0.bad_frees + reports);
	fill(x, 64);
	KCHECK(t, intact(x, 64, x));
	free(x);
	a = malloc(64);                         /* the heap still works */
	x = malloc(64);
	KCHECK(t, a && x && a != x);
	free(a);
	free(x);
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
}

/* ---- the cost of the fast path ---- */

KTEST(malloc_cost_64)
{
	enum { PAIRS = 100000, BATCH = 100 };
	static void *batch[BATCH];
	uint64_t t0, pair_ns, batch_ns;
	void *p = NULL;

	free(malloc(64));
	t0 = arch_clock_ns();
	for (int i = 0; i < PAIRS; i++) {
		p = malloc(64);
		*(volatile char *)p = (char)i;
		free(p);
	}
	pair_ns = arch_clock_ns() - t0;
	t0 = arch_clock_ns();
	for (int i = 0; i < PAIRS / BATCH; i++) {
		for (int j = 0; j < BATCH; j++)
			batch[j] = malloc(64);
		for (int j = 0; j < BATCH; j++)
			free(batch[j]);
	}
	batch_ns = arch_clock_ns() - t0;
	printk("#   malloc(64)+free: %lu ns per pair (%d pairs); %lu ns per pair in batches of %d\n",
	       (unsigned long)(pair_ns / PAIRS), PAIRS, (unsigned long)(batch_ns / PAIRS), BATCH);
	KCHECK(t, p != NULL);
}

/* ---- mapped blocks: realloc by remapping ---- */

/* A large block is a mapping of its own; realloc moves its pages, not its
 * bytes: the first page's frame is the same after growing 1 MiB -> 16 MiB. */
KTEST(malloc_realloc_remaps)
{
	size_t base = malloc_in_use_bytes();
	uintptr_t start, end;
	uint8_t *p = malloc(1 << 20), *q;
	uint64_t frame;

	KCHECK(t, p != NULL);
	if (!p)
		return;
	KCHECK_EQ(t, vm_find((uintptr_t)p, &start, &end), 0);
	KCHECK_EQ(t, start, (uintptr_t)p);
	KCHECK_EQ(t, end - start, 1 << 20);
	fill(p, 1 << 20);
	frame = arch_user_query((uintptr_t)p, NULL, NULL);
	KCHECK(t, frame != 0);                          /* populated at once */
	q = realloc(p, 16 << 20);
	KCHECK(t, q != NULL);
	if (!q)
		return;
	KCHECK(t, intact(q, 1 << 20, p));
	KCHECK_EQ(t, arch_user_query((uintptr_t)q, NULL, NULL), frame);   /* no copy */
	KCHECK_EQ(t, malloc_usable_size(q), 16 << 20);
	memset(q + (1 << 20), 0x5a, 15 << 20);          /* the new part is there */
	p = realloc(q, 256 << 10);                      /* shrinks where it is */
	KCHECK(t, p == q && intact(p, 256 << 10, q == p ? p : q));
	KCHECK_EQ(t, malloc_usable_size(p), 256 << 10);
	free(p);
	KCHECK_EQ(t, vm_find((uintptr_t)p, &start, &end), -ENOMEM);
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
}

/* Freed blocks leave no page table behind to pin a 2 MiB chunk: after a
 * burst of 1 MiB blocks, as many 2 MiB frames are free as before. */
KTEST(malloc_mapped_blocks_give_memory_back)
{
	enum { N = 24 };
	struct mm_stats s0, s1;
	void *p[N];

	mm_drain_cpu_caches();
	mm_stats(&s0);
	for (int i = 0; i < N; i++) {
		p[i] = malloc(1 << 20);
		KCHECK(t, p[i] != NULL);
	}
	for (int i = 0; i < N; i++)
		free(p[i]);
	vm_trim();                              /* what the shrinker does under pressure */
	mm_drain_cpu_caches();
	mm_stats(&s1);
	KCHECK(t, s1.free_huge >= s0.free_huge);
	KCHECK_EQ(t, s1.split_chunks, s0.split_chunks);
}

/* A thread that may not sleep gets a page run, not a mapping. */
KTEST(malloc_large_block_in_atomic_context)
{
	uintptr_t start, end;
	void *p;

	preempt_disable();
	p = malloc(1 << 20);
	preempt_enable();
	KCHECK(t, p != NULL);
	KCHECK_EQ(t, vm_find((uintptr_t)p, &start, &end), -ENOMEM);
	free(p);
}
