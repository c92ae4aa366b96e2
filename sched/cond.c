/*
 * sched/cond.c - condition variables and semaphores, on top of the mutex.
 *
 * A condvar keeps its waiters in a FIFO list guarded by its own mutex; each
 * waiter's record lives on the waiter's stack.  Signal takes the oldest
 * waiter off the list, marks it and wakes it.  A waiter whose deadline
 * passes takes itself off the list, unless a signal got there first, in
 * which case the signal counts (no wakeup is lost).  Semaphores and
 * reader-writer locks are a count or two guarded by a mutex and a condvar.
 */
#include "sched/sched_impl.h"

struct cond_waiter {
	struct thread *thread;
	struct cond_waiter *next;
	bool signalled;                 /* under c->lock */
};

void cond_init(struct condvar *c)
{
	memset(c, 0, sizeof(*c));
}

static void remove_waiter(struct condvar *c, struct cond_waiter *w)
{
	struct cond_waiter **p = &c->head, *prev = NULL;

	while (*p && *p != w) {
		prev = *p;
		p = &(*p)->next;
	}
	if (!*p)
		return;
	*p = w->next;
	if (c->tail == w)
		c->tail = prev;
}

/* Waits until signalled or the deadline (0: none); true if signalled. */
/* 0 when signalled; -ETIMEDOUT at the deadline; with interruptible,
 * -EINTR when the thread has a signal to take first. */
static int wait_on(struct condvar *c, struct mutex *m, uint64_t deadline_ns, bool interruptible)
{
	struct cond_waiter w = { thread_self(), NULL, false };
	bool signalled = false;

	WITH_LOCK(&c->lock) {
		if (c->tail)
			c->tail->next = &w;
		else
			c->head = &w;
		c->tail = &w;
	}
	mutex_unlock(m);
	for (;;) {
		sched_prepare_wait();
		if (__atomic_load_n(&w.signalled, __ATOMIC_ACQUIRE) ||
		    (interruptible && thread_signal_pending())) {
			sched_cancel_wait();
			break;
		}
		if (!sched_wait_until(deadline_ns) && deadline_ns)
			break;                  /* timed out (maybe signalled too: see below) */
	}
	WITH_LOCK(&c->lock) {
		signalled = w.signalled;
		if (!signalled)
			remove_waiter(c, &w);
	}
	mutex_lock(m);
	if (signalled)
		return 0;
	return interruptible && thread_signal_pending() ? -EINTR : -ETIMEDOUT;
}

bool cond_wait_until(struct condvar *c, struct mutex *m, uint64_t deadline_ns)
{
	return wait_on(c, m, deadline_ns, false) == 0;
}

void cond_wait(struct condvar *c, struct mutex *m)
{
	wait_on(c, m, 0, false);
}

int cond_wait_interruptible(struct condvar *c, struct mutex *m)
{
	return wait_on(c, m, 0, true);
}

static bool signal_one(struct condvar *c)
{
	struct cond_waiter *w = c->head;
	struct thread *t;

	if (!w)
		return false;
	c->head = w->next;
	if (!c->head)
		c->tail = NULL;
	t = w->thread;
	__atomic_store_n(&w->signalled, true, __ATOMIC_RELEASE);
	sched_wake(t);
	return true;
}

void cond_signal(struct condvar *c)
{
	WITH_LOCK(&c->lock)
		signal_one(c);
}

void cond_broadcast(struct condvar *c)
{
	WITH_LOCK(&c->lock) {
		while (signal_one(c))
			;
	}
}

/* --- semaphores --- */

void sem_init(struct semaphore *s, unsigned long count)
{
	mutex_init(&s->lock, false);
	cond_init(&s->cv);
	s->count = count;
}

bool sem_down_until(struct semaphore *s, uint64_t deadline_ns)
{
	bool got = false;

	WITH_LOCK(&s->lock) {
		while (!s->count) {
			if (!cond_wait_until(&s->cv, &s->lock, deadline_ns) && deadline_ns &&
			    arch_clock_ns() >= deadline_ns)
				break;
		}
		if (s->count) {
			s->count--;
			got = true;
		}
	}
	return got;
}

void sem_down(struct semaphore *s)
{
	sem_down_until(s, 0);
}

bool sem_trydown(struct semaphore *s)
{
	bool got = false;

	WITH_LOCK(&s->lock) {
		if (s->count) {
			s->count--;
			got = true;
		}
	}
	return got;
}

void sem_up(struct semaphore *s)
{
	WITH_LOCK(&s->lock) {
		s->count++;
		cond_signal(&s->cv);
	}
}

/* --- reader-writer locks --- */

void rwlock_init(struct rwlock *rw)
{
	memset(rw, 0, sizeof(*rw));
}

void rwlock_read_lock(struct rwlock *rw)
{
	WITH_LOCK(&rw->lock) {
		while (rw->writer || rw->writers_waiting)
			cond_wait(&rw->cv, &rw->lock);
		rw->readers++;
	}
}

void rwlock_read_unlock(struct rwlock *rw)
{
	WITH_LOCK(&rw->lock) {
		ASSERT(rw->readers > 0);
		if (--rw->readers == 0)
			cond_broadcast(&rw->cv);
	}
}

void rwlock_write_lock(struct rwlock *rw)
{
	WITH_LOCK(&rw->lock) {
		rw->writers_waiting++;
		while (rw->writer || rw->readers)
			cond_wait(&rw->cv, &rw->lock);
		rw->writers_waiting--;
		rw->writer = true;
	}
}

void rwlock_write_unlock(struct rwlock *rw)
{
	WITH_LOCK(&rw->lock) {
		ASSERT(rw->writer);
		rw->writer = false;
		cond_broadcast(&rw->cv);
	}
}
