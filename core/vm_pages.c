/*
 * core/vm_pages.c - the page-table side of the VM layer: populating a
 * mapping's pages, splitting 2 MiB pages, taking pages down, changing their
 * protection and moving them (mremap).  The records say what is mapped;
 * these functions make the page tables agree (core/vma_impl.h's contract).
 *
 * Frames.  An anonymous page's frame is the mapping's own: it is freed when
 * the page is unmapped, and a 2 MiB frame split into 4 KiB pages is freed
 * when the last of its 512 pages goes (vm.huge_refs counts them).  A shared
 * file mapping's pages are the file's frames, mapped ARCH_MAP_BORROWED:
 * unmapping leaves them to the file (core/vm_file.c).
 *
 * All of it with vm.lock held (core/vm_impl.h); none of it flushes the TLB:
 * the callers shoot down once per change.
 */
#include "core/vm_impl.h"

unsigned int vm_arch_prot(const struct vma *v)
{
	return (v->prot & (ARCH_PROT_READ | ARCH_PROT_WRITE | ARCH_PROT_EXEC)) |
	       ((v->flags & VM_REC_FILE) ? ARCH_MAP_BORROWED : 0);
}

/* Frames unmapped since the last shootdown: another CPU may still write
 * through a stale translation, so they go back only after it (a racing
 * application thread must not scribble on a frame that has a new owner). */
static void retire(uint64_t pa, unsigned int order)
{
	if (vm.nretired == ARRAY_SIZE(vm.retired))
		vm_shootdown();         /* full: flush, and these go back */
	vm.retired[vm.nretired].pa = pa;
	vm.retired[vm.nretired++].order = (uint8_t)order;
}

/* An entry that may be cached in a TLB changed at va (size bytes): the
 * next shootdown covers it.  Only such entries need one: x86 caches no
 * translation of a not-present page, so mapping new pages, or protecting
 * or unmapping pages never touched, flushes nothing. */
static void touched(uint64_t va, uint64_t size)
{
	vm.touch_lo = vm.touch_hi ? MIN(vm.touch_lo, va) : va;
	vm.touch_hi = MAX(vm.touch_hi, va + size);
}

/* After a change: the entries it touched are flushed on every CPU that may
 * cache them (all of the TLB when they span more than a few pages), then
 * the frames it unmapped go back. */
void vm_shootdown(void)
{
	uint64_t lo = vm.touch_lo, hi = vm.touch_hi;

	if (hi) {
		bool blocks = vm_in_blocks(lo, hi - lo);

		if (hi - lo > 8 * PAGE_SIZE)     /* a full flush is one operation, pages are many */
			lo = VM_LO, hi = VM_HI;
		if (blocks)
			arch_tlb_shootdown_all(lo, hi - lo);
		else
			arch_tlb_shootdown(lo, hi - lo);
		vm.touch_lo = vm.touch_hi = 0;
	}
	while (vm.nretired) {
		vm.nretired--;
		page_free(vm.retired[vm.nretired].pa, vm.retired[vm.nretired].order);
	}
}

/* --- populating --- */

static bool huge_fits(const struct vma *v, uint64_t base)
{
	return base >= v->start && base + HUGE <= v->end &&
	       !(v->flags & (VMA_MAP_STACK | VM_REC_FILE));
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

/* A zeroed frame of 2^order pages mapped at va with v's protection. */
static int populate_anon(const struct vma *v, uint64_t va, unsigned int order)
{
	uint64_t size = PAGE_SIZE << order, pa = page_alloc(order);
	int err;

	if (!pa)
		return -ENOMEM;
	arch_zero_pages(arch_phys_to_virt(pa), size);
	err = arch_user_map(va, pa, order ? 2 : 1, vm_arch_prot(v));
	if (err) {
		page_free(pa, order);
		return err;
	}
	if (order) {
		vm.stats.huge_faults++;
		vm.stats.huge_pages++;
	} else {
		vm.stats.small_faults++;
		vm.stats.small_pages++;
	}
	return 0;
}

/* The page holding addr; a 2 MiB page only if may_huge. */
static int populate(const struct vma *v, uint64_t addr, bool may_huge)
{
	uint64_t base = ALIGN_DOWN(addr, HUGE);

	if (arch_user_query(addr, NULL, NULL))
		return 0;                       /* another thread was first */
	if (v->flags & VM_REC_FILE)
		return vm_file_populate(v, ALIGN_DOWN(addr, PAGE_SIZE));
	if (may_huge && huge_fits(v, base) && !has_small_pages(base) &&
	    populate_anon(v, base, PAGE_ORDER_2M) == 0)
		return 0;                       /* else (no 2 MiB frame): a 4 KiB page will do */
	return populate_anon(v, ALIGN_DOWN(addr, PAGE_SIZE), PAGE_ORDER_4K);
}

int vm_populate(const struct vma *v, uint64_t addr)
{
	return populate(v, addr, true);
}

/* Every page of [start, end) within v, and nothing outside it (2 MiB
 * pages only where they lie inside); or an error with what was populated
 * left in place (the caller takes it down if it must). */
int vm_populate_range(const struct vma *v, uint64_t start, uint64_t end)
{
	int err = 0;

	for (uint64_t va = start; va < end && !err; va += PAGE_SIZE) {
		uint64_t base = ALIGN_DOWN(va, HUGE);
		err = populate(v, va, base >= start && base + HUGE <= end);
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
	touched(base, HUGE);    /* no 2 MiB translation may outlive the split beside 4 KiB ones */
	*refs = 512;
	vm.stats.huge_pages--;
	vm.stats.small_pages += 512;
	vm.stats.splits++;
	return 0;
}

/* The 4 KiB page at va is gone from the page tables: its frame too, unless
 * it is borrowed (a file's). */
static void release_small(uint64_t pa, unsigned int prot)
{
	uint16_t *refs = refs_of(pa);

	if (prot & ARCH_MAP_BORROWED) {
		vm.stats.file_pages--;
		return;
	}
	vm.stats.small_pages--;
	if (refs && *refs) {                    /* a page of a split 2 MiB frame */
		if (--*refs == 0)
			retire(ALIGN_DOWN(pa, HUGE), PAGE_ORDER_2M);
		return;
	}
	retire(pa, PAGE_ORDER_4K);
}

/* Splits the 2 MiB pages that [start, end) covers only in part: done before
 * the mapping set changes, so that what follows (unpopulate, reprotect)
 * cannot fail halfway and leave the two disagreeing. */
int vm_split_edges(uint64_t start, uint64_t end)
{
	uint64_t first = ALIGN_DOWN(start, HUGE), last = ALIGN_DOWN(end - 1, HUGE);
	int err = 0;

	if (start & (HUGE - 1) || (first == last && end < first + HUGE))
		err = split_huge(first);
	if (!err && last != first && (end & (HUGE - 1)))
		err = split_huge(last);
	return err;
}

/*
 * Page tables that unmapping may have left empty.  Freeing one needs a
 * shootdown that interrupts idle CPUs too (none may keep a cached pointer
 * to it), among the dearest things a guest does, and the next mapping
 * nearby would want the table back: so the candidates are kept, and freed
 * all at once, with one such shootdown, when their list is full, by the
 * VM's shrinker, or by vm_trim().
 */
size_t vm_prune_tables(void)
{
	size_t n = 0;

	while (vm.nempty)
		n += (size_t)arch_user_prune(vm.empty_tables[--vm.nempty]);
	if (n)          /* every CPU, a full flush, then the tables are freed */
		arch_tlb_shootdown_all(VM_LO, VM_HI - VM_LO);
	return n * PAGE_SIZE;
}

static void note_table(uint64_t base)
{
	if (vm.nempty && vm.empty_tables[vm.nempty - 1] == base)
		return;
	if (vm.nempty == ARRAY_SIZE(vm.empty_tables))
		vm_prune_tables();
	vm.empty_tables[vm.nempty++] = base;
}

/* Unmaps the populated pages of [start, end) (page tables only). */
int vm_unpopulate(uint64_t start, uint64_t end)
{
	for (uint64_t base = ALIGN_DOWN(start, HUGE); base < end; base += HUGE) {
		uint64_t lo = MAX(base, start), hi = MIN(base + HUGE, end);
		int level = 0;
		unsigned int prot = 0;
		uint64_t pa;

		if (!arch_user_range_used(base))
			continue;               /* nothing there: a reservation's holes */
		pa = arch_user_query(base, &level, NULL);

		if (pa && level == 2 && lo == base && hi == base + HUGE) {
			arch_user_unmap(base, NULL);
			touched(base, HUGE);
			retire(pa, PAGE_ORDER_2M);
			vm.stats.huge_pages--;
			continue;
		}
		int err = split_huge(base);
		if (err)
			return err;
		for (uint64_t va = lo; va < hi; va += PAGE_SIZE) {
			if (arch_user_query(va, NULL, &prot) && (pa = arch_user_unmap(va, NULL))) {
				touched(va, PAGE_SIZE);
				release_small(pa, prot);
			}
		}
		note_table(base);               /* its page table may be empty now */
	}
	return 0;
}

int vm_reprotect(uint64_t start, uint64_t end, unsigned int prot)
{
	for (uint64_t base = ALIGN_DOWN(start, HUGE); base < end; base += HUGE) {
		uint64_t lo = MAX(base, start), hi = MIN(base + HUGE, end);
		int level = 0;

		if (!arch_user_range_used(base))
			continue;
		if (arch_user_query(base, &level, NULL) && level == 2 && lo == base && hi == base + HUGE) {
			arch_user_protect(base, prot);
			touched(base, HUGE);
			continue;
		}
		int err = split_huge(base);
		if (err)
			return err;
		for (uint64_t va = lo; va < hi; va += PAGE_SIZE) {
			if (arch_user_protect(va, prot) == 0)   /* -ENOENT: unpopulated */
				touched(va, PAGE_SIZE);
		}
	}
	return 0;
}

/* --- moving (mremap) --- */

/* Whether the 2 MiB page at base (if any) moves whole to base + delta. */
static bool moves_whole(uint64_t base, uint64_t from, uint64_t len, uint64_t delta)
{
	int level = 0;

	return !(delta & (HUGE - 1)) && base >= from && base + HUGE <= from + len &&
	       arch_user_query(base, &level, NULL) && level == 2;
}

/* Moving the entries of [from, +len) to [to, +len) (frames stay) in two
 * steps.  vm_move_prepare does everything that needs memory: splitting the
 * source's partial 2 MiB pages and making the destination's page tables;
 * if it fails nothing has moved.  vm_move_commit then cannot fail, so no
 * frame is ever lost between its old entry and its new one.  2 MiB pages
 * move whole when both ends are equally aligned; prot is the mapping's,
 * ARCH_MAP_BORROWED included. */
int vm_move_prepare(uint64_t from, uint64_t to, uint64_t len)
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
	return 0;
}

void vm_move_commit(uint64_t from, uint64_t to, uint64_t len, unsigned int prot)
{
	uint64_t delta = to - from, pa;
	int err;

	for (uint64_t base = ALIGN_DOWN(from, HUGE); base < from + len; base += HUGE) {
		uint64_t lo = MAX(base, from), hi = MIN(base + HUGE, from + len);

		if (moves_whole(base, from, len, delta)) {
			pa = arch_user_unmap(base, NULL);
			touched(base, HUGE);
			err = arch_user_map(base + delta, pa, 2, prot);
			ASSERT(!err);
			continue;
		}
		for (uint64_t va = lo; va < hi; va += PAGE_SIZE) {
			if ((pa = arch_user_unmap(va, NULL))) {
				touched(va, PAGE_SIZE);
				err = arch_user_map(va + delta, pa, 1, prot);
				ASSERT(!err);
			}
		}
	}
}

/* The lowest free range of len aligned to align for a mapping of the
 * application (block false) or a heap block, at or above hint within its
 * area: 0 and *out, or -ENOMEM. */
int vm_find_area(bool block, uint64_t hint, uint64_t len, uint64_t align, uint64_t *out)
{
	int err;

	if (block) {
		err = vma_find_gap(&vm.set, VM_BLOCK_BASE, len, align, out);
		return !err && (*out < VM_BLOCK_BASE || *out + len > VM_BLOCK_END) ? -ENOMEM : err;
	}
	/* The application's: at or above the hint, else from the bottom, else
	 * above the window; never in it. */
	if (!hint || hint >= VM_HI || vm_in_blocks(hint, len))
		hint = VM_MMAP_BASE;
	err = vma_find_gap(&vm.set, hint, len, align, out);
	if (!err && vm_in_blocks(*out, len))
		err = vma_find_gap(&vm.set, VM_LO, len, align, out);
	if (!err && vm_in_blocks(*out, len))
		err = vma_find_gap(&vm.set, VM_BLOCK_END, len, align, out);
	return !err && vm_in_blocks(*out, len) ? -ENOMEM : err;
}

/*
 * Moves [old, +old_len) to a new place of new_len (> old_len), in the
 * mapping's area, at the same offset within 2 MiB as the old one so that
 * 2 MiB pages move whole (entries change, frames stay).  The old range must
 * lie in one record; the new record is its copy (owner and offset
 * included).  Everything that can fail comes first (a heap block's new
 * part, populated with no 2 MiB page reaching below it; the destination's
 * page tables; the old record's removal), so a failure leaves the mapping
 * where it was.  Returns the new address or -errno.
 */
long vm_move_mapping(uint64_t old, uint64_t old_len, uint64_t new_len)
{
	struct vma *v = vma_find(&vm.set, old), copy, *n;
	uint64_t gap, to, off = old & (HUGE - 1);
	int err;

	if (!v || old + old_len > v->end)
		return -EFAULT;
	copy = *v;
	err = vm_find_area(copy.flags & VM_REC_BLOCK, 0, new_len + off + HUGE, HUGE, &gap);
	if (err)
		return err;
	to = gap + off;
	if ((err = vm_split_edges(old, old + old_len)) ||
	    (err = vma_map(&vm.set, to, new_len, copy.prot, copy.flags, true, true, &to)))
		return err;
	n = vma_find(&vm.set, to);
	vm_record_copy(n, &copy);
	n->offset = copy.offset + (old - copy.start);
	if (n->flags & VM_REC_BLOCK)
		err = vm_populate_range(n, to + old_len, to + new_len);
	if (!err)
		err = vm_move_prepare(old, to, old_len);
	if (!err)
		err = vma_unmap(&vm.set, old, old_len);
	if (err) {      /* nothing moved: give the place back (and the tables made there) */
		vm_unpopulate(to, to + new_len);
		vma_unmap(&vm.set, to, new_len);        /* a whole record: cannot fail */
		vm_shootdown();
		return err;
	}
	vm_move_commit(old, to, old_len, vm_arch_prot(n));
	vm_unpopulate(old, old + old_len);      /* nothing left: frees its page tables */
	return (long)to;
}
