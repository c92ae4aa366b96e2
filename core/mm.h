/*
 * core/mm.h - memory management: the one public header of the memory
 * subsystem.
 *
 * Interface:
 *   Physical frames.  mm_init(bi) takes over, once, all usable RAM that the
 *   boot allocator (core/bootmem.h) has neither handed out nor reserved; it
 *   runs after paging_init() (split chunks are reached through the direct
 *   map) and before anything allocates concurrently (from then on
 *   bootmem_alloc forwards here).  page_alloc(order) then returns the
 *   physical address of 2^order contiguous 4 KiB frames, aligned to their
 *   size, or 0 when there is no such memory: running out is an error
 *   return, never a panic.  page_free(pa, order) gives them back; the order
 *   must be the one they were allocated with.  A free of memory that is not
 *   allocated (double free, misaligned or foreign address, a block freed
 *   with another order where the metadata can tell) is reported on the
 *   console, counted in mm_stats.bad_frees and otherwise ignored, leaving
 *   the allocator intact.  The frames' contents are undefined (not zeroed).
 *
 *   Context: thread context.  The fast paths (4 KiB and 2 MiB frames from
 *   the calling CPU's cache) only disable interrupts; the slow paths take
 *   the allocator's global lock, which will be a sleeping mutex.
 *
 *   Statistics and debugging.  mm_stats() reports free and used memory and
 *   the huge/small page counts; mm_drain_cpu_caches() returns every CPU's
 *   cached frames to the global allocator; mm_check() verifies its
 *   invariants.
 *
 *   The heap.  malloc, free, calloc, realloc, aligned_alloc, posix_memalign
 *   and malloc_usable_size, under their standard names: the kernel and the
 *   application share them (the application's libc does not bring its own).
 *   Standard semantics, musl's where the standards leave a choice: malloc(0)
 *   returns a unique pointer; realloc(p, 0) returns a minimum-size block (p
 *   kept or moved), not NULL; failures return NULL and set errno (ENOMEM, or
 *   EINVAL for an alignment that is not a power of two; posix_memalign
 *   returns the error instead).  Every block is 16-byte aligned.  Running out
 *   of memory is an error return, never a panic; a free (or realloc) of a
 *   pointer that is not a live block of this heap is reported on the console,
 *   counted in malloc_stats.bad_frees and ignored (realloc returns NULL,
 *   EINVAL).  Context: thread context, as page_alloc (the fast paths only
 *   disable interrupts).
 *
 *   malloc_stats_get() reports each size class and the large blocks;
 *   malloc_in_use_bytes() is the leak check for tests: compare it before and
 *   after (exact when nothing allocates concurrently).
 *
 *   The application's address space.  vm_mmap/vm_munmap/vm_mprotect are
 *   mmap(2)/munmap(2)/mprotect(2) for anonymous memory (Linux's flags and
 *   errors): demand-paged, with 2 MiB pages wherever a 2 MiB-aligned range
 *   lies inside one mapping, split to 4 KiB (contents kept) by a partial
 *   munmap or mprotect.  vm_mmap_file maps a file shared.  The mapping set
 *   itself is private (core/vma_impl.h).
 */
#ifndef CORE_MM_H
#define CORE_MM_H

#include <stddef.h>
#include <stdint.h>

struct boot_info;

/* --- initialisation --- */

void mm_init(const struct boot_info *bi);

/* --- physical frames (core/page.c) --- */

#define PAGE_ORDER_4K   0
#define PAGE_ORDER_2M   9
#define PAGE_ORDER_1G   18
#define PAGE_ORDER_MAX  18

uint64_t page_alloc(unsigned int order);            /* 0: no memory */
void page_free(uint64_t pa, unsigned int order);    /* pa 0 is ignored */

/* Hands the allocator RAM it did not take over at boot (a boot module's,
 * once unpacked): the whole 2 MiB chunks inside [start, end) that it does
 * not own yet; the rest of the range stays unused.  The caller vouches that
 * the range is RAM, in the direct map, and used by nothing.  Returns the
 * bytes added. */
uint64_t page_add_ram(uint64_t start, uint64_t end);

/* The same through the direct map: NULL when there is no memory. */
void *page_alloc_va(unsigned int order);
void page_free_va(void *va, unsigned int order);    /* NULL is ignored */

/* --- statistics and debugging --- */

/* A snapshot; when nothing runs concurrently,
 * total_bytes == free_bytes + used_bytes + overhead_bytes. */
struct mm_stats {
	uint64_t total_bytes;     /* RAM the allocator took over */
	uint64_t free_bytes;      /* allocatable now, per-CPU caches included */
	uint64_t used_bytes;      /* handed out by page_alloc */
	uint64_t overhead_bytes;  /* the allocator's own: split-chunk descriptors */
	uint64_t free_huge;       /* 2 MiB chunks free in the buddy allocator */
	uint64_t free_small;      /* 4 KiB frames free in split chunks */
	uint64_t split_chunks;    /* 2 MiB chunks split into 4 KiB frames */
	uint64_t cached_small;    /* 4 KiB frames in per-CPU caches */
	uint64_t cached_huge;     /* 2 MiB frames in per-CPU caches */
	uint64_t used_small;      /* 4 KiB frames handed out (orders 0-8) */
	uint64_t used_huge;       /* 2 MiB chunks handed out (orders 9-18) */
	uint64_t alloc_failures;  /* page_alloc calls that returned 0 */
	uint64_t bad_frees;       /* page_free calls reported and ignored */
};

void mm_stats(struct mm_stats *s);

/* Returns every CPU's cached frames to the global allocator (page_alloc
 * does this itself before it reports that memory is exhausted). */
void mm_drain_cpu_caches(void);

/* Verifies the allocator's invariants; 0, or -EINVAL after printing what
 * is wrong.  Walks all metadata: for tests and debugging. */
int mm_check(void);

/* --- the heap (core/malloc.c, core/malloc_slab.c, core/malloc_large.c) --- */

void *malloc(size_t n);
void free(void *p);                                  /* NULL is ignored */
void *calloc(size_t nmemb, size_t size);
void *realloc(void *p, size_t n);
void *aligned_alloc(size_t align, size_t n);         /* align: a power of two */
int posix_memalign(void **memptr, size_t align, size_t n);  /* 0, EINVAL or ENOMEM */
size_t malloc_usable_size(void *p);                  /* 0 for NULL */

#define MALLOC_NCLASSES 32      /* size classes: 16 bytes .. 8 KiB */

struct malloc_class_stats {
	uint64_t size;            /* the class's object size */
	uint64_t objects_in_use;  /* handed out, not freed */
	uint64_t bytes_in_use;    /* objects_in_use * size */
	uint64_t bytes_free;      /* free objects in the class's slabs * size */
	uint64_t slabs;           /* 64 KiB slabs serving the class */
};

/* A snapshot; exact when nothing allocates or frees concurrently. */
struct malloc_stats {
	struct malloc_class_stats cls[MALLOC_NCLASSES];
	uint64_t small_bytes_in_use;  /* sum of the classes' bytes_in_use */
	uint64_t small_bytes_free;    /* sum of the classes' bytes_free */
	uint64_t slab_bytes;          /* slabs * 64 KiB (headers and tails included) */
	uint64_t spare_slab_bytes;    /* empty slabs kept for reuse */
	uint64_t large_blocks;        /* blocks of more than 8 KiB in use */
	uint64_t large_bytes;         /* their page runs, whole */
	uint64_t bytes_in_use;        /* small_bytes_in_use + large_bytes */
	uint64_t overhead_bytes;      /* the large-block map */
	uint64_t alloc_failures;      /* allocations that found no memory */
	uint64_t bad_frees;           /* frees of what was not allocated: reported, ignored */
};

void malloc_stats_get(struct malloc_stats *s);
size_t malloc_in_use_bytes(void);    /* bytes in live blocks, as malloc_stats */

/* --- the application's address space (core/vm.c) --- */

/* Linux's values, so the system-call layer passes them through. */
#define VM_PROT_READ             0x1
#define VM_PROT_WRITE            0x2
#define VM_PROT_EXEC             0x4
#define VM_MAP_SHARED            0x01
#define VM_MAP_PRIVATE           0x02
#define VM_MAP_FIXED             0x10
#define VM_MAP_ANONYMOUS         0x20
#define VM_MAP_NORESERVE         0x4000
#define VM_MAP_POPULATE          0x8000
#define VM_MAP_STACK             0x20000
#define VM_MAP_HUGETLB           0x40000
#define VM_MAP_FIXED_NOREPLACE   0x100000

struct vm_stats {
	uint64_t faults;          /* page faults on mapped addresses or not */
	uint64_t bad_faults;      /* of those: not mapped, not allowed, no memory */
	uint64_t huge_faults, small_faults;   /* 2 MiB and 4 KiB pages populated */
	uint64_t huge_pages, small_pages;     /* populated now */
	uint64_t splits;          /* 2 MiB pages split by a partial munmap/mprotect */
	uint64_t file_pages;      /* 4 KiB pages of files mapped shared, populated now */
};

int vm_init(void);                                       /* after the heap and scheduler */
long vm_mmap(uintptr_t addr, size_t len, int prot, int flags);   /* address or -errno */
int vm_munmap(uintptr_t addr, size_t len);
int vm_mprotect(uintptr_t addr, size_t len, int prot);
#define VM_MREMAP_MAYMOVE   1
long vm_mremap(uintptr_t old, size_t old_len, size_t new_len, int flags);   /* no copy */
#define VM_MADV_NORMAL      0
#define VM_MADV_RANDOM      1
#define VM_MADV_SEQUENTIAL  2
#define VM_MADV_WILLNEED    3
#define VM_MADV_DONTNEED    4
#define VM_MADV_FREE        8
int vm_madvise(uintptr_t addr, size_t len, int advice);
/* Populates the pages of [addr, +len) that writable anonymous mappings
 * hold, now: for pages about to be touched for sure (a new thread's first
 * stack pages), which saves the faults.  Nothing happens to the others. */
void vm_prefault(uintptr_t addr, size_t len);
/* The mapping addr lies in: [*start, *end); -ENOMEM when none. */
int vm_find(uintptr_t addr, uintptr_t *start, uintptr_t *end);
void vm_get_stats(struct vm_stats *s);

/* A shared mapping of a file (MAP_SHARED; the system-call layer has
 * checked the descriptor): file is the VFS's handle for it, with a mapping
 * reference (fs/fs.h: vfs_map_get) that the mapping takes over on success
 * (on failure the caller still owns it); offset is page aligned; may_write
 * says the file is open for writing (else PROT_WRITE, now or by mprotect,
 * is -EACCES).  Its pages are the file's own (fs/fs.h: vfs_map_page), 4
 * KiB: stores through it are the file's data at once.  Pages past the end
 * of the file raise SIGBUS. */
long vm_mmap_file(uintptr_t addr, size_t len, int prot, int flags, void *file,
		  uint64_t offset, bool may_write);
/* A mapped file shrank to size: its pages past it are taken down (called
 * before the file frees them; not with vm's lock or the file's page lock). */
void vm_file_truncated(void *file, uint64_t size);

/* The mappings in address order, for /proc/self/maps: fn is called with the
 * VM's lock held (it must not fault, mmap or allocate a large block); a
 * nonzero return stops the walk and is returned. */
struct vm_region {
	uint64_t start, end;
	int prot, flags;            /* VM_PROT_*; VM_MAP_SHARED or VM_MAP_PRIVATE */
	void *file;                 /* a shared file mapping's vnode, or NULL */
	uint64_t offset;            /* in the file */
	bool heap;                  /* one of the heap's mapped blocks */
};
int vm_walk(int (*fn)(const struct vm_region *r, void *arg), void *arg);

/* The heap's large blocks (core/malloc_large.c): mappings of their own,
 * above the application's area, populated at once, so that realloc remaps
 * them instead of copying.  vm_block_map returns NULL when there is no
 * memory or the calling thread may not take the VM's lock now (interrupts
 * off, preemption disabled, or the lock held): the heap then uses a page
 * run.  vm_block_remap keeps the contents (moved or not; NULL: nothing
 * changed, and NULL in a thread that may not sleep).  vm_block_size is 0
 * when p starts no block; vm_block_unmap returns the bytes freed, 0 when p
 * starts no block.  Both work where the thread may not sleep as long as
 * the VM is not busy (else 0, reported): such a free is finished later. */
int vm_blocks_init(void);                       /* after the shrinker */
/* Gives back what the VM keeps for reuse (page tables unmapping left
 * empty, blocks whose free was deferred): what its shrinker does under
 * memory pressure.  Returns the bytes freed. */
size_t vm_trim(void);
void *vm_block_map(size_t len);
void *vm_block_remap(void *p, size_t len);
size_t vm_block_size(const void *p);
size_t vm_block_unmap(void *p);

/* --- memory pressure: the shrinker API (core/shrink.c) --- */

/* fn(want) releases up to want bytes and returns how many it released.  A
 * lock its owner holds while allocating may only be try-locked in fn.
 * Asked by the "shrink" thread when free memory falls below the low
 * watermark (until it is above the high one), and at once by an allocation
 * that would otherwise fail. */
int shrinker_register(const char *name, size_t (*fn)(size_t want));
int shrinker_unregister(size_t (*fn)(size_t want));

struct shrink_stats {
	uint64_t low, high;         /* watermarks, bytes */
	uint64_t calls;             /* passes over the shrinkers */
	uint64_t released;          /* bytes they reported released */
	uint64_t sync_shrinks;      /* allocations that asked at once */
	uint64_t background_runs;   /* wakeups of the shrink thread */
};

int shrink_init(void);                          /* after the scheduler */
void shrink_get_stats(struct shrink_stats *s);
uint64_t mm_free_estimate(void);                /* free bytes, roughly, lock-free */
bool vm_lock_held(void);                        /* by this thread (no reclaim then) */

#endif
