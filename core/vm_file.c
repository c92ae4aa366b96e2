/*
 * core/vm_file.c - two kinds of mapping that are not plain anonymous
 * memory: shared mappings of files, and the heap's mapped blocks.
 *
 * Shared file mappings (vm_mmap_file).  The record's owner is the file's
 * vnode, holding a mapping reference (fs/fs.h: vfs_map_hold/put) for as
 * long as the record exists: each piece a split makes takes one, and a
 * dropped record gives its reference back only after vm.lock is released
 * (vm_unlock), when the TLB shootdown of its pages is done, because the
 * last reference may free the file and its frames.  A fault asks the file
 * for the frame of its page (vfs_map_page, which creates a hole's page and
 * refuses pages past the end: SIGBUS) and maps that very frame, 4 KiB and
 * ARCH_MAP_BORROWED, so writes through the mapping are the file's data at
 * once and read(2) sees them.  A file that shrinks calls
 * vm_file_truncated() before it frees the pages past its new end.
 *
 * Heap blocks (vm_block_*).  The heap's large blocks of MALLOC_MAP_MIN
 * bytes and more are mappings of their own, populated at once (kernel code
 * may touch them where it cannot take a fault), so that realloc can grow
 * or move one by remapping its pages instead of copying them.
 */
#include "core/vm_impl.h"
#include "fs/fs.h"

/* --- records (the mapping set's hooks) --- */

void vm_record_split(struct vma *piece)
{
	if (piece->flags & VM_REC_FILE)
		vfs_map_hold(piece->owner);
}

/* A file record's reference waits for vm_unlock (see above). */
void vm_record_free(struct vma *v)
{
	if (v->flags & VM_REC_FILE) {
		v->offset = (uintptr_t)vm.dead; /* linked through its (dead) offset */
		vm.dead = v;
		return;
	}
	free(v);
}

void vm_record_copy(struct vma *to, const struct vma *from)
{
	to->owner = from->owner;
	to->offset = from->offset;
	if (from->flags & VM_REC_FILE)
		vfs_map_hold(from->owner);
}

void vm_release_dead(struct vma *list)
{
	while (list) {
		struct vma *next = (struct vma *)(uintptr_t)list->offset;

		vfs_map_put(list->owner);
		free(list);
		list = next;
	}
}

/* --- shared file mappings --- */

int vm_file_populate(const struct vma *v, uint64_t page)
{
	uint64_t pa, index = (v->offset + (page - v->start)) / PAGE_SIZE;
	int err = vfs_map_page(v->owner, index, &pa);

	if (err)
		return err;
	err = arch_user_map(page, pa, 1, vm_arch_prot(v));
	if (!err)
		vm.stats.file_pages++;
	return err;
}

long vm_mmap_file(uintptr_t addr, size_t len, int prot, int flags, void *file,
		  uint64_t offset, bool may_write)
{
	if (!(flags & VM_MAP_SHARED) || (flags & (VM_MAP_ANONYMOUS | VM_MAP_PRIVATE)) ||
	    (offset & (PAGE_SIZE - 1)))
		return -EINVAL;
	if ((prot & VM_PROT_WRITE) && !may_write)
		return -EACCES;
	if (!len || ALIGN_UP(len, PAGE_SIZE) / PAGE_SIZE > (UINT64_MAX - offset) / PAGE_SIZE)
		return -EOVERFLOW;
	flags &= ~(int)(VM_MAP_HUGETLB | VM_MAP_STACK | VM_REC_FILE | VM_REC_MAYWRITE | VM_REC_BLOCK);
	flags |= (int)(VM_REC_FILE | (may_write ? VM_REC_MAYWRITE : 0));
	return vm_mmap_record(addr, len, prot, flags, file, offset);
}

/* Takes down the pages of file mappings of file at offsets from size up. */
void vm_file_truncated(void *file, uint64_t size)
{
	uint64_t first = ALIGN_UP(size, PAGE_SIZE);

	vm_lock();
	for (struct vma *v = vma_first(&vm.set); v; v = vma_next(v)) {
		uint64_t lo;

		if (!(v->flags & VM_REC_FILE) || v->owner != file ||
		    v->offset + (v->end - v->start) <= first)
			continue;
		lo = v->start + (first > v->offset ? first - v->offset : 0);
		vm_unpopulate(lo, v->end);      /* 4 KiB borrowed pages: cannot fail */
	}
	vm_shootdown();
	vm_unlock();
}

/* --- heap blocks --- */

/* Whether this thread may use the VM for the heap now: it must be able to
 * sleep on vm.lock, and must not hold it already. */
static bool blocks_usable(void)
{
	return vm.ready && arch_irq_enabled() && !sched_thread_preempt_count() &&
	       !mutex_owned(&vm.lock);
}

/* The block starting at p, or NULL; vm.lock held. */
static struct vma *block_at(const void *p)
{
	struct vma *v = vma_find(&vm.set, (uintptr_t)p);

	return v && (v->flags & VM_REC_BLOCK) && v->start == (uintptr_t)p ? v : NULL;
}

/*
 * Blocks freed where the thread may not sleep.  Such a free takes vm.lock
 * only if it is free (a try), checks the block and leaves it here to be
 * unmapped by the next thread that can: the next block call, or the VM's
 * shrinker under memory pressure.  A free that finds the lock taken, or the
 * list full, is reported and the block leaks (it is never corrupted).
 * The list is under vm.lock.
 */
#define DEFERRED_MAX 64
static void *deferred[DEFERRED_MAX];
static unsigned int ndeferred;

/* Unmaps the deferred blocks; vm.lock held.  Returns the bytes freed. */
static size_t drain_deferred(void)
{
	size_t freed = 0;

	while (ndeferred) {
		struct vma *v = block_at(deferred[--ndeferred]);

		if (v) {
			freed += v->end - v->start;
			vm_unmap_locked(v->start, v->end - v->start);
		}
	}
	return freed;
}

static size_t defer_free(void *p)
{
	size_t n = 0;
	struct vma *v;

	if (!mutex_trylock(&vm.lock)) {
		printk("vm: heap block %p freed where the thread may not sleep while the VM "
		       "was busy; leaked\n", p);
		return 0;
	}
	if ((v = block_at(p))) {
		n = v->end - v->start;
		if (ndeferred < DEFERRED_MAX)
			deferred[ndeferred++] = p;
		else
			printk("vm: too many heap blocks freed where threads may not sleep; "
			       "%p leaked\n", p);
	}
	mutex_unlock(&vm.lock);          /* nothing to release: no record changed */
	return n;
}

/* The VM's shrinker: deferred block frees and empty page tables. */
static size_t vm_shrink(size_t want)
{
	size_t freed;

	(void)want;
	if (!mutex_trylock(&vm.lock))           /* a shrinker may only try */
		return 0;
	freed = drain_deferred() + vm_prune_tables();
	vm_unlock();
	return freed;
}

size_t vm_trim(void)
{
	size_t freed;

	if (!vm.ready)
		return 0;
	vm_lock();
	freed = drain_deferred() + vm_prune_tables();
	vm_unlock();
	return freed;
}

int vm_blocks_init(void)
{
	return shrinker_register("vm", vm_shrink);
}

void *vm_block_map(size_t len)
{
	long at;

	if (!blocks_usable() || !len || len > VM_BLOCK_END - VM_BLOCK_BASE)
		return NULL;
	if (ndeferred) {
		vm_lock();
		drain_deferred();
		vm_unlock();
	}
	at = vm_mmap_record(0, len, VM_PROT_READ | VM_PROT_WRITE,
			    VM_MAP_PRIVATE | VM_MAP_ANONYMOUS | VM_MAP_POPULATE | VM_REC_BLOCK,
			    &vm, 0);
	return at < 0 ? NULL : (void *)at;
}

size_t vm_block_size(const void *p)
{
	struct vma *v;
	size_t n;

	if (!vm.ready || !vm_in_blocks((uintptr_t)p, 1))
		return 0;
	if (blocks_usable())
		vm_lock();
	else if (!mutex_trylock(&vm.lock))
		return 0;                       /* a thread that may not sleep: only try */
	v = block_at(p);
	n = v ? v->end - v->start : 0;
	mutex_unlock(&vm.lock);                 /* a lookup changes nothing to release */
	return n;
}

size_t vm_block_unmap(void *p)
{
	size_t n = 0;
	struct vma *v;

	if (!vm.ready || !vm_in_blocks((uintptr_t)p, 1))
		return 0;
	if (!blocks_usable())
		return defer_free(p);
	vm_lock();
	drain_deferred();
	if ((v = block_at(p))) {                /* looked up and unmapped in one hold */
		n = v->end - v->start;
		vm_unmap_locked(v->start, n);
	}
	vm_unlock();
	return n;
}

/* Grows the block v in place to new_len if the space after it is free. */
static bool block_grow(struct vma *v, uint64_t new_len)
{
	uint64_t start = v->start, old_len = v->end - v->start, at;

	if (start + new_len > VM_BLOCK_END || vma_resize(&vm.set, start, old_len, new_len, false, &at))
		return false;
	v = vma_find(&vm.set, start);
	if (vm_populate_range(v, start + old_len, start + new_len) == 0)
		return true;
	vm_unpopulate(start + old_len, start + new_len);
	vma_resize(&vm.set, start, new_len, old_len, false, &at);   /* shrinking: cannot fail */
	vm_shootdown();
	return false;
}

/* Shrinks the block v to new_len where it is. */
static bool block_shrink(struct vma *v, uint64_t new_len)
{
	uint64_t start = v->start, old_len = v->end - v->start, at;

	if (vm_split_edges(start + new_len, start + old_len) ||
	    vma_resize(&vm.set, start, old_len, new_len, false, &at))
		return false;
	vm_unpopulate(start + new_len, start + old_len);
	vm_shootdown();
	return true;
}

void *vm_block_remap(void *p, size_t len)
{
	uint64_t start = (uintptr_t)p, new_len = ALIGN_UP(len, PAGE_SIZE), old_len;
	long at = -EINVAL;
	struct vma *v;

	if (!blocks_usable() || !len || len > VM_BLOCK_END - VM_BLOCK_BASE)
		return NULL;
	vm_lock();
	if (!(v = block_at(p)))
		goto out;
	old_len = v->end - v->start;
	if (new_len == old_len || (new_len < old_len ? block_shrink(v, new_len) :
				   block_grow(v, new_len)))
		at = (long)start;
	else if (new_len > old_len && (at = vm_move_mapping(start, old_len, new_len)) >= 0)
		vm_shootdown();
out:
	vm_unlock();
	return at < 0 ? NULL : (void *)at;
}
