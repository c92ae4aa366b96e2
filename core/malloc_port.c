/*
 * core/malloc_port.c - the kernel's side of the heap's port
 * (core/malloc_impl.h) that is not inline there: errno.  A host unit test
 * supplies its own.
 */
#include "core/malloc_impl.h"

/*
 * The application's errno: the one global of libc/unistd.c for now.
 * TODO(libc): with musl, errno is per thread (*__errno_location()); set
 * that instead.
 */
extern int errno;

void malloc_set_errno(int err)
{
	errno = err;
}
