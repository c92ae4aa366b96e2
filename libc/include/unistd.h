/*
 * libc/include/unistd.h - the two calls the pre-musl default application
 * needs.  The libc issue replaces libc/include with musl's headers and these
 * functions with musl's, calling the kernel's system calls directly.
 */
#ifndef SKIFF_LIBC_UNISTD_H
#define SKIFF_LIBC_UNISTD_H

#include <stddef.h>

typedef long ssize_t;

ssize_t write(int fd, const void *buf, size_t count);
__attribute__((noreturn)) void _exit(int status);

#endif
