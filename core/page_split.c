/*
 * core/page_split.c - orders 0..8: 2 MiB chunks split into 4 KiB frames
 * (design and locking: core/page_impl.h).  The global lock is held unless
 * a function says otherwise.
 *
 * A split chunk's descriptor holds a bitmap of its free pages.  An
 * allocation takes the first aligned run of 2^order free pages in the first
 * partly-free chunk that has one: it looks at SCAN_FIRST chunks, then splits
 * a fresh chunk, and looks at all the others only when the buddy allocator
 * has none (so the time under the lock stays short, and an allocation fails
 * only when no chunk has the run).  A chunk whose pages are all free again
 * goes back to the buddy allocator.
 *
 * The descriptor sits in the chunk's page 0.  A chunk that is only partly
 * ours (at the edge of a RAM range, or next to what bootmem used) has a
 * static one in mm.edge, its pages that are not ours marked reserved: it
 * hands out every page that is ours, and never goes to the buddy allocator.
 */
#include "core/kernel.h"
#include "core/mm.h"
#include "core/page_impl.h"

#define SCAN_FIRST 16

struct split_desc *mm_split_desc(uint64_t c, uint8_t m)
{
	unsigned int lo = 0, hi = mm.nedge;

	if (m == CHUNK_SPLIT)
		return mm_phys_to_virt(c << CHUNK_SHIFT);
	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;
		if (mm.edge[mid].chunk < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < mm.nedge && mm.edge[lo].chunk == c ? &mm.edge[lo] : NULL;
}

/* The descriptor of the split chunk holding pa; NULL if none.  No lock. */
static struct split_desc *desc_of_frame(uint64_t pa)
{
	uint64_t c = pa >> CHUNK_SHIFT;
	uint8_t m;

	if (c >= mm.nchunks || !CHUNK_IS_SPLIT(m = MM_LOAD(mm.meta[c])))
		return NULL;
	return mm_split_desc(c, m);
}

/* ---- the list of partly-free chunks (newest first) ---- */

static void partial_insert(struct split_desc *d)
{
	d->prev = NULL;
	d->next = mm.partial;
	if (mm.partial)
		mm.partial->prev = d;
	mm.partial = d;
}

static void partial_remove(struct split_desc *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		mm.partial = d->next;
	if (d->next)
		d->next->prev = d->prev;
}

/* ---- runs of 2^order pages in a bitmap ---- */

/* For runs shorter than a word: the bits where an aligned run may start. */
static const uint64_t run_starts[6] = {
	~0ULL, 0x5555555555555555ULL, 0x1111111111111111ULL,
	0x0101010101010101ULL, 0x0001000100010001ULL, 0x0000000100000001ULL,
};

static unsigned int run_words(unsigned int order)
{
	return order >= 6 ? 1u << (order - 6) : 1;
}

/* The run's bits in each of its words (page i, aligned). */
static uint64_t run_mask(unsigned int i, unsigned int order)
{
	return order >= 6 ? ~0ULL : ((1ULL << (1u << order)) - 1) << (i % 64);
}

/* The first page of an aligned run of free pages, or -1. */
static int find_run(const uint64_t *free, unsigned int order)
{
	unsigned int n = run_words(order);

	for (unsigned int w = 0; w < CHUNK_WORDS; w += n) {
		uint64_t m = free[w];

		if (order >= 6) {
			unsigned int j = 0;
			while (j < n && free[w + j] == ~0ULL)
				j++;
			if (j == n)
				return w * 64;
			continue;
		}
		for (unsigned int s = 1; s < (1u << order); s <<= 1)
			m &= m >> s;          /* bit i: pages i .. i+2s-1 free */
		m &= run_starts[order];
		if (m)
			return w * 64 + __builtin_ctzll(m);
	}
	return -1;
}

static void run_set(uint64_t *bits, unsigned int i, unsigned int order, bool on)
{
	uint64_t m = run_mask(i, order);

	for (unsigned int w = i / 64; w < i / 64 + run_words(order); w++)
		MM_STORE(bits[w], on ? bits[w] | m : bits[w] & ~m);
}

/* No lock needed when the caller owns the run (true only if it does). */
static bool run_allocated(const struct split_desc *d, unsigned int i, unsigned int order)
{
	uint64_t m = run_mask(i, order);

	for (unsigned int w = i / 64; w < i / 64 + run_words(order); w++) {
		if ((MM_LOAD(d->free[w]) | MM_LOAD(d->reserved[w])) & m)
			return false;
	}
	return true;
}

/* ---- allocating and freeing ---- */

static uint64_t alloc_from(struct split_desc *d, unsigned int order)
{
	unsigned int run = 1u << order;
	int i;

	if (d->nfree < run || (i = find_run(d->free, order)) < 0)
		return 0;
	run_set(d->free, i, order, false);
	d->nfree -= run;
	mm.split_free -= run;
	if (!d->nfree)
		partial_remove(d);
	return (d->chunk << CHUNK_SHIFT) + ((uint64_t)i << FRAME_SHIFT);
}

/* Takes a chunk from the buddy allocator and splits it. */
static struct split_desc *split_fresh_chunk(void)
{
	uint64_t pa = mm_buddy_alloc(CHUNK_ORDER);
	struct split_desc *d;

	if (!pa)
		return NULL;
	mm.buddy_used_chunks--;         /* split, not handed out */
	d = mm_phys_to_virt(pa);
	for (unsigned int w = 0; w < CHUNK_WORDS; w++) {
		MM_STORE(d->free[w], w ? ~0ULL : ~1ULL);
		MM_STORE(d->reserved[w], w ? 0 : 1ULL);
	}
	d->chunk = pa >> CHUNK_SHIFT;
	d->nfree = d->npages = CHUNK_PAGES - 1;
	mm.split_chunks++;
	mm.split_pages += d->npages;
	mm.split_free += d->nfree;
	MM_STORE(mm.meta[d->chunk], CHUNK_SPLIT);
	partial_insert(d);
	return d;
}

/* All its pages free again: back to the buddy allocator. */
static void split_return_chunk(struct split_desc *d)
{
	uint64_t pa = d->chunk << CHUNK_SHIFT;

	partial_remove(d);
	mm.split_chunks--;
	mm.split_pages -= d->npages;
	mm.split_free -= d->nfree;
	MM_STORE(mm.meta[d->chunk], CHUNK_ALLOC(CHUNK_ORDER));
	mm.buddy_used_chunks++;
	mm_buddy_free(pa, CHUNK_ORDER);
}

uint64_t mm_split_alloc(unsigned int order)
{
	struct split_desc *d = mm.partial, *fresh;
	uint64_t pa;

	for (unsigned int n = 0; d && n < SCAN_FIRST; n++, d = d->next) {
		if ((pa = alloc_from(d, order)))
			return pa;
	}
	if ((fresh = split_fresh_chunk()))
		return alloc_from(fresh, order);
	for (; d; d = d->next) {
		if ((pa = alloc_from(d, order)))
			return pa;
	}
	return 0;
}

int mm_split_free(uint64_t pa, unsigned int order)
{
	unsigned int i = (pa >> FRAME_SHIFT) % CHUNK_PAGES, run = 1u << order;
	struct split_desc *d = desc_of_frame(pa);

	if (!d || (pa & ((FRAME_SIZE << order) - 1)) || !run_allocated(d, i, order))
		return -EINVAL;
	run_set(d->free, i, order, true);
	if (!d->nfree)
		partial_insert(d);
	d->nfree += run;
	mm.split_free += run;
	if (d->nfree == d->npages && !mm_split_is_edge(d))
		split_return_chunk(d);
	return 0;
}

bool mm_split_frame_allocated(uint64_t pa)
{
	struct split_desc *d = desc_of_frame(pa);

	return d && run_allocated(d, (pa >> FRAME_SHIFT) % CHUNK_PAGES, 0);
}

/* Initialisation: chunk c, of which the pages in free[] are ours (not all;
 * chunks come in increasing order). */
void mm_split_add_edge(uint64_t c, const uint64_t free[CHUNK_WORDS])
{
	struct split_desc *d;

	if (mm.nedge == MM_EDGE_MAX)
		return;                 /* the table is full: these pages stay unused */
	ASSERT(mm.nedge == 0 || mm.edge[mm.nedge - 1].chunk < c);
	d = &mm.edge[mm.nedge++];
	d->npages = 0;
	for (unsigned int w = 0; w < CHUNK_WORDS; w++) {
		MM_STORE(d->free[w], free[w]);
		MM_STORE(d->reserved[w], ~free[w]);
		d->npages += mm_popcount(free[w]);
	}
	d->chunk = c;
	d->nfree = d->npages;
	mm.total_pages += d->npages;
	mm.split_pages += d->npages;
	mm.split_free += d->nfree;
	MM_STORE(mm.meta[c], CHUNK_SPLIT_EDGE);
	partial_insert(d);
}
