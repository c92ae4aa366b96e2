/*
 * core/malloc_impl.h - private to the heap (core/malloc*.c) and its host
 * unit test.  malloc.c: the interface and the fast paths; malloc_slab.c:
 * slabs, refills, remote frees, spare slabs; malloc_large.c: large blocks,
 * the large-block map, statistics; malloc_port.c: the kernel's errno.
 *
 * Small blocks (up to 8 KiB) are objects of 32 size classes
 * (malloc_class_size below), carved from slabs: 64 KiB runs of pages
 * (page_alloc order 4), aligned to their size, with a header (struct slab)
 * at the start, so an object's slab is found by masking its address.  A
 * slab belongs to one CPU and one class.  Objects are aligned to the largest
 * power of two dividing their class's size (16 for 48, 64 for 192, 4096 for
 * 4096): aligned_alloc uses that.
 *
 * Each CPU has, per class, a pool: the slab it allocates from (cur), whose
 * free objects are checked out into the pool's own list (free), and a list
 * of its other slabs that have free objects (partial).  Only the CPU touches
 * its pools, with interrupts off, and no atomics: malloc pops from free; a
 * free of an object of the current slab pushes onto it; a free into another
 * of the CPU's slabs pushes onto that slab's freelist.  An object of another
 * CPU's slab is pushed onto that CPU's per-class remote stack (a CAS); the
 * owner takes the whole stack with one exchange when its list runs dry.
 * A slab that becomes empty goes to the CPU's spare slot (one slab, any
 * class) or back to the page allocator; any CPU short of memory empties
 * every spare slot (an exchange) before it gives up.
 *
 * Mapped blocks (MALLOC_MAP_MIN bytes and more, page-aligned or less) are
 * mappings of their own in the lower half (core/mm.h: vm_block_*), sized to
 * whole pages and populated at once: realloc grows, shrinks or moves them by
 * remapping their pages, never by copying (as glibc's and musl's mmap'd
 * chunks with mremap).  Where the VM cannot be used (before it is up, in a
 * thread that may not sleep) large requests get page runs instead.
 *
 * Other large blocks (more than 8 KiB, or aligned more than 8 KiB) are page
 * runs from page_alloc, returned as they are: page-aligned, aligned to
 * their size, no header.  Their order is in a side table, one byte per 4 KiB page
 * of RAM (the large-block map, two levels, allocated as it is needed), where
 * free finds it; the byte is cleared by an exchange, so a double free is
 * seen.
 *
 * free tells the kinds apart without trusting the block's own bytes.  A
 * page-aligned pointer is first looked up in the large-block map.  Else
 * the 64 KiB-aligned address below it holds a slab header (a magic word
 * that includes its own address, cleared when the slab is given up) only if
 * the pointer is in a live slab: slabs and page runs never overlap, and a
 * slab never starts with an object.  Anything else is reported as a bad
 * free.  (Looking in the map first keeps a free of a large block from
 * reading memory that is not the heap's, which another CPU may be writing.)
 *
 * A free object carries a marker (its address xor a constant) in its second
 * word; malloc clears it.  A free of an object that has it is a double free,
 * reported and ignored (two CPUs freeing the same object at the same moment
 * are not caught).
 *
 * Statistics: each pool counts the objects its CPU handed out and freed
 * (remote frees count where they were freed, so they are free at once);
 * objects in use per class are the sums' difference.
 */
#ifndef CORE_MALLOC_IMPL_H
#define CORE_MALLOC_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kernel.h"
#include "core/config.h"
#include "core/mm.h"

/* The fast paths' helpers: inlined even at -Os. */
#define HEAP_INLINE static inline __attribute__((always_inline))

/*
 * The port.  In the kernel the hooks on the fast paths are inline (cpu id,
 * interrupt flags, the direct-map test); a host test supplies them all.
 * malloc_pages_alloc/free may sleep: never called with interrupts off.
 * malloc_va_ok(va) says that va is in memory that page allocations come
 * from, mapped (reading it cannot fault); malloc_va_to_pa and
 * malloc_pa_limit index the large-block map.  malloc_map, malloc_remap,
 * malloc_map_size and malloc_unmap (bytes freed) are the mapped blocks'
 * (core/mm.h's vm_block_*: NULL or 0 when there is no such block or it
 * cannot be made).
 */
void malloc_set_errno(int err);                /* positive errno, for the caller */

#ifdef SKIFF_HOST_TEST
unsigned int malloc_cpu_id(void);
unsigned long malloc_irq_save(void);
void malloc_irq_restore(unsigned long flags);
bool malloc_va_ok(const void *va);
uint64_t malloc_va_to_pa(const void *va);
uint64_t malloc_pa_limit(void);
void *malloc_pages_alloc(unsigned int order);
void malloc_pages_free(void *va, unsigned int order);
void *malloc_map(size_t n);
void *malloc_remap(void *p, size_t n);
size_t malloc_map_size(const void *p);
size_t malloc_unmap(void *p);
#else
#include "core/arch.h"
#include "core/page_impl.h"

HEAP_INLINE unsigned int malloc_cpu_id(void) { return this_cpu()->id; }
HEAP_INLINE unsigned long malloc_irq_save(void) { return arch_irq_save(); }
HEAP_INLINE void malloc_irq_restore(unsigned long flags) { arch_irq_restore(flags); }
HEAP_INLINE uint64_t malloc_va_to_pa(const void *va) { return (uintptr_t)va - PHYS_MAP_BASE; }
HEAP_INLINE uint64_t malloc_pa_limit(void) { return mm.nchunks << CHUNK_SHIFT; }
HEAP_INLINE void *malloc_pages_alloc(unsigned int order) { return page_alloc_va(order); }
HEAP_INLINE void malloc_pages_free(void *va, unsigned int order) { page_free_va(va, order); }
HEAP_INLINE void *malloc_map(size_t n) { return vm_block_map(n); }
HEAP_INLINE void *malloc_remap(void *p, size_t n) { return vm_block_remap(p, n); }
HEAP_INLINE size_t malloc_map_size(const void *p) { return vm_block_size(p); }
HEAP_INLINE size_t malloc_unmap(void *p) { return vm_block_unmap(p); }

/* The direct map covers every 2 MiB chunk that holds RAM of ours. */
HEAP_INLINE bool malloc_va_ok(const void *va)
{
	uint64_t c = malloc_va_to_pa(va) >> CHUNK_SHIFT;

	return c < mm.nchunks && MM_LOAD(mm.meta[c]) != CHUNK_NOT_RAM;
}
#endif

#define HEAP_LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define HEAP_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define HEAP_INC(x)      HEAP_STORE(x, (x) + 1)     /* owner's counter, read by statistics */

#define NCLASS       MALLOC_NCLASSES
#define SMALL_MAX    8192                /* the largest class */
#define SLAB_SHIFT   16
#define SLAB_SIZE    (1UL << SLAB_SHIFT)
#define SLAB_ORDER   (SLAB_SHIFT - 12)   /* page_alloc order of a slab */
#define HEAP_PAGE    4096UL
#define SLAB_MAGIC   0x5ab1e0b1ec75ab1eULL
#define FREE_MARK    0xf7eeb10cdeadf7eeULL
#define MALLOC_MAP_MIN (128 * 1024)     /* mapped blocks from here (glibc's mmap threshold) */

/* A free object: next on its list, and the marker. */
struct obj {
	struct obj *next;
	uintptr_t mark;
};

HEAP_INLINE uintptr_t obj_mark(const struct obj *o) { return (uintptr_t)o ^ FREE_MARK; }

enum slab_state { SLAB_CUR, SLAB_PARTIAL, SLAB_FULL };

/* At the start of every slab. */
struct slab {
	uintptr_t magic;          /* SLAB_MAGIC ^ address while it serves a CPU, else 0; relaxed */
	uint16_t owner;           /* immutable while live: */
	uint8_t cls;
	uint8_t state;            /* owner, irqs off (enum slab_state) */
	uint32_t size;            /* immutable while live: object size, */
	uint32_t first;           /* offset of object 0, */
	uint32_t nobjs;           /* how many fit, */
	uint32_t recip;           /* ceil(2^32 / size): divides offsets */
	uint32_t carved;          /* objects made so far, in address order; owner writes, relaxed */
	/* The owner's, interrupts off: */
	uint32_t used;            /* objects not on freelist (not kept up while cur) */
	struct obj *freelist;     /* free objects (while cur: in the pool's list) */
	struct slab *next, *prev; /* the pool's partial list */
};

/* One CPU's objects of one class: that CPU only, interrupts off. */
struct pool {
	struct obj *free;         /* the current slab's free objects */
	struct slab *cur;         /* the slab carved and allocated from; NULL: none */
	uint64_t nmalloc, nfree;  /* objects handed out / freed here; HEAP_INC */
};

struct heap_cpu {
	struct pool pool[NCLASS];
	struct slab *partial[NCLASS];       /* slabs with free objects, not cur */
	uint64_t nslabs[NCLASS];            /* slabs owned; HEAP_INC / HEAP_STORE */
	struct slab *spare;                 /* an empty slab: exchange only */
	uint64_t large_nalloc, large_nfree; /* large blocks handed out / freed here */
	uint64_t large_balloc, large_bfree; /* their bytes */
} __attribute__((aligned(64)));

/* The remote-free stacks of one CPU: pushed by any CPU (CAS), taken whole
 * by the owner (exchange). */
struct heap_remote {
	struct obj *head[NCLASS];
} __attribute__((aligned(64)));

extern struct heap_cpu malloc_cpus[CONFIG_MAX_CPUS];
extern struct heap_remote malloc_remote[CONFIG_MAX_CPUS];
extern const uint32_t malloc_class_size[NCLASS];
extern uint64_t malloc_alloc_failures, malloc_bad_frees;   /* atomic */

/* The class of a request of n bytes, n <= SMALL_MAX: 16-byte steps to 128,
 * then four steps per doubling. */
HEAP_INLINE unsigned int size_class(size_t n)
{
	unsigned int e;

	if (n <= 128)
		return n ? (n - 1) >> 4 : 0;
	e = 63 - __builtin_clzl(n - 1);
	return 8 + (e - 7) * 4 + (((n - 1) >> (e - 2)) & 3);
}

/* A slab's geometry for a class of that size: objects start at `first`,
 * aligned to the largest power of two dividing the size. */
static inline uint32_t class_first(uint32_t size)
{
	return ALIGN_UP((uint32_t)sizeof(struct slab), size & -size);
}

static inline uint32_t class_nobjs(uint32_t size)
{
	return (SLAB_SIZE - class_first(size)) / size;
}

HEAP_INLINE struct slab *slab_of(const void *p)
{
	return (struct slab *)((uintptr_t)p & ~(SLAB_SIZE - 1));
}

HEAP_INLINE bool slab_live(const struct slab *s)
{
	return HEAP_LOAD(s->magic) == (SLAB_MAGIC ^ (uintptr_t)s);
}

/* p (in slab s) is the start of one of the objects the slab has made so
 * far (free or not: the marker tells). */
HEAP_INLINE bool slab_object_ok(const struct slab *s, const void *p)
{
	uint32_t off = (uintptr_t)p - (uintptr_t)s, rel, idx;

	if (off < s->first)
		return false;
	rel = off - s->first;
	idx = ((uint64_t)rel * s->recip) >> 32;
	return idx * s->size == rel && idx < HEAP_LOAD(s->carved);
}

/* malloc.c */
void malloc_report_bad(const char *fn, const void *p, const char *why);

/* malloc_slab.c: the slow paths of small blocks. */
void *malloc_small_slow(unsigned int cls);      /* irqs on; NULL: no memory */
struct slab *malloc_free_other(struct slab *s, struct obj *o);  /* irqs off */
void malloc_remote_push(const struct slab *s, struct obj *o);
void malloc_slab_dispose(struct slab *s);       /* irqs on: spare or page allocator */
void *malloc_pages_alloc_retry(unsigned int order);   /* empties spare slots if needed */

/* malloc_large.c */
void *malloc_large_alloc(size_t n, size_t align);   /* align: power of two or 0 */
bool malloc_large_free(void *p);                     /* false: not a large block */
size_t malloc_large_size(const void *p);            /* 0: not a large block */
/* p (a block of old usable bytes) resized to n by remapping, when p is a
 * mapped block and n is large enough for one; else NULL, p unchanged. */
void *malloc_large_remap(void *p, size_t old, size_t n);

/* For host tests: forgets everything, as at boot (memory is not given back). */
void malloc_reset(void);

#endif
