/*
 * core/page_impl.h - private to the physical frame allocator and its host
 * unit test.  page.c: the buddy allocator, the CPU caches, the interface;
 * page_split.c: split chunks; page_check.c: the invariants; page_port.c:
 * the kernel's side of the port.
 *
 * Memory is managed in 2 MiB chunks.  A buddy allocator over chunks serves
 * orders 9..18: one metadata byte per chunk says what the chunk is, and the
 * free lists are linked through a side table of chunk numbers.  Orders 0..8
 * come from split chunks, whose descriptor (a free bitmap) sits in their
 * own page 0.  Each CPU caches 4 KiB and 2 MiB frames in front of both.
 *
 * Nothing here writes into free memory: the first write to a 2 MiB region
 * of a fresh VM is what makes the host commit it (measured under QEMU at
 * 0.25 ms or more each), so free blocks stay untouched until handed out,
 * and initialisation writes only the metadata byte array.  A split chunk's
 * descriptor is written when the chunk is about to be used anyway.
 *
 * Locking: everything in struct mm_global and in split descriptors is
 * written under the global lock (mm_global_lock).  Metadata bytes and the
 * descriptors' bitmaps are also read without it, to check a free on the fast
 * path, so they are accessed with relaxed atomics (MM_LOAD / MM_STORE).
 */
#ifndef CORE_PAGE_IMPL_H
#define CORE_PAGE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bootmem.h"

/*
 * The port: the kernel's implementation is core/page_port.c; a host test
 * supplies its own.  mm_global_lock() may sleep: the allocator never calls
 * it with interrupts disabled (between mm_irq_save and mm_irq_restore).
 */
void *mm_phys_to_virt(uint64_t pa);
uint64_t mm_virt_to_phys(const void *va);
unsigned int mm_cpu_id(void);                /* dense, < CONFIG_MAX_CPUS */
unsigned long mm_irq_save(void);             /* local interrupts off */
void mm_irq_restore(unsigned long flags);
void mm_global_lock(void);
void mm_global_unlock(void);
/* Memory pressure (the kernel: core/shrink.c): an allocation of `order`
 * found nothing (true: something was released, try again); free memory is
 * low (wake the background shrinking). */
bool mm_out_of_memory(unsigned int order);
void mm_memory_low(void);

#define MM_LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define MM_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* (The kernel has no libgcc, so no __builtin_popcountll without -mpopcnt.) */
static inline unsigned int mm_popcount(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

#define FRAME_SHIFT    12
#define FRAME_SIZE     (1ULL << FRAME_SHIFT)
#define CHUNK_SHIFT    21
#define CHUNK_SIZE     (1ULL << CHUNK_SHIFT)
#define CHUNK_PAGES    512
#define CHUNK_WORDS    (CHUNK_PAGES / 64)
#define CHUNK_ORDER    9                      /* PAGE_ORDER_2M */
#define NBUDDY         (18 - CHUNK_ORDER + 1) /* orders 9..18 */

/* The metadata byte of a chunk. */
#define CHUNK_NOT_RAM     0x00   /* not ours: hole, reserved, lost edge */
#define CHUNK_INSIDE      0x01   /* a later chunk of a multi-chunk block */
#define CHUNK_SPLIT       0x02   /* split; descriptor in the chunk's page 0 */
#define CHUNK_SPLIT_EDGE  0x03   /* split; descriptor elsewhere (mm.edge) */
#define CHUNK_FREE(k)     (0x40 | ((k) - CHUNK_ORDER))  /* head of a free block */
#define CHUNK_ALLOC(k)    (0x80 | ((k) - CHUNK_ORDER))  /* head of an allocated one */
#define CHUNK_IS_FREE(m)  (((m) & 0xc0) == 0x40)
#define CHUNK_IS_ALLOC(m) (((m) & 0xc0) == 0x80)
#define CHUNK_IS_SPLIT(m) ((m) == CHUNK_SPLIT || (m) == CHUNK_SPLIT_EDGE)
#define CHUNK_ORDER_OF(m) (((m) & 0x1f) + CHUNK_ORDER)

/* The free-list links of a free block's head chunk (chunk numbers; 0 =
 * none: chunk 0 is never a whole free chunk, physical page 0 is not ours).
 * Entries of other chunks are undefined: the table is never initialised. */
struct chunk_link {
	uint32_t next, prev;
};

/* A split chunk's descriptor: in its page 0, or in mm.edge for a chunk of
 * which only some pages are ours. */
struct split_desc {
	uint64_t free[CHUNK_WORDS];     /* bit i: page i is free */
	uint64_t reserved[CHUNK_WORDS]; /* bit i: page i is never handed out */
	struct split_desc *next, *prev; /* the partly-free list */
	uint64_t chunk;                 /* its chunk number */
	uint32_t nfree;                 /* popcount of free[] */
	uint32_t npages;                /* pages it can hand out at all */
};

#define MM_EDGE_MAX 64

struct mm_global {                         /* the global lock, except as noted */
	uint8_t *meta;                     /* [nchunks]; see MM_LOAD above */
	struct chunk_link *link;           /* [nchunks] */
	uint64_t nchunks;
	uint32_t free_list[NBUDDY];        /* first free block of order 9+i */
	uint64_t nfree_blocks[NBUDDY];
	uint64_t buddy_free_chunks;        /* chunks in free blocks */
	uint64_t buddy_used_chunks;        /* chunks in blocks handed out */
	struct split_desc *partial;        /* partly-free split chunks, newest first */
	uint64_t split_chunks;             /* split at run time: page 0 is overhead */
	uint64_t split_pages;              /* pages split chunks can hand out */
	uint64_t split_free;               /* of which free */
	uint64_t total_pages;              /* set by init */
	struct split_desc edge[MM_EDGE_MAX];  /* set by init, sorted by chunk */
	unsigned int nedge;                /* read-only after init */
	uint64_t alloc_failures;           /* atomic */
	uint64_t bad_frees;                /* atomic */
	bool ready;
};

extern struct mm_global mm;

/* Initialisation for the kernel (mm_init) and host tests alike: meta has
 * nchunks zeroed bytes covering every range, link room for nchunks entries
 * (any contents); ranges are sorted, disjoint and page-aligned.  The
 * allocator's state must be as at boot: all zero. */
void mm_init_ranges(uint8_t *meta, struct chunk_link *link, uint64_t nchunks,
		    const struct bootmem_range *ranges, unsigned int n);

/* For host tests: forgets everything (the state as at boot), per-CPU caches
 * included, so that the allocator can be initialised again. */
void mm_reset(void);

/* page.c: the buddy allocator over chunks; global lock held. */
uint64_t mm_buddy_alloc(unsigned int order);
int mm_buddy_free(uint64_t pa, unsigned int order);       /* -EINVAL: not allocated */
void mm_buddy_insert(uint64_t chunk, unsigned int order); /* init only */

/* page_split.c: split chunks; global lock held unless noted. */
uint64_t mm_split_alloc(unsigned int order);
int mm_split_free(uint64_t pa, unsigned int order);       /* -EINVAL: not allocated */
bool mm_split_frame_allocated(uint64_t pa);               /* no lock: order 0 check */
void mm_split_add_edge(uint64_t chunk, const uint64_t free[CHUNK_WORDS]);  /* init only */
struct split_desc *mm_split_desc(uint64_t chunk, uint8_t meta);  /* no lock; NULL: none */

static inline bool mm_split_is_edge(const struct split_desc *d)
{
	return d >= mm.edge && d < mm.edge + mm.nedge;
}

/* For host tests: calls fn for every free buddy block, in address order. */
void mm_for_each_free_block(void (*fn)(uint64_t pa, unsigned int order, void *arg), void *arg);

#endif
