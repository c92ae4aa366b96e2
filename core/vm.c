/*
 * core/vm.c - the application's virtual memory: mmap, munmap, mprotect,
 * mremap, madvise and demand paging with huge pages.
 *
 * The mapping set (core/vma.c) says what is mapped; the page tables
 * (arch_user_*, through core/vm_pages.c) say what is populated.  A mapping
 * is populated on first touch: the fault handler maps a whole 2 MiB page
 * when the 2 MiB-aligned range around the fault lies inside one mapping
 * (one protection, since a mapping has one) and holds no 4 KiB page yet, a
 * 4 KiB page otherwise.  munmap or mprotect of part of a 2 MiB page first
 * splits it into 4 KiB entries onto the same frame (contents kept).  Every
 * change ends with one TLB shootdown for its range.  Shared file mappings
 * and the heap's mapped blocks are core/vm_file.c's.
 *
 * One mutex (vm.lock) serializes the mapping set and the page tables; the
 * fault handler takes it too, in the faulting thread.  Lock order: a
 * file's vnode lock (held by read(2) while it copies, which may fault)
 * before vm.lock, before a file's page lock (vfs_map_page).
 *
 * Interface: core/mm.h.
 */
#include "core/vm_impl.h"
#include "core/bootmem.h"

struct vm_space vm;

void vm_lock(void)
{
	mutex_lock(&vm.lock);
}

void vm_unlock(void)
{
	struct vma *dead;

	vm_shootdown();         /* each change did; a no-op unless one left work */
	dead = vm.dead;
	vm.dead = NULL;
	mutex_unlock(&vm.lock);
	vm_release_dead(dead);
}

static struct vma *vma_alloc(void)
{
	return malloc(sizeof(struct vma));
}

/* --- faults --- */

static bool access_allowed(uint32_t prot, unsigned int access)
{
	if (!(prot & (VMA_PROT_READ | VMA_PROT_WRITE | VMA_PROT_EXEC)))
		return false;
	if ((access & ARCH_FAULT_WRITE) && !(prot & VMA_PROT_WRITE))
		return false;
	return !(access & ARCH_FAULT_EXEC) || (prot & VMA_PROT_EXEC);
}

/* Says what the fault fell on or near (the caller then ends the VM). */
static void report_bad_fault(uintptr_t addr, const struct vma *v, int err)
{
	const char *why = err == -ENOMEM ? "no memory to populate it" :
			  err == -EIO ? "past the end of the mapped file" : "access not allowed";

	if (!v) {
		v = vma_find_near(&vm.set, addr);
		why = "no mapping there";
	}
	printk("\nskiff: application fault at %016lx: %s\n", addr, why);
	if (v)
		printk("  %s mapping %016lx-%016lx prot %c%c%c\n", addr >= v->start && addr < v->end ?
		       "in" : "nearest", v->start, v->end, (v->prot & VMA_PROT_READ) ? 'r' : '-',
		       (v->prot & VMA_PROT_WRITE) ? 'w' : '-', (v->prot & VMA_PROT_EXEC) ? 'x' : '-');
}

/* The page-fault handler, in the faulting thread (arch_set_fault_handler). */
static int vm_fault(uintptr_t addr, unsigned int access, uintptr_t rip)
{
	struct vma *v;
	int err = -EFAULT;

	if (mutex_owned(&vm.lock)) {            /* a fault inside the VM layer itself */
		printk("\nskiff: page fault at %016lx inside the VM layer\n", addr);
		return -EFAULT;
	}
	vm_lock();
	vm.stats.faults++;
	v = vma_find(&vm.set, addr);
	if (v && access_allowed(v->prot, access))
		err = vm_populate(v, addr);
	if (err) {
		vm.stats.bad_faults++;
		if (!arch_fault_is_caught(rip, err))    /* else: -EFAULT, or a signal handler */
			report_bad_fault(addr, v, err);
	}
	vm_unlock();
	return err;
}

/* --- the interface --- */

static int check_prot_flags(int prot, int flags)
{
	int type = flags & VMA_MAP_TYPE;

	if (prot & ~(VMA_PROT_READ | VMA_PROT_WRITE | VMA_PROT_EXEC))
		return -EINVAL;
	if (type != VMA_MAP_PRIVATE && type != VMA_MAP_SHARED)
		return -EINVAL;
	return 0;
}

/* mmap with vm.lock held; flags may carry VM_REC_* and then owner and
 * offset are the new record's. */
static long map_locked(uint64_t addr, uint64_t len, int prot, int flags, void *owner,
		       uint64_t offset)
{
	bool fixed = flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE), block = flags & VM_REC_BLOCK;
	uint32_t keep = (uint32_t)flags & (VMA_MAP_TYPE | VMA_MAP_ANONYMOUS | VMA_MAP_NORESERVE |
					   VMA_MAP_STACK | VMA_MAP_HUGETLB | VM_REC_FILE |
					   VM_REC_MAYWRITE | VM_REC_BLOCK);
	uint64_t start = addr;
	struct vma *v;
	int err;

	if (!fixed) {                           /* 2 MiB-aligned when it can hold huge pages */
		err = vm_find_area(block, addr, len,
				   len >= HUGE && !(flags & VM_REC_FILE) ? HUGE : PAGE_SIZE, &start);
		if (err)
			return err;
	} else if (block ? start < VM_BLOCK_BASE || start + len > VM_BLOCK_END :
			   vm_in_blocks(start, len)) {
		return -ENOMEM;                 /* the other area's */
	} else if (!(flags & VM_MAP_FIXED_NOREPLACE)) {
		/* MAP_FIXED replaces: what can fail first (the records the map
		 * needs, the split of 2 MiB pages at the edges), then the pages. */
		if ((err = vma_reserve(&vm.set, 2)) || (err = vm_split_edges(start, start + len)))
			return err;
		vm_unpopulate(start, start + len);      /* edges split: cannot fail */
	}
	err = vma_map(&vm.set, start, len, (uint32_t)prot, keep, true,
		      !(flags & VM_MAP_FIXED) || (flags & VM_MAP_FIXED_NOREPLACE), &start);
	if (err)
		return err;
	v = vma_find(&vm.set, start);
	v->owner = owner;                       /* the caller's reference, if it counts */
	v->offset = offset;
	if (flags & VM_MAP_POPULATE) {
		err = vm_populate_range(v, start, start + len);
		if (err && (flags & VM_REC_BLOCK)) {    /* a block is whole, or not at all */
			vm_unpopulate(start, start + len);
			vma_unmap(&vm.set, start, len);
			vm_shootdown();
			return err;
		}                                       /* else what is populated stays */
	}
	return (long)start;
}

long vm_mmap_record(uintptr_t addr, size_t len, int prot, int flags, void *owner,
		    uint64_t offset)
{
	long ret;
	int err;

	if (!vm.ready)
		return -ENOSYS;
	if (!len || len > VM_HI || (addr & (PAGE_SIZE - 1)))
		return -EINVAL;
	if ((err = check_prot_flags(prot, flags)))
		return err;
	len = ALIGN_UP(len, PAGE_SIZE);
	if ((flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE)) &&
	    (addr < VM_LO || len > VM_HI - addr))
		return -EINVAL;                 /* checked before anything is taken down */
	vm_lock();
	ret = map_locked(addr, len, prot, flags, owner, offset);
	if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE))
		vm_shootdown();
	vm_unlock();
	return ret;
}

long vm_mmap(uintptr_t addr, size_t len, int prot, int flags)
{
	if (!(flags & VM_MAP_ANONYMOUS))
		return -ENODEV;                 /* files: vm_mmap_file */
	return vm_mmap_record(addr, len, prot, flags & ~(int)(VM_REC_FILE | VM_REC_MAYWRITE |
							     VM_REC_BLOCK), NULL, 0);
}

/* The first mapping that ends above addr, or NULL; vm.lock held. */
static struct vma *first_ending_above(uint64_t addr)
{
	struct vma *v = vma_find_near(&vm.set, addr);

	while (v && v->end <= addr)
		v = vma_next(v);
	return v;
}

int vm_unmap_locked(uint64_t addr, uint64_t len)
{
	/* What can fail comes first (Linux's rule: a failed munmap changes
	 * nothing): the records vma_unmap needs, the edges' 2 MiB splits. */
	int err = vma_reserve(&vm.set, 2);

	if (!err)
		err = vm_split_edges(addr, addr + len);
	/* Only mappings can hold pages: visit those, not the whole range
	 * (munmap of terabytes, mostly holes, must not walk them). */
	for (struct vma *v = first_ending_above(addr); !err && v && v->start < addr + len;
	     v = vma_next(v))
		err = vm_unpopulate(MAX(v->start, addr), MIN(v->end, addr + len));
	if (!err)
		err = vma_unmap(&vm.set, addr, len);
	vm_shootdown();
	return err;
}

/* The application's calls work outside the heap blocks' window (which is
 * the kernel's), within the lower half. */
static bool app_range(uint64_t addr, uint64_t len)
{
	return addr <= VM_HI && len <= VM_HI - addr && !vm_in_blocks(addr, len);
}

int vm_munmap(uintptr_t addr, size_t len)
{
	int err;

	if (!vm.ready)
		return -ENOSYS;
	if (!len || (addr & (PAGE_SIZE - 1)) || addr + len < addr)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!app_range(addr, len))              /* beyond the application's half (Linux: TASK_SIZE) */
		return -EINVAL;
	vm_lock();
	err = vm_unmap_locked(addr, len);
	vm_unlock();
	return err;
}

/* Whether every record of [addr, +len) may get prot: a shared mapping of a
 * file opened read-only may not become writable (Linux: EACCES). */
static int check_protect(uint64_t addr, uint64_t len, uint32_t prot)
{
	for (struct vma *v = first_ending_above(addr); v && v->start < addr + len; v = vma_next(v)) {
		if ((prot & VMA_PROT_WRITE) && (v->flags & VM_REC_FILE) &&
		    !(v->flags & VM_REC_MAYWRITE))
			return -EACCES;
	}
	return 0;
}

int vm_mprotect(uintptr_t addr, size_t len, int prot)
{
	int err;

	if (!vm.ready)
		return -ENOSYS;
	if ((addr & (PAGE_SIZE - 1)) || (prot & ~(VMA_PROT_READ | VMA_PROT_WRITE | VMA_PROT_EXEC)))
		return -EINVAL;
	if (!len)
		return 0;
	if (!ALIGN_UP(len, PAGE_SIZE) || addr + ALIGN_UP(len, PAGE_SIZE) < addr)
		return -ENOMEM;                 /* wraps around */
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!app_range(addr, len))
		return -ENOMEM;                 /* not mapped, as far as it can see */
	vm_lock();
	err = check_protect(addr, len, (uint32_t)prot);
	if (!err)
		err = vm_split_edges(addr, addr + len);
	if (!err)
		err = vma_protect(&vm.set, addr, len, (uint32_t)prot);
	if (!err)       /* the pages keep ARCH_MAP_BORROWED (arch_user_protect) */
		err = vm_reprotect(addr, addr + len, (unsigned int)prot & 7);
	vm_shootdown();
	vm_unlock();
	return err;
}

long vm_mremap(uintptr_t old, size_t old_len, size_t new_len, int flags)
{
	uint64_t start = 0;
	long ret;
	int err;

	if (!vm.ready)
		return -ENOSYS;
	if ((old & (PAGE_SIZE - 1)) || !new_len || (flags & ~VM_MREMAP_MAYMOVE))
		return -EINVAL;
	old_len = ALIGN_UP(old_len, PAGE_SIZE);
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	if (!app_range(old, old_len))
		return -EFAULT;
	vm_lock();
	err = new_len < old_len ? vm_split_edges(old + new_len, old + old_len) : 0;
	if (!err && !app_range(old, new_len))
		err = -ENOMEM;                  /* growing in place would cross into the heap's */
	else if (!err)  /* in place: shrink, or grow into free space after it */
		err = vma_resize(&vm.set, old, old_len, new_len, false, &start);
	if (!err && new_len < old_len)
		err = vm_unpopulate(old + new_len, old + old_len);
	if (err == -ENOMEM && (flags & VM_MREMAP_MAYMOVE) && new_len > old_len) {
		ret = vm_move_mapping(old, old_len, new_len);
		err = ret < 0 ? (int)ret : 0;
		start = ret < 0 ? 0 : (uint64_t)ret;
	}
	vm_shootdown();
	ret = err ? err : (long)start;
	vm_unlock();
	return ret;
}

/* Every page of [addr, +len) in some mapping: 0, or -ENOMEM (Linux) */
static int check_mapped(uint64_t addr, uint64_t len)
{
	for (uint64_t va = addr; va < addr + len;) {   /* record by record */
		struct vma *v = vma_find(&vm.set, va);
		if (!v)
			return -ENOMEM;
		va = v->end;
	}
	return 0;
}

static int advise_locked(uint64_t addr, uint64_t len, int advice)
{
	int err = check_mapped(addr, len);

	if (!err && (advice == VM_MADV_DONTNEED || advice == VM_MADV_FREE))
		err = vm_split_edges(addr, addr + len);
	if (err)
		return err;
	switch (advice) {
	case VM_MADV_NORMAL: case VM_MADV_RANDOM: case VM_MADV_SEQUENTIAL:
		return 0;                       /* hints we have no use for */
	case VM_MADV_WILLNEED:          /* PROT_NONE pages stay empty; a file's end stops it */
		for (uint64_t va = addr; va < addr + len && !err; va += PAGE_SIZE) {
			struct vma *v = vma_find(&vm.set, va);
			if (v->prot)
				err = vm_populate(v, va);
		}
		return err == -EIO ? 0 : err;
	case VM_MADV_DONTNEED: case VM_MADV_FREE:   /* FREE: given back at once */
		/* a file's pages go from the mapping, not from the file */
		err = vm_unpopulate(addr, addr + len);
		vm_shootdown();
		return err;
	default:
		return -EINVAL;
	}
}

int vm_madvise(uintptr_t addr, size_t len, int advice)
{
	int err;

	if (!vm.ready)
		return -ENOSYS;
	if ((addr & (PAGE_SIZE - 1)) || (len && !ALIGN_UP(len, PAGE_SIZE)) ||
	    addr + ALIGN_UP(len, PAGE_SIZE) < addr)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!len)
		return 0;
	if (!app_range(addr, len))
		return -ENOMEM;
	vm_lock();
	err = advise_locked(addr, len, advice);
	vm_unlock();
	return err;
}

void vm_prefault(uintptr_t addr, size_t len)
{
	uint64_t start = ALIGN_DOWN(addr, PAGE_SIZE), end = ALIGN_UP(addr + len, PAGE_SIZE);

	if (!vm.ready || end <= start || !app_range(start, end - start))
		return;
	vm_lock();
	for (uint64_t va = start; va < end; va += PAGE_SIZE) {
		struct vma *v = vma_find(&vm.set, va);

		if (v && (v->prot & VMA_PROT_WRITE) && !(v->flags & VM_REC_FILE) &&
		    vm_populate(v, va))
			break;                  /* no memory: the fault will say so */
	}
	vm_unlock();
}

int vm_find(uintptr_t addr, uintptr_t *start, uintptr_t *end)
{
	int err = -ENOMEM;

	if (!vm.ready)
		return -ENOSYS;
	WITH_LOCK(&vm.lock) {
		struct vma *v = vma_find(&vm.set, addr);
		if (v) {
			*start = v->start;
			*end = v->end;
			err = 0;
		}
	}
	return err;
}

int vm_walk(int (*fn)(const struct vm_region *r, void *arg), void *arg)
{
	int ret = 0;

	if (!vm.ready)
		return 0;
	vm_lock();
	for (struct vma *v = vma_first(&vm.set); v && !ret; v = vma_next(v)) {
		struct vm_region r = {
			.start = v->start, .end = v->end, .prot = (int)v->prot,
			.flags = (int)(v->flags & VMA_MAP_TYPE),
			.file = (v->flags & VM_REC_FILE) ? v->owner : NULL,
			.offset = v->offset, .heap = v->flags & VM_REC_BLOCK,
		};
		ret = fn(&r, arg);
	}
	vm_unlock();
	return ret;
}

void vm_get_stats(struct vm_stats *s)
{
	struct vm_stats copy;

	WITH_LOCK(&vm.lock)
		copy = vm.stats;
	*s = copy;                              /* s may be untouched application memory */
}

bool vm_lock_held(void)
{
	return vm.ready && mutex_owned(&vm.lock);
}

/* After the heap and the scheduler: the mapping set, the split-frame
 * counters (two bytes per 2 MiB of RAM), and the fault handler. */
int vm_init(void)
{
	vm.nhuge = ALIGN_UP(bootmem_ram_top(), HUGE) / HUGE;
	vm.huge_refs = calloc(vm.nhuge, sizeof(*vm.huge_refs));
	if (!vm.huge_refs)
		return -ENOMEM;
	mutex_init(&vm.lock, false);
	vma_set_init(&vm.set, VM_LO, VM_HI);
	vm.set.alloc = vma_alloc;
	vm.set.free = vm_record_free;
	vm.set.split = vm_record_split;
	arch_set_fault_handler(vm_fault);
	vm.ready = true;
	return 0;
}
