/*
 * sched/balance.c - spreading threads over the CPUs.
 *
 * Three mechanisms, none of which touches another CPU's run queue:
 *   - an idle CPU asks the CPU with the most queued threads for one (a bit
 *     in that CPU's pull_mask and an IPI); the busy CPU sends one of its own
 *     queued, unpinned threads through the usual inbox;
 *   - every BALANCE_INTERVAL_NS, a busy CPU with two threads more than the
 *     least loaded one sends it one;
 *   - a woken unpinned thread whose home CPU is busy goes to an idle CPU.
 * Loads of other CPUs are read without synchronization: a stale view only
 * makes one decision a little worse.
 */
#include "sched/sched_impl.h"

#define BALANCE_INTERVAL_NS 20000000ULL     /* busy CPUs compare loads this often */
#define PULL_INTERVAL_NS    1000000ULL      /* an idle CPU asks at most this often */

static unsigned int load_of(unsigned int cpu)
{
	struct sched_cpu *sc = &sched_cpus[cpu];

	return rq_count(&sc->rq) + (__atomic_load_n(&sc->current, __ATOMIC_RELAXED) != sc->idle);
}

/* Takes the best queued thread that may move, or NULL. */
static struct thread *take_movable(struct sched_cpu *sc)
{
	struct thread *stash = NULL, *found = NULL;
	struct rq_node *n;

	while (!found && (n = rq_pop_min(&sc->rq))) {
		struct thread *t = container_of(n, struct thread, rq_node);
		if (t->pinned < 0 && !timerq_queued(&t->timer.node)) {
			found = t;
		} else {
			t->renorm_next = stash;
			stash = t;
		}
	}
	for (; stash; stash = stash->renorm_next)
		rq_insert(&sc->rq, &stash->rq_node, stash->fair_key);
	return found;
}

static void move_one(struct sched_cpu *sc, unsigned int to)
{
	struct thread *t = take_movable(sc);

	if (!t)
		return;
	__atomic_store_n(&t->state, THREAD_WAKING, __ATOMIC_RELEASE);
	sched_send_to_cpu(t, to);
}

/* Idle CPUs that asked for work get one queued thread each. */
void sched_serve_pulls(struct sched_cpu *sc)
{
	uint64_t mask = __atomic_exchange_n(&sc->pull_mask, 0, __ATOMIC_ACQ_REL);

	while (mask && rq_count(&sc->rq)) {
		unsigned int to = (unsigned int)__builtin_ctzll(mask);
		mask &= mask - 1;
		move_one(sc, to);
	}
}

/* An idle CPU asks the busiest CPU that has threads waiting to give one. */
void sched_ask_for_work(struct sched_cpu *sc)
{
	unsigned int me = this_cpu()->id, best = me, best_queued = 0;
	uint64_t now = arch_clock_ns();

	if (now - sc->last_pull < PULL_INTERVAL_NS)
		return;
	sc->last_pull = now;
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++) {
		unsigned int q;
		if (i == me || !cpus[i].online)
			continue;
		q = rq_count(&sched_cpus[i].rq);
		if (q > best_queued) {
			best = i;
			best_queued = q;
		}
	}
	if (best == me)
		return;
	__atomic_fetch_or(&sched_cpus[best].pull_mask, 1ULL << me, __ATOMIC_SEQ_CST);
	arch_ipi_send(best);
}

/* A busy CPU with two or more threads more than another gives it one. */
void sched_balance(struct sched_cpu *sc, uint64_t now)
{
	unsigned int me = this_cpu()->id, least = me, least_load = ~0u;

	if (now - sc->last_balance < BALANCE_INTERVAL_NS || !rq_count(&sc->rq))
		return;
	sc->last_balance = now;
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++) {
		unsigned int l;
		if (i == me || !cpus[i].online)
			continue;
		l = load_of(i);
		if (l < least_load) {
			least = i;
			least_load = l;
		}
	}
	if (least != me && load_of(me) >= least_load + 2)
		move_one(sc, least);
}

/* Where a woken thread should run: its home CPU, or an idle one when home
 * is busy.  Not for pinned threads, nor while a timer of theirs is armed at
 * home (timers belong to their CPU). */
unsigned int sched_wake_target(struct thread *t)
{
	unsigned int home = t->cpu;

	if (t->pinned >= 0 || __atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE) ||
	    timerq_queued(&t->timer.node) || load_of(home) == 0)
		return home;
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++) {
		if (cpus[i].online && load_of(i) == 0)
			return i;
	}
	return home;
}

