/*
 * tests/unit/malloc_fake.c - the fake machine test_malloc runs the heap on,
 * the heap's port to it, and the reference model the tests check the heap
 * against.  Interface: tests/unit/malloc_fake.h.
 *
 * Compiled into build/unit/test_malloc with the heap and with the same
 * -Dmalloc=kmalloc ... renames (the Makefile's UNIT_DEFS_malloc).  Like
 * test_malloc.c it does not include <stdlib.h> (see malloc_fake.h).
 */
#define _GNU_SOURCE                    /* mremap */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/unit/unit.h"
#include "tests/unit/malloc_fake.h"

#define MAXO 18
#define NONE UINT32_MAX
#define P_FREE 0x40
#define P_USED 0x80
#define POISON 0x6b

/* ---- the fake machine ---- */

/* Mapped blocks (the VM's vm_block_* in the kernel): real mappings here,
 * their pages counted against the machine.  Off unless a test turns them
 * on (maps_on), so the other tests see page runs only. */
#define MAX_MAPPED 4096
static struct { void *p; size_t len; } mapped[MAX_MAPPED];
unsigned int nmapped;
bool maps_on;
uint64_t remaps_moved, remaps_in_place;

uint8_t *ram;                        /* [ram, ram + ram_size), 1 GiB aligned */
static void *ram_map;
static size_t ram_map_len;
uint64_t ram_size, npages;
static uint8_t *pstate;              /* per page: P_FREE|order, P_USED|order at heads */
static uint32_t *pnext, *pprev;
static uint32_t fhead[MAXO + 1];
uint64_t used_pages, limit_pages;
static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
__thread unsigned int cur_cpu;
static __thread int irq_depth;
int violations;                      /* atomic: port rules broken */
int printk_count;                    /* atomic */
bool quiet;                          /* printk: count, do not print */

static void violation(const char *what, const void *p)
{
	printf("#   port rule broken: %s (%p)\n", what, p);
	__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
}

static void list_push(uint32_t pfn, unsigned int o)
{
	pstate[pfn] = P_FREE | o;
	pprev[pfn] = NONE;
	pnext[pfn] = fhead[o];
	if (fhead[o] != NONE)
		pprev[fhead[o]] = pfn;
	fhead[o] = pfn;
}

static void list_del(uint32_t pfn, unsigned int o)
{
	if (pprev[pfn] != NONE)
		pnext[pprev[pfn]] = pnext[pfn];
	else
		fhead[o] = pnext[pfn];
	if (pnext[pfn] != NONE)
		pprev[pnext[pfn]] = pprev[pfn];
	pstate[pfn] = 0;
}

static bool poisoned(const uint8_t *p, size_t n)
{
	static uint8_t page[PG];

	if (!page[0])
		memset(page, POISON, PG);
	for (size_t i = 0; i < n; i += PG) {
		if (memcmp(p + i, page, PG))
			return false;
	}
	return true;
}

static void *fake_alloc(unsigned int order)
{
	unsigned int k = order;
	uint32_t pfn;

	pthread_mutex_lock(&fake_lock);
	if (order > MAXO || used_pages + (1ULL << order) > limit_pages)
		goto none;
	while (k <= MAXO && fhead[k] == NONE)
		k++;
	if (k > MAXO)
		goto none;
	pfn = fhead[k];
	list_del(pfn, k);
	while (k > order) {
		k--;
		list_push(pfn + (1U << k), k);
	}
	pstate[pfn] = P_USED | order;
	used_pages += 1ULL << order;
	pthread_mutex_unlock(&fake_lock);
	if (!poisoned(ram + (uint64_t)pfn * PG, PG << order))
		violation("the heap wrote to memory it had freed", ram + (uint64_t)pfn * PG);
	return ram + (uint64_t)pfn * PG;
none:
	pthread_mutex_unlock(&fake_lock);
	return NULL;
}

static void fake_free(void *va, unsigned int order)
{
	uint64_t off = (uint8_t *)va - ram;
	uint32_t pfn = off / PG;
	unsigned int k;

	if ((uint8_t *)va < ram || off >= ram_size || off % (PG << order) ||
	    pstate[pfn] != (P_USED | order)) {
		violation("page free of what is not allocated with that order", va);
		return;
	}
	memset(va, POISON, PG << order);
	pthread_mutex_lock(&fake_lock);
	pstate[pfn] = 0;
	used_pages -= 1ULL << order;
	for (k = order; k < MAXO; k++) {
		uint32_t b = pfn ^ (1U << k);

		if (b >= npages || pstate[b] != (P_FREE | k))
			break;
		list_del(b, k);
		pfn &= ~(1U << k);
	}
	list_push(pfn, k);
	pthread_mutex_unlock(&fake_lock);
}

void machine_new(uint64_t size)
{
	if (ram_map) {
		munmap(ram_map, ram_map_len);
		munmap(pstate, npages * 9);
	}
	ram_size = size;
	npages = size / PG;
	ram_map_len = size + GIB;
	ram_map = mmap(NULL, ram_map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	pstate = mmap(NULL, npages * 9, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram_map == MAP_FAILED || pstate == MAP_FAILED)
		__builtin_abort();
	ram = (uint8_t *)ALIGN_UP((uintptr_t)ram_map, GIB);
	memset(ram, POISON, size);
	pnext = (uint32_t *)(pstate + npages);
	pprev = pnext + npages;
	for (unsigned int k = 0; k <= MAXO; k++)
		fhead[k] = NONE;
	for (uint32_t pfn = 0; pfn < npages;) {
		unsigned int k = MAXO;

		while ((pfn & ((1U << k) - 1)) || pfn + (1U << k) > npages)
			k--;
		list_push(pfn, k);
		pfn += 1U << k;
	}
	while (nmapped) {
		nmapped--;
		munmap(mapped[nmapped].p, mapped[nmapped].len);
	}
	maps_on = false;
	remaps_moved = remaps_in_place = 0;
	used_pages = 0;
	limit_pages = npages;
	malloc_reset();
	violations = printk_count = 0;
	cur_cpu = 0;
	quiet = false;
}

/* ---- the port, and the kernel functions the heap calls ---- */

unsigned int malloc_cpu_id(void) { return cur_cpu; }
unsigned long malloc_irq_save(void) { return irq_depth++; }

void malloc_irq_restore(unsigned long flags)
{
	if (--irq_depth != (int)flags)
		violation("unbalanced irq save/restore", NULL);
}

bool malloc_va_ok(const void *va)
{
	return (const uint8_t *)va >= ram && (const uint8_t *)va < ram + ram_size;
}

uint64_t malloc_va_to_pa(const void *va) { return (const uint8_t *)va - ram; }
uint64_t malloc_pa_limit(void) { return ram_size; }

void *malloc_pages_alloc(unsigned int order)
{
	if (irq_depth)
		violation("page allocation with interrupts off", NULL);
	return fake_alloc(order);
}

void malloc_pages_free(void *va, unsigned int order)
{
	if (irq_depth)
		violation("page free with interrupts off", va);
	fake_free(va, order);
}

static int mapped_find(const void *p)
{
	for (unsigned int i = 0; i < nmapped; i++) {
		if (mapped[i].p == p)
			return (int)i;
	}
	return -1;
}

void *malloc_map(size_t n)
{
	size_t len = ALIGN_UP(n, PG);
	void *p = NULL;

	if (irq_depth)
		violation("mapping with interrupts off", NULL);
	pthread_mutex_lock(&fake_lock);
	if (maps_on && nmapped < MAX_MAPPED && used_pages + len / PG <= limit_pages) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			p = NULL;
		} else {
			mapped[nmapped].p = p;
			mapped[nmapped++].len = len;
			used_pages += len / PG;
		}
	}
	pthread_mutex_unlock(&fake_lock);
	return p;
}

void *malloc_remap(void *p, size_t n)
{
	size_t len = ALIGN_UP(n, PG);
	void *q = NULL;
	int i;

	pthread_mutex_lock(&fake_lock);
	i = mapped_find(p);
	if (i >= 0 && used_pages - mapped[i].len / PG + len / PG <= limit_pages) {
		q = mremap(p, mapped[i].len, len, MREMAP_MAYMOVE);
		if (q == MAP_FAILED) {
			q = NULL;
		} else {
			used_pages = used_pages - mapped[i].len / PG + len / PG;
			mapped[i].p = q;
			mapped[i].len = len;
			if (q == p)
				remaps_in_place++;
			else
				remaps_moved++;
		}
	}
	pthread_mutex_unlock(&fake_lock);
	return q;
}

size_t malloc_map_size(const void *p)
{
	size_t len;
	int i;

	pthread_mutex_lock(&fake_lock);
	i = mapped_find(p);
	len = i < 0 ? 0 : mapped[i].len;
	pthread_mutex_unlock(&fake_lock);
	return len;
}

size_t malloc_unmap(void *p)
{
	size_t len = 0;
	int i;

	pthread_mutex_lock(&fake_lock);
	i = mapped_find(p);
	if (i >= 0) {
		len = mapped[i].len;
		munmap(p, len);
		used_pages -= len / PG;
		mapped[i] = mapped[--nmapped];
	}
	pthread_mutex_unlock(&fake_lock);
	return len;
}

void malloc_set_errno(int err) { errno = err; }

void printk(const char *fmt, ...)
{
	va_list ap;

	__atomic_fetch_add(&printk_count, 1, __ATOMIC_RELAXED);
	if (quiet)
		return;
	printf("#   printk: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void assert_fail(const char *expr, const char *file, int line)
{
	printf("#   assertion failed: %s at %s:%d\n", expr, file, line);
	__builtin_abort();
}

/* ---- the model ---- */

struct live lv[MAX_LIVE];
unsigned int nlive;
static uint64_t rng = 88172645463325252ULL;

uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

uint8_t pat(uint64_t tag, size_t i)
{
	return (uint8_t)(tag * 0x9e3779b97f4a7c15ULL >> 56) ^ (uint8_t)(i * 7) ^ (uint8_t)(i >> 9);
}

/* The bytes of an n-byte block the pattern is written to: all up to
 * 64 KiB, else the first and last 4 KiB and the first byte of every page. */
static bool written(size_t i, size_t n)
{
	return n <= 64 * KIB || i < 4 * KIB || i >= n - 4 * KIB || i % PG == 0;
}

static size_t next_written(size_t i, size_t n)
{
	return written(i + 1, n) ? i + 1 : MIN(ALIGN_UP(i + 1, PG), n - 4 * KIB);
}

void fill(uint8_t *p, size_t n, uint64_t tag)
{
	for (size_t i = 0; i < n; i = next_written(i, n))
		p[i] = pat(tag, i);
}

/* The pattern is there, in the first `upto` bytes of an n-byte block. */
bool intact_upto(const uint8_t *p, size_t n, size_t upto, uint64_t tag)
{
	for (size_t i = 0; i < upto; i = next_written(i, n)) {
		if (p[i] != pat(tag, i))
			return false;
	}
	return true;
}

bool intact(const uint8_t *p, size_t n, uint64_t tag)
{
	return intact_upto(p, n, n, tag);
}

uint64_t model_bytes(void)
{
	uint64_t b = 0;

	for (unsigned int i = 0; i < nlive; i++)
		b += lv[i].usable;
	return b;
}

/* A new block: checks it against the model and records it. */
bool model_add(void *vp, size_t n, size_t align)
{
	uint8_t *p = vp;
	size_t u;

	if (!p)
		return false;
	u = kmalloc_usable_size(p);
	CHECK((uintptr_t)p % MAX(align, 16) == 0);
	CHECK(u >= n);
	if (malloc_va_ok(p))
		CHECK(malloc_va_ok(p + u - 1));
	else
		CHECK(maps_on && malloc_map_size(p) == u);
	for (unsigned int i = 0; i < nlive; i++) {
		if (p < lv[i].p + lv[i].usable && lv[i].p < p + u) {
			CHECK(!"blocks overlap");
			break;
		}
	}
	if (nlive == MAX_LIVE) {
		CHECK(!"model full");
		return false;
	}
	lv[nlive] = (struct live){ p, n, u, rnd() };
	fill(p, u, lv[nlive].tag);
	nlive++;
	return true;
}

void model_free(unsigned int i)
{
	CHECK(intact(lv[i].p, lv[i].usable, lv[i].tag));
	kfree(lv[i].p);
	lv[i] = lv[--nlive];
}

/* The test freed lv[] entry p itself. */
void model_forget(void *p)
{
	for (unsigned int i = 0; i < nlive; i++) {
		if (lv[i].p == p) {
			lv[i] = lv[--nlive];
			return;
		}
	}
	CHECK(!"not in the model");
}

void model_free_all(void)
{
	while (nlive)
		model_free(nlive - 1);
}

/* The pages the heap holds are what its statistics say. */
void check_accounting(void)
{
	struct malloc_stats s;

	malloc_stats_get(&s);
	CHECK_EQ(used_pages * PG, s.slab_bytes + s.spare_slab_bytes + s.large_bytes +
		 s.overhead_bytes);
	CHECK_EQ(s.bytes_in_use, s.small_bytes_in_use + s.large_bytes);
	CHECK_EQ(malloc_in_use_bytes(), s.bytes_in_use);
}

size_t random_size(void)
{
	uint64_t r = rnd() % 100;

	if (r < 60)
		return rnd() % 257;
	if (r < 90)
		return rnd() % 2049;
	if (r < 97)
		return rnd() % (SMALL_MAX + 1);
	return SMALL_MAX + rnd() % (300 * KIB);
}

size_t random_align(void)
{
	return 1UL << (rnd() % 22);             /* 1 .. 2 MiB */
}
