/*
 * sched/stack.c - thread stacks, each with an unmapped guard page below it.
 *
 * Stacks live in their own area of the address space (STACK_AREA_BASE), one
 * 2 MiB slot each: the stack at the top of its slot, mapped in 4 KiB pages
 * onto a physically contiguous run from the page allocator, and nothing
 * mapped below it, so overflowing a stack faults (and is reported as a
 * stack overflow) instead of corrupting memory.
 *
 * A freed stack keeps its slot, its frames and its mapping and goes to a
 * per-CPU free list of its size class (interrupts off: no locks, no ABA):
 * reusing it needs no page-table change and so no TLB shootdown.
 * Releasing cached stacks to the page allocator would need one; that is
 * for the memory issue's shrinker.  sched_stack_cached_bytes() says how much is
 * held.
 */
#include "sched/sched_impl.h"
#include "sched/stack_impl.h"
#include "core/mm.h"

#define STACK_CLASSES 7                  /* 16 KiB .. 1 MiB */
#define SLOT_SIZE     (2UL << 20)

struct free_stack {
	struct free_stack *next;
};

static struct free_stack *free_lists[CONFIG_MAX_CPUS][STACK_CLASSES];   /* per CPU, irqs off */
static uint64_t next_slot;               /* atomic */
static uint64_t cached_bytes;            /* atomic */
static struct mutex map_lock = MUTEX_INIT;   /* page-table changes */

static int size_class(size_t size)
{
	for (int c = 0; c < STACK_CLASSES; c++) {
		if (size == (size_t)STACK_MIN << c)
			return c;
	}
	return -1;
}

static void *cached(int c)
{
	unsigned long flags = arch_irq_save();
	struct free_stack *s = free_lists[this_cpu()->id][c];

	if (s)
		free_lists[this_cpu()->id][c] = s->next;
	arch_irq_restore(flags);
	if (s)
		__atomic_fetch_sub(&cached_bytes, (uint64_t)STACK_MIN << c, __ATOMIC_RELAXED);
	return s;
}

static void *fresh(size_t size, int c)
{
	uint64_t slot = __atomic_fetch_add(&next_slot, 1, __ATOMIC_RELAXED);
	uintptr_t va = STACK_AREA_BASE + (slot + 1) * SLOT_SIZE - size;
	uint64_t pa;
	int err;

	if ((slot + 1) * SLOT_SIZE > STACK_AREA_SIZE)
		return NULL;
	pa = page_alloc((unsigned int)c + 2);   /* 16 KiB = order 2 */
	if (!pa)
		return NULL;
	WITH_LOCK(&map_lock)
		err = arch_map_kernel(va, pa, size);
	if (err) {
		page_free(pa, (unsigned int)c + 2);  /* the slot is lost: rare */
		return NULL;
	}
	return (void *)va;
}

void *stack_alloc(size_t size)
{
	int c = size_class(size);
	void *s;

	if (c < 0)
		return NULL;
	s = cached(c);
	return s ? s : fresh(size, c);
}

void stack_free(void *stack, size_t size)
{
	int c = size_class(size);
	unsigned long flags;
	struct free_stack *s = stack;

	ASSERT(c >= 0);
	flags = arch_irq_save();
	s->next = free_lists[this_cpu()->id][c];
	free_lists[this_cpu()->id][c] = s;
	arch_irq_restore(flags);
	__atomic_fetch_add(&cached_bytes, size, __ATOMIC_RELAXED);
}

uint64_t sched_stack_cached_bytes(void)
{
	return __atomic_load_n(&cached_bytes, __ATOMIC_RELAXED);
}

bool sched_addr_in_stack_area(uintptr_t addr)
{
	return addr >= STACK_AREA_BASE && addr < STACK_AREA_BASE + STACK_AREA_SIZE &&
	       (addr - STACK_AREA_BASE) / SLOT_SIZE < __atomic_load_n(&next_slot, __ATOMIC_RELAXED);
}
