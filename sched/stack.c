/*
 * sched/stack.c - thread stacks, recycled per CPU.
 *
 * Freed stacks go to a per-CPU list of their size class (interrupts off, so
 * no locks and no ABA); a miss takes fresh memory.
 *
 * TODO(memory issue): take fresh stacks from the page allocator instead of
 * bootmem, and map them in a stack area with an unmapped guard page below
 * each (the direct map uses large pages, so a guard cannot be carved there).
 */
#include "sched/sched_impl.h"
#include "sched/stack_impl.h"
#include "core/bootmem.h"

#define STACK_CLASSES 7                  /* 16 KiB .. 1 MiB */

struct free_stack {
	struct free_stack *next;
};

static struct free_stack *free_lists[CONFIG_MAX_CPUS][STACK_CLASSES];   /* per CPU, irqs off */

static int size_class(size_t size)
{
	for (int c = 0; c < STACK_CLASSES; c++) {
		if (size <= (size_t)STACK_MIN << c)
			return c;
	}
	return -1;
}

void *stack_alloc(size_t size)
{
	int c = size_class(size);
	unsigned long flags;
	struct free_stack *s;
	uint64_t pa;

	if (c < 0)
		return NULL;
	flags = arch_irq_save();
	s = free_lists[this_cpu()->id][c];
	if (s)
		free_lists[this_cpu()->id][c] = s->next;
	arch_irq_restore(flags);
	if (s)
		return s;
	pa = bootmem_alloc((uint64_t)STACK_MIN << c, PAGE_SIZE, ~0ULL);
	return pa ? arch_phys_to_virt(pa) : NULL;
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
}
