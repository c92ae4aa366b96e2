/*
 * libc/unistd.c - write() and _exit() for applications until musl arrives
 * (the libc issue).  Standard semantics at this boundary: -1 and errno.
 * Only standard output and standard error exist yet; both are the console.
 */
#include "core/kernel.h"
#include "core/arch.h"

int errno;

long write(int fd, const void *buf, size_t count)
{
	if (fd != 1 && fd != 2) {
		errno = EBADF;
		return -1;
	}
	if (count && !buf) {
		errno = EFAULT;
		return -1;
	}
	console_write(buf, count);
	return (long)count;
}

void _exit(int status)
{
	arch_exit(status);
}
