/*
 * sched/sched.h - threads, the scheduler, and sleeping synchronization.
 *
 * Interface:
 *   Threads: thread_create() starts fn(arg) on a new thread with its own
 *   stack (guard page below it); thread_join() waits for it and frees it;
 *   thread_exit(), thread_yield(), thread_sleep_ns(), thread_self().
 *   Every CPU has its own run queue, ordered by each thread's recent run
 *   time (a decaying average: the thread that ran least lately runs next).
 *   There is no periodic tick: each switch arms one one-shot timer.
 *
 *   Preemption: preempt_disable()/preempt_enable() nest; while disabled the
 *   current thread keeps its CPU (interrupts still run).
 *
 *   Waiting: a thread that waits calls sched_prepare_wait(), publishes
 *   itself where a waker will find it, re-checks its condition, then calls
 *   sched_wait() (or sched_wait_until() with a deadline).  sched_wake()
 *   wakes it from any CPU or interrupt handler, without locks; a wake that
 *   comes before the wait is not lost.
 *
 *   Locks: struct mutex is a sleeping lock with no spinning anywhere
 *   (lock-free fast path, FIFO hand-off to waiters), optionally recursive;
 *   WITH_LOCK(&m) { ... } holds it for a block.  struct condvar and struct
 *   semaphore are built on it.  None of these may be used from interrupt
 *   handlers; sched_wake() may.
 */
#ifndef SCHED_SCHED_H
#define SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arch.h"

struct thread;

struct thread_attr {
	const char *name;
	size_t stack_size;          /* 0: SCHED_DEFAULT_STACK */
	int cpu;                    /* pin to this CPU; -1: the scheduler places it */
	bool detached;              /* freed when it exits; cannot be joined */
	bool own_tls;               /* sets its TLS itself: no thread hooks (libc's threads) */
};

#define SCHED_DEFAULT_STACK (64 * 1024)

/* What the system-call layer (libc/) keeps for each thread; the scheduler
 * reads the stack fields.  An application thread runs on a stack its libc
 * allocated (the app stack, demand-paged like any mapping), or one the
 * program gave it, and keeps a small kernel stack of its own: an interrupt
 * or fault taken anywhere but on the kernel stack copies the interrupted
 * state onto the kernel stack, below trap_stack, never onto the stack it
 * interrupted, whose next page may not be there yet (sched_trap_copy_base).
 * A signal handler started from the kernel stack lowers trap_stack for its
 * duration; one that never returns (siglongjmp) is noticed at the next trap
 * by the stack pointer having left its range, and its part is given back. */
struct thread_libc {
	int tid;                    /* Linux thread id; 0: none given yet */
	uint32_t *clear_tid;        /* set_tid_address / CLONE_CHILD_CLEARTID */
	uintptr_t app_stack_lo, app_stack_hi;   /* 0, 0: on the kernel stack only */
	uintptr_t trap_stack;       /* on the kernel stack: below it is free while
	                             * the thread runs on any other stack */
	struct sig_handler_frame {  /* handlers run from the kernel stack, innermost last */
		uintptr_t lo, hi;       /* the stack range the handler runs in */
		uintptr_t saved_trap_stack;
	} handlers[4];
	unsigned int handler_depth;
	uint64_t sig_pending;       /* bit n-1: signal n is pending; atomic */
	uint64_t sig_blocked;       /* the signal mask; the thread itself */
	void *sig;                  /* more signal state (libc/signal.c) */
	void *kernel_tls;           /* the TLS block a kernel thread was given */
	struct arch_syscall_frame *syscall_frame;   /* in a SYSCALL-instruction call */
	bool own_tls;               /* from thread_attr */
};
#define THREAD_ATTR(...) ((struct thread_attr){ .cpu = -1, __VA_ARGS__ })

/* Returns the new thread, or ERR_PTR(-ENOMEM / -EINVAL). */
struct thread *thread_create(void (*fn)(void *), void *arg, const struct thread_attr *attr);
int thread_join(struct thread *t);              /* 0, or -EINVAL (detached, self) */
__attribute__((noreturn)) void thread_exit(void);
struct thread *thread_self(void);
void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
const char *thread_name(const struct thread *t);
int thread_pin(int cpu);                        /* pins (and moves) the caller */
void thread_set_tls(uint64_t fs_base);          /* the caller's TLS pointer, kept across switches */
struct thread_libc *thread_libc(struct thread *t);
/* Run in every new thread (unless own_tls) before its function, and at
 * its exit: the system-call layer gives kernel threads TLS with them. */
struct thread_hooks {
	void (*start)(void);
	void (*end)(void);
};
void thread_set_hooks(const struct thread_hooks *hooks);
/* Signals: the caller has a pending signal it does not block (interruptible
 * waits then end with -EINTR); thread_kick() makes t notice one soon: wakes
 * it from a wait, or interrupts its CPU if it is running. */
static inline __attribute__((always_inline)) bool thread_signal_pending(void)
{
	struct thread_libc *l = this_cpu()->current_libc;

	return (__atomic_load_n(&l->sig_pending, __ATOMIC_RELAXED) & ~l->sig_blocked) != 0;
}
void thread_kick(struct thread *t);
void *thread_kernel_stack_top(struct thread *t);
bool thread_on_kernel_stack(struct thread *t, uintptr_t sp);   /* (boot threads: always) */
unsigned int thread_cpu(const struct thread *t);
uint64_t thread_run_ns(const struct thread *t);  /* CPU time used so far */

void preempt_disable(void);
void preempt_enable(void);

void sched_prepare_wait(void);
void sched_cancel_wait(void);                   /* the condition came true: don't wait */
void sched_wait(void);
bool sched_wait_until(uint64_t deadline_ns);    /* false when the deadline passed */
bool sched_wake(struct thread *t);              /* false if it was not waiting */

/* Called once by kernel_main on the boot CPU (which becomes thread "main"),
 * and by every other CPU when it comes up (it becomes that CPU's idle thread). */
void sched_init(void);
__attribute__((noreturn)) void sched_ap_main(void);

/* --- RCU: read-mostly data (sched/rcu.c) --- */

struct rcu_head {
	struct rcu_head *next;
	void (*fn)(struct rcu_head *head);
};

static inline void rcu_read_lock(void) { preempt_disable(); }
static inline void rcu_read_unlock(void) { preempt_enable(); }
#define rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_CONSUME)
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
void synchronize_rcu(void);                     /* from a thread, not under rcu_read_lock */
void call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *head));   /* from a thread */

/* Statistics and a thread dump. */
struct sched_stats {
	uint64_t switches, wakeups_remote, ipis_sent, ipis_avoided, idle_ns;
};
void sched_cpu_stats(unsigned int cpu, struct sched_stats *s);
uint64_t sched_stack_cached_bytes(void);        /* freed stacks kept for reuse */
void sched_dump_threads(void);

/* --- sleeping locks --- */

struct mutex_waiter;

struct mutex {
	int count;                      /* holders + waiters + lockers under way */
	struct thread *owner;
	unsigned int depth;             /* recursion depth; owner only */
	bool recursive;
	unsigned int handoff;           /* non-zero: the lock is free for its taker */
	unsigned int handoff_seq;       /* owner only */
	struct mutex_waiter *pushed;    /* lock-free stack of new waiters */
	struct mutex_waiter *queue;     /* FIFO of waiters; owner only */
};

#define MUTEX_INIT { 0 }
#define MUTEX_RECURSIVE_INIT { .recursive = true }

void mutex_init(struct mutex *m, bool recursive);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
bool mutex_owned(const struct mutex *m);        /* by the calling thread */

static inline void mutex_unlock_cleanup(struct mutex **m) { mutex_unlock(*m); }

/* WITH_LOCK(&m) { ... }: holds m for the block; leaving it by any path
 * (break, return, goto) unlocks. */
#define WITH_LOCK_(m, n)                                                     \
	for (struct mutex *with_lock_##n __attribute__((cleanup(mutex_unlock_cleanup))) = \
		     (mutex_lock(m), (m)), *with_lock_once_##n = (m);        \
	     with_lock_once_##n; with_lock_once_##n = NULL)
#define WITH_LOCK_N(m, n) WITH_LOCK_(m, n)
#define WITH_LOCK(m) WITH_LOCK_N(m, __COUNTER__)

struct cond_waiter;

struct condvar {
	struct mutex lock;              /* protects waiters */
	struct cond_waiter *head, *tail;
};

#define CONDVAR_INIT { MUTEX_INIT, NULL, NULL }

void cond_init(struct condvar *c);
void cond_wait(struct condvar *c, struct mutex *m);
bool cond_wait_until(struct condvar *c, struct mutex *m, uint64_t deadline_ns);
/* cond_wait that a signal for the thread ends too: 0, or -EINTR (m held
 * again either way; the caller re-checks its condition). */
int cond_wait_interruptible(struct condvar *c, struct mutex *m);
void cond_signal(struct condvar *c);
void cond_broadcast(struct condvar *c);

/* A reader-writer lock: many readers or one writer; a waiting writer
 * holds off new readers, so writers are not starved. */
struct rwlock {
	struct mutex lock;
	struct condvar cv;
	unsigned int readers;
	unsigned int writers_waiting;
	bool writer;
};

#define RWLOCK_INIT { MUTEX_INIT, CONDVAR_INIT, 0, 0, false }

void rwlock_init(struct rwlock *rw);
void rwlock_read_lock(struct rwlock *rw);
void rwlock_read_unlock(struct rwlock *rw);
void rwlock_write_lock(struct rwlock *rw);
void rwlock_write_unlock(struct rwlock *rw);

struct semaphore {
	struct mutex lock;
	struct condvar cv;
	unsigned long count;
};

void sem_init(struct semaphore *s, unsigned long count);
void sem_down(struct semaphore *s);
bool sem_down_until(struct semaphore *s, uint64_t deadline_ns);
bool sem_trydown(struct semaphore *s);
void sem_up(struct semaphore *s);

/* --- futexes (sched/futex.c): Linux futex(2) semantics, negative errno --- */

#ifndef FUTEX_BITSET_MATCH_ANY                  /* also in <linux/futex.h> */
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#endif

/* Sleeps if *uaddr == val (else -EAGAIN) until woken (0) or the absolute
 * deadline on arch_clock_ns() passes (-ETIMEDOUT; 0: none).  -EINVAL for a
 * zero bitset or a misaligned uaddr; -EFAULT for the null page. */
int futex_wait(uint32_t *uaddr, uint32_t val, uint64_t deadline_ns, uint32_t bitset);
/* Wakes up to nr waiters (nr <= 0: one, as Linux) whose bitset meets bitset. */
int futex_wake(uint32_t *uaddr, int nr, uint32_t bitset);
/* Wakes up to nr_wake waiters on uaddr and moves up to nr_requeue more to
 * uaddr2; with cmpval, -EAGAIN unless *uaddr == *cmpval.  Returns woken + moved. */
int futex_requeue(uint32_t *uaddr, int nr_wake, uint32_t *uaddr2, int nr_requeue,
		  const uint32_t *cmpval);

#endif
