/*
 * core/page_check.c - the frame allocator's invariants, verified by walking
 * all of its metadata (for tests and debugging; see core/page_impl.h):
 * every block aligned and marked, no two free buddies left unmerged, the
 * free lists and the partly-free list exactly the blocks and chunks the
 * metadata says, the counters the sums of what they count.
 */
#include "core/kernel.h"
#include "core/mm.h"
#include "core/page_impl.h"

#define FAIL(msg) do { *why = (msg); return -EINVAL; } while (0)

static uint8_t meta_get(uint64_t c) { return MM_LOAD(mm.meta[c]); }
static uint64_t chunks_of(unsigned int order) { return 1ULL << (order - CHUNK_ORDER); }

static bool in_page_0(uint64_t c, const struct split_desc *d)
{
	return d == mm_phys_to_virt(c << CHUNK_SHIFT) && (d->reserved[0] & 1);
}

/* ---- the buddy allocator ---- */

/* A block at chunk c with metadata m: aligned, tail marked, buddy merged. */
static int check_block(uint64_t c, uint8_t m, const char **why)
{
	unsigned int k = CHUNK_ORDER_OF(m);
	uint64_t n = chunks_of(k);

	if (k > PAGE_ORDER_MAX || (c & (n - 1)) || c + n > mm.nchunks)
		FAIL("a block with a bad order, misaligned or past the end");
	for (uint64_t i = 1; i < n; i++) {
		if (meta_get(c + i) != CHUNK_INSIDE)
			FAIL("a block's later chunk is not marked inside");
	}
	if (CHUNK_IS_FREE(m) && k < PAGE_ORDER_MAX && (c ^ n) < mm.nchunks &&
	    meta_get(c ^ n) == m)
		FAIL("two free buddies not merged");
	return 0;
}

static int check_lists(const uint64_t *nfree, const char **why)
{
	for (unsigned int k = CHUNK_ORDER; k <= PAGE_ORDER_MAX; k++) {
		uint64_t prev = 0, count = 0, i = k - CHUNK_ORDER;

		for (uint64_t c = mm.free_list[i]; c; prev = c, c = mm.link[c].next) {
			if (++count > nfree[i] || c >= mm.nchunks || meta_get(c) != CHUNK_FREE(k))
				FAIL("a free list holds a block that is not free at that order");
			if (mm.link[c].prev != prev)
				FAIL("a free list's back link is wrong");
		}
		if (count != nfree[i] || count != mm.nfree_blocks[i])
			FAIL("a free list's length disagrees with the metadata");
	}
	return 0;
}

static int check_buddy(const char **why)
{
	uint64_t nfree[NBUDDY] = { 0 }, free_chunks = 0, used_chunks = 0, c = 0;
	int err;

	while (c < mm.nchunks) {
		uint8_t m = meta_get(c);

		if (CHUNK_IS_FREE(m) || CHUNK_IS_ALLOC(m)) {
			if ((err = check_block(c, m, why)))
				return err;
			if (CHUNK_IS_FREE(m)) {
				nfree[CHUNK_ORDER_OF(m) - CHUNK_ORDER]++;
				free_chunks += chunks_of(CHUNK_ORDER_OF(m));
			} else {
				used_chunks += chunks_of(CHUNK_ORDER_OF(m));
			}
			c += chunks_of(CHUNK_ORDER_OF(m));
			continue;
		}
		if (m == CHUNK_INSIDE)
			FAIL("a chunk marked inside belongs to no block");
		if (m != CHUNK_NOT_RAM && !CHUNK_IS_SPLIT(m))
			FAIL("a metadata byte with an unknown value");
		c++;
	}
	if (free_chunks != mm.buddy_free_chunks || used_chunks != mm.buddy_used_chunks)
		FAIL("the buddy counters disagree with the metadata");
	return check_lists(nfree, why);
}

/* ---- split chunks ---- */

static int check_desc(uint64_t c, const struct split_desc *d, const char **why)
{
	unsigned int nfree = 0, usable = 0;

	if (d->chunk != c)
		FAIL("a split chunk's descriptor names another chunk");
	if (!mm_split_is_edge(d) && !in_page_0(c, d))
		FAIL("a split chunk's descriptor is not in its reserved page 0");
	for (unsigned int w = 0; w < CHUNK_WORDS; w++) {
		if (d->free[w] & d->reserved[w])
			FAIL("a reserved page is marked free");
		nfree += mm_popcount(d->free[w]);
		usable += mm_popcount(~d->reserved[w]);
	}
	if (nfree != d->nfree || usable != d->npages)
		FAIL("a split chunk's counts disagree with its bitmaps");
	if (!mm_split_is_edge(d) && nfree == usable)
		FAIL("an entirely free split chunk was not given back");
	return 0;
}

static int check_partial_list(uint64_t expect, const char **why)
{
	const struct split_desc *prev = NULL;
	uint64_t n = 0;

	for (const struct split_desc *d = mm.partial; d; prev = d, d = d->next) {
		if (++n > expect || d->chunk >= mm.nchunks || !d->nfree ||
		    mm_split_desc(d->chunk, meta_get(d->chunk)) != d)
			FAIL("the partly-free list holds a chunk that is not partly free");
		if (d->prev != prev)
			FAIL("the partly-free list's back link is wrong");
	}
	if (n != expect)
		FAIL("a partly-free chunk is missing from its list");
	return 0;
}

static int check_split(const char **why)
{
	uint64_t chunks = 0, pages = 0, nfree = 0, partial = 0;
	int err;

	for (uint64_t c = 0; c < mm.nchunks; c++) {
		uint8_t m = meta_get(c);
		const struct split_desc *d;

		if (!CHUNK_IS_SPLIT(m))
			continue;
		if (!(d = mm_split_desc(c, m)) || (m == CHUNK_SPLIT_EDGE) != mm_split_is_edge(d))
			FAIL("a split chunk without a descriptor");
		if ((err = check_desc(c, d, why)))
			return err;
		chunks += !mm_split_is_edge(d);
		pages += d->npages;
		nfree += d->nfree;
		partial += d->nfree != 0;
	}
	if (chunks != mm.split_chunks || pages != mm.split_pages || nfree != mm.split_free)
		FAIL("the split-chunk counters disagree with the descriptors");
	return check_partial_list(partial, why);
}

/* ---- the interface ---- */

int mm_check(void)
{
	const char *why = NULL;
	int err;

	mm_global_lock();
	err = check_buddy(&why);
	if (!err)
		err = check_split(&why);
	mm_global_unlock();
	if (err)
		printk("mm: check failed: %s\n", why);
	return err;
}

void mm_for_each_free_block(void (*fn)(uint64_t pa, unsigned int order, void *arg), void *arg)
{
	mm_global_lock();
	for (uint64_t c = 0; c < mm.nchunks; c++) {
		uint8_t m = meta_get(c);

		if (CHUNK_IS_FREE(m))
			fn(c << CHUNK_SHIFT, CHUNK_ORDER_OF(m), arg);
	}
	mm_global_unlock();
}
