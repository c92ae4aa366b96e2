/*
 * core/malloc_large.c - the heap's large blocks and its statistics (design:
 * core/malloc_impl.h).
 *
 * A large block of MALLOC_MAP_MIN bytes or more is a mapped block (the VM
 * layer's vm_block_*: exact to the page, resized by remapping).  Any other,
 * or one the VM cannot make now, is a page run from page_alloc, 2^order
 * pages (orders up to 8 come from split chunks, 2 MiB and up from the buddy
 * allocator), handed out as it is: aligned to its size, which also serves
 * aligned_alloc up to 1 GiB.  Rounding to a power of two loses up to half
 * of such a block (a quarter on average).
 *
 * Its order is kept outside the block, in the large-block map: one byte per
 * 4 KiB page of RAM (order + 1 at a block's first page, 0 elsewhere) in
 * leaves of one page each (16 MiB of RAM per leaf) under one top-level
 * array; both are allocated when first needed and kept.  An in-block header
 * instead would round every power-of-two request (16 KiB, a page-aligned
 * 4 KiB) up to twice its size.
 */
#include "core/malloc_impl.h"

#define LEAF_PAGES HEAP_PAGE            /* one byte per page, a page per leaf */

static uint8_t **large_top;             /* set once (CAS); its entries likewise */
static uint64_t large_map_bytes;        /* atomic */

static unsigned int order_for(size_t n)
{
	return n <= HEAP_PAGE ? 0 : 64 - __builtin_clzl((n - 1) / HEAP_PAGE);
}

static uint64_t top_entries(void)
{
	uint64_t pages = malloc_pa_limit() / HEAP_PAGE;

	return (pages + LEAF_PAGES - 1) / LEAF_PAGES;
}

/* A zeroed table of n bytes installed at *slot, or the one another CPU
 * installed first; NULL if there is no memory. */
static void *table_install(void **slot, size_t n)
{
	unsigned int order = order_for(n);
	void *t = malloc_pages_alloc_retry(order), *old = NULL;

	if (!t)
		return NULL;
	memset(t, 0, HEAP_PAGE << order);
	if (__atomic_compare_exchange_n(slot, &old, t, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&large_map_bytes, HEAP_PAGE << order, __ATOMIC_RELAXED);
		return t;
	}
	malloc_pages_free(t, order);
	return old;
}

/* p's byte in the map; NULL if it has none (create: the memory for it). */
static uint8_t *map_entry(const void *p, bool create)
{
	uint64_t pfn = malloc_va_to_pa(p) / HEAP_PAGE;
	uint8_t **top = __atomic_load_n(&large_top, __ATOMIC_ACQUIRE), *leaf;

	if (pfn / LEAF_PAGES >= top_entries())
		return NULL;
	if (!top && (!create || !(top = table_install((void **)&large_top,
						      top_entries() * sizeof(*top)))))
		return NULL;
	leaf = __atomic_load_n(&top[pfn / LEAF_PAGES], __ATOMIC_ACQUIRE);
	if (!leaf && (!create || !(leaf = table_install((void **)&top[pfn / LEAF_PAGES],
							LEAF_PAGES))))
		return NULL;
	return &leaf[pfn % LEAF_PAGES];
}

static void count_large(size_t bytes, bool alloc)
{
	unsigned long flags = malloc_irq_save();
	struct heap_cpu *h = &malloc_cpus[malloc_cpu_id()];

	if (alloc) {
		HEAP_INC(h->large_nalloc);
		HEAP_STORE(h->large_balloc, h->large_balloc + bytes);
	} else {
		HEAP_INC(h->large_nfree);
		HEAP_STORE(h->large_bfree, h->large_bfree + bytes);
	}
	malloc_irq_restore(flags);
}

/* A mapped block, or NULL (then a page run is tried). */
static void *map_alloc(size_t n, size_t align)
{
	void *p;

	if (n < MALLOC_MAP_MIN || align > HEAP_PAGE || !(p = malloc_map(n)))
		return NULL;
	count_large(ALIGN_UP(n, HEAP_PAGE), true);
	return p;
}

void *malloc_large_remap(void *p, size_t old, size_t n)
{
	void *q;

	if (n < MALLOC_MAP_MIN || malloc_va_ok(p) || !(q = malloc_remap(p, n)))
		return NULL;
	count_large(old, false);
	count_large(ALIGN_UP(n, HEAP_PAGE), true);
	return q;
}

void *malloc_large_alloc(size_t n, size_t align)
{
	size_t want = MAX(n, align);
	unsigned int order;
	uint8_t *e;
	void *va;

	if ((va = map_alloc(n, align)))
		return va;
	if (want > (HEAP_PAGE << PAGE_ORDER_MAX))
		return NULL;
	order = order_for(want);
	if (!(va = malloc_pages_alloc_retry(order)))
		return NULL;
	if (!(e = map_entry(va, true))) {
		malloc_pages_free(va, order);
		return NULL;
	}
	ASSERT(HEAP_LOAD(*e) == 0);
	HEAP_STORE(*e, order + 1);
	count_large(HEAP_PAGE << order, true);
	return va;
}

/* p's byte in the map if p starts a large block, else NULL. */
static uint8_t *large_entry(const void *p)
{
	uint8_t *e;

	if ((uintptr_t)p & (HEAP_PAGE - 1) || !malloc_va_ok(p) || !(e = map_entry(p, false)))
		return NULL;
	return HEAP_LOAD(*e) ? e : NULL;
}

bool malloc_large_free(void *p)
{
	uint8_t *e, v;
	size_t n;

	if (!malloc_va_ok(p)) {                 /* not in the direct map: mapped, or no block */
		if (!(n = malloc_unmap(p)))
			return false;
		count_large(n, false);
		return true;
	}
	if (!(e = large_entry(p)) || !(v = __atomic_exchange_n(e, 0, __ATOMIC_ACQ_REL)))
		return false;
	malloc_pages_free(p, v - 1);
	count_large(HEAP_PAGE << (v - 1), false);
	return true;
}

size_t malloc_large_size(const void *p)
{
	uint8_t *e, v;

	if (!malloc_va_ok(p))
		return malloc_map_size(p);
	e = large_entry(p);
	return e && (v = HEAP_LOAD(*e)) ? HEAP_PAGE << (v - 1) : 0;
}

/* ---- statistics ---- */

static uint64_t sub_or_0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;       /* counters move while they are summed */
}

static void class_stats(unsigned int cls, struct malloc_class_stats *c)
{
	uint64_t nmalloc = 0, nfree = 0, slabs = 0, capacity;

	for (unsigned int cpu = 0; cpu < CONFIG_MAX_CPUS; cpu++) {
		const struct heap_cpu *h = &malloc_cpus[cpu];

		nmalloc += HEAP_LOAD(h->pool[cls].nmalloc);
		nfree += HEAP_LOAD(h->pool[cls].nfree);
		slabs += HEAP_LOAD(h->nslabs[cls]);
	}
	c->size = malloc_class_size[cls];
	c->objects_in_use = sub_or_0(nmalloc, nfree);
	c->bytes_in_use = c->objects_in_use * c->size;
	capacity = slabs * class_nobjs(c->size);
	c->bytes_free = sub_or_0(capacity, c->objects_in_use) * c->size;
	c->slabs = slabs;
}

static void large_stats(struct malloc_stats *s)
{
	uint64_t na = 0, nf = 0, ba = 0, bf = 0;

	for (unsigned int cpu = 0; cpu < CONFIG_MAX_CPUS; cpu++) {
		const struct heap_cpu *h = &malloc_cpus[cpu];

		na += HEAP_LOAD(h->large_nalloc);
		nf += HEAP_LOAD(h->large_nfree);
		ba += HEAP_LOAD(h->large_balloc);
		bf += HEAP_LOAD(h->large_bfree);
		s->spare_slab_bytes += HEAP_LOAD(h->spare) ? SLAB_SIZE : 0;
	}
	s->large_blocks = sub_or_0(na, nf);
	s->large_bytes = sub_or_0(ba, bf);
}

void malloc_stats_get(struct malloc_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned int cls = 0; cls < NCLASS; cls++) {
		struct malloc_class_stats *c = &s->cls[cls];

		class_stats(cls, c);
		s->small_bytes_in_use += c->bytes_in_use;
		s->small_bytes_free += c->bytes_free;
		s->slab_bytes += c->slabs * SLAB_SIZE;
	}
	large_stats(s);
	s->bytes_in_use = s->small_bytes_in_use + s->large_bytes;
	s->overhead_bytes = __atomic_load_n(&large_map_bytes, __ATOMIC_RELAXED);
	s->alloc_failures = __atomic_load_n(&malloc_alloc_failures, __ATOMIC_RELAXED);
	s->bad_frees = __atomic_load_n(&malloc_bad_frees, __ATOMIC_RELAXED);
}

size_t malloc_in_use_bytes(void)
{
	struct malloc_class_stats c;
	struct malloc_stats s = { 0 };
	size_t n = 0;

	for (unsigned int cls = 0; cls < NCLASS; cls++) {
		class_stats(cls, &c);
		n += c.bytes_in_use;
	}
	large_stats(&s);
	return n + s.large_bytes;
}

void malloc_reset(void)
{
	memset(malloc_cpus, 0, sizeof(malloc_cpus));
	memset(malloc_remote, 0, sizeof(malloc_remote));
	large_top = NULL;
	large_map_bytes = malloc_alloc_failures = malloc_bad_frees = 0;
}
