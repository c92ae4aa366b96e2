/*
 * core/console.c - one writer at a time on the console.
 *
 * Interface: console_write(s, len) puts a whole message out without another
 * CPU's message landing in the middle of it.  This is the kernel's one
 * busy-wait: console output is rare, short and must work from any context
 * (an exception, a panic) where sleeping is impossible.  A CPU that faults
 * while it holds the console (a panic inside printk) writes anyway.
 */
#include "core/kernel.h"
#include "core/arch.h"

static int console_owner = -1;     /* id of the CPU writing, or -1 */

void console_write(const char *s, size_t len)
{
	unsigned long flags = arch_irq_save();
	int me = (int)this_cpu()->id;
	bool nested = __atomic_load_n(&console_owner, __ATOMIC_RELAXED) == me;
	bool acquired = false;

	/* Bounded: a CPU that died holding the console must not stop us (we
	 * then write without owning it, and release nothing). */
	for (long spins = 0; !nested && spins < 10000000; spins++) {
		int expected = -1;
		if (__atomic_compare_exchange_n(&console_owner, &expected, me, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			acquired = true;
			break;
		}
		arch_cpu_relax();
	}
	arch_console_write(s, len);
	if (acquired)
		__atomic_store_n(&console_owner, -1, __ATOMIC_RELEASE);
	arch_irq_restore(flags);
}
