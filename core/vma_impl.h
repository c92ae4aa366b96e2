/*
 * core/vma_impl.h - the mapping set of the application's address space:
 * which ranges of the lower half are mapped, with what protection and flags.
 * Private to the memory subsystem (the mmap layer calls it) and its host
 * unit test.  Pure data-structure logic: nothing here touches page tables.
 *
 * Interface:
 *   vma_set_init(s, lo, hi) makes an empty set managing [lo, hi) (rounded
 *   inward to pages; page 0 is never managed); then the caller sets the
 *   hooks s->alloc and s->free (and optionally s->split) and keeps them.
 *   vma_map / vma_unmap / vma_protect / vma_resize are mmap, munmap,
 *   mprotect and mremap on the records, with Linux's argument checks and
 *   errors; vma_find / vma_find_near look an address up; vma_first /
 *   vma_next walk the records in address order.  vma_set_destroy frees
 *   every record.
 *
 * The caller's contract (page tables):
 *   The caller serializes every call on a set (one lock over the set and the
 *   page tables of its range).  Each changing call validates everything and
 *   allocates what it needs first: when it fails, nothing has changed and
 *   the page tables must not be touched.  When it returns 0, the caller
 *   applies exactly these page-table changes, still under its lock (lengths
 *   rounded up to whole pages):
 *     vma_map       [*out_start, +len): drop whatever was mapped there (a
 *                   fixed map replaces), then map new pages (or on fault).
 *     vma_unmap     [start, +len): drop the pages.
 *     vma_protect   [start, +len): set the protection to prot.
 *     vma_resize    shrink: drop [old_start+new_len, old_start+old_len).
 *                   grow in place: [old_start+old_len, old_start+new_len)
 *                   is new.  moved (*new_start != old_start): move the
 *                   pages of [old_start, +old_len) to [*new_start, +old_len);
 *                   [*new_start+old_len, *new_start+new_len) is new.
 *   Splitting and merging records never changes what a page maps.
 *
 * Records and merging:
 *   A record (struct vma) is [start, end) with one prot, flags, owner and
 *   offset.  Splitting a record copies owner and advances offset (the file
 *   offset of the piece's first page), then calls s->split(piece) if set, so
 *   a caller that counts references on owner per record can take one;
 *   s->free(v) is called for every record the set drops (fields intact, so
 *   it can drop that reference) and for unused pre-allocated ones (zeroed).
 *   Only private anonymous records (flags has MAP_ANONYMOUS and type
 *   MAP_PRIVATE, owner NULL) with equal prot and flags are merged, and they
 *   always are when they touch: the set never holds two such records side
 *   by side.  Every other record is exactly the range it was mapped with
 *   (less what was unmapped or split off, as mremap left it), so after
 *   vma_map of a file or shared mapping the caller may find it with
 *   vma_find(s, *out_start) and set owner and offset.  The caller never
 *   changes start, end, prot or flags of a record itself, and gives vma_map
 *   only the flags that describe the mapping (not MAP_FIXED,
 *   MAP_FIXED_NOREPLACE or MAP_POPULATE): they are compared for merging.
 *
 * Allocation: a split needs new records, so every call that may split
 * allocates the at most two it needs through s->alloc before it changes
 * anything, and fails with -ENOMEM if it cannot.
 *
 * Complexity: records are in a red-black tree keyed by start (the
 * scheduler's, core/rbtree.h): find, insert and remove O(log n).  A
 * call that covers k records costs O((k + 1) log n).  Finding a free gap
 * (a mapping without a fixed address) walks the records from the hint up:
 * O(log n + k) for the k records it passes; a per-subtree largest-gap
 * annotation would make it O(log n) but needs rotation hooks in
 * core/rbtree.c.
 */
#ifndef CORE_VMA_IMPL_H
#define CORE_VMA_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/rbtree.h"

#define VMA_PAGE_SIZE   4096ULL

/* Linux's values: the set stores prot and flags as given. */
#define VMA_PROT_READ        0x1
#define VMA_PROT_WRITE       0x2
#define VMA_PROT_EXEC        0x4
#define VMA_MAP_SHARED       0x01
#define VMA_MAP_PRIVATE      0x02
#define VMA_MAP_TYPE         0x0f      /* the bits saying shared or private */
#define VMA_MAP_ANONYMOUS    0x20
#define VMA_MAP_NORESERVE    0x4000
#define VMA_MAP_STACK        0x20000
#define VMA_MAP_HUGETLB      0x40000

struct vma {
	uint64_t start, end;            /* [start, end), page aligned */
	uint32_t prot;                  /* VMA_PROT_* */
	uint32_t flags;                 /* VMA_MAP_*, as given to vma_map */
	void *owner;                    /* the caller's (a file, ...); NULL */
	uint64_t offset;                /* file offset of start, for owner */
	struct rbtree_node node;        /* in the set's tree, key == start */
};

struct vma_set {
	struct rbtree tree;             /* the records, by start; count inside */
	uint64_t lo, hi;                /* the managed area [lo, hi) */
	struct vma *(*alloc)(void);     /* a record's memory, or NULL */
	void (*free)(struct vma *v);    /* gives it back */
	void (*split)(struct vma *piece);       /* optional: see above */
	struct vma *reserve[2];         /* vma_reserve's: taken before s->alloc */
	unsigned int nreserve;
};

void vma_set_init(struct vma_set *s, uint64_t lo, uint64_t hi);

/* Drops every record (through s->free): the set is empty, still usable. */
void vma_set_destroy(struct vma_set *s);

/* Sets aside up to n (at most 2) records, through s->alloc, for the next
 * calls to take before they allocate: 0, or -ENOMEM with nothing changed.
 * A caller that must change page tables before the records (munmap takes
 * pages down, then the records) reserves first, so that the record change
 * cannot fail after the pages did. */
int vma_reserve(struct vma_set *s, unsigned int n);

static inline unsigned int vma_count(const struct vma_set *s)
{
	return rbtree_count(&s->tree);
}

/* The record containing addr, or NULL. */
struct vma *vma_find(const struct vma_set *s, uint64_t addr);

/* The record containing addr, else the nearest one below or above, or NULL
 * when the set is empty: for fault reports. */
struct vma *vma_find_near(const struct vma_set *s, uint64_t addr);

/* The records in address order. */
struct vma *vma_first(const struct vma_set *s);
struct vma *vma_next(const struct vma *v);

/*
 * The lowest free range of len (rounded up to pages) aligned to align (a
 * power of two, at least a page) at or above hint, or, when there is none
 * there, anywhere: 0 and *out, or -ENOMEM (-EINVAL for a bad len or
 * align).  Changes nothing: for a caller that wants an alignment vma_map
 * does not give (huge pages), before vma_map(fixed, noreplace).
 */
int vma_find_gap(const struct vma_set *s, uint64_t hint, uint64_t len,
		 uint64_t align, uint64_t *out);

/*
 * mmap.  Without fixed: the lowest free range of len at or above the hint
 * start (rounded up to a page; 0 or a hint with no room: anywhere).  With
 * fixed: exactly [start, start+len), replacing what overlaps, or -EEXIST
 * if something does and noreplace.  *out_start is the range's start.
 * -EINVAL: len 0, fixed start not page aligned or [start, start+len) not
 * within [lo, hi); -ENOMEM: no free range, or no memory for records.
 */
int vma_map(struct vma_set *s, uint64_t start, uint64_t len, uint32_t prot,
	    uint32_t flags, bool fixed, bool noreplace, uint64_t *out_start);

/* munmap: unmapping where nothing is mapped is no error.  -EINVAL: start
 * not page aligned, len 0, or the range not within [lo, hi); -ENOMEM. */
int vma_unmap(struct vma_set *s, uint64_t start, uint64_t len);

/* mprotect: -EINVAL if start is not page aligned; -ENOMEM if any page of
 * the range is not mapped (nothing is changed) or no memory; len 0: 0. */
int vma_protect(struct vma_set *s, uint64_t start, uint64_t len, uint32_t prot);

/*
 * mremap (without MREMAP_FIXED).  [old_start, +old_len) must lie within one
 * record (-EFAULT).  Shrinking trims in place; growing extends the record in
 * place if the range ends where the record does and the space after it is
 * free, else, if may_move, moves the range to the lowest free range of
 * new_len (-ENOMEM if none, or if it cannot grow and !may_move).
 * *new_start is where the range is now.  -EINVAL: old_start not page
 * aligned, old_len or new_len 0.
 */
int vma_resize(struct vma_set *s, uint64_t old_start, uint64_t old_len,
	       uint64_t new_len, bool may_move, uint64_t *new_start);

#ifdef SKIFF_HOST_TEST
/* Host tests only: NULL if every invariant holds, else the first broken. */
const char *vma_check(const struct vma_set *s);
#endif

#endif
