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

/*
 * Cancellation points (read, write, open, nanosleep, ...), with musl patch
 * 0001 (libc/musl/patches): a direct call too, unless the thread has a
 * cancellation pending, or the call was interrupted (-EINTR, as a
 * pthread_cancel interrupts a wait) and one is pending now; then musl's
 * own __syscall_cp decides, with musl's semantics.  The pending flag is
 * struct pthread's `cancel`, at this offset from the thread pointer
 * (libc/musl/glue.c checks it at build time).
 */
#define SKIFF_PTHREAD_CANCEL 60

__attribute__((__visibility__("hidden")))
long __syscall_cp(long, long, long, long, long, long, long);

static __inline __attribute__((__always_inline__)) int __skiff_cancel_pending(void)
{
	int c;

	__asm__ __volatile__("movl %%fs:%c1, %0" : "=r"(c) : "i"(SKIFF_PTHREAD_CANCEL) : "memory");
	return c;
}

static __inline __attribute__((__always_inline__))
long __skiff_syscall_cp(long n, long a, long b, long c, long d, long e, long f)
{
	if (__builtin_constant_p(n) && !__skiff_cancel_pending()) {
		long r = __skiff_syscall(n, a, b, c, d, e, f);
		if (r != -EINTR || !__skiff_cancel_pending())
			return r;
	}
	return (__syscall_cp)(n, a, b, c, d, e, f);
}

#define __syscall_cp0(n) __skiff_syscall_cp(n,0,0,0,0,0,0)
#define __syscall_cp1(n,a) __skiff_syscall_cp(n,__scc(a),0,0,0,0,0)
#define __syscall_cp2(n,a,b) __skiff_syscall_cp(n,__scc(a),__scc(b),0,0,0,0)
#define __syscall_cp3(n,a,b,c) __skiff_syscall_cp(n,__scc(a),__scc(b),__scc(c),0,0,0)
#define __syscall_cp4(n,a,b,c,d) __skiff_syscall_cp(n,__scc(a),__scc(b),__scc(c),__scc(d),0,0)
#define __syscall_cp5(n,a,b,c,d,e) __skiff_syscall_cp(n,__scc(a),__scc(b),__scc(c),__scc(d),__scc(e),0)
#define __syscall_cp6(n,a,b,c,d,e,f) __skiff_syscall_cp(n,__scc(a),__scc(b),__scc(c),__scc(d),__scc(e),__scc(f))

/* No vDSO: clock_gettime is already a direct call. */

#define IPC_64 0
