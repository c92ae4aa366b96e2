/*
 * libc/syscall.h - how a Linux system call is written in Skiff.
 *
 * Interface:
 *   Each system call is one kernel function, sys_NAME, taking its arguments
 *   as longs (the registers of the Linux ABI) and returning a value or a
 *   negative errno, which is also musl's convention: no conversion layer.
 *   Write it with SYSCALL_DEFINEn(name, type1, arg1, ...) { body }: the
 *   body sees typed arguments; the macro makes the long-taking sys_NAME.
 *   libc/syscall_list.h gives each its number.  An application built
 *   against Skiff's musl calls sys_NAME directly (a constant syscall number
 *   resolves at compile time); syscall(2) with a variable number and the
 *   SYSCALL instruction go through syscall_dispatch() and the same table.
 *
 *   Pointers from the application: one address space, so any address may
 *   be valid (the application's own data lies in the kernel image); bad
 *   ones must give -EFAULT, never a crash.  Read and write application
 *   memory only through copy_from_user()/copy_to_user() (0 or -EFAULT) and
 *   copy_path_from_user() (length, -EFAULT or -ENAMETOOLONG).
 */
#ifndef LIBC_SYSCALL_H
#define LIBC_SYSCALL_H

#include "core/kernel.h"
#include "core/arch.h"
#include "sched/sched.h"

/* Every call ends by delivering the signals that became deliverable
 * (libc/signal.c): one word is checked on the way out.  A blocking call
 * that a signal interrupted returns -ERESTARTSYS: it is made again after
 * the handlers if they all have SA_RESTART, else it returns -EINTR.
 * (Calls Linux never restarts, such as poll and nanosleep, return -EINTR
 * themselves.) */
bool libc_syscall_restart(long *ret);
static inline __attribute__((always_inline)) bool libc_syscall_again(long *ret)
{
	if (likely(!thread_signal_pending() && *ret != -ERESTARTSYS))
		return false;
	return libc_syscall_restart(ret);
}

/* A call made on an application thread's stack (the lower half; it is
 * demand-paged) first touches the two pages below the stack pointer, so
 * that the kernel code it runs, which may disable interrupts or
 * preemption where a page fault cannot be served, finds them present. */
#define APP_HALF_END 0x0000800000000000UL
static inline __attribute__((always_inline)) void libc_syscall_enter(void)
{
	uintptr_t sp = arch_stack_pointer();

	if (unlikely(sp < APP_HALF_END)) {
		(void)*(volatile char *)(sp - 4096);
		(void)*(volatile char *)(sp - 8192);
	}
}

#define SYSCALL_DEFINE_(name, params, args, longs)                            \
	static inline long do_sys_##name params;                             \
	long sys_##name longs;                                               \
	long sys_##name longs                                                \
	{                                                                    \
		long ret;                                                    \
		libc_syscall_enter();                                        \
		do                                                           \
			ret = do_sys_##name args;                            \
		while (libc_syscall_again(&ret));                            \
		return ret;                                                  \
	}                                                                    \
	static inline long do_sys_##name params

#define SYSCALL_DEFINE0(name) SYSCALL_DEFINE_(name, (void), (), (void))

#define SYSCALL_DEFINE1(name, t1, a1)                                         \
	SYSCALL_DEFINE_(name, (t1 a1), ((t1)x1), (long x1))
#define SYSCALL_DEFINE2(name, t1, a1, t2, a2)                                 \
	SYSCALL_DEFINE_(name, (t1 a1, t2 a2), ((t1)x1, (t2)x2), (long x1, long x2))
#define SYSCALL_DEFINE3(name, t1, a1, t2, a2, t3, a3)                         \
	SYSCALL_DEFINE_(name, (t1 a1, t2 a2, t3 a3), ((t1)x1, (t2)x2, (t3)x3),  \
			(long x1, long x2, long x3))
#define SYSCALL_DEFINE4(name, t1, a1, t2, a2, t3, a3, t4, a4)                 \
	SYSCALL_DEFINE_(name, (t1 a1, t2 a2, t3 a3, t4 a4),                  \
			((t1)x1, (t2)x2, (t3)x3, (t4)x4),                    \
			(long x1, long x2, long x3, long x4))
#define SYSCALL_DEFINE5(name, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5)         \
	SYSCALL_DEFINE_(name, (t1 a1, t2 a2, t3 a3, t4 a4, t5 a5),           \
			((t1)x1, (t2)x2, (t3)x3, (t4)x4, (t5)x5),            \
			(long x1, long x2, long x3, long x4, long x5))
#define SYSCALL_DEFINE6(name, t1, a1, t2, a2, t3, a3, t4, a4, t5, a5, t6, a6) \
	SYSCALL_DEFINE_(name, (t1 a1, t2 a2, t3 a3, t4 a4, t5 a5, t6 a6),    \
			((t1)x1, (t2)x2, (t3)x3, (t4)x4, (t5)x5, (t6)x6),    \
			(long x1, long x2, long x3, long x4, long x5, long x6))

/* The clock calls (clock_gettime, gettimeofday, time, getcpu) have a second,
 * lean entry, vdso_NAME: what the vDSO's functions jump to, and what musl's
 * own calls of them, linked in, become (a "VDSO_CALL(name)" line tells
 * scripts/syscalls).  As in Linux's vDSO, returning from one is no signal
 * delivery point, and it skips the stack pre-touch (nothing in them runs
 * with interrupts or preemption off).  syscall(2) and the SYSCALL
 * instruction still take the full entry. */
#define VDSO_CALL(name) long vdso_##name

/* The generic entry: any number, through the table (libc/syscall.c).
 * Numbers with no implementation return -ENOSYS and are logged once. */
long syscall_dispatch(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
const char *syscall_name(long nr);              /* "read", or NULL */

/* --- application memory --- */

static inline int copy_from_user(void *dst, const void *usrc, size_t n)
{
	return arch_copy_user(dst, usrc, n);
}

static inline int copy_to_user(void *udst, const void *src, size_t n)
{
	return arch_copy_user(udst, src, n);
}

/* Copies a NUL-terminated string of at most max-1 characters into dst
 * (size max); returns its length, -EFAULT or -ENAMETOOLONG. */
long copy_path_from_user(char *dst, const char *usrc, size_t max);

#endif
