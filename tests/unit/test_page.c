/*
 * tests/unit/test_page.c - host unit tests for the physical frame allocator
 * (core/page.c, core/page_split.c, core/page_check.c) and the boot
 * allocator's handoff to it (core/bootmem.c).
 *
 * The fake machine: physical memory is an anonymous mapping (only the pages
 * the allocator or the test touch cost memory, so maps above 4 GiB are
 * cheap), the metadata array an exact-size heap block (ASan sees any access
 * past it), the CPU id a thread-local variable the test sets.  The port
 * checks what the allocator may not do: take the global lock with interrupts
 * off or twice, or touch a frame that is allocated.
 *
 * The reference model is a byte per 4 KiB page (not ours / free / in use):
 * every allocation must be aligned and entirely free in the model, every
 * failure must be a real one (no aligned free run anywhere, descriptors
 * excepted), the statistics must agree with it, and once everything is
 * freed and the caches drained the free blocks must be the initial ones.
 *
 * Build and run: make build/unit/test_page && build/unit/test_page
 * (the threaded test is also meant for -fsanitize=thread).
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/unit/unit.h"
#include "core/kernel.h"
#include "core/mm.h"
#include "core/bootmem.h"
#include "core/page_impl.h"

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define PG  (4 * KIB)
#define CH  (2 * MIB)

enum { M_NONE, M_FREE, M_USED };

static uint8_t *ram;                 /* fake physical memory [0, ram_top) */
static uint64_t ram_top;
static uint8_t *meta;                /* the allocator's metadata, on the heap */
static struct chunk_link *link;      /* its free-list links, likewise */
static uint8_t *model;               /* per page: M_NONE / M_FREE / M_USED */
static __thread unsigned int cur_cpu;
static __thread int irq_depth;
static __thread bool lock_held;
static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static int violations;               /* atomic: port rules broken */
static int printk_count;             /* atomic */
static uint64_t *touched;            /* pages touched, while tracking */
static unsigned int ntouched;

/* The allocations the test holds, which the model has in use. */
struct alloc {
	uint64_t pa;
	unsigned int order;
};

static struct alloc live[1 << 18];
static unsigned int nlive;
static uint64_t live_small, live_huge;   /* pages of orders 0-8, chunks of 9-18 */

/* ---- the port, and the kernel functions page.c and bootmem.c call ---- */

static void violation(const char *what, uint64_t pa)
{
	printf("#   port rule broken: %s (pa 0x%llx)\n", what, (unsigned long long)pa);
	__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
}

static void track_touch(uint64_t pa)
{
	for (unsigned int i = 0; i < ntouched; i++) {
		if (touched[i] == pa / PG)
			return;
	}
	if (ntouched < 4096)
		touched[ntouched++] = pa / PG;
}

void *mm_phys_to_virt(uint64_t pa)
{
	if (pa >= ram_top) {
		printf("#   mm_phys_to_virt(0x%llx) outside the fake RAM\n", (unsigned long long)pa);
		abort();
	}
	if (model && __atomic_load_n(&model[pa / PG], __ATOMIC_RELAXED) == M_USED)
		violation("allocator touched a frame in use", pa);
	if (touched)
		track_touch(pa);
	return ram + pa;
}

uint64_t mm_virt_to_phys(const void *va) { return (uint64_t)((const uint8_t *)va - ram); }
void *arch_phys_to_virt(uint64_t pa) { return ram + pa; }
unsigned int mm_cpu_id(void) { return cur_cpu; }
unsigned long mm_irq_save(void) { return irq_depth++; }

void mm_irq_restore(unsigned long flags)
{
	if (--irq_depth != (int)flags)
		violation("unbalanced irq save/restore", 0);
}

void mm_global_lock(void)
{
	if (irq_depth)
		violation("global lock (may sleep) taken with interrupts off", 0);
	if (lock_held)
		violation("global lock taken twice", 0);
	pthread_mutex_lock(&big_lock);
	lock_held = true;
}

void mm_global_unlock(void)
{
	lock_held = false;
	pthread_mutex_unlock(&big_lock);
}

/* No shrinkers in the host test: nothing can be released. */
bool mm_out_of_memory(unsigned int order)
{
	(void)order;
	return false;
}

void mm_memory_low(void)
{
}

void printk(const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&printk_count, 1, __ATOMIC_RELAXED);
	printf("#   printk: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	abort();
}

void assert_fail(const char *expr, const char *file, int line)
{
	printf("#   assertion failed: %s at %s:%d\n", expr, file, line);
	abort();
}

/* ---- the fake machine and the model ---- */

static uint64_t nchunks(void) { return (ram_top + CH - 1) / CH; }

static void machine_free(void)
{
	if (ram)
		munmap(ram, ram_top);
	free(meta);
	free(link);
	free(model);
	ram = meta = model = NULL;
	link = NULL;
}

static void machine_new(uint64_t top)
{
	machine_free();
	ram_top = top;
	ram = mmap(NULL, top, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		abort();
	meta = calloc(nchunks(), 1);
	link = malloc(nchunks() * sizeof(*link));
	memset(link, 0xa5, nchunks() * sizeof(*link));    /* never initialised */
	mm_reset();                         /* as at boot: nothing initialised */
	nlive = live_small = live_huge = 0;
	violations = printk_count = 0;
	cur_cpu = 0;
}

/* What the allocator must take of ranges: every page but page 0. */
static uint8_t *model_expected(const struct bootmem_range *r, unsigned int n)
{
	uint8_t *m = calloc(ram_top / PG, 1);

	for (unsigned int i = 0; i < n; i++) {
		for (uint64_t pa = r[i].start; pa < r[i].end; pa += PG)
			m[pa / PG] = pa ? M_FREE : M_NONE;
	}
	return m;
}

static uint64_t model_count(uint8_t state)
{
	uint64_t n = 0;

	for (uint64_t p = 0; p < ram_top / PG; p++)
		n += model[p] == state;
	return n;
}

/* Sets up a machine whose free memory is ranges[] (sorted, page-aligned);
 * initialising must not touch any of it. */
static void setup(uint64_t top, const struct bootmem_range *r, unsigned int n)
{
	machine_new(top);
	model = model_expected(r, n);
	touched = calloc(4096, sizeof(*touched));
	ntouched = 0;
	mm_init_ranges(meta, link, nchunks(), r, n);
	CHECK_EQ(ntouched, 0);
	free(touched);
	touched = NULL;
}

/* ---- free-block snapshots ---- */

struct blocks {
	unsigned int n;
	uint64_t pa[4096];
	uint8_t order[4096];
};

static void collect_block(uint64_t pa, unsigned int order, void *arg)
{
	struct blocks *b = arg;

	if (b->n < 4096) {
		b->pa[b->n] = pa;
		b->order[b->n++] = order;
	}
}

static void snapshot(struct blocks *b)
{
	b->n = 0;
	mm_for_each_free_block(collect_block, b);
}

static bool same_blocks(const struct blocks *a, const struct blocks *b)
{
	return a->n == b->n && !memcmp(a->pa, b->pa, a->n * sizeof(a->pa[0])) &&
	       !memcmp(a->order, b->order, a->n);
}

/* ---- allocations the model follows ---- */

static uint64_t stamp_of(uint64_t pa, unsigned int order)
{
	return pa * 0x9e3779b97f4a7c15ULL ^ order;
}

static uint64_t *stamp_at(uint64_t pa, unsigned int order, int end)
{
	return (uint64_t *)(ram + pa + (end ? (PG << order) - 8 : 0));
}

/* Marks the pages of an allocation; false if one was not in state from. */
static bool model_mark(uint64_t pa, unsigned int order, uint8_t from, uint8_t to)
{
	bool ok = true;

	for (uint64_t p = pa / PG; p < pa / PG + (1ULL << order); p++) {
		uint8_t expect = from;
		if (!__atomic_compare_exchange_n(&model[p], &expect, to, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			ok = false;
	}
	return ok;
}

static void account(unsigned int order, int sign)
{
	if (order < PAGE_ORDER_2M)
		live_small += sign * (1LL << order);
	else
		live_huge += sign * (1LL << (order - PAGE_ORDER_2M));
}

/* page_alloc, checked against the model and recorded in live[]. */
static uint64_t t_alloc(unsigned int order)
{
	uint64_t pa = page_alloc(order);

	CHECK_EQ(irq_depth, 0);
	if (!pa)
		return 0;
	CHECK_EQ(pa % (PG << order), 0);
	CHECK(pa + (PG << order) <= ram_top);
	if (!model_mark(pa, order, M_FREE, M_USED))
		unit_fail(__FILE__, __LINE__, "page_alloc(%u) = 0x%llx: not free", order,
			  (unsigned long long)pa);
	*stamp_at(pa, order, 0) = *stamp_at(pa, order, 1) = stamp_of(pa, order);
	live[nlive++] = (struct alloc){ pa, order };
	account(order, 1);
	return pa;
}

static void t_free_at(unsigned int i)
{
	struct alloc a = live[i];

	CHECK(*stamp_at(a.pa, a.order, 0) == stamp_of(a.pa, a.order));
	CHECK(*stamp_at(a.pa, a.order, 1) == stamp_of(a.pa, a.order));
	CHECK(model_mark(a.pa, a.order, M_USED, M_FREE));
	live[i] = live[--nlive];
	account(a.order, -1);
	page_free(a.pa, a.order);
	CHECK_EQ(irq_depth, 0);
}

static void t_free_all(void)
{
	while (nlive)
		t_free_at(nlive - 1);
}

/* Is page p a split chunk's descriptor? */
static bool is_descriptor(uint64_t p)
{
	return p % 512 == 0 && meta[p / 512] == CHUNK_SPLIT;
}

/* Could an allocation of this order be served at all? */
static bool model_has_run(unsigned int order)
{
	uint64_t n = 1ULL << order;

	for (uint64_t p = 0; p + n <= ram_top / PG; p += n) {
		uint64_t i = 0;
		while (i < n && model[p + i] == M_FREE && !is_descriptor(p + i))
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* The statistics and the invariants, against the model (no CPU running). */
static void check_stats(void)
{
	struct mm_stats s;
	uint64_t free_pages = model_count(M_FREE), used_pages = model_count(M_USED);

	mm_stats(&s);
	CHECK_EQ(s.total_bytes, (free_pages + used_pages) * PG);
	CHECK_EQ(s.used_bytes, used_pages * PG);
	CHECK_EQ(s.free_bytes + s.overhead_bytes, free_pages * PG);
	CHECK_EQ(s.overhead_bytes, mm.split_chunks * PG);
	CHECK_EQ(s.split_chunks, mm.split_chunks + mm.nedge);
	CHECK_EQ(s.used_small, live_small);
	CHECK_EQ(s.used_huge, live_huge);
	CHECK_EQ(mm_check(), 0);
	CHECK_EQ(violations, 0);
}

/* ---- randomized operation sequences ---- */

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned int random_order(unsigned int max)
{
	unsigned int r = rnd() % 100, o;

	if (r < 55)
		o = 0;
	else if (r < 75)
		o = 1 + rnd() % 3;
	else if (r < 85)
		o = 4 + rnd() % 5;
	else if (r < 94)
		o = 9;
	else if (r < 99)
		o = 10 + rnd() % 3;
	else
		o = 13 + rnd() % 6;
	return MIN(o, max);
}

/*
 * nops operations on ncpus CPUs, in phases that fill memory (mostly
 * allocations) and empty it; then frees everything and checks that the
 * free blocks are the initial ones again.
 */
static void random_run(uint64_t seed, unsigned int nops, unsigned int ncpus, unsigned int max_order,
		       unsigned int phase)
{
	struct blocks *initial = malloc(sizeof(*initial)), *after = malloc(sizeof(*after));
	unsigned int failures = 0;
	struct mm_stats s0, s1;

	rng = seed;
	snapshot(initial);
	mm_stats(&s0);
	for (unsigned int i = 0; i < nops; i++) {
		bool filling = (i / phase) % 2 == 0;
		unsigned int order;

		cur_cpu = rnd() % ncpus;
		if (nlive == ARRAY_SIZE(live) || (nlive && rnd() % 100 < (filling ? 15u : 70u))) {
			t_free_at(rnd() % nlive);
		} else if (!t_alloc(order = random_order(max_order))) {
			failures++;
			if (model_has_run(order))
				unit_fail(__FILE__, __LINE__, "page_alloc(%u) failed with memory free", order);
		}
		if (i % 1009 == 0)
			check_stats();
		if (i % 4999 == 0)
			mm_drain_cpu_caches();
	}
	t_free_all();
	mm_drain_cpu_caches();
	check_stats();
	snapshot(after);
	CHECK(same_blocks(initial, after));
	mm_stats(&s1);
	CHECK_EQ(s1.free_bytes, s0.free_bytes);
	CHECK_EQ(s1.split_chunks, s0.split_chunks);
	CHECK_EQ(s1.alloc_failures - s0.alloc_failures, failures);
	CHECK_EQ(printk_count, 0);
	printf("#   seed %llu: %u operations, %u failed for want of memory\n",
	       (unsigned long long)seed, nops, failures);
	free(initial);
	free(after);
}

/* ---- memory maps ---- */

static const struct bootmem_range map_simple[] = { { 0, 64 * MIB } };

static const struct bootmem_range map_pc[] = {
	{ 0x1000, 0x9f000 }, { 0x100000, 0x7fe0000 },
	{ 4 * GIB, 4 * GIB + 64 * MIB },
};

/* Holes and odd edges: pages sharing a chunk across ranges, lone pages,
 * touching ranges, ranges that start and end inside chunks. */
static const struct bootmem_range map_odd[] = {
	{ 3 * MIB + 4 * KIB, 3 * MIB + 12 * KIB },
	{ 3 * MIB + 20 * KIB, 3 * MIB + 24 * KIB },
	{ 6 * MIB - 4 * KIB, 6 * MIB + 4 * KIB },
	{ 8 * MIB, 10 * MIB }, { 10 * MIB, 12 * MIB },
	{ 13 * MIB, 13 * MIB + 4 * KIB },
	{ 16 * MIB + 8 * KIB, 48 * MIB - 8 * KIB },
	{ 50 * MIB, 51 * MIB + 4 * KIB },
	{ 52 * MIB, 54 * MIB - 4 * KIB },
	{ 54 * MIB, 56 * MIB - 4 * KIB },
	{ 62 * MIB, 70 * MIB + 4 * KIB },
};

static const struct bootmem_range map_big[] = { { 2 * MIB, 4 * GIB + 6 * MIB } };

#define SETUP(map, top) setup(top, map, ARRAY_SIZE(map))

/* ---- the tests ---- */

UNIT_TEST(page_init_greedy_blocks_touching_nothing)
{
	static const struct { uint64_t pa; unsigned int order; } expect[] = {
		{ 2 * MIB, 9 }, { 4 * MIB, 10 }, { 8 * MIB, 11 }, { 16 * MIB, 12 },
		{ 32 * MIB, 13 }, { 64 * MIB, 14 }, { 128 * MIB, 15 }, { 256 * MIB, 16 },
		{ 512 * MIB, 17 }, { 1 * GIB, 18 }, { 2 * GIB, 18 }, { 3 * GIB, 18 },
		{ 4 * GIB, 10 }, { 4 * GIB + 4 * MIB, 9 },
	};
	struct blocks *b = malloc(sizeof(*b));
	struct mm_stats s;

	SETUP(map_big, 4 * GIB + 6 * MIB);
	snapshot(b);
	CHECK_EQ(b->n, ARRAY_SIZE(expect));
	for (unsigned int i = 0; i < MIN(b->n, ARRAY_SIZE(expect)); i++) {
		CHECK_EQ(b->pa[i], expect[i].pa);
		CHECK_EQ(b->order[i], expect[i].order);
	}
	mm_stats(&s);
	CHECK_EQ(s.total_bytes, 4 * GIB + 4 * MIB);
	CHECK_EQ(s.free_bytes, s.total_bytes);
	CHECK_EQ(s.free_huge, (4 * GIB + 4 * MIB) / CH);
	CHECK_EQ(s.used_bytes + s.split_chunks + s.cached_small, 0);
	check_stats();
	free(b);
}

UNIT_TEST(page_every_order_aligned_and_returned)
{
	struct mm_stats s0, s1;

	SETUP(map_big, 4 * GIB + 6 * MIB);
	mm_stats(&s0);
	for (unsigned int order = 0; order <= PAGE_ORDER_MAX; order++) {
		uint64_t a = t_alloc(order), b = order < 17 ? t_alloc(order) : 1;

		CHECK(a && b && a != b);
		check_stats();
	}
	CHECK_EQ(page_alloc(PAGE_ORDER_MAX + 1), 0);
	t_free_all();
	mm_drain_cpu_caches();
	mm_stats(&s1);
	CHECK_EQ(s1.free_bytes, s0.free_bytes);
	CHECK_EQ(s1.free_huge, s0.free_huge);
	CHECK_EQ(s1.split_chunks, 0);
	check_stats();
}

UNIT_TEST(page_va_conveniences)
{
	void *va;

	SETUP(map_simple, 64 * MIB);
	va = page_alloc_va(PAGE_ORDER_4K);
	CHECK(va != NULL && (uint8_t *)va > ram && (uint8_t *)va < ram + ram_top);
	CHECK_EQ(((uint8_t *)va - ram) % PG, 0);
	page_free_va(va, PAGE_ORDER_4K);
	page_free_va(NULL, PAGE_ORDER_4K);
	page_free(0, PAGE_ORDER_2M);
	va = page_alloc_va(PAGE_ORDER_2M);
	CHECK(va != NULL && ((uint8_t *)va - ram) % CH == 0);
	page_free_va(va, PAGE_ORDER_2M);
	CHECK(page_alloc_va(PAGE_ORDER_1G) == NULL);      /* 64 MiB has no GiB */
	mm_drain_cpu_caches();
	CHECK_EQ(printk_count, 0);
	check_stats();
}

/* Every page, 4 KiB at a time on changing CPUs; then the failure, then all
 * of it back and again. */
UNIT_TEST(page_exhaustion_returns_zero_and_recovers)
{
	const struct bootmem_range *maps[] = { map_simple, map_odd };
	unsigned int nmaps[] = { ARRAY_SIZE(map_simple), ARRAY_SIZE(map_odd) };

	for (unsigned int m = 0; m < 2; m++) {
		struct mm_stats s;

		setup(72 * MIB, maps[m], nmaps[m]);
		for (int round = 0; round < 2; round++) {
			uint64_t n = 0;
			for (unsigned int i = 0; t_alloc(PAGE_ORDER_4K); i++, n++)
				cur_cpu = i % 5;
			mm_stats(&s);
			CHECK_EQ(s.free_bytes, 0);
			CHECK_EQ(n * PG + s.overhead_bytes, s.total_bytes);
			CHECK_EQ(page_alloc(PAGE_ORDER_4K), 0);
			CHECK_EQ(page_alloc(PAGE_ORDER_2M), 0);
			CHECK_EQ(page_alloc(PAGE_ORDER_MAX), 0);
			CHECK(!model_has_run(0));
			check_stats();
			t_free_all();
			mm_drain_cpu_caches();
			check_stats();
		}
		/* Huge frames until none, then small ones fill the rest. */
		while (t_alloc(PAGE_ORDER_2M))
			cur_cpu = (cur_cpu + 1) % 3;
		CHECK(!model_has_run(PAGE_ORDER_2M));
		while (t_alloc(PAGE_ORDER_4K))
			;
		CHECK(!model_has_run(0));
		check_stats();
		t_free_all();
		mm_drain_cpu_caches();
		check_stats();
	}
}

UNIT_TEST(page_frames_cached_per_cpu_and_stolen_when_short)
{
	struct mm_stats s;
	uint64_t pa[100];

	SETUP(map_simple, 64 * MIB);
	cur_cpu = 0;
	for (int i = 0; i < 100; i++)
		pa[i] = page_alloc(PAGE_ORDER_4K);
	cur_cpu = 3;                                /* freed on another CPU */
	for (int i = 0; i < 100; i++)
		page_free(pa[i], PAGE_ORDER_4K);
	mm_stats(&s);
	CHECK(s.cached_small > 0 && s.cached_small <= 64 + 32);
	CHECK_EQ(s.used_small, 0);
	cur_cpu = 5;
	for (int i = 0; i < 20; i++)
		pa[i] = page_alloc(PAGE_ORDER_2M);
	cur_cpu = 6;
	for (int i = 0; i < 20; i++)
		page_free(pa[i], PAGE_ORDER_2M);
	mm_stats(&s);
	CHECK(s.cached_huge > 0 && s.cached_huge <= 8 + 4);
	/* CPU 1 takes everything: what CPUs 0, 3, 5 and 6 hold must reach it. */
	cur_cpu = 1;
	while (t_alloc(PAGE_ORDER_4K))
		;
	mm_stats(&s);
	CHECK_EQ(s.cached_small + s.cached_huge + s.free_bytes, 0);
	check_stats();
	t_free_all();
	mm_drain_cpu_caches();
	mm_stats(&s);
	CHECK_EQ(s.cached_small + s.cached_huge, 0);
	check_stats();
}

/* The descriptor page of some split chunk (there must be one). */
static uint64_t some_descriptor(void)
{
	uint64_t c = 0;

	while (c < nchunks() && meta[c] != CHUNK_SPLIT)
		c++;
	CHECK(c < nchunks());
	return c * CH;
}

UNIT_TEST(page_bad_frees_reported_and_harmless)
{
	struct blocks *initial = malloc(sizeof(*initial)), *after = malloc(sizeof(*after));
	uint64_t small, huge, big, mid;
	struct mm_stats s;

	SETUP(map_pc, 4 * GIB + 64 * MIB);
	snapshot(initial);
	small = t_alloc(0);
	huge = t_alloc(9);
	mid = t_alloc(3);
	/* These three are freed by hand below: the model has them free. */
	CHECK(model_mark(small, 0, M_USED, M_FREE) && model_mark(huge, 9, M_USED, M_FREE) &&
	      model_mark(mid, 3, M_USED, M_FREE));
	nlive = 0;
	live_small = live_huge = 0;
	big = t_alloc(12);
	for (int i = 0; i < 3; i++)                 /* more than the edge chunks hold */
		t_alloc(8);
	page_free(small, 0);                        /* into this CPU's cache */
	page_free(small, 0);                        /* twice: still in the cache */
	page_free(huge, 9);
	page_free(huge, 9);
#ifndef NDEBUG
	mm_stats(&s);
	CHECK_EQ(s.bad_frees, 2);                   /* found then, not later */
#endif
	mm_drain_cpu_caches();
	page_free(small, 0);                        /* twice: back in its chunk */
	page_free(huge, 9);                         /* twice: back in the buddy */
	page_free(big + CH, 9);                     /* inside a block */
	page_free(big, 11);                         /* wrong order */
	page_free(mid, 2);                          /* wrong order (undetectable): frees half */
	page_free(mid + 4 * PG, 2);                 /* the other half */
	page_free(mid + 4 * PG, 2);                 /* twice */
	page_free(mid + PG, 3);                     /* misaligned */
	page_free(0x9f000, 0);                      /* not RAM, in a split chunk */
	page_free(0x50000000, 0);                   /* a hole */
	page_free(ram_top + CH, 0);                 /* past the end */
	page_free(some_descriptor(), 0);            /* a split chunk's descriptor */
	page_free(PG, 19);                          /* no such order */
	mm_stats(&s);
	CHECK_EQ(s.bad_frees, 13);
	CHECK_EQ(printk_count, 13);
	check_stats();
	t_free_all();
	mm_drain_cpu_caches();
	check_stats();
	snapshot(after);
	CHECK(same_blocks(initial, after));
	free(initial);
	free(after);
}

static const struct bootmem_range map_small[] = { { 1 * MIB + 4 * KIB, 9 * MIB - 12 * KIB } };

UNIT_TEST(page_random_simple_map)
{
	SETUP(map_simple, 64 * MIB);
	random_run(1, 40000, 4, PAGE_ORDER_MAX, 3000);
	SETUP(map_simple, 64 * MIB);
	random_run(2, 40000, 1, 12, 3000);
	SETUP(map_simple, 64 * MIB);
	random_run(3, 60000, 4, 3, 15000);          /* split chunks, many of them */
}

UNIT_TEST(page_random_pc_map)
{
	SETUP(map_pc, 4 * GIB + 64 * MIB);
	random_run(4, 40000, 8, PAGE_ORDER_MAX, 3000);
}

UNIT_TEST(page_random_odd_map)
{
	SETUP(map_odd, 72 * MIB);
	random_run(5, 40000, 3, PAGE_ORDER_MAX, 3000);
	SETUP(map_small, 10 * MIB);
	random_run(6, 30000, 2, 3, 2000);
	SETUP(map_small, 10 * MIB);
	random_run(7, 30000, 3, 8, 1000);
}

UNIT_TEST(page_random_big_map)
{
	SETUP(map_big, 4 * GIB + 6 * MIB);
	random_run(8, 20000, 4, PAGE_ORDER_MAX, 3000);
}

/* A run that only the last of many partly-free chunks has, the buddy
 * allocator empty: found all the same. */
static void t_free_pa(uint64_t pa)
{
	unsigned int i = 0;

	while (i < nlive && live[i].pa != pa)
		i++;
	CHECK(i < nlive);
	if (i < nlive)
		t_free_at(i);
}

UNIT_TEST(page_run_found_past_the_first_chunks)
{
	uint64_t first = 5 * CH + 64 * PG;

	SETUP(map_simple, 64 * MIB);
	while (t_alloc(PAGE_ORDER_4K))
		;
	for (int i = 0; i < 8; i++)
		t_free_pa(first + i * PG);
	mm_drain_cpu_caches();
	for (uint64_t c = 6; c < 26; c++)
		t_free_pa(c * CH + 100 * PG);
	mm_drain_cpu_caches();
	CHECK_EQ(t_alloc(3), first);
	check_stats();
	t_free_all();
	mm_drain_cpu_caches();
	check_stats();
}

/* ---- bootmem's handoff ---- */

static struct boot_info bi;

static void add_mem(uint64_t base, uint64_t len, uint32_t type)
{
	bi.mem[bi.nmem++] = (struct boot_mem_range){ base, len, type };
}

/* The machine's free memory after bootmem: each RAM range from where
 * bootmem stopped in it (used_end[i]), less the low MiB and the module. */
static uint8_t *model_after_bootmem(const uint64_t *used_end)
{
	struct bootmem_range r[8];
	unsigned int n = 0;

	for (unsigned int i = 0; i < bi.nmem; i++) {
		uint64_t s = MAX(bi.mem[i].base, ALIGN_UP(used_end[i], PG));
		uint64_t e = bi.mem[i].base + bi.mem[i].len;

		s = MAX(s, 1 * MIB);
		if (bi.mem[i].type != BOOT_MEM_RAM || s >= e)
			continue;
		if (s < bi.mod[0].start && e > bi.mod[0].start) {
			r[n++] = (struct bootmem_range){ s, ALIGN_DOWN(bi.mod[0].start, PG) };
			s = ALIGN_UP(bi.mod[0].end, PG);
		}
		r[n++] = (struct bootmem_range){ s, e };
	}
	return model_expected(r, n);
}

UNIT_TEST(page_mm_init_takes_what_bootmem_left)
{
	uint64_t a, b, c, d, used_end[8] = { 0 }, n = 0, pa;
	struct mm_stats s0, s1;

	machine_new(4 * GIB + 32 * MIB);
	memset(&bi, 0, sizeof(bi));
	add_mem(0, 0x9fc00, BOOT_MEM_RAM);
	add_mem(0x9fc00, 0x400, BOOT_MEM_RESERVED);
	add_mem(0x100000, 0x200000, BOOT_MEM_RAM);          /* [1 MiB, 3 MiB) */
	add_mem(0x400000, 0xfbe0000, BOOT_MEM_RAM);
	add_mem(0xffe0000, 0x20000, BOOT_MEM_ACPI);
	add_mem(4 * GIB, 32 * MIB, BOOT_MEM_RAM);
	bi.mod[0] = (struct boot_module){ 100 * MIB + 512, 103 * MIB + 5 * KIB, "initrd" };
	bi.nmod = 1;
	bootmem_init(&bi, 1 * MIB, 1 * MIB + 700 * KIB);
	a = bootmem_alloc(PG, PG, 1 * GIB);
	b = bootmem_alloc(3 * PG, PG, ~0ULL);
	c = bootmem_alloc(100, 64 * KIB, ~0ULL);
	d = bootmem_alloc(3 * MIB / 2, PG, ~0ULL);          /* not in [c, 3 MiB): next range */
	CHECK(a >= 1 * MIB + 700 * KIB && b > a && c > b && c % (64 * KIB) == 0);
	CHECK(c < 3 * MIB && d == 4 * MIB);
	mm_init(&bi);
	CHECK(mm.meta != NULL && mm.nchunks == (4 * GIB + 32 * MIB) / CH);
	used_end[2] = c + 100;
	used_end[3] = (uint64_t)((uint8_t *)mm.link - ram) + mm.nchunks * sizeof(*mm.link);
	CHECK((uint8_t *)mm.link > mm.meta);
	CHECK(used_end[3] > d);
	model = model_after_bootmem(used_end);
	check_stats();                              /* took exactly the model's pages */

	/* All of it can be had, and nothing else. */
	for (unsigned int i = 0; t_alloc(PAGE_ORDER_4K); i++, n++)
		cur_cpu = i % 2;
	mm_stats(&s0);
	CHECK_EQ(n * PG + s0.overhead_bytes, s0.total_bytes);
	check_stats();
	t_free_all();
	mm_drain_cpu_caches();

	/* After the handoff bootmem_alloc forwards: zeroed, exact, aligned. */
	mm_stats(&s0);
	pa = bootmem_alloc(5 * PG + 100, PG, ~0ULL);
	CHECK(pa != 0 && model[pa / PG] == M_FREE);
	for (uint64_t i = 0; i < 5 * PG + 100; i++) {
		if (ram[pa + i])
			unit_fail(__FILE__, __LINE__, "byte %llu not zeroed", (unsigned long long)i);
	}
	mm_stats(&s1);
	CHECK_EQ(s1.used_small - s0.used_small, 6);     /* the tail went back */
	for (int i = 0; i < 6; i++)
		page_free(pa + i * PG, 0);
	pa = bootmem_alloc(PG, 64 * KIB, ~0ULL);
	CHECK(pa && pa % (64 * KIB) == 0);
	page_free(pa, 0);
	CHECK_EQ(bootmem_alloc(PG, PG, 0x1000), 0);    /* max_pa below all RAM */
	mm_drain_cpu_caches();
	mm_stats(&s1);
	CHECK_EQ(s1.used_bytes, 0);
	CHECK_EQ(s1.free_bytes, s0.free_bytes);
	CHECK_EQ(printk_count, 0);
	check_stats();
}

/* A module's memory, once unpacked: its whole chunks join the allocator,
 * and nothing else does (the edges, a module in the kernel's first MiB). */
UNIT_TEST(page_boot_modules_released_after_unpacking)
{
	struct mm_stats s0, s1;
	bool got_released = false;
	uint64_t pa;

	machine_new(128 * MIB);
	memset(&bi, 0, sizeof(bi));
	add_mem(0, 0x9fc00, BOOT_MEM_RAM);
	add_mem(0x100000, 127 * MIB, BOOT_MEM_RAM);
	bi.mod[0] = (struct boot_module){ 100 * MIB + 4 * KIB, 107 * MIB, "initrd" };
	bi.mod[1] = (struct boot_module){ 1 * MIB + 64 * KIB, 8 * MIB, "over the kernel" };
	bi.mod[2] = (struct boot_module){ 120 * MIB, 120 * MIB + 8 * KIB, "small" };
	bi.nmod = 3;
	bootmem_init(&bi, 1 * MIB, 1 * MIB + 700 * KIB);
	CHECK_EQ(bootmem_release_modules(), 0);        /* before the handoff: nothing */
	mm_init(&bi);
	mm_stats(&s0);
	CHECK(mm.meta[1] == CHUNK_NOT_RAM && mm.meta[50] == CHUNK_SPLIT_EDGE);
	CHECK_EQ(bootmem_release_modules(), 4 * MIB);   /* [102, 106) MiB */
	CHECK(mm.meta[51] != CHUNK_NOT_RAM && mm.meta[52] != CHUNK_NOT_RAM);
	CHECK(mm.meta[1] == CHUNK_NOT_RAM);             /* the module over the kernel */
	CHECK_EQ(bootmem_release_modules(), 0);          /* ours already */
	CHECK_EQ(page_add_ram(0, 2 * MIB), 0);           /* chunk 0 never */
	CHECK_EQ(page_add_ram(10 * MIB, 20 * MIB), 0);   /* taken over at boot */
	mm_stats(&s1);
	CHECK_EQ(s1.total_bytes, s0.total_bytes + 4 * MIB);
	CHECK_EQ(s1.free_bytes, s0.free_bytes + 4 * MIB);
	CHECK_EQ(mm_check(), 0);
	/* The released chunks are handed out like any other. */
	while ((pa = page_alloc(PAGE_ORDER_2M)))
		got_released |= pa >= 102 * MIB && pa < 106 * MIB;
	CHECK(got_released);
	CHECK_EQ(printk_count, 0);
}

/* ---- CPUs at once ---- */

struct worker {
	pthread_t thread;
	unsigned int cpu;
	uint64_t seed;
	int errors;
	unsigned int allocs;
};

static uint64_t wrnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void worker_free(struct worker *w, struct alloc *a)
{
	if (*stamp_at(a->pa, a->order, 0) != stamp_of(a->pa, a->order) + w->cpu ||
	    !model_mark(a->pa, a->order, M_USED, M_FREE))
		w->errors++;
	page_free(a->pa, a->order);
}

static void *worker_run(void *arg)
{
	static const unsigned int orders[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 9, 9, 10 };
	struct worker *w = arg;
	struct alloc mine[512];
	unsigned int n = 0;
	uint64_t s = w->seed;

	cur_cpu = w->cpu;
	for (int i = 0; i < 30000; i++) {
		if (n == ARRAY_SIZE(mine) || (n && wrnd(&s) % 2)) {
			unsigned int k = wrnd(&s) % n;
			worker_free(w, &mine[k]);
			mine[k] = mine[--n];
		} else {
			unsigned int order = orders[wrnd(&s) % 16];
			uint64_t pa = page_alloc(order);
			if (!pa)
				continue;
			if (pa % (PG << order) || !model_mark(pa, order, M_FREE, M_USED))
				w->errors++;
			*stamp_at(pa, order, 0) = stamp_of(pa, order) + w->cpu;
			mine[n++] = (struct alloc){ pa, order };
			w->allocs++;
		}
		if (w->cpu == 0 && i % 500 == 0)
			mm_drain_cpu_caches();          /* takes from the others meanwhile */
	}
	while (n)
		worker_free(w, &mine[--n]);
	return NULL;
}

UNIT_TEST(page_cpus_at_once)
{
	struct blocks *initial = malloc(sizeof(*initial)), *after = malloc(sizeof(*after));
	struct worker w[4];

	SETUP(map_odd, 72 * MIB);                   /* small: CPUs compete, run dry */
	snapshot(initial);
	for (unsigned int i = 0; i < ARRAY_SIZE(w); i++) {
		w[i] = (struct worker){ .cpu = i, .seed = 77 + i };
		pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(w); i++) {
		pthread_join(w[i].thread, NULL);
		CHECK_EQ(w[i].errors, 0);
		CHECK(w[i].allocs > 1000);
	}
	mm_drain_cpu_caches();
	check_stats();
	snapshot(after);
	CHECK(same_blocks(initial, after));
	CHECK_EQ(printk_count, 0);
	free(initial);
	free(after);
}

UNIT_TEST(page_zz_teardown)
{
	machine_free();
	CHECK(1);
}
