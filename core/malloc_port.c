/*
 * core/malloc_port.c - the kernel's side of the heap's port
 * (core/malloc_impl.h) that is not inline there: errno.  A host unit test
 * supplies its own.
 */
#include "core/malloc_impl.h"
#include "core/arch.h"

int *__errno_location(void);            /* musl's: in the thread's TLS */

/* The application's errno is per thread, in musl's thread structure,
 * reached through the %fs base.  A kernel thread that never set one up
 * has no errno to set; the NULL it gets back says enough. */
void malloc_set_errno(int err)
{
	if (arch_get_tls())
		*__errno_location() = err;
}
