/*
 * libc/libc_impl.h - what the files of the system-call layer share.
 */
#ifndef LIBC_LIBC_IMPL_H
#define LIBC_LIBC_IMPL_H

#include "libc/abi.h"
#include "libc/syscall.h"
#include "sched/sched.h"

/* thread.c: thread ids and the application's threads. */
int libc_tid(void);                     /* the caller's, given on first use */
int libc_pid(void);                     /* the main thread's tid */
void libc_main_thread(void);            /* the caller is the application's main thread */
__noreturn void libc_exit_group(int status);
/* The application thread with this tid, held (it cannot end) until
 * libc_thread_put(); NULL if there is none. */
struct thread *libc_thread_by_tid(int tid);
bool libc_for_some_thread(bool (*fn)(struct thread *t, void *arg), void *arg);
void libc_thread_put(struct thread *t);
/* munmap(2) of the caller's own stack, done at its exit instead: true if
 * so (false: unmap now). */
bool libc_unmap_at_exit(uintptr_t base, size_t len);

/* signal.c: delivery in the calling thread, at a system call's return. */
void libc_signal_init(void);
bool libc_signal_deliver(void);         /* false: a handler without SA_RESTART ran */
void libc_raise(int sig);               /* to the calling thread (ignored if ignored) */
void libc_signal_dispositions(uint64_t *ignored, uint64_t *caught);
int libc_sigmask_push(const uint64_t *umask, uint64_t *saved);   /* the p*-calls' mask */
long libc_sigmask_pop(uint64_t saved, long ret);

/* time.c: CLOCK_REALTIME = CLOCK_MONOTONIC + this (ns).  A timespec as
 * ns: -EINVAL if malformed, a huge one clamped to "forever"; from
 * application memory also -EFAULT. */
uint64_t libc_realtime_offset(void);
long long libc_timespec_ns(const struct __kernel_timespec *ts);
long long libc_timespec_from_user(const struct __kernel_timespec *u);
struct __kernel_timespec libc_ns_timespec(uint64_t ns);

#endif
