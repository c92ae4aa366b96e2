/*
 * core/vm_impl.h - the VM layer's private state and its internal seams:
 * core/vm.c (the system calls and the fault handler), core/vm_pages.c (the
 * page-table side: populating, splitting, taking down, moving) and
 * core/vm_file.c (shared file mappings and the heap's mapped blocks).
 *
 * Everything below runs with vm.lock held, except vm_lock, vm_unlock and
 * vm_mmap_record, which take it.
 */
#ifndef CORE_VM_IMPL_H
#define CORE_VM_IMPL_H

#include "core/kernel.h"
#include "core/arch.h"
#include "core/mm.h"
#include "core/vma_impl.h"
#include "sched/sched.h"

#define VM_LO         0x10000ULL                /* the first 64 KiB stay unmapped */
#define VM_HI         0x00007fffffe00000ULL
#define VM_MMAP_BASE  0x0000100000000000ULL     /* where mmap without a hint looks */
/* The heap's blocks lie in [VM_BLOCK_BASE, VM_BLOCK_END), a window the
 * application's calls refuse (as if beyond its TASK_SIZE; its mappings go
 * below, and its stack above, where Linux puts it): so no CPU keeps a stale
 * translation of an application page where a block goes, and a block's
 * shootdowns reach idle CPUs too, whose interrupt handlers may touch it
 * (vm_shootdown). */
#define VM_BLOCK_BASE 0x00007e0000000000ULL
#define VM_BLOCK_END  0x00007f0000000000ULL

static inline bool vm_in_blocks(uint64_t start, uint64_t len)     /* overlaps the window */
{
	return start < VM_BLOCK_END && start + len > VM_BLOCK_BASE;
}
#define HUGE          HUGE_PAGE_SIZE

/*
 * Kinds of record beyond Linux's flags, kept in struct vma's flags (Linux's
 * MAP_* bits that a record stores are all below these):
 *   VM_REC_FILE      a shared mapping of a file: owner is the file's vnode,
 *                    with a mapping reference (vfs_map_hold); its pages are
 *                    the file's own frames (ARCH_MAP_BORROWED), 4 KiB only.
 *   VM_REC_MAYWRITE  its file was opened for writing: mprotect may add
 *                    PROT_WRITE.
 *   VM_REC_BLOCK     a large block of the heap (vm_block_*): owner is &vm,
 *                    so it never merges with a neighbour; always populated.
 */
#define VM_REC_FILE      0x10000000u
#define VM_REC_MAYWRITE  0x20000000u
#define VM_REC_BLOCK     0x40000000u

struct vm_space {
	struct mutex lock;
	/* vm.lock must be held for these: */
	struct vma_set set;
	uint16_t *huge_refs;            /* per 2 MiB of RAM: mapped 4 KiB pages of a split frame */
	uint64_t nhuge;
	struct vm_stats stats;
	struct vma *dead;               /* file records dropped, released at unlock */
	struct { uint64_t pa; uint8_t order; } retired[512];   /* freed at the next shootdown */
	unsigned int nretired;
	uint64_t empty_tables[64];      /* 2 MiB ranges whose page table may be empty */
	uint64_t touch_lo, touch_hi;    /* entries changed since the last shootdown; hi 0: none */
	unsigned int nempty;
	bool ready;
};

extern struct vm_space vm;

void vm_lock(void);
long vm_mmap_record(uintptr_t addr, size_t len, int prot, int flags, void *owner,
		    uint64_t offset);           /* vm_mmap with VM_REC_* kinds */
int vm_unmap_locked(uint64_t addr, uint64_t len);         /* munmap's work, any area */
void vm_unlock(void);                   /* releases the dead records' files, then unlocks */

/* --- core/vm_pages.c --- */

unsigned int vm_arch_prot(const struct vma *v);   /* v's protection for arch_user_* */
void vm_shootdown(void);        /* after a change: its touched entries; idle CPUs too for blocks */
size_t vm_prune_tables(void);                     /* frees empty page tables: bytes */
int vm_populate(const struct vma *v, uint64_t addr);        /* the page holding addr */
int vm_populate_range(const struct vma *v, uint64_t start, uint64_t end);
int vm_split_edges(uint64_t start, uint64_t end);
int vm_unpopulate(uint64_t start, uint64_t end);
int vm_reprotect(uint64_t start, uint64_t end, unsigned int prot);
int vm_move_prepare(uint64_t from, uint64_t to, uint64_t len);
void vm_move_commit(uint64_t from, uint64_t to, uint64_t len, unsigned int prot);
int vm_find_area(bool block, uint64_t hint, uint64_t len, uint64_t align, uint64_t *out);
long vm_move_mapping(uint64_t old, uint64_t old_len, uint64_t new_len);

/* --- core/vm_file.c --- */

int vm_file_populate(const struct vma *v, uint64_t page);
void vm_record_split(struct vma *piece);
void vm_record_free(struct vma *v);
void vm_record_copy(struct vma *to, const struct vma *from);     /* owner, offset, a reference */
void vm_release_dead(struct vma *list);

#endif
