/*
 * core/panic.c - the end of the line for unrecoverable conditions.
 *
 * Interface: panic(fmt, ...) prints the message and a backtrace and ends the
 * VM with the panic status (scripts/run exits 101).  Use it only at boot for
 * conditions the kernel cannot continue from; bad input is an error return.
 */
#include "core/kernel.h"
#include "core/arch.h"

void panic(const char *fmt, ...)
{
	va_list ap;

	arch_irq_disable();
	printk("\nskiff: panic on cpu %u: ", this_cpu()->id);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	arch_backtrace((uintptr_t)__builtin_frame_address(0), 16);
	arch_exit_panic();
}

void assert_fail(const char *expr, const char *file, int line)
{
	panic("assertion failed: %s (%s:%d)", expr, file, line);
}
