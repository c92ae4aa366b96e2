/*
 * fs/poll.c - readiness: poll heads, their waiters, and sleeping threads.
 *
 * A poll head is a list of waiters under a mutex.  poll_wake() calls each
 * waiter's fn with the head's lock held, so a waiter that poll_remove()
 * took off can never be called again once poll_remove returns: the owner
 * may then free it.
 *
 * poll_wake() is called after every change of state that could make a
 * file ready, usually with no one waiting; it looks at the list without
 * the lock first.  That is safe because both sides order themselves with a
 * full barrier: the waker changed the state and then fences before looking;
 * the waiter's poll_add (a locked read-modify-write) comes before it checks
 * the state.  Either the waker sees the waiter, or the waiter sees the state.
 *
 * A poll sleeper is one thread waiting on many heads (poll, select,
 * epoll_wait): each of its waiters sets `woken` and wakes the thread; the
 * thread re-checks `woken` between sched_prepare_wait() and sched_wait(),
 * so a wake that comes while it is busy checking files is not lost.
 */
#include "fs/fs.h"
#include "core/kernel.h"
#include "core/arch.h"

void poll_head_init(struct poll_head *h)
{
	mutex_init(&h->lock, false);
	h->first = NULL;
}

void poll_add(struct poll_head *h, struct poll_waiter *w)
{
	ASSERT(!w->head);
	WITH_LOCK(&h->lock) {
		w->head = h;
		w->prev = NULL;
		w->next = h->first;
		if (h->first)
			h->first->prev = w;
		__atomic_store_n(&h->first, w, __ATOMIC_RELEASE);
	}
}

void poll_remove(struct poll_waiter *w)
{
	struct poll_head *h = w->head;

	if (!h)
		return;
	WITH_LOCK(&h->lock) {
		if (w->prev)
			w->prev->next = w->next;
		else
			__atomic_store_n(&h->first, w->next, __ATOMIC_RELEASE);
		if (w->next)
			w->next->prev = w->prev;
		w->head = NULL;
	}
}

void poll_wake(struct poll_head *h, unsigned int events)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&h->first, __ATOMIC_RELAXED))
		return;
	WITH_LOCK(&h->lock) {
		for (struct poll_waiter *w = h->first; w; w = w->next)
			w->fn(w, events);
	}
}

/* --- a thread waiting on many heads --- */

static void sleeper_wake(struct poll_waiter *w, unsigned int events)
{
	struct poll_sleeper *s = w->priv;

	(void)events;
	__atomic_store_n(&s->woken, 1, __ATOMIC_SEQ_CST);
	sched_wake(s->thread);
}

void poll_sleeper_init(struct poll_sleeper *s)
{
	s->thread = thread_self();
	s->woken = 0;
}

void poll_sleeper_add(struct poll_sleeper *s, struct poll_waiter *w, struct poll_head *h)
{
	w->head = NULL;
	w->fn = sleeper_wake;
	w->priv = s;
	poll_add(h, w);
}

bool poll_sleeper_wait(struct poll_sleeper *s, uint64_t deadline_ns)
{
	bool on_time = true;

	if (deadline_ns && arch_clock_ns() >= deadline_ns)
		return false;
	sched_prepare_wait();
	if (__atomic_load_n(&s->woken, __ATOMIC_SEQ_CST) || thread_signal_pending())
		sched_cancel_wait();            /* a signal: the caller returns -EINTR */
	else
		on_time = sched_wait_until(deadline_ns);
	__atomic_store_n(&s->woken, 0, __ATOMIC_SEQ_CST);
	return on_time;
}
