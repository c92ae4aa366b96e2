/*
 * core/vm.c - the application's virtual memory: mmap, munmap, mprotect and
 * demand paging with huge pages.
 *
 * The mapping set (core/vma.c) says what is mapped; the page tables
 * (arch_user_*) say what is populated.  A mapping is populated on first
 * touch: the fault handler maps a whole 2 MiB page when the 2 MiB-aligned
 * range around the fault lies inside one mapping (one protection, since a
 * mapping has one) and holds no 4 KiB page yet, a 4 KiB page otherwise.
 * munmap or mprotect of part of a 2 MiB page first splits it into 4 KiB
 * entries onto the same frame (contents kept); the frame is freed when the
 * last of its 512 pages is unmapped (huge_refs counts them).  Every change
 * ends with one TLB shootdown for its range.
 *
 * One mutex (vm.lock) serializes the mapping set and the page tables; the
 * fault handler takes it too, in the faulting thread.
 *
 * Interface: core/mm.h.  Anonymous mappings only: file mappings come with
 * the VFS (the libc issue) and return -ENODEV until then.
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "core/bootmem.h"
#include "core/mm.h"
#include "core/vma_impl.h"
#include "sched/sched.h"

#define VM_LO         0x10000ULL                /* the first 64 KiB stay unmapped */
#define VM_HI         0x00007fffffe00000ULL
#define VM_MMAP_BASE  0x0000100000000000ULL     /* where mmap without a hint looks */
#define HUGE          HUGE_PAGE_SIZE

static struct {
	struct mutex lock;
	struct vma_set set;
	uint16_t *huge_refs;            /* per 2 MiB of RAM: mapped 4 KiB pages of a split frame */
	uint64_t nhuge;
	struct vm_stats stats;
	bool ready;
} vm;

static struct vma *vma_alloc(void)
{
	return malloc(sizeof(struct vma));
}

static void vma_release(struct vma *v)
{
	free(v);
}

static unsigned int arch_prot(uint32_t prot)
{
	return prot & (ARCH_PROT_READ | ARCH_PROT_WRITE | ARCH_PROT_EXEC);
}

/* --- populating --- */

static bool huge_fits(const struct vma *v, uint64_t base)
{
	return base >= v->start && base + HUGE <= v->end && !(v->flags & VMA_MAP_STACK);
}

/* True if any 4 KiB page of the 2 MiB range at base is populated. */
static bool has_small_pages(uint64_t base)
{
	for (uint64_t va = base; va < base + HUGE; va += PAGE_SIZE) {
		int level;
		if (arch_user_query(va, &level, NULL))
			return true;
	}
	return false;
}

static int populate_huge(const struct vma *v, uint64_t base)
{
	uint64_t pa = page_alloc(PAGE_ORDER_2M);
	int err;

	if (!pa)
		return -ENOMEM;
	arch_zero_pages(arch_phys_to_virt(pa), HUGE);
	err = arch_user_map(base, pa, 2, arch_prot(v->prot));
	if (err) {
		page_free(pa, PAGE_ORDER_2M);
		return err;
	}
	vm.stats.huge_faults++;
	vm.stats.huge_pages++;
	return 0;
}

static int populate_small(const struct vma *v, uint64_t page)
{
	uint64_t pa = page_alloc(PAGE_ORDER_4K);
	int err;

	if (!pa)
		return -ENOMEM;
	arch_zero_pages(arch_phys_to_virt(pa), PAGE_SIZE);
	err = arch_user_map(page, pa, 1, arch_prot(v->prot));
	if (err) {
		page_free(pa, PAGE_ORDER_4K);
		return err;
	}
	vm.stats.small_faults++;
	vm.stats.small_pages++;
	return 0;
}

/* Populates the page containing addr; 0 if it is (now) populated. */
static int populate(const struct vma *v, uint64_t addr)
{
	uint64_t base = ALIGN_DOWN(addr, HUGE);

	if (arch_user_query(addr, NULL, NULL))
		return 0;                       /* another thread was first */
	if (huge_fits(v, base) && !has_small_pages(base) && populate_huge(v, base) == 0)
		return 0;                       /* else (no 2 MiB frame): a 4 KiB page will do */
	return populate_small(v, ALIGN_DOWN(addr, PAGE_SIZE));
}

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
	const char *why = err == -ENOMEM ? "no memory to populate it" : "access not allowed";

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
	WITH_LOCK(&vm.lock) {
		vm.stats.faults++;
		v = vma_find(&vm.set, addr);
		if (v && access_allowed(v->prot, access))
			err = populate(v, addr);
		if (err) {
			vm.stats.bad_faults++;
			if (!arch_fault_is_caught(rip))   /* else: -EFAULT, or a SIGSEGV handler */
				report_bad_fault(addr, v, err);
		}
	}
	return err;
}

/* --- taking pages down --- */

static uint16_t *refs_of(uint64_t pa)
{
	uint64_t i = pa / HUGE;

	return i < vm.nhuge ? &vm.huge_refs[i] : NULL;
}

/* Splits the 2 MiB page at base (if it is one) so that part of it can
 * change; its frame then counts its 512 mapped pages. */
static int split_huge(uint64_t base)
{
	int level = 0;
	uint64_t pa = arch_user_query(base, &level, NULL);
	uint16_t *refs;
	int err;

	if (!pa || level != 2)
		return 0;
	refs = refs_of(pa);
	if (!refs)
		return -EINVAL;
	err = arch_user_split(base);
	if (err)
		return err;
	*refs = 512;
	vm.stats.huge_pages--;
	vm.stats.small_pages += 512;
	vm.stats.splits++;
	return 0;
}

static void free_small(uint64_t pa)
{
	uint16_t *refs = refs_of(pa);

	vm.stats.small_pages--;
	if (refs && *refs) {                    /* a page of a split 2 MiB frame */
		if (--*refs == 0)
			page_free(ALIGN_DOWN(pa, HUGE), PAGE_ORDER_2M);
		return;
	}
	page_free(pa, PAGE_ORDER_4K);
}

/* Splits the 2 MiB pages that [start, end) covers only in part: done before
 * the mapping set changes, so that what follows (unpopulate, reprotect)
 * cannot fail halfway and leave the two disagreeing. */
static int split_edges(uint64_t start, uint64_t end)
{
	uint64_t first = ALIGN_DOWN(start, HUGE), last = ALIGN_DOWN(end - 1, HUGE);
	int err = 0;

	if (start & (HUGE - 1) || (first == last && end < first + HUGE))
		err = split_huge(first);
	if (!err && last != first && (end & (HUGE - 1)))
		err = split_huge(last);
	return err;
}

/* Unmaps the populated pages of [start, end) (page tables only). */
static int unpopulate(uint64_t start, uint64_t end)
{
	for (uint64_t base = ALIGN_DOWN(start, HUGE); base < end; base += HUGE) {
		uint64_t lo = MAX(base, start), hi = MIN(base + HUGE, end);
		int level = 0;
		uint64_t pa = arch_user_query(base, &level, NULL);

		if (pa && level == 2 && lo == base && hi == base + HUGE) {
			arch_user_unmap(base, NULL);
			page_free(pa, PAGE_ORDER_2M);
			vm.stats.huge_pages--;
			continue;
		}
		int err = split_huge(base);
		if (err)
			return err;
		for (uint64_t va = lo; va < hi; va += PAGE_SIZE) {
			if ((pa = arch_user_unmap(va, NULL)))
				free_small(pa);
		}
	}
	return 0;
}

static int reprotect(uint64_t start, uint64_t end, unsigned int prot)
{
	for (uint64_t base = ALIGN_DOWN(start, HUGE); base < end; base += HUGE) {
		uint64_t lo = MAX(base, start), hi = MIN(base + HUGE, end);
		int level = 0;

		if (arch_user_query(base, &level, NULL) && level == 2 && lo == base && hi == base + HUGE) {
			arch_user_protect(base, prot);
			continue;
		}
		int err = split_huge(base);
		if (err)
			return err;
		for (uint64_t va = lo; va < hi; va += PAGE_SIZE)
			arch_user_protect(va, prot);    /* -ENOENT for unpopulated: fine */
	}
	return 0;
}

/* --- the interface --- */

static int check_prot_flags(int prot, int flags)
{
	int type = flags & VMA_MAP_TYPE;

	if (prot & ~(VMA_PROT_READ | VMA_PROT_WRITE | VMA_PROT_EXEC))
		return -EINVAL;
	if (type != VMA_MAP_PRIVATE && type != VMA_MAP_SHARED)
		return -EINVAL;
	if (!(flags & VMA_MAP_ANONYMOUS))
		return -ENODEV;                 /* file mappings come with the VFS */
	return 0;
}

static long map_locked(uint64_t addr, uint64_t len, int prot, int flags)
{
	bool fixed = flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE);
	uint32_t keep = (uint32_t)flags & (VMA_MAP_TYPE | VMA_MAP_ANONYMOUS | VMA_MAP_NORESERVE |
					   VMA_MAP_STACK | VMA_MAP_HUGETLB);
	uint64_t start = addr;
	int err;

	if (!fixed) {                           /* 2 MiB-aligned when it can hold huge pages */
		err = vma_find_gap(&vm.set, addr ? addr : VM_MMAP_BASE, len,
				   len >= HUGE ? HUGE : PAGE_SIZE, &start);
		if (err)
			return err;
	} else if (!(flags & VM_MAP_FIXED_NOREPLACE)) {
		err = unpopulate(start, start + len);   /* MAP_FIXED replaces */
		if (err)
			return err;
	}
	err = vma_map(&vm.set, start, len, (uint32_t)prot, keep, true,
		      !(flags & VM_MAP_FIXED) || (flags & VM_MAP_FIXED_NOREPLACE), &start);
	if (err)
		return err;
	if (flags & VM_MAP_POPULATE) {
		struct vma *v = vma_find(&vm.set, start);
		for (uint64_t va = start; v && va < start + len; va += PAGE_SIZE) {
			if ((err = populate(v, va)))
				break;                  /* what is populated stays; faults do the rest */
		}
	}
	return (long)start;
}

long vm_mmap(uintptr_t addr, size_t len, int prot, int flags)
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
	WITH_LOCK(&vm.lock) {
		ret = map_locked(addr, len, prot, flags);
		if (flags & (VM_MAP_FIXED | VM_MAP_FIXED_NOREPLACE))
			arch_tlb_shootdown(addr, len);
	}
	return ret;
}

/* The first mapping that ends above addr, or NULL; vm.lock held. */
static struct vma *first_ending_above(uint64_t addr)
{
	struct vma *v = vma_find_near(&vm.set, addr);

	while (v && v->end <= addr)
		v = vma_next(v);
	return v;
}

int vm_munmap(uintptr_t addr, size_t len)
{
	int err;

	if (!vm.ready)
		return -ENOSYS;
	if (!len || (addr & (PAGE_SIZE - 1)) || addr + len < addr)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (addr + len > (1ULL << 47))             /* beyond the lower half (Linux: TASK_SIZE) */
		return -EINVAL;
	WITH_LOCK(&vm.lock) {
		err = split_edges(addr, addr + len);
		/* Only mappings can hold pages: visit those, not the whole range
		 * (munmap of terabytes, mostly holes, must not walk them). */
		for (struct vma *v = first_ending_above(addr); !err && v && v->start < addr + len;
		     v = vma_next(v))
			err = unpopulate(MAX(v->start, addr), MIN(v->end, addr + len));
		if (!err)
			err = vma_unmap(&vm.set, addr, len);
		arch_tlb_shootdown(addr, len);
	}
	return err;
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
	WITH_LOCK(&vm.lock) {
		err = split_edges(addr, addr + len);
		if (!err)
			err = vma_protect(&vm.set, addr, len, (uint32_t)prot);
		if (!err && len)
			err = reprotect(addr, addr + len, arch_prot((uint32_t)prot));
		arch_tlb_shootdown(addr, len);
	}
	return err;
}

/* Moves the populated pages of [from, from+len) to [to, to+len): page-table
 * entries change, frames stay (no copy).  2 MiB pages move whole when both
 * ends are equally aligned, else they are split first. */
/* Whether the 2 MiB page at base (if any) moves whole to base + delta. */
static bool moves_whole(uint64_t base, uint64_t from, uint64_t len, uint64_t delta)
{
	int level = 0;

	return !(delta & (HUGE - 1)) && base >= from && base + HUGE <= from + len &&
	       arch_user_query(base, &level, NULL) && level == 2;
}

/* Moves the entries of [from, +len) by delta (frames stay).  Everything
 * that needs memory happens first: splitting the source's partial 2 MiB
 * pages and making the destination's page tables.  If that fails nothing
 * has moved; after it the move cannot fail, so no frame is ever lost
 * between its old entry and its new one. */
static int move_pages(uint64_t from, uint64_t to, uint64_t len, unsigned int prot)
{
	uint64_t delta = to - from;
	int err;

	for (uint64_t base = ALIGN_DOWN(from, HUGE); base < from + len; base += HUGE) {
		uint64_t lo = MAX(base, from), hi = MIN(base + HUGE, from + len);

		if (moves_whole(base, from, len, delta)) {
			err = arch_user_prepare(base + delta, 2);
		} else if (!(err = split_huge(base)) && !(err = arch_user_prepare(lo + delta, 1))) {
			err = arch_user_prepare(hi - PAGE_SIZE + delta, 1);
		}
		if (err)
			return err;
	}
	for (uint64_t base = ALIGN_DOWN(from, HUGE); base < from + len; base += HUGE) {
		uint64_t lo = MAX(base, from), hi = MIN(base + HUGE, from + len), pa;

		if (moves_whole(base, from, len, delta)) {
			pa = arch_user_unmap(base, NULL);
			err = arch_user_map(base + delta, pa, 2, prot);
			ASSERT(!err);
			continue;
		}
		for (uint64_t va = lo; va < hi; va += PAGE_SIZE) {
			if ((pa = arch_user_unmap(va, NULL))) {
				err = arch_user_map(va + delta, pa, 1, prot);
				ASSERT(!err);
			}
		}
	}
	return 0;
}

/* Moves [old, +old_len) to a new place of new_len: above VM_MMAP_BASE, at
 * the same offset within 2 MiB as the old one so that 2 MiB pages move
 * whole (entries change, frames stay).  The old record must be one mapping. */
static long move_mapping(uint64_t old, uint64_t old_len, uint64_t new_len)
{
	struct vma *v = vma_find(&vm.set, old);
	uint64_t gap, to, off = old & (HUGE - 1);
	uint32_t prot, flags;
	int err;

	if (!v || old + old_len > v->end)
		return -EFAULT;
	prot = v->prot;
	flags = v->flags;
	err = vma_find_gap(&vm.set, VM_MMAP_BASE, new_len + off + HUGE, HUGE, &gap);
	if (err)
		return err;
	to = gap + off;
	if ((err = split_edges(old, old + old_len)) ||
	    (err = vma_map(&vm.set, to, new_len, prot, flags, true, true, &to)))
		return err;
	err = move_pages(old, to, old_len, arch_prot(prot));
	if (err) {
		vma_unmap(&vm.set, to, new_len);       /* nothing moved: give the place back */
		return err;
	}
	err = vma_unmap(&vm.set, old, old_len);
	return err ? err : (long)to;
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
	WITH_LOCK(&vm.lock) {
		err = new_len < old_len ? split_edges(old + new_len, old + old_len) : 0;
		if (!err)       /* in place: shrink, or grow into free space after it */
			err = vma_resize(&vm.set, old, old_len, new_len, false, &start);
		if (!err && new_len < old_len)
			err = unpopulate(old + new_len, old + old_len);
		if (err == -ENOMEM && (flags & VM_MREMAP_MAYMOVE)) {
			ret = move_mapping(old, old_len, new_len);
			err = ret < 0 ? (int)ret : 0;
			start = ret < 0 ? 0 : (uint64_t)ret;
		}
		arch_tlb_shootdown(old, old_len);
		ret = err ? err : (long)start;
	}
	return ret;
}

int vm_madvise(uintptr_t addr, size_t len, int advice)
{
	int err = 0;

	if (!vm.ready)
		return -ENOSYS;
	if ((addr & (PAGE_SIZE - 1)) || (len && !ALIGN_UP(len, PAGE_SIZE)) ||
	    addr + ALIGN_UP(len, PAGE_SIZE) < addr)
		return -EINVAL;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (!len)
		return 0;
	WITH_LOCK(&vm.lock) {
		for (uint64_t va = addr; va < addr + len;) {   /* record by record */
			struct vma *v = vma_find(&vm.set, va);
			if (!v) {
				err = -ENOMEM;          /* Linux: a hole in the range */
				break;
			}
			va = v->end;
		}
		if (!err && (advice == VM_MADV_DONTNEED || advice == VM_MADV_FREE))
			err = split_edges(addr, addr + len);
		if (err)
			break;
		switch (advice) {
		case VM_MADV_NORMAL: case VM_MADV_RANDOM: case VM_MADV_SEQUENTIAL:
			break;                          /* hints we have no use for */
		case VM_MADV_WILLNEED:
			for (uint64_t va = addr; va < addr + len && !err; va += PAGE_SIZE)
				err = populate(vma_find(&vm.set, va), va);
			break;
		case VM_MADV_DONTNEED: case VM_MADV_FREE:   /* FREE: given back at once */
			err = unpopulate(addr, addr + len);
			arch_tlb_shootdown(addr, len);
			break;
		default:
			err = -EINVAL;
		}
	}
	return err;
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
	vm.set.free = vma_release;
	arch_set_fault_handler(vm_fault);
	vm.ready = true;
	return 0;
}
