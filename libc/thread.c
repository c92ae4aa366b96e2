/*
 * libc/thread.c - threads as musl's pthreads see them: clone, exit, thread
 * ids, TLS, futexes, affinity.
 *
 * musl creates a thread with __clone(fn, stack, flags, arg, ptid, tls,
 * ctid) after allocating the thread's stack, TLS and struct pthread itself
 * (mmap).  Skiff's __clone (libc/musl/glue.c) calls libc_clone(), which
 * starts a kernel thread with a small kernel stack of its own; the thread
 * sets its TLS pointer, moves onto musl's stack and calls fn(arg).  Ending
 * is the reverse: exit(2) moves back to the kernel stack first, so that
 * the CLONE_CHILD_CLEARTID store and futex wake, which tell pthread_join
 * the stack may be unmapped, happen when the stack is no longer in use.
 *
 * musl's stacks are demand-paged like any mapping.  Two rules keep that
 * safe: an interrupt or fault taken on the app stack saves the interrupted
 * state on the thread's kernel stack, not on the app stack
 * (sched_trap_copy_base), and every system call touches the two stack
 * pages below it first (libc/syscall.h), so kernel code that cannot take
 * a page fault finds its stack present.
 *
 * One process: its pid is the main thread's tid.  The process ends when
 * exit_group(2) is called or its last application thread exits.
 */
#include "libc/libc_impl.h"
#include "libc/libc.h"
#include "core/mm.h"

#define KERNEL_STACK (16 * 1024)

static int next_tid = 1;                /* atomic */

/* The application's threads by tid, for tgkill: a small array; a thread
 * leaves it (under the lock) before it ends. */
static struct mutex table_lock = MUTEX_INIT;
static struct app_thread {
	int tid;
	struct thread *t;
	uintptr_t unmap_base;           /* its own stack, unmapped at its exit */
	size_t unmap_len;               /* 0: none (libc_unmap_at_exit) */
} *table;
static size_t table_len, table_cap;

/* Room for one more entry; table_lock held. */
static int table_make_room(void)
{
	if (table_len == table_cap) {
		size_t cap = table_cap ? 2 * table_cap : 16;
		struct app_thread *n = realloc(table, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		table = n;
		table_cap = cap;
	}
	return 0;
}

static int table_add(int tid, struct thread *t)
{
	WITH_LOCK(&table_lock) {
		if (table_make_room())
			return -ENOMEM;
		table[table_len++] = (struct app_thread){ .tid = tid, .t = t };
	}
	return 0;
}

/* Removes tid; *unmap is what libc_unmap_at_exit() left for its exit. */
static void table_remove(int tid, struct app_thread *unmap)
{
	*unmap = (struct app_thread){ 0 };
	WITH_LOCK(&table_lock) {
		for (size_t i = 0; i < table_len; i++) {
			if (table[i].tid == tid) {
				*unmap = table[i];
				table[i] = table[--table_len];
				break;
			}
		}
	}
}

/* A thread that unmaps the stack it runs on (musl's __unmapself in an
 * unmodified binary: munmap(2) of its stack, then exit(2) without
 * touching it) cannot have it unmapped at once: system calls made with
 * the SYSCALL instruction run on the caller's stack.  The unmap waits for
 * the thread's exit, which leaves the stack first.  True if deferred. */
bool libc_unmap_at_exit(uintptr_t base, size_t len)
{
	struct thread_libc *l = thread_libc(thread_self());
	bool done = false;

	if (!l->app_stack_hi)
		return false;                   /* exit would not leave this stack */
	WITH_LOCK(&table_lock) {
		for (size_t i = 0; i < table_len && !done; i++) {
			if (table[i].tid == l->tid && !table[i].unmap_len) {
				table[i].unmap_base = base;
				table[i].unmap_len = len;
				done = true;
			}
		}
	}
	return done;
}

/* fn(t, arg) for application threads until it returns true; the table
 * is held meanwhile, so no thread ends.  True if fn did. */
bool libc_for_some_thread(bool (*fn)(struct thread *t, void *arg), void *arg)
{
	WITH_LOCK(&table_lock) {
		for (size_t i = 0; i < table_len; i++) {
			if (fn(table[i].t, arg))
				return true;
		}
	}
	return false;
}

struct thread *libc_thread_by_tid(int tid)
{
	mutex_lock(&table_lock);
	for (size_t i = 0; i < table_len; i++) {
		if (table[i].tid == tid)
			return table[i].t;      /* held: the lock stays taken */
	}
	mutex_unlock(&table_lock);
	return NULL;
}

void libc_thread_put(struct thread *t)
{
	(void)t;
	mutex_unlock(&table_lock);
}
static int pid;                         /* the main thread's tid */
static int app_threads;                 /* alive; atomic */

int libc_tid(void)
{
	struct thread_libc *l = thread_libc(thread_self());

	if (!l->tid)
		l->tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
	return l->tid;
}

int libc_pid(void)
{
	return pid ? pid : libc_tid();
}

void libc_main_thread(void)
{
	pid = libc_tid();
	__atomic_store_n(&app_threads, 1, __ATOMIC_RELAXED);
	if (table_add(pid, thread_self()))
		panic("no memory for the application's thread table");
}

static bool add_cpu_ns(struct thread *t, void *sum)
{
	*(uint64_t *)sum += thread_run_ns(t);
	return false;
}

void libc_process_get(struct libc_process *p)
{
	struct thread_libc *l = thread_libc(thread_self());

	*p = (struct libc_process){
		.pid = libc_pid(),
		.threads = __atomic_load_n(&app_threads, __ATOMIC_RELAXED),
		.sig_pending = __atomic_load_n(&l->sig_pending, __ATOMIC_RELAXED),
		.sig_blocked = l->sig_blocked,
	};
	libc_for_some_thread(add_cpu_ns, &p->cpu_ns);
	libc_signal_dispositions(&p->sig_ignored, &p->sig_caught);
}

__noreturn void libc_exit_group(int status)
{
	arch_exit(status & 0xff);
}

/* --- creating a thread --- */

struct clone_start {
	int (*fn)(void *);              /* musl's __clone; NULL: the raw clone(2) */
	void *arg;
	uintptr_t stack;
	uint64_t tls;                   /* 0: CLONE_SETTLS not given */
	uint32_t *clear_tid;
	int tid;
	uint64_t sig_blocked;           /* the parent's signal mask, inherited */
	struct arch_syscall_frame frame;   /* raw clone: the caller's registers */
};

static long run_app_fn(void *p)
{
	struct clone_start *cs = p;

	return cs->fn(cs->arg);
}

static __noreturn void end_thread(int code);

/* The new thread, on its kernel stack. */
static void clone_entry(void *p)
{
	struct clone_start cs = *(struct clone_start *)p;
	struct thread_libc *l = thread_libc(thread_self());
	uintptr_t lo, hi;

	free(p);
	l->tid = cs.tid;                        /* in the table already: start_thread */
	l->clear_tid = cs.clear_tid;
	l->sig_blocked = cs.sig_blocked;
	if (cs.tls)
		thread_set_tls(cs.tls);
	/* This kernel stack, below here, is the trap paths' while the thread
	 * runs on the stack it was given; musl's mapping, if it is one, is
	 * what the syscall layer touches ahead (libc/syscall.h). */
	l->trap_stack = arch_stack_pointer() - 256;
	if (vm_find(cs.stack - 1, &lo, &hi) == 0) {
		l->app_stack_lo = lo;
		l->app_stack_hi = cs.stack;
	}
	if (!cs.fn) {                           /* the raw call: return from it, with 0 */
		cs.frame.rax = 0;
		cs.frame.rsp = cs.stack;
		arch_syscall_return_child(&cs.frame);
	}
	end_thread((int)arch_call_on_stack((void *)(cs.stack & ~15UL), run_app_fn, &cs));
}

#define CLONE_THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)

/* A new thread that starts with fn(arg) on stack (musl's __clone), or,
 * with fn NULL, returns from the system call in frame (clone(2) made with
 * the SYSCALL instruction by an unmodified binary). */
static long start_thread(int (*fn)(void *), void *stack, unsigned long flags, void *arg,
			 int *ptid, void *tls, int *ctid, const struct arch_syscall_frame *frame)
{
	struct clone_start *cs;
	struct thread *t;

	/* Threads only: one process per VM (fork, vfork and posix_spawn's
	 * clone get ENOSYS, as fork itself does). */
	if ((flags & CLONE_THREAD_FLAGS) != CLONE_THREAD_FLAGS)
		return -ENOSYS;
	if (!stack || (!fn && !frame))
		return -EINVAL;
	cs = malloc(sizeof(*cs));
	if (!cs)
		return -ENOMEM;
	*cs = (struct clone_start){
		.frame = frame ? *frame : (struct arch_syscall_frame){ 0 },
		.fn = fn, .arg = arg, .stack = (uintptr_t)stack,
		.tls = (flags & CLONE_SETTLS) ? (uint64_t)tls : 0,
		.clear_tid = (flags & CLONE_CHILD_CLEARTID) ? (uint32_t *)ctid : NULL,
		.tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED),
		.sig_blocked = thread_libc(thread_self())->sig_blocked,
	};
	int tid = cs->tid;
	/* The child's first system call touches the two pages below its stack
	 * pointer (libc_syscall_enter): populate them now, not by two faults. */
	vm_prefault((uintptr_t)stack - 3 * PAGE_SIZE, 3 * PAGE_SIZE);
	if ((flags & CLONE_PARENT_SETTID) && copy_to_user(ptid, &tid, sizeof(tid))) {
		free(cs);
		return -EFAULT;
	}
	/* In the table before clone returns (pthread_kill may follow at once),
	 * and before the thread can end (that takes the table's lock). */
	WITH_LOCK(&table_lock) {
		if (table_make_room()) {
			free(cs);
			return -ENOMEM;
		}
		__atomic_fetch_add(&app_threads, 1, __ATOMIC_RELAXED);
		t = thread_create(clone_entry, cs,
				  &THREAD_ATTR(.name = "app", .stack_size = KERNEL_STACK,
					       .detached = true, .own_tls = true));
		if (IS_ERR(t)) {
			__atomic_fetch_sub(&app_threads, 1, __ATOMIC_RELAXED);
			free(cs);
			return PTR_ERR(t);
		}
		table[table_len++] = (struct app_thread){ .tid = tid, .t = t };
	}
	return tid;
}

long libc_clone(int (*fn)(void *), void *stack, unsigned long flags, void *arg,
		int *ptid, void *tls, int *ctid)
{
	return fn ? start_thread(fn, stack, flags, arg, ptid, tls, ctid, NULL) : -EINVAL;
}

/* clone(2) itself: only through the SYSCALL instruction, whose frame the
 * child returns through; an application linked with Skiff's musl uses
 * pthread_create (__clone above) instead. */
SYSCALL_DEFINE5(clone, unsigned long, flags, void *, newsp, int *, ptid, int *, ctid,
		unsigned long, tls)
{
	const struct arch_syscall_frame *f = thread_libc(thread_self())->syscall_frame;

	if (!f)
		return -ENOSYS;
	return start_thread(NULL, newsp, flags, NULL, ptid, (void *)tls, ctid, f);
}

/* The SYSCALL instruction's way in (arch/x86_64/syscall.S). */
long syscall_instruction(struct arch_syscall_frame *f)
{
	struct thread_libc *l = thread_libc(thread_self());
	struct arch_syscall_frame *outer = l->syscall_frame;
	long ret;

	l->syscall_frame = f;
	ret = syscall_dispatch((long)f->rax, (long)f->rdi, (long)f->rsi, (long)f->rdx,
			       (long)f->r10, (long)f->r8, (long)f->r9);
	l->syscall_frame = outer;
	return ret;
}

/* An unmodified program's first thread (loader/): it runs on the stack the
 * loader built, from the ELF entry point. */
__noreturn void libc_exec(uintptr_t entry, uintptr_t sp, uintptr_t stack_lo, uintptr_t stack_hi)
{
	struct thread_libc *l = thread_libc(thread_self());

	libc_main_thread();
	libc_signal_init();
	l->app_stack_lo = stack_lo;
	l->app_stack_hi = stack_hi;
	l->trap_stack = arch_stack_pointer() - 256;
	arch_enter_program(entry, sp);
}

/* --- ending one --- */

/* On the kernel stack: tell a joiner, and go.  The last application
 * thread to end ends the process with its status. */
static __noreturn void end_thread(int code)
{
	struct thread_libc *l = thread_libc(thread_self());
	uint32_t zero = 0;

	struct app_thread gone;

	table_remove(l->tid, &gone);
	if (gone.unmap_len)                     /* its own stack: left by now */
		vm_munmap(gone.unmap_base, gone.unmap_len);
	if (l->clear_tid && copy_to_user(l->clear_tid, &zero, sizeof(zero)) == 0)
		futex_wake(l->clear_tid, 1, FUTEX_BITSET_MATCH_ANY);
	if (__atomic_sub_fetch(&app_threads, 1, __ATOMIC_ACQ_REL) == 0)
		libc_exit_group(code);
	thread_exit();
}

static long end_thread_on_kernel_stack(void *code)
{
	end_thread((int)(long)code);
}

SYSCALL_DEFINE1(exit, int, code)
{
	struct thread *me = thread_self();

	/* Off any stack the application owns (musl's, or one it gave with
	 * pthread_attr_setstack, which its next thread may reuse at once). */
	if (thread_on_kernel_stack(me, arch_stack_pointer()))
		end_thread(code);
	arch_call_on_stack(thread_kernel_stack_top(me), end_thread_on_kernel_stack,
			   (void *)(long)code);
	__builtin_unreachable();
}

SYSCALL_DEFINE1(exit_group, int, status)
{
	libc_exit_group(status);
}

/* musl's __unmapself: a detached thread frees its own stack and ends. */
struct unmap_self {
	uintptr_t base;
	size_t size;
};

static long unmap_and_end(void *p)
{
	struct unmap_self u = *(struct unmap_self *)p;

	vm_munmap(u.base, u.size);
	end_thread(0);
}

__noreturn void libc_unmapself(void *base, size_t size)
{
	struct thread *me = thread_self();
	struct unmap_self u = { (uintptr_t)base, size };

	/* u is copied onto the kernel stack before the unmap. */
	arch_call_on_stack(thread_kernel_stack_top(me), unmap_and_end, &u);
	__builtin_unreachable();
}

/* --- kernel threads' TLS (libc/musl/glue.c makes it) --- */

void *libc_tls_new(int tid, void **block);

static void kernel_thread_start(void)
{
	struct thread_libc *l = thread_libc(thread_self());
	void *tp = libc_tls_new(libc_tid(), &l->kernel_tls);

	if (tp)
		thread_set_tls((uint64_t)tp);   /* without memory: no TLS, as before */
}

static void kernel_thread_end(void)
{
	struct thread_libc *l = thread_libc(thread_self());

	if (l->kernel_tls) {
		thread_set_tls(0);
		free(l->kernel_tls);
		l->kernel_tls = NULL;
	}
}

static const struct thread_hooks kernel_thread_hooks = {
	.start = kernel_thread_start,
	.end = kernel_thread_end,
};

/* A constructor: musl runs it once its own TLS is set up, before main. */
__attribute__((constructor)) static void kernel_threads_get_tls(void)
{
	thread_set_hooks(&kernel_thread_hooks);
}

/* --- ids, TLS --- */

SYSCALL_DEFINE0(gettid)
{
	return libc_tid();
}

SYSCALL_DEFINE1(set_tid_address, int *, tidptr)
{
	thread_libc(thread_self())->clear_tid = (uint32_t *)tidptr;
	return libc_tid();
}

SYSCALL_DEFINE2(set_robust_list, void *, head, size_t, len)
{
	(void)head;
	/* The robust list matters when a process dies holding a shared
	 * mutex; one process per VM, so it is accepted and unused. */
	return len == 24 ? 0 : -EINVAL;
}

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003

SYSCALL_DEFINE2(arch_prctl, int, code, unsigned long, addr)
{
	switch (code) {
	case ARCH_SET_FS:
		thread_set_tls(addr);
		return 0;
	case ARCH_GET_FS: {
		uint64_t fs = arch_get_tls();
		return copy_to_user((void *)addr, &fs, sizeof(fs));
	}
	default:
		return -EINVAL;
	}
}

/* --- scheduling --- */

SYSCALL_DEFINE0(sched_yield)
{
	thread_yield();
	return 0;
}

static long cpu_mask_bytes(void)
{
	return (ncpus_online + 63) / 64 * 8;
}

SYSCALL_DEFINE3(sched_getaffinity, int, tid, size_t, len, void *, mask)
{
	uint64_t bits[(CONFIG_MAX_CPUS + 63) / 64] = { 0 };
	long n = cpu_mask_bytes();

	if (tid != 0 && tid != libc_tid() && tid != libc_pid())
		return -ESRCH;                  /* other threads: not tracked by id yet */
	if ((long)len < n || (len & 7))
		return -EINVAL;
	for (unsigned int c = 0; c < ncpus_online; c++)
		bits[c / 64] |= 1ULL << (c % 64);
	if (copy_to_user(mask, bits, n))
		return -EFAULT;
	return n;
}

SYSCALL_DEFINE3(sched_setaffinity, int, tid, size_t, len, const void *, mask)
{
	uint64_t bits[(CONFIG_MAX_CPUS + 63) / 64] = { 0 };
	int cpu = -1, count = 0;

	if (tid != 0 && tid != libc_tid())
		return -ESRCH;
	if (copy_from_user(bits, mask, MIN(len, sizeof(bits))))
		return -EFAULT;
	for (unsigned int c = 0; c < ncpus_online; c++) {
		if (bits[c / 64] >> (c % 64) & 1) {
			if (cpu < 0)
				cpu = (int)c;
			count++;
		}
	}
	if (count == 0)
		return -EINVAL;
	/* One CPU: pinned there.  Several: the scheduler's choice (a set
	 * smaller than all CPUs is honoured by its first CPU only). */
	return count == 1 || count < (int)ncpus_online ? thread_pin(cpu) : 0;
}

SYSCALL_DEFINE3(getcpu, unsigned int *, cpu, unsigned int *, node, void *, cache)
{
	unsigned int c = this_cpu()->id, zero = 0;

	(void)cache;
	if (cpu && copy_to_user(cpu, &c, sizeof(c)))
		return -EFAULT;
	if (node && copy_to_user(node, &zero, sizeof(zero)))
		return -EFAULT;
	return 0;
}

/* --- futexes: sched/futex.c does the work --- */

static int futex_deadline(int op, const struct __kernel_timespec *ut, uint64_t *deadline)
{
	long long t;

	*deadline = 0;
	if (!ut)
		return 0;
	t = libc_timespec_from_user(ut);
	if (t < 0)
		return (int)t;
	uint64_t ns = (uint64_t)t;
	if ((op & FUTEX_CMD_MASK) == FUTEX_WAIT)
		*deadline = arch_clock_ns() + ns;       /* relative */
	else if (op & FUTEX_CLOCK_REALTIME)
		*deadline = ns > libc_realtime_offset() ? ns - libc_realtime_offset() : 1;
	else
		*deadline = ns;                         /* absolute, monotonic */
	if (*deadline == 0)
		*deadline = 1;
	return 0;
}

SYSCALL_DEFINE6(futex, uint32_t *, uaddr, int, op, uint32_t, val,
		const struct __kernel_timespec *, timeout, uint32_t *, uaddr2, uint32_t, val3)
{
	uint64_t deadline;
	int err;

	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		err = futex_deadline(op, timeout, &deadline);
		if (err)
			return err;
		return futex_wait(uaddr, val, deadline,
				  (op & FUTEX_CMD_MASK) == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : val3);
	case FUTEX_WAKE:
		return futex_wake(uaddr, (int)val, FUTEX_BITSET_MATCH_ANY);
	case FUTEX_WAKE_BITSET:
		return futex_wake(uaddr, (int)val, val3);
	case FUTEX_REQUEUE:
		return futex_requeue(uaddr, (int)val, uaddr2, (int)(long)timeout, NULL);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(uaddr, (int)val, uaddr2, (int)(long)timeout, &val3);
	default:
		return -ENOSYS;                 /* PI futexes, WAKE_OP: not yet */
	}
}
