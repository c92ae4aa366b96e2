/*
 * libc/signal.c - POSIX signals for the one process in the VM.
 *
 * Each thread has a mask and a set of pending signals (struct thread_libc);
 * the process has the table of actions.  A signal sent to the process
 * (kill) goes to the first thread that does not block it, else stays
 * pending on the sender; one sent to a thread (tgkill, raise) goes to that
 * thread.  Standard signals do not queue: a second one while the first is
 * pending is merged, as on Linux (real-time signals are merged too: not
 * queued yet).
 *
 * Delivery happens in the receiving thread, at three kinds of points:
 *   - at the return of every system call (the SYSCALL_DEFINE wrapper
 *     checks one word), so raise() and a blocking call interrupted by a
 *     signal (-EINTR) run the handler before the application sees the
 *     result;
 *   - when the thread is interrupted while running application code (an
 *     IPI from the sender, or any interrupt): the trap path calls the
 *     handler on the thread's stack with the interrupted context
 *     (arch/x86_64/signal.c);
 *   - on a fault in application code: SIGSEGV, SIGBUS, SIGILL and SIGFPE
 *     with si_addr, catchable; uncaught, the fault is reported as before.
 * Kernel code is never interrupted for a signal: a handler cannot run
 * while the kernel holds a lock on the thread's behalf.
 *
 * A handler runs with the action's mask (and the signal itself, unless
 * SA_NODEFER) added; on return the mask is restored from the ucontext it
 * was given, so a handler may change it, and the interrupted context is
 * resumed from the ucontext's registers.  SA_ONSTACK runs it on the
 * sigaltstack.  SA_RESETHAND, SA_SIGINFO and SA_RESTART are honoured: a
 * blocking read or write interrupted by a handler with SA_RESTART is made
 * again (libc/syscall.h); calls Linux never restarts (poll, select,
 * epoll_wait, nanosleep, sigsuspend) return -EINTR.
 *
 * Default actions: ignore (SIGCHLD, SIGURG, SIGWINCH, SIGCONT), stop
 * signals are ignored (there is no job control), everything else ends the
 * application with the console line "skiff: terminated by signal N" and
 * exit status 128+N, as a shell reports it.
 */
#include "libc/libc_impl.h"
#include "core/mm.h"
#include <asm/sigcontext.h>

#define NSIG_LINUX 64
#define SIG_BIT(s) (1ULL << ((s) - 1))

#define SIGKILL 9
#define SIGSTOP 19
#define UNBLOCKABLE (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP))

#define SA_SIGINFO   0x00000004
#define SA_ONSTACK   0x08000000
#define SA_RESTART   0x10000000
#define SA_NODEFER   0x40000000
#define SA_RESETHAND 0x80000000
#define SA_RESTORER  0x04000000

#define SIG_DFL ((uintptr_t)0)
#define SIG_IGN ((uintptr_t)1)

#define SS_ONSTACK 1
#define SS_DISABLE 2
#define MINSIGSTKSZ 2048

/* The kernel's struct sigaction for rt_sigaction on x86-64. */
struct ksigaction {
	uintptr_t handler;
	unsigned long flags;
	uintptr_t restorer;
	uint64_t mask;
};

struct ksiginfo {
	int si_signo, si_errno, si_code, pad;
	union {
		struct { int pid; unsigned int uid; } kill;
		struct { uintptr_t addr; } fault;
		char bytes[112];
	};
};

struct kstack {
	uintptr_t ss_sp;
	int ss_flags;
	size_t ss_size;
};

/* Linux's struct ucontext on x86-64 (the first 8 bytes of the mask are
 * musl's sigset_t's first 8). */
struct kucontext {
	unsigned long uc_flags;
	struct kucontext *uc_link;
	struct kstack uc_stack;
	struct sigcontext uc_mcontext;
	uint64_t uc_sigmask;
	uint64_t mask_rest[15];                 /* musl's sigset_t is 128 bytes */
	unsigned long fpregs_mem[64];
};

static struct ksigaction actions[NSIG_LINUX + 1];
static struct mutex actions_lock = MUTEX_INIT;

/* Per thread, beyond the pending and blocked words in struct thread_libc. */
struct sig_thread {
	struct mutex post_lock;                 /* senders, one at a time */
	struct ksiginfo info[NSIG_LINUX + 1];   /* for each pending signal */
	struct kstack altstack;
};

/* Whether sp is on the alternate stack (a range, not a flag: a handler
 * may leave by siglongjmp). */
static bool on_altstack(const struct sig_thread *s, uintptr_t sp)
{
	return s->altstack.ss_size && sp > s->altstack.ss_sp &&
	       sp <= s->altstack.ss_sp + s->altstack.ss_size;
}

/* The thread's extra state, made on first need (a thread that never meets
 * a signal costs nothing). */
static struct sig_thread *sig_state(struct thread *t)
{
	struct thread_libc *l = thread_libc(t);

	if (!l->sig) {
		struct sig_thread *s = calloc(1, sizeof(*s));
		if (s && !__atomic_compare_exchange_n(&l->sig, &(void *){ NULL }, s, false,
						      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			free(s);
	}
	return l->sig;
}

static bool valid(int sig)
{
	return sig >= 1 && sig <= NSIG_LINUX;
}

/* --- sending --- */

static int post(struct thread *t, int sig, const struct ksiginfo *info)
{
	struct sig_thread *s = sig_state(t);

	if (!s)
		return -EAGAIN;
	/* The info of a merged signal is the first one's.  Senders take turns
	 * (two could both see the signal not pending); the receiver copies the
	 * info before it clears the bit, so no sender writes it meanwhile. */
	WITH_LOCK(&s->post_lock) {
		if (!(__atomic_load_n(&thread_libc(t)->sig_pending, __ATOMIC_ACQUIRE) & SIG_BIT(sig)))
			s->info[sig] = *info;
		__atomic_fetch_or(&thread_libc(t)->sig_pending, SIG_BIT(sig), __ATOMIC_RELEASE);
	}
	thread_kick(t);
	return 0;
}

static bool ignored(int sig)
{
	uintptr_t h = actions[sig].handler;
	bool default_ignore = sig == 17 /* CHLD */ || sig == 23 /* URG */ || sig == 28 /* WINCH */ ||
			      sig == 18 /* CONT */ || sig == 19 || sig == 20 || sig == 21 || sig == 22;

	return h == SIG_IGN || (h == SIG_DFL && default_ignore && sig != SIGSTOP);
}

void libc_signal_dispositions(uint64_t *ignored, uint64_t *caught)
{
	*ignored = *caught = 0;
	WITH_LOCK(&actions_lock) {
		for (int sig = 1; sig <= NSIG_LINUX; sig++) {
			if (actions[sig].handler == SIG_IGN)
				*ignored |= SIG_BIT(sig);
			else if (actions[sig].handler != SIG_DFL)
				*caught |= SIG_BIT(sig);
		}
	}
}

static int send_to_thread(struct thread *t, int sig)
{
	struct ksiginfo info = { .si_signo = sig, .si_code = -6 /* SI_TKILL */,
				 .kill = { libc_pid(), 0 } };

	if (sig == 0)
		return 0;                       /* a probe: the target exists */
	if (ignored(sig))
		return 0;
	return post(t, sig, &info);
}

void libc_raise(int sig)
{
	send_to_thread(thread_self(), sig);
}

SYSCALL_DEFINE3(tgkill, int, tgid, int, tid, int, sig)
{
	struct thread *t;

	if (!valid(sig) && sig != 0)
		return -EINVAL;
	if (tgid != libc_pid())
		return -ESRCH;
	t = libc_thread_by_tid(tid);
	if (!t)
		return -ESRCH;
	int err = send_to_thread(t, sig);
	libc_thread_put(t);
	return err;
}

SYSCALL_DEFINE2(tkill, int, tid, int, sig)
{
	return sys_tgkill(libc_pid(), tid, sig);
}

static bool takes(struct thread *t, void *arg)
{
	int sig = *(int *)arg;

	if (thread_libc(t)->sig_blocked & SIG_BIT(sig))
		return false;
	send_to_thread(t, sig);
	return true;
}

SYSCALL_DEFINE2(kill, int, pid, int, sig)
{
	if (!valid(sig) && sig != 0)
		return -EINVAL;
	if (pid != libc_pid() && pid != 0 && pid != -1)
		return -ESRCH;
	if (sig == 0 || ignored(sig))
		return 0;
	/* A process-directed signal: the caller takes it, else the first
	 * thread that does not block it; if all do, it waits on the caller. */
	if (!(thread_libc(thread_self())->sig_blocked & SIG_BIT(sig)) ||
	    !libc_for_some_thread(takes, &sig))
		return send_to_thread(thread_self(), sig);
	return 0;
}

/* --- actions and masks --- */

SYSCALL_DEFINE4(rt_sigaction, int, sig, const struct ksigaction *, act, struct ksigaction *, old,
		size_t, setsize)
{
	struct ksigaction new, prev;

	if (setsize != 8)
		return -EINVAL;
	if (!valid(sig))
		return -EINVAL;
	if (act && copy_from_user(&new, act, sizeof(new)))
		return -EFAULT;
	if (act && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	WITH_LOCK(&actions_lock) {
		prev = actions[sig];
		if (act) {
			new.mask &= ~UNBLOCKABLE;
			actions[sig] = new;
		}
	}
	/* Setting SIG_IGN discards what is pending (POSIX). */
	if (act && ignored(sig))
		__atomic_fetch_and(&thread_libc(thread_self())->sig_pending, ~SIG_BIT(sig),
				   __ATOMIC_RELAXED);
	if (old && copy_to_user(old, &prev, sizeof(prev)))
		return -EFAULT;
	return 0;
}

#define SIG_BLOCK   0
#define SIG_UNBLOCK 1
#define SIG_SETMASK 2

SYSCALL_DEFINE4(rt_sigprocmask, int, how, const uint64_t *, set, uint64_t *, old, size_t, setsize)
{
	struct thread_libc *l = thread_libc(thread_self());
	uint64_t prev = l->sig_blocked, s;

	if (setsize != 8)
		return -EINVAL;
	if (set) {
		if (copy_from_user(&s, set, sizeof(s)))
			return -EFAULT;
		switch (how) {
		case SIG_BLOCK: l->sig_blocked |= s; break;
		case SIG_UNBLOCK: l->sig_blocked &= ~s; break;
		case SIG_SETMASK: l->sig_blocked = s; break;
		default: return -EINVAL;
		}
		l->sig_blocked &= ~UNBLOCKABLE;
	}
	if (old && copy_to_user(old, &prev, sizeof(prev)))
		return -EFAULT;
	return 0;                               /* now unblocked ones: at the return */
}

SYSCALL_DEFINE2(rt_sigpending, uint64_t *, set, size_t, setsize)
{
	struct thread_libc *l = thread_libc(thread_self());
	uint64_t p = __atomic_load_n(&l->sig_pending, __ATOMIC_ACQUIRE) & l->sig_blocked;

	if (setsize > 8 * 16)
		return -EINVAL;
	return copy_to_user(set, &p, sizeof(p));
}

/* Waits, with mask set, until a signal arrives: always -EINTR. */
SYSCALL_DEFINE2(rt_sigsuspend, const uint64_t *, set, size_t, setsize)
{
	struct thread_libc *l = thread_libc(thread_self());
	uint64_t mask;

	if (setsize != 8)
		return -EINVAL;
	if (copy_from_user(&mask, set, sizeof(mask)))
		return -EFAULT;
	uint64_t saved = l->sig_blocked;
	l->sig_blocked = mask & ~UNBLOCKABLE;
	while (!thread_signal_pending()) {
		sched_prepare_wait();
		if (thread_signal_pending()) {
			sched_cancel_wait();
			break;
		}
		sched_wait();
	}
	/* The handler runs with the suspend mask; afterwards the old one. */
	libc_signal_deliver();
	l->sig_blocked = saved;
	return -EINTR;
}

/* ppoll, pselect6, epoll_pwait: the mask for the duration of the wait.
 * A signal that ends the wait (-EINTR) is delivered before the old mask
 * returns, so one the wait unblocked runs its handler, as POSIX requires. */
int libc_sigmask_push(const uint64_t *umask, uint64_t *saved)
{
	struct thread_libc *l = thread_libc(thread_self());
	uint64_t mask;

	*saved = l->sig_blocked;
	if (!umask)
		return 0;
	if (copy_from_user(&mask, umask, sizeof(mask)))
		return -EFAULT;
	l->sig_blocked = mask & ~UNBLOCKABLE;
	return 0;
}

long libc_sigmask_pop(uint64_t saved, long ret)
{
	struct thread_libc *l = thread_libc(thread_self());

	if (ret == -EINTR)
		libc_signal_deliver();
	l->sig_blocked = saved;
	return ret;
}

SYSCALL_DEFINE0(pause)
{
	uint64_t mask = thread_libc(thread_self())->sig_blocked;

	return sys_rt_sigsuspend((long)&mask, 8);
}

SYSCALL_DEFINE2(sigaltstack, const struct kstack *, ss, struct kstack *, old)
{
	struct sig_thread *s = sig_state(thread_self());
	struct kstack n, prev;

	if (!s)
		return -ENOMEM;
	bool on = on_altstack(s, arch_stack_pointer());

	prev = s->altstack;
	prev.ss_flags = on ? SS_ONSTACK : (prev.ss_size ? 0 : SS_DISABLE);
	if (ss) {
		if (copy_from_user(&n, ss, sizeof(n)))
			return -EFAULT;
		if (on)
			return -EPERM;
		if (n.ss_flags & ~SS_DISABLE)
			return -EINVAL;
		if (n.ss_flags & SS_DISABLE)
			n = (struct kstack){ 0 };
		else if (n.ss_size < MINSIGSTKSZ)
			return -ENOMEM;
		s->altstack = n;
	}
	if (old && copy_to_user(old, &prev, sizeof(prev)))
		return -EFAULT;
	return 0;
}

SYSCALL_DEFINE0(rt_sigreturn)
{
	/* Handlers return to Skiff, not through a restorer: nothing calls this. */
	return -ENOSYS;
}

/* --- delivery --- */

static __noreturn void terminate(int sig)
{
	printk("skiff: terminated by signal %d\n", sig);
	libc_exit_group(128 + sig);
}

struct handler_call {
	uintptr_t handler;
	int sig;
	struct ksiginfo *info;
	struct kucontext *uc;
};

static long call_handler(void *p)
{
	struct handler_call *c = p;

	((void (*)(int, void *, void *))c->handler)(c->sig, c->info, c->uc);
	return 0;
}

/* Runs one signal's action in the calling thread; sc is the context it
 * interrupted, updated from the handler's ucontext: a trap's (trap: the
 * handler may go back to the interrupted stack), or a system call's
 * caller's (the SYSCALL instruction's frame), or NULL. */
/* Returns false if a handler without SA_RESTART ran (an interrupted call
 * must then end with EINTR). */
static bool run_action(int sig, struct ksiginfo *info, struct sigcontext *sc, bool trap)
{
	struct thread_libc *l = thread_libc(thread_self());
	struct sig_thread *s = l->sig;
	struct ksigaction act;

	WITH_LOCK(&actions_lock) {
		act = actions[sig];
		if (act.handler > SIG_IGN && (act.flags & SA_RESETHAND))
			actions[sig].handler = SIG_DFL;
	}
	if (act.handler == SIG_IGN || (act.handler == SIG_DFL && ignored(sig)))
		return true;
	if (act.handler == SIG_DFL)
		terminate(sig);

	struct kucontext uc = { .uc_sigmask = l->sig_blocked };
	if (sc) {
		uc.uc_mcontext = *sc;
	}
	uc.uc_stack = s->altstack;
	l->sig_blocked |= act.mask | ((act.flags & SA_NODEFER) ? 0 : SIG_BIT(sig));
	l->sig_blocked &= ~UNBLOCKABLE;

	/* The stack the handler runs on: the alternate one if asked for and
	 * not already on it; else, when a trap brought us onto the kernel
	 * stack from another, that one below its red zone; else this one. */
	struct thread *me = thread_self();
	struct handler_call call = { act.handler, sig, info, &uc };
	uintptr_t sp = sc ? sc->rsp : arch_stack_pointer(), top = 0, lo = 0;
	if ((act.flags & SA_ONSTACK) && s->altstack.ss_size && !on_altstack(s, sp)) {
		lo = s->altstack.ss_sp;
		top = s->altstack.ss_sp + s->altstack.ss_size;
	} else if (trap && sc && !thread_on_kernel_stack(me, sc->rsp)) {
		top = sc->rsp - 128;
	}
	if (top && thread_on_kernel_stack(me, arch_stack_pointer()) &&
	    l->handler_depth < ARRAY_SIZE(l->handlers)) {
		/* The kernel stack from here up stays in use while the handler
		 * runs; it is noted so that a handler that never returns (it
		 * siglongjmps) gives it back (sched_trap_copy_base). */
		l->handlers[l->handler_depth++] = (struct sig_handler_frame){
			.lo = lo, .hi = top, .saved_trap_stack = l->trap_stack,
		};
		l->trap_stack = arch_stack_pointer() - 64;
		arch_call_on_stack((void *)(top & ~15UL), call_handler, &call);
		l->trap_stack = l->handlers[--l->handler_depth].saved_trap_stack;
	} else if (top && !thread_on_kernel_stack(me, arch_stack_pointer())) {
		arch_call_on_stack((void *)(top & ~15UL), call_handler, &call);   /* the altstack */
	} else {
		call_handler(&call);
	}
	l->sig_blocked = uc.uc_sigmask & ~UNBLOCKABLE;
	if (sc)
		*sc = uc.uc_mcontext;
	return act.flags & SA_RESTART;
}

/* Runs every deliverable signal's action; false if one was a handler
 * without SA_RESTART. */
static bool deliver(struct sigcontext *sc, bool trap)
{
	struct thread_libc *l = thread_libc(thread_self());
	bool restart = true;
	uint64_t ready;

	while ((ready = __atomic_load_n(&l->sig_pending, __ATOMIC_ACQUIRE) & ~l->sig_blocked)) {
		int sig = __builtin_ctzll(ready) + 1;
		struct ksiginfo info = ((struct sig_thread *)l->sig)->info[sig];

		__atomic_fetch_and(&l->sig_pending, ~SIG_BIT(sig), __ATOMIC_ACQ_REL);
		restart &= run_action(sig, &info, sc, trap);
	}
	return restart;
}

/* The trap path's hook: sc is what the interrupt or fault interrupted. */
static void deliver_at_trap(struct sigcontext *sc)
{
	deliver(sc, true);
}

/* At a system call's return: the handlers see (and may change) the
 * caller's registers when it came by the SYSCALL instruction; a direct
 * call has no such frame, and they see none. */
bool libc_signal_deliver(void)
{
	struct arch_syscall_frame *f = thread_libc(thread_self())->syscall_frame;
	struct sigcontext sc;
	bool restart;

	if (!f)
		return deliver(NULL, false);
	arch_syscall_frame_to_sigcontext(f, &sc);
	restart = deliver(&sc, false);
	arch_sigcontext_to_syscall_frame(&sc, f);
	return restart;
}

/* A call's way out when a signal is pending or it was interrupted: the
 * handlers run; an interrupted call (-ERESTARTSYS) is made again when
 * every handler that ran asked for SA_RESTART, else it ends with -EINTR.
 * True: make the call again. */
bool libc_syscall_restart(long *ret)
{
	bool restart = libc_signal_deliver();

	if (*ret != -ERESTARTSYS)
		return false;
	if (restart)
		return true;
	*ret = -EINTR;
	return false;
}

static bool hook_pending(void)
{
	return thread_signal_pending();
}

/* Blocked or not handled, a fault's signal is fatal: reported as a fault. */
static bool hook_catches(int sig)
{
	return actions[sig].handler > SIG_IGN &&
	       !(thread_libc(thread_self())->sig_blocked & SIG_BIT(sig));
}

static bool hook_fault(int sig, int code, uintptr_t addr, struct sigcontext *sc)
{
	if (!hook_catches(sig) || !sig_state(thread_self()))
		return false;
	struct ksiginfo info = { .si_signo = sig, .si_code = code, .fault = { addr } };
	run_action(sig, &info, sc, true);
	return true;
}

static const struct arch_signal_hooks hooks = {
	.pending = hook_pending,
	.deliver = deliver_at_trap,
	.fault = hook_fault,
	.catches = hook_catches,
};

void libc_signal_init(void)
{
	arch_set_signal_hooks(&hooks);
}
