/*
 * core/page_port.c - the kernel's side of the frame allocator's port
 * (core/page_impl.h): the direct map, the CPU id, interrupt flags and the
 * global lock.  A host unit test supplies its own versions instead.
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "core/page_impl.h"
#include "sched/sched.h"

void *mm_phys_to_virt(uint64_t pa)
{
	return arch_phys_to_virt(pa);
}

uint64_t mm_virt_to_phys(const void *va)
{
	return arch_virt_to_phys(va);
}

unsigned int mm_cpu_id(void)
{
	return this_cpu()->id;
}

unsigned long mm_irq_save(void)
{
	return arch_irq_save();
}

void mm_irq_restore(unsigned long flags)
{
	arch_irq_restore(flags);
}

/* The global allocator's slow path: the scheduler's sleeping mutex.  It is
 * never taken with this CPU's cache in use (the caches work with interrupts
 * off and call the global allocator outside that), so a thread that sleeps
 * here and wakes on another CPU is fine.  Before the scheduler exists
 * (thread_self() is NULL) only the boot CPU runs: no lock is needed.
 * Page allocation is for threads, not interrupt handlers. */
static struct mutex global_lock = MUTEX_INIT;

void mm_global_lock(void)
{
	if (thread_self())
		mutex_lock(&global_lock);
}

void mm_global_unlock(void)
{
	if (thread_self())
		mutex_unlock(&global_lock);
}
