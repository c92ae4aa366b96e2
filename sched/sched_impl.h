/*
 * sched/sched_impl.h - private to sched/: the thread, the per-CPU scheduler
 * state, and the functions the sched files call in each other.
 *
 * Ownership rules (the reason there are no locks here):
 *   - a CPU's struct sched_cpu is touched only by that CPU, with interrupts
 *     off, except inbox_mask and polling (atomics), and the inbox rings
 *     (single producer: the sending CPU; single consumer: this CPU);
 *   - a thread's state changes by atomic compare-and-swap; its rq_node,
 *     timer and fairness fields belong to its home CPU (t->cpu).
 */
#ifndef SCHED_SCHED_IMPL_H
#define SCHED_SCHED_IMPL_H

#include "core/arch.h"
#include "core/kernel.h"
#include "sched/rq_impl.h"
#include "sched/sched.h"
#include "sched/spsc_impl.h"
#include "sched/timerq_impl.h"

enum thread_state {
	THREAD_RUNNING,     /* the current thread of its CPU */
	THREAD_QUEUED,      /* in its CPU's run queue */
	THREAD_WAITING,     /* blocked; a waker moves it to WAKING */
	THREAD_WAKING,      /* woken, on its way to its CPU's run queue */
	THREAD_EXITING,     /* called thread_exit, not yet switched away from */
	THREAD_MIGRATING,   /* switched away from, to be sent to migrate_to */
	THREAD_DEAD,        /* switched away from for good; stack may be freed */
};

/* A timer: fn runs on the CPU that armed it, interrupts off. */
struct sched_timer {
	struct timerq_node node;
	void (*fn)(struct sched_timer *t);
};

struct thread {
	struct arch_context ctx;        /* saved while not running */
	int state;                      /* enum thread_state; atomic */
	unsigned int cpu;               /* home CPU */
	int pinned;                     /* CPU it must stay on, or -1 */
	unsigned int preempt_count;     /* > 0: not preempted; the thread itself */
	struct rq_node rq_node;         /* home CPU, irqs off */
	double fair_key;                /* decayed run time, scaled to fair_base */
	double fair_base;               /* the home CPU's time origin for fair_key */
	struct sched_timer timer;       /* sleeps and wait deadlines; home CPU */
	bool timed_out;                 /* home CPU */
	void *stack;                    /* lowest address of the usable stack */
	size_t stack_size;
	void (*fn)(void *);
	void *arg;
	uint64_t fs_base;               /* the application's TLS pointer */
	struct thread_libc libc;        /* the system-call layer's */
	uint64_t run_ns, switches;      /* owner CPU */
	bool detached;
	struct thread *joiner;          /* waits in thread_join(); atomic */
	struct thread *renorm_next;     /* fair_renormalize() only */
	struct thread *zombie_next;     /* dead and detached, not yet freed */
	struct thread *reg_prev, *reg_next;   /* the registry; registry_lock */
	int migrate_to;                 /* >= 0: move there at the next switch */
	bool on_cpu;                    /* from switch-to until its context is saved; atomic */
	char name[16];
};

#define SCHED_INBOX_BITS 64         /* inbox_mask is one word */

struct sched_cpu {
	struct thread *current;         /* also this CPU's struct cpu .current */
	struct thread *idle;
	struct rq rq;                   /* runnable threads, irqs off */
	struct timerq timers;           /* irqs off */
	bool resched;                   /* switch at the next chance */
	uint64_t switched_at;           /* ns: when current started running */
	double fair_base;               /* ns: time origin of fair keys here */
	struct sched_timer slice;       /* end of the current thread's slice */
	uint64_t programmed;            /* deadline the hardware timer holds; 0: none */
	double scale_now;               /* fair.c: e^((switched_at - fair_base)/TAU) */
	struct thread *switched_from;   /* set just before each arch_switch */
	struct spsc_ring *inbox[CONFIG_MAX_CPUS];   /* [i]: woken threads sent by CPU i */
	uint64_t inbox_mask;            /* bit i: inbox[i] may hold some; atomic */
	uint64_t pull_mask;             /* bit i: idle CPU i asks us for a thread; atomic */
	uint64_t last_balance, last_pull;   /* ns */
	uint64_t quiescent;             /* switches and idle passes, for RCU; atomic */
	bool polling;                   /* idle and looking at inbox_mask: no IPI needed; atomic */
	struct sched_stats stats;
};

static inline struct sched_cpu *sched_this_cpu(void)
{
	return this_cpu()->sched;
}

/* sched.c */
extern struct sched_cpu sched_cpus[CONFIG_MAX_CPUS];
extern bool sched_running;
void sched_switch(void);                        /* irqs off */
void sched_enqueue_local(struct thread *t);     /* irqs off, t->cpu == this CPU */
void sched_timer_arm(struct sched_timer *tm, uint64_t deadline_ns);   /* irqs off */
void sched_timer_cancel(struct sched_timer *tm);                       /* irqs off */
void sched_send_to_cpu(struct thread *t, unsigned int cpu);           /* t is WAKING */

/* balance.c */
void sched_serve_pulls(struct sched_cpu *sc);
void sched_ask_for_work(struct sched_cpu *sc);
void sched_balance(struct sched_cpu *sc, uint64_t now);
unsigned int sched_wake_target(struct thread *t);

/* fair.c */
void fair_account(struct sched_cpu *sc, struct thread *t, uint64_t now);
void fair_adopt(struct sched_cpu *sc, struct thread *t);
bool fair_should_preempt(struct sched_cpu *sc, struct thread *cur, struct thread *t);
uint64_t fair_slice_ns(struct sched_cpu *sc, struct thread *cur, uint64_t now);
void fair_renormalize(struct sched_cpu *sc, uint64_t now);

void sched_thread_started(void);

/* thread.c */
void thread_init_boot(struct thread *t, const char *name, unsigned int cpu);
struct thread *thread_alloc(void (*fn)(void *), void *arg, const struct thread_attr *attr);
void thread_reap(struct thread *t);             /* t is DEAD: free it or let its joiner */

#endif
