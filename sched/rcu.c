/*
 * sched/rcu.c - read-copy-update for read-mostly data.
 *
 * Readers: rcu_read_lock()/rcu_read_unlock() around the read side, which
 * only disables preemption: reading costs no atomic operation and no shared
 * write.  Writers publish with rcu_assign_pointer() and free the old copy
 * after synchronize_rcu(), or hand it to call_rcu().
 *
 * A grace period ends when every other CPU has passed a quiescent state:
 * a context switch, a pass of its idle loop, or an IPI that interrupted a
 * thread with preemption enabled (each bumps the CPU's `quiescent`
 * counter; synchronize_rcu sends those IPIs to CPUs that run one thread
 * and so never switch), or it is idle now.  A CPU in a read-side section
 * cannot switch, so once each CPU has passed one, no reader can still hold
 * an old pointer.  call_rcu() callbacks are batched by a kernel thread
 * started on first use.
 */
#include "sched/sched_impl.h"

#define RCU_POLL_NS 100000

static bool cpu_is_idle(struct sched_cpu *sc)
{
	return __atomic_load_n(&sc->current, __ATOMIC_ACQUIRE) == sc->idle;
}

void synchronize_rcu(void)
{
	uint64_t seen[CONFIG_MAX_CPUS];
	unsigned int me;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);    /* the caller's publish before our snapshot */
	preempt_disable();
	me = this_cpu()->id;
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++)
		seen[i] = __atomic_load_n(&sched_cpus[i].quiescent, __ATOMIC_ACQUIRE);
	preempt_enable();
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++) {
		struct sched_cpu *sc = &sched_cpus[i];
		if (i == me || !cpus[i].online)
			continue;
		while (__atomic_load_n(&sc->quiescent, __ATOMIC_ACQUIRE) == seen[i] && !cpu_is_idle(sc)) {
			arch_ipi_send(i);       /* a CPU running one thread never switches */
			thread_sleep_ns(RCU_POLL_NS);
		}
	}
}

/* --- call_rcu: callbacks run by the "rcu" thread after a grace period --- */

static struct rcu_head *pending;        /* lock-free stack of new callbacks */
static struct semaphore work = { MUTEX_INIT, CONDVAR_INIT, 0 };
static struct thread *rcu_thread;

static void rcu_worker(void *arg)
{
	(void)arg;
	for (;;) {
		struct rcu_head *batch;

		sem_down(&work);
		batch = __atomic_exchange_n(&pending, NULL, __ATOMIC_ACQUIRE);
		if (!batch)
			continue;
		synchronize_rcu();
		while (batch) {
			struct rcu_head *next = batch->next;
			batch->fn(batch);
			batch = next;
		}
	}
}

/* The worker starts with the first call_rcu(), not at boot. */
static void start_worker_once(void)
{
	static int state;                       /* 0 not started, 1 starting, 2 running */
	int expected = 0;

	if (__atomic_load_n(&state, __ATOMIC_ACQUIRE) == 2 ||
	    !__atomic_compare_exchange_n(&state, &expected, 1, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	rcu_thread = thread_create(rcu_worker, NULL, &THREAD_ATTR(.name = "rcu", .detached = true));
	if (IS_ERR(rcu_thread))
		panic("rcu: cannot start its thread");
	__atomic_store_n(&state, 2, __ATOMIC_RELEASE);
}

void call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
	struct rcu_head *old = __atomic_load_n(&pending, __ATOMIC_RELAXED);

	start_worker_once();
	head->fn = fn;
	do {
		head->next = old;
	} while (!__atomic_compare_exchange_n(&pending, &old, head, true,
					      __ATOMIC_RELEASE, __ATOMIC_RELAXED));
	sem_up(&work);
}
