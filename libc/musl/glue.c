/*
 * libc/musl/glue.c - the few musl internals Skiff supplies itself.
 *
 * Compiled with musl's internal headers, linked with musl.  Each replaces
 * an assembler file of musl's that issues SYSCALL directly (see
 * libc/musl/config.mak), or musl's malloc, whose place the kernel's heap
 * takes.  The kernel functions they call are in libc/thread.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include "pthread_impl.h"

/* syscall_arch.h reads the cancellation flag at this offset. */
_Static_assert(offsetof(struct pthread, cancel) == SKIFF_PTHREAD_CANCEL,
	       "struct pthread changed: update SKIFF_PTHREAD_CANCEL in libc/musl/syscall_arch.h");

long libc_clone(int (*fn)(void *), void *stack, unsigned long flags, void *arg,
		int *ptid, void *tls, int *ctid);
_Noreturn void libc_unmapself(void *base, size_t size);
long sys_arch_prctl(long code, long addr);

/* musl's TLS set-up and every thread's start: the %fs base. */
int __set_thread_area(void *p)
{
	return (int)sys_arch_prctl(0x1002 /* ARCH_SET_FS */, (long)p);
}

int __clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	va_list ap;
	int *ptid, *ctid;
	void *tls;

	va_start(ap, arg);
	ptid = va_arg(ap, int *);
	tls = va_arg(ap, void *);
	ctid = va_arg(ap, int *);
	va_end(ap);
	return (int)libc_clone(fn, stack, (unsigned)flags, arg, ptid, tls, ctid);
}

/* A detached thread's last act: unmap its own stack and end. */
_Noreturn void __unmapself(void *base, size_t size)
{
	libc_unmapself(base, size);
}

/* The signal trampoline: Skiff calls handlers as functions and returns
 * from them itself, so nothing ever returns into a restorer. */
void __restore_rt(void)
{
	a_crash();
}
weak_alias(__restore_rt, __restore);

/* musl's internal allocation entry points: the kernel's heap. */
void *__libc_malloc(size_t n) { return malloc(n); }
void *__libc_malloc_impl(size_t n) { return malloc(n); }
void *__libc_calloc(size_t m, size_t n) { return calloc(m, n); }
void *__libc_realloc(void *p, size_t n) { return realloc(p, n); }
void __libc_free(void *p) { free(p); }

/* TLS for a kernel thread (one not made by pthread_create), so that libc
 * functions it calls find errno, the locale and thread-specific data: a
 * copy of the initial TLS image and a struct pthread, as pthread_create
 * makes them, in one heap block.  NULL before musl has set TLS up. */
extern uintptr_t __stack_chk_guard;

void *libc_tls_new(int tid, void **block)
{
	size_t tsd_size = sizeof(void *) * PTHREAD_KEYS_MAX;
	unsigned char *mem;
	pthread_t td;

	if (!libc.tls_size)
		return NULL;
	mem = calloc(1, libc.tls_size + tsd_size);
	if (!mem)
		return NULL;
	td = __copy_tls(mem + tsd_size);
	td->self = td->next = td->prev = td;
	td->tsd = (void **)mem;
	td->locale = &libc.global_locale;
	td->robust_list.head = &td->robust_list.head;
	td->canary = __stack_chk_guard;
	td->detach_state = DT_DETACHED;
	td->tid = tid;
	*block = mem;
	return TP_ADJ(td);
}
