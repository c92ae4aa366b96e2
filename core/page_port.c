/*
 * core/page_port.c - the kernel's side of the frame allocator's port
 * (core/page_impl.h): the direct map, the CPU id, interrupt flags and the
 * global lock.  A host unit test supplies its own versions instead.
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "core/page_impl.h"

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

/*
 * TODO(sched): a placeholder.  Replace it with a `struct mutex` from
 * sched/sched.h (mutex_lock/mutex_unlock) now that the scheduler has one;
 * the allocator never holds it with interrupts disabled and keeps its
 * critical sections short (a batch of at most 32 frames).  Two things to
 * settle when switching: mm_init runs before sched_init (the mutex must work
 * there, uncontended, or be bypassed until the scheduler is up), and a
 * mutex may not be taken in interrupt handlers, which tests/kernel/test_page.c
 * does (it runs work on other CPUs in their IPI hook: use pinned threads).
 *
 * Until then: a test-and-set lock that keeps local interrupts off while it
 * is held, so that an interrupt handler that allocates cannot spin on a lock
 * its own CPU holds; it waits with interrupts as they were.
 */
static struct {
	int held;                  /* atomic */
	unsigned long flags;       /* the holder's interrupt flags */
} global_lock;

void mm_global_lock(void)
{
	unsigned long flags = arch_irq_save();

	while (__atomic_exchange_n(&global_lock.held, 1, __ATOMIC_ACQUIRE)) {
		arch_irq_restore(flags);
		while (__atomic_load_n(&global_lock.held, __ATOMIC_RELAXED))
			arch_cpu_relax();
		flags = arch_irq_save();
	}
	global_lock.flags = flags;
}

void mm_global_unlock(void)
{
	unsigned long flags = global_lock.flags;

	__atomic_store_n(&global_lock.held, 0, __ATOMIC_RELEASE);
	arch_irq_restore(flags);
}
