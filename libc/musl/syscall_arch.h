/*
 * libc/musl/syscall_arch.h - musl's system calls as direct C calls.
 *
 * musl's own x86-64 version of this header issues the SYSCALL instruction.
 * Skiff's kernel and application share ring 0 and one address space, so a
 * system call is a function call: __syscallN(n, ...) becomes sys_NAME(...)
 * when n is a constant (the always-inline switch in the generated
 * skiff_syscalls.h folds away), else a call of syscall_dispatch(), which
 * indexes the same table.  The kernel's functions return a value or a
 * negative errno, as musl expects from the instruction.
 *
 * This file is found before musl's own (libc/musl/config.mak); musl itself
 * is unmodified.
 */
#include "skiff_syscalls.h"

#define __SYSCALL_LL_E(x) (x)
#define __SYSCALL_LL_O(x) (x)

static __inline __attribute__((__always_inline__)) long __syscall0(long n)
{
	return __skiff_syscall(n, 0, 0, 0, 0, 0, 0);
}

static __inline __attribute__((__always_inline__)) long __syscall1(long n, long a1)
{
	return __skiff_syscall(n, a1, 0, 0, 0, 0, 0);
}

static __inline __attribute__((__always_inline__)) long __syscall2(long n, long a1, long a2)
{
	return __skiff_syscall(n, a1, a2, 0, 0, 0, 0);
}

static __inline __attribute__((__always_inline__)) long __syscall3(long n, long a1, long a2, long a3)
{
	return __skiff_syscall(n, a1, a2, a3, 0, 0, 0);
}

static __inline __attribute__((__always_inline__)) long __syscall4(long n, long a1, long a2, long a3, long a4)
{
	return __skiff_syscall(n, a1, a2, a3, a4, 0, 0);
}

static __inline __attribute__((__always_inline__)) long __syscall5(long n, long a1, long a2, long a3, long a4, long a5)
{
	return __skiff_syscall(n, a1, a2, a3, a4, a5, 0);
}

static __inline __attribute__((__always_inline__)) long __syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return __skiff_syscall(n, a1, a2, a3, a4, a5, a6);
}

/* No vDSO: clock_gettime is already a direct call. */

#define IPC_64 0
