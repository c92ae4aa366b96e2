/*
 * sched/mutex.c - a sleeping mutex with no spinning and no internal lock.
 *
 * count is the number of threads holding the mutex or on their way to wait
 * for it.  The fast path is one atomic add (lock) or subtract (unlock).  A
 * thread that must wait pushes a record onto a lock-free stack (any thread
 * may push); only the mutex's owner takes records off, moving them into a
 * FIFO, so waiters are served in arrival order.  Unlock with waiters hands
 * the mutex directly to the oldest one.
 *
 * The one race: a locker has counted itself in but not yet pushed its
 * record when the owner unlocks and finds no record.  The owner then
 * leaves a hand-off token; the locker, once its record is pushed, takes the
 * token and with it the mutex.  If the record appeared after the owner
 * looked, the owner tries to take its token back and serve the queue
 * itself; whoever wins the token owns the mutex.  A locker that wins the
 * token while older waiters are queued gives the mutex to the oldest and
 * keeps waiting its turn.  (The algorithm of OSv's lock-free mutex.)
 */
#include "sched/sched_impl.h"

struct mutex_waiter {
	struct thread *thread;
	struct mutex_waiter *next;
	bool woken;                     /* set by the thread that gives us the mutex */
	bool handed;                    /* ... once it no longer touches us or our thread */
};

void mutex_init(struct mutex *m, bool recursive)
{
	memset(m, 0, sizeof(*m));
	m->recursive = recursive;
}

static void push_waiter(struct mutex *m, struct mutex_waiter *w)
{
	struct mutex_waiter *head = __atomic_load_n(&m->pushed, __ATOMIC_RELAXED);

	do {
		w->next = head;
	} while (!__atomic_compare_exchange_n(&m->pushed, &head, w, true,
					      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
}

/* Owner only: the oldest waiter, or NULL. */
static struct mutex_waiter *pop_waiter(struct mutex *m)
{
	struct mutex_waiter *w = __atomic_load_n(&m->queue, __ATOMIC_RELAXED);

	if (!w) {
		struct mutex_waiter *s = __atomic_exchange_n(&m->pushed, NULL, __ATOMIC_ACQUIRE);
		while (s) {                     /* newest-first stack -> FIFO */
			struct mutex_waiter *next = s->next;
			s->next = w;
			w = s;
			s = next;
		}
	}
	if (w)
		__atomic_store_n(&m->queue, w->next, __ATOMIC_RELAXED);
	return w;
}

static bool no_waiters(struct mutex *m)
{
	return !__atomic_load_n(&m->queue, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&m->pushed, __ATOMIC_SEQ_CST);
}

/* Makes w's thread the owner.  The waiter may see `woken` and run on before
 * sched_wake() returns; it then waits for `handed`, so that its record and
 * its thread outlive our last touch of them.  Preemption is off in between,
 * so that wait is a few instructions long. */
static void give_to(struct mutex *m, struct mutex_waiter *w)
{
	struct thread *t = w->thread;

	m->owner = t;
	m->depth = 1;
	preempt_disable();
	__atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
	sched_wake(t);
	__atomic_store_n(&w->handed, true, __ATOMIC_RELEASE);
	preempt_enable();
}

static void wait_for_mutex(struct mutex_waiter *w)
{
	for (;;) {
		sched_prepare_wait();
		if (__atomic_load_n(&w->woken, __ATOMIC_ACQUIRE)) {
			sched_cancel_wait();
			break;
		}
		sched_wait();
	}
	while (!__atomic_load_n(&w->handed, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
}

/* Takes the hand-off token if one is there; true if we now own m. */
static bool take_handoff(struct mutex *m, struct mutex_waiter *w)
{
	unsigned int token = __atomic_load_n(&m->handoff, __ATOMIC_SEQ_CST);
	struct mutex_waiter *first;

	if (!token || !__atomic_compare_exchange_n(&m->handoff, &token, 0, false,
						   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return false;
	m->owner = w->thread;                   /* for now: we may pass it on */
	first = pop_waiter(m);                  /* never NULL: our own record is queued */
	if (first == w) {
		m->depth = 1;
		return true;
	}
	give_to(m, first);
	return false;
}

void mutex_lock(struct mutex *m)
{
	struct thread *me = thread_self();
	struct mutex_waiter w = { me, NULL, false, false };

	if (m->owner == me) {
		ASSERT(m->recursive);           /* else: a deadlock on ourselves */
		m->depth++;
		return;
	}
	if (__atomic_fetch_add(&m->count, 1, __ATOMIC_ACQUIRE) == 0) {
		m->owner = me;
		m->depth = 1;
		return;
	}
	push_waiter(m, &w);
	if (take_handoff(m, &w))
		return;
	wait_for_mutex(&w);
	ASSERT(m->owner == me);
}

bool mutex_trylock(struct mutex *m)
{
	struct thread *me = thread_self();
	int zero = 0;

	if (m->owner == me && m->recursive) {
		m->depth++;
		return true;
	}
	if (!__atomic_compare_exchange_n(&m->count, &zero, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return false;
	m->owner = me;
	m->depth = 1;
	return true;
}

void mutex_unlock(struct mutex *m)
{
	ASSERT(m->owner == thread_self());
	if (--m->depth)
		return;
	m->owner = NULL;
	if (__atomic_fetch_sub(&m->count, 1, __ATOMIC_RELEASE) == 1)
		return;
	for (;;) {
		struct mutex_waiter *w = pop_waiter(m);
		unsigned int token;

		if (w) {
			give_to(m, w);
			return;
		}
		token = ++m->handoff_seq ? m->handoff_seq : ++m->handoff_seq;
		__atomic_store_n(&m->handoff, token, __ATOMIC_SEQ_CST);
		if (no_waiters(m))
			return;                 /* the late locker will find the token */
		if (!__atomic_compare_exchange_n(&m->handoff, &token, 0, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return;                 /* taken: someone else owns m now */
	}
}

bool mutex_owned(const struct mutex *m)
{
	return m->owner == thread_self();
}
