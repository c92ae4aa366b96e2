/*
 * core/page.c - the physical frame allocator (interface: core/mm.h; design
 * and locking: core/page_impl.h): the buddy allocator over 2 MiB chunks,
 * the per-CPU frame caches, initialisation and statistics.  Split chunks
 * (orders 0..8) are in core/page_split.c.
 *
 * Per-CPU caches.  Each CPU keeps a stack of free 4 KiB frames and one of
 * free 2 MiB frames.  Only the owning CPU puts frames in, with interrupts
 * off; any CPU may take them out with an atomic exchange of the slot.  So
 * the owner's fast paths need no lock, and a CPU that finds memory exhausted
 * (or mm_drain_cpu_caches) can empty every other CPU's cache before it gives
 * up: no memory is stranded in the cache of an idle CPU.
 *
 * Initialisation writes the metadata bytes and nothing else: free blocks
 * (greedy maximal aligned runs of whole chunks) are linked through the side
 * table, chunks only partly ours get static descriptors (mm.edge).
 */
#include "core/kernel.h"
#include "core/config.h"
#include "core/boot.h"
#include "core/mm.h"
#include "core/page_impl.h"

struct mm_global mm;

#ifdef NDEBUG
#define MM_DEBUG 0
#else
#define MM_DEBUG 1      /* checks that cost more than a load or two */
#endif

static uint8_t meta_get(uint64_t c) { return MM_LOAD(mm.meta[c]); }
static void meta_set(uint64_t c, uint8_t v) { MM_STORE(mm.meta[c], v); }
static uint64_t chunk_pa(uint64_t c) { return c << CHUNK_SHIFT; }
static uint64_t chunks_of(unsigned int order) { return 1ULL << (order - CHUNK_ORDER); }

/* ---- the buddy allocator over chunks; global lock held ---- */

static void list_push(uint64_t c, unsigned int k)
{
	uint32_t *head = &mm.free_list[k - CHUNK_ORDER];

	mm.link[c] = (struct chunk_link){ .next = *head, .prev = 0 };
	if (*head)
		mm.link[*head].prev = c;
	*head = c;
	meta_set(c, CHUNK_FREE(k));
	mm.nfree_blocks[k - CHUNK_ORDER]++;
	mm.buddy_free_chunks += chunks_of(k);
}

/* Takes a free block off its list; the caller sets its metadata. */
static void list_remove(uint64_t c, unsigned int k)
{
	struct chunk_link l = mm.link[c];

	if (l.prev)
		mm.link[l.prev].next = l.next;
	else
		mm.free_list[k - CHUNK_ORDER] = l.next;
	if (l.next)
		mm.link[l.next].prev = l.prev;
	mm.nfree_blocks[k - CHUNK_ORDER]--;
	mm.buddy_free_chunks -= chunks_of(k);
}

uint64_t mm_buddy_alloc(unsigned int order)
{
	unsigned int k = order;
	uint64_t c;

	while (k < CHUNK_ORDER + NBUDDY && !mm.free_list[k - CHUNK_ORDER])
		k++;
	if (k == CHUNK_ORDER + NBUDDY)
		return 0;
	c = mm.free_list[k - CHUNK_ORDER];
	list_remove(c, k);
	while (k > order) {             /* the upper halves stay free */
		k--;
		list_push(c + chunks_of(k), k);
	}
	meta_set(c, CHUNK_ALLOC(order));
	mm.buddy_used_chunks += chunks_of(order);
	return chunk_pa(c);
}

int mm_buddy_free(uint64_t pa, unsigned int order)
{
	uint64_t c = pa >> CHUNK_SHIFT;
	unsigned int k;

	if (pa & ((CHUNK_SIZE << (order - CHUNK_ORDER)) - 1) || c >= mm.nchunks ||
	    meta_get(c) != CHUNK_ALLOC(order))
		return -EINVAL;
	mm.buddy_used_chunks -= chunks_of(order);
	for (k = order; k < PAGE_ORDER_MAX; k++) {
		uint64_t b = c ^ chunks_of(k);

		if (b >= mm.nchunks || meta_get(b) != CHUNK_FREE(k))
			break;
		list_remove(b, k);
		meta_set(MAX(b, c), CHUNK_INSIDE);
		c = MIN(b, c);
	}
	list_push(c, k);
	return 0;
}

/* Initialisation: a whole block that is free, merged with any free buddy. */
void mm_buddy_insert(uint64_t c, unsigned int order)
{
	for (uint64_t i = 1; i < chunks_of(order); i++)
		meta_set(c + i, CHUNK_INSIDE);
	meta_set(c, CHUNK_ALLOC(order));
	mm.buddy_used_chunks += chunks_of(order);
	mm.total_pages += chunks_of(order) * CHUNK_PAGES;
	mm_buddy_free(chunk_pa(c), order);
}

/* ---- either allocator; global lock held ---- */

static uint64_t global_alloc(unsigned int order)
{
	return order < CHUNK_ORDER ? mm_split_alloc(order) : mm_buddy_alloc(order);
}

static int global_free(uint64_t pa, unsigned int order)
{
	return order < CHUNK_ORDER ? mm_split_free(pa, order) : mm_buddy_free(pa, order);
}

static void report_bad_free(uint64_t pa, unsigned int order, const char *why)
{
	__atomic_fetch_add(&mm.bad_frees, 1, __ATOMIC_RELAXED);
	printk("mm: page_free(0x%lx, order %u): %s; ignored\n", (unsigned long)pa, order, why);
}

/* Frees n frames of one order under one lock; reports the ones refused. */
static void global_free_batch(uint64_t *pa, unsigned int n, unsigned int order)
{
	unsigned int bad = 0;

	mm_global_lock();
	for (unsigned int i = 0; i < n; i++) {
		if (global_free(pa[i], order))
			pa[bad++] = pa[i];
	}
	mm_global_unlock();
	for (unsigned int i = 0; i < bad; i++)
		report_bad_free(pa[i], order, "not allocated (double free?)");
}

/* ---- per-CPU caches ---- */

#define SMALL_CAP   64
#define SMALL_BATCH 32
#define HUGE_CAP    8
#define HUGE_BATCH  4

enum { SMALL, HUGE, NKINDS };

static const struct cache_kind {
	unsigned int order, cap, batch;
} kinds[NKINDS] = {
	[SMALL] = { PAGE_ORDER_4K, SMALL_CAP, SMALL_BATCH },
	[HUGE] = { PAGE_ORDER_2M, HUGE_CAP, HUGE_BATCH },
};

/*
 * Slots at or above n[kind] are empty (0); those below hold frames or 0
 * where another CPU took one.  n[] is the owner's, interrupts off; a slot
 * goes from 0 to a frame only by its owner, back to 0 by anyone (exchange).
 */
static struct mm_pcpu {
	unsigned int n[NKINDS];
	uint64_t small[SMALL_CAP];
	uint64_t huge[HUGE_CAP];
} pcpu[CONFIG_MAX_CPUS] __attribute__((aligned(64)));

static uint64_t *cache_slots(struct mm_pcpu *p, int kind)
{
	return kind == SMALL ? p->small : p->huge;
}

static int cache_kind_of(unsigned int order)
{
	if (order == PAGE_ORDER_4K)
		return SMALL;
	return order == PAGE_ORDER_2M ? HUGE : -1;
}

static struct mm_pcpu *this_pcpu(void)
{
	unsigned int id = mm_cpu_id();

	ASSERT(id < CONFIG_MAX_CPUS);
	return &pcpu[id];
}

static uint64_t slot_take(uint64_t *slot)
{
	return MM_LOAD(*slot) ? __atomic_exchange_n(slot, 0, __ATOMIC_ACQUIRE) : 0;
}

static uint64_t cache_pop(int kind)
{
	unsigned long flags = mm_irq_save();
	struct mm_pcpu *p = this_pcpu();
	uint64_t *s = cache_slots(p, kind), pa = 0;

	while (!pa && p->n[kind] > 0)
		pa = slot_take(&s[--p->n[kind]]);
	mm_irq_restore(flags);
	return pa;
}

static bool cache_holds(const uint64_t *s, unsigned int n, uint64_t pa)
{
	for (unsigned int i = 0; i < n; i++) {
		if (MM_LOAD(s[i]) == pa)
			return true;
	}
	return false;
}

/* Puts a freed frame in this CPU's cache, the top half of a full cache
 * going back to the global allocator.  False: the frame is already in this
 * cache (a double free; checked in debug builds). */
static bool cache_push(int kind, uint64_t pa)
{
	const struct cache_kind *k = &kinds[kind];
	uint64_t out[SMALL_BATCH];
	unsigned int m = 0;
	unsigned long flags = mm_irq_save();
	struct mm_pcpu *p = this_pcpu();
	uint64_t *s = cache_slots(p, kind);

	if (MM_DEBUG && cache_holds(s, p->n[kind], pa)) {
		mm_irq_restore(flags);
		return false;
	}
	if (p->n[kind] == k->cap) {
		while (m < k->batch && p->n[kind] > 0) {
			if ((out[m] = slot_take(&s[--p->n[kind]])))
				m++;
		}
	}
	__atomic_store_n(&s[p->n[kind]++], pa, __ATOMIC_RELEASE);
	mm_irq_restore(flags);
	if (m)
		global_free_batch(out, m, k->order);
	return true;
}

/* Refills this CPU's cache from the global allocator; returns one frame. */
static uint64_t cache_refill(int kind)
{
	const struct cache_kind *k = &kinds[kind];
	uint64_t got[SMALL_BATCH];
	unsigned int m, i;
	unsigned long flags;
	struct mm_pcpu *p;

	mm_global_lock();
	for (m = 0; m < k->batch; m++) {
		if (!(got[m] = global_alloc(k->order)))
			break;
	}
	mm_global_unlock();
	if (m == 0)
		return 0;
	flags = mm_irq_save();          /* maybe another CPU by now: fine */
	p = this_pcpu();
	for (i = 1; i < m && p->n[kind] < k->cap; i++)
		__atomic_store_n(&cache_slots(p, kind)[p->n[kind]++], got[i], __ATOMIC_RELEASE);
	mm_irq_restore(flags);
	if (i < m)
		global_free_batch(got + i, m - i, k->order);
	return got[0];
}

static void cache_drain(uint64_t *s, const struct cache_kind *k)
{
	uint64_t got[SMALL_CAP];
	unsigned int m = 0;

	for (unsigned int i = 0; i < k->cap; i++) {
		if ((got[m] = slot_take(&s[i])))
			m++;
	}
	if (m)
		global_free_batch(got, m, k->order);
}

void mm_drain_cpu_caches(void)
{
	for (unsigned int cpu = 0; cpu < CONFIG_MAX_CPUS; cpu++) {
		for (int kind = 0; kind < NKINDS; kind++)
			cache_drain(cache_slots(&pcpu[cpu], kind), &kinds[kind]);
	}
}

/* ---- the interface ---- */

static uint64_t try_alloc(unsigned int order)
{
	int kind = cache_kind_of(order);
	uint64_t pa;

	if (kind >= 0)
		return (pa = cache_pop(kind)) ? pa : cache_refill(kind);
	mm_global_lock();
	pa = global_alloc(order);
	mm_global_unlock();
	return pa;
}

/* Free memory, roughly and without the lock (CPU caches not counted): for
 * the low-watermark check on every allocation. */
uint64_t mm_free_estimate(void)
{
	return ((uint64_t)__atomic_load_n(&mm.buddy_free_chunks, __ATOMIC_RELAXED) << CHUNK_SHIFT) +
	       ((uint64_t)__atomic_load_n(&mm.split_free, __ATOMIC_RELAXED) << FRAME_SHIFT);
}

uint64_t page_alloc(unsigned int order)
{
	uint64_t pa = 0;

	if (order <= PAGE_ORDER_MAX && mm.ready) {
		pa = try_alloc(order);
		if (!pa) {              /* the memory may be in CPU caches */
			mm_drain_cpu_caches();
			pa = try_alloc(order);
		}
		for (int i = 0; !pa && i < 3 && mm_out_of_memory(order); i++) {
			mm_drain_cpu_caches();  /* shrinkers released some */
			pa = try_alloc(order);
		}
		if (pa)
			mm_memory_low();        /* cheap unless below the low watermark */
	}
	if (!pa)
		__atomic_fetch_add(&mm.alloc_failures, 1, __ATOMIC_RELAXED);
	return pa;
}

/* The lock-free check of a frame going into a cache: is it allocated? */
static bool cacheable_frame_allocated(int kind, uint64_t pa)
{
	if (kind == SMALL)
		return mm_split_frame_allocated(pa);
	return meta_get(pa >> CHUNK_SHIFT) == CHUNK_ALLOC(PAGE_ORDER_2M);
}

void page_free(uint64_t pa, unsigned int order)
{
	int kind = cache_kind_of(order), err;

	if (!pa)
		return;
	if (order > PAGE_ORDER_MAX || (pa & ((FRAME_SIZE << order) - 1)) ||
	    (pa >> CHUNK_SHIFT) >= mm.nchunks) {
		report_bad_free(pa, order, "not a frame of this order");
		return;
	}
	if (kind >= 0) {
		if (!cacheable_frame_allocated(kind, pa) || !cache_push(kind, pa))
			report_bad_free(pa, order, "not allocated (double free?)");
		return;
	}
	mm_global_lock();
	err = global_free(pa, order);
	mm_global_unlock();
	if (err)
		report_bad_free(pa, order, "not allocated (double free or wrong order?)");
}

void *page_alloc_va(unsigned int order)
{
	uint64_t pa = page_alloc(order);

	return pa ? mm_phys_to_virt(pa) : NULL;
}

void page_free_va(void *va, unsigned int order)
{
	if (va)
		page_free(mm_virt_to_phys(va), order);
}

static uint64_t count_cached(int kind)
{
	uint64_t n = 0;

	for (unsigned int cpu = 0; cpu < CONFIG_MAX_CPUS; cpu++) {
		const uint64_t *s = cache_slots(&pcpu[cpu], kind);
		for (unsigned int i = 0; i < kinds[kind].cap; i++)
			n += MM_LOAD(s[i]) != 0;
	}
	return n;
}

static uint64_t sub_or_0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;     /* caches move while we count them */
}

void mm_stats(struct mm_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->cached_small = count_cached(SMALL);
	s->cached_huge = count_cached(HUGE);
	mm_global_lock();
	s->total_bytes = mm.total_pages << FRAME_SHIFT;
	s->free_huge = mm.buddy_free_chunks;
	s->free_small = mm.split_free;
	s->split_chunks = mm.split_chunks + mm.nedge;
	s->used_small = sub_or_0(mm.split_pages - mm.split_free, s->cached_small);
	s->used_huge = sub_or_0(mm.buddy_used_chunks, s->cached_huge);
	mm_global_unlock();
	s->free_bytes = ((s->free_huge + s->cached_huge) << CHUNK_SHIFT) +
			((s->free_small + s->cached_small) << FRAME_SHIFT);
	s->used_bytes = (s->used_huge << CHUNK_SHIFT) + (s->used_small << FRAME_SHIFT);
	s->overhead_bytes = (s->split_chunks - mm.nedge) << FRAME_SHIFT;
	s->alloc_failures = __atomic_load_n(&mm.alloc_failures, __ATOMIC_RELAXED);
	s->bad_frees = __atomic_load_n(&mm.bad_frees, __ATOMIC_RELAXED);
}

/* ---- initialisation ---- */

/* The pages of a chunk that is only partly ours, gathered across ranges. */
struct edge_acc {
	uint64_t chunk;
	uint64_t free[CHUNK_WORDS];
	bool any;
};

static void edge_flush(struct edge_acc *a)
{
	unsigned int n = 0;

	for (unsigned int w = 0; w < CHUNK_WORDS; w++)
		n += mm_popcount(a->free[w]);
	if (n == CHUNK_PAGES)
		mm_buddy_insert(a->chunk, CHUNK_ORDER);
	else
		mm_split_add_edge(a->chunk, a->free);
	memset(a, 0, sizeof(*a));
}

/* Adds the pages [start, end), all in one chunk. */
static void add_part(struct edge_acc *a, uint64_t start, uint64_t end)
{
	uint64_t c = start >> CHUNK_SHIFT;

	if (a->any && a->chunk != c)
		edge_flush(a);
	a->chunk = c;
	a->any = true;
	for (uint64_t p = (start >> FRAME_SHIFT) % CHUNK_PAGES; start < end; p++, start += FRAME_SIZE)
		a->free[p / 64] |= 1ULL << (p % 64);
}

/* Whole chunks [c, end) as greedy maximal aligned blocks. */
static void add_chunks(uint64_t c, uint64_t end)
{
	while (c < end) {
		unsigned int k = CHUNK_ORDER;

		while (k < PAGE_ORDER_MAX && !(c & (chunks_of(k + 1) - 1)) && c + chunks_of(k + 1) <= end)
			k++;
		mm_buddy_insert(c, k);
		c += chunks_of(k);
	}
}

static void add_range(struct edge_acc *a, uint64_t start, uint64_t end)
{
	uint64_t lo, hi;

	start = MAX(start, FRAME_SIZE);         /* page 0: 0 means "no memory" */
	end = MIN(end, mm.nchunks << CHUNK_SHIFT);
	if (start >= end)
		return;
	lo = ALIGN_UP(start, CHUNK_SIZE);
	hi = ALIGN_DOWN(end, CHUNK_SIZE);
	if (lo > hi) {                          /* inside one chunk */
		add_part(a, start, end);
		return;
	}
	if (start < lo)
		add_part(a, start, lo);
	add_chunks(lo >> CHUNK_SHIFT, hi >> CHUNK_SHIFT);
	if (hi < end)
		add_part(a, hi, end);
}

void mm_init_ranges(uint8_t *meta, struct chunk_link *link, uint64_t nchunks,
		    const struct bootmem_range *ranges, unsigned int n)
{
	struct edge_acc a = { 0 };

	ASSERT(!mm.ready);              /* and all zero, as at boot (or mm_reset) */
	mm.meta = meta;
	mm.link = link;
	mm.nchunks = MIN(nchunks, (uint64_t)UINT32_MAX);   /* 8 PiB */
	for (unsigned int i = 0; i < n; i++)
		add_range(&a, ranges[i].start, ranges[i].end);
	if (a.any)
		edge_flush(&a);
	mm.ready = true;
}

uint64_t page_add_ram(uint64_t start, uint64_t end)
{
	uint64_t c = MAX(ALIGN_UP(start, CHUNK_SIZE) >> CHUNK_SHIFT, 1), added = 0;
	uint64_t hi = MIN(end >> CHUNK_SHIFT, mm.nchunks);      /* chunk 0: 0 is "none" */

	if (!mm.ready)
		return 0;
	mm_global_lock();
	for (; c < hi; c++) {
		if (meta_get(c) != CHUNK_NOT_RAM)
			continue;               /* ours already: leave it alone */
		mm_buddy_insert(c, CHUNK_ORDER);
		added += CHUNK_SIZE;
	}
	mm_global_unlock();
	return added;
}

void mm_reset(void)
{
	memset(&mm, 0, sizeof(mm));
	memset(pcpu, 0, sizeof(pcpu));
}

void mm_init(const struct boot_info *bi)
{
	struct bootmem_range free[BOOTMEM_FREE_MAX];
	uint64_t top = 0, meta_pa, link_pa, nchunks;
	unsigned int n;

	if (mm.ready) {
		printk("mm: mm_init called twice; ignored\n");
		return;
	}
	for (unsigned int i = 0; i < bi->nmem; i++) {
		if (bi->mem[i].type == BOOT_MEM_RAM)
			top = MAX(top, bi->mem[i].base + bi->mem[i].len);
	}
	nchunks = ALIGN_UP(top, CHUNK_SIZE) >> CHUNK_SHIFT;
	meta_pa = bootmem_alloc(nchunks, 64, ~0ULL);       /* zeroed: CHUNK_NOT_RAM */
	link_pa = bootmem_alloc_raw(nchunks * sizeof(struct chunk_link), 64, ~0ULL);
	if (!meta_pa || !link_pa)
		panic("mm: no memory for the frame allocator's metadata (%lu chunks)",
		      (unsigned long)nchunks);
	n = bootmem_handoff(free, ARRAY_SIZE(free));
	mm_init_ranges(mm_phys_to_virt(meta_pa), mm_phys_to_virt(link_pa), nchunks, free, n);
}
