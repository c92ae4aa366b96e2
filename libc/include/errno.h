/* libc/include/errno.h - pre-musl errno (one global; musl's is per thread). */
#ifndef SKIFF_LIBC_ERRNO_H
#define SKIFF_LIBC_ERRNO_H

extern int errno;
#define EBADF 9
#define EFAULT 14

#endif
