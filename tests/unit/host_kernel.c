/*
 * tests/unit/host_kernel.c - sleeping locks, RCU and the console file for
 * host unit tests (see host_kernel.h for what each promises).
 *
 * RCU: every thread that enters a read section gets a slot with a sequence
 * number, odd while it is inside.  A grace period takes the queued
 * callbacks, then waits for each slot that was odd to change, and runs them.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "fs/fs.h"
#include "fs/fs_impl.h"
#include "sched/sched.h"
#include "tests/unit/host_kernel.h"

#define MAX_READERS 256

static unsigned long violations;                /* atomic */
static __thread char thread_token;              /* its address names the thread */
static __thread unsigned int preempt_depth;
static __thread int reader_slot = -1;
static __thread unsigned long read_sections;    /* entered by this thread */

static unsigned long reader_seq[MAX_READERS];   /* atomic; odd: in a read section */
static unsigned int nreaders;                   /* atomic; slots handed out */

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rcu_head *queue;                  /* under queue_lock, newest first */
static unsigned long queued;                    /* under queue_lock */

static void violation(const char *what, const void *p)
{
	printf("#   kernel rule broken: %s (%p)\n", what, p);
	__atomic_fetch_add(&violations, 1, __ATOMIC_RELAXED);
}

unsigned long host_kernel_violations(void)
{
	return __atomic_load_n(&violations, __ATOMIC_RELAXED);
}

/* --- mutexes --- */

static struct thread *me(void)
{
	return (struct thread *)&thread_token;
}

void mutex_init(struct mutex *m, bool recursive)
{
	*m = (struct mutex){ .recursive = recursive };
}

bool mutex_trylock(struct mutex *m)
{
	int unlocked = 0;

	if (preempt_depth)
		violation("a mutex taken inside an RCU read section", m);
	if (m->recursive && __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == me()) {
		m->depth++;
		return true;
	}
	if (!__atomic_compare_exchange_n(&m->count, &unlocked, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return false;
	__atomic_store_n(&m->owner, me(), __ATOMIC_RELAXED);
	m->depth = 1;
	return true;
}

void mutex_lock(struct mutex *m)
{
	while (!mutex_trylock(m))
		sched_yield();
}

void mutex_unlock(struct mutex *m)
{
	if (__atomic_load_n(&m->owner, __ATOMIC_RELAXED) != me()) {
		violation("a mutex unlocked by a thread that does not hold it", m);
		return;
	}
	if (--m->depth)
		return;
	__atomic_store_n(&m->owner, NULL, __ATOMIC_RELAXED);
	__atomic_store_n(&m->count, 0, __ATOMIC_RELEASE);
}

bool mutex_owned(const struct mutex *m)
{
	return __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == me();
}

/* --- RCU read sections: preemption off --- */

static void reader_enter_or_leave(void)
{
	if (reader_slot < 0) {
		reader_slot = (int)__atomic_fetch_add(&nreaders, 1, __ATOMIC_ACQ_REL);
		if (reader_slot >= MAX_READERS) {
			printf("#   host_kernel: more than %d reader threads\n", MAX_READERS);
			abort();
		}
	}
	__atomic_fetch_add(&reader_seq[reader_slot], 1, __ATOMIC_SEQ_CST);
#ifndef __SANITIZE_THREAD__                     /* TSan does not model fences */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

void preempt_disable(void)
{
	if (preempt_depth++ == 0) {
		read_sections++;
		reader_enter_or_leave();
	}
}

unsigned long host_rcu_read_sections(void)
{
	return read_sections;
}

void preempt_enable(void)
{
	if (preempt_depth == 0) {
		violation("preempt_enable without preempt_disable", NULL);
		return;
	}
	if (--preempt_depth == 0)
		reader_enter_or_leave();
}

/* --- RCU callbacks --- */

/* A queued head has its fn set (the tests' objects start zeroed); it is
 * cleared before the callback runs, so a head queued twice is seen rather
 * than making a cycle of the queue. */
void call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
	if (head->fn) {
		violation("call_rcu on a head already queued", head);
		return;
	}
	head->fn = fn;
	pthread_mutex_lock(&queue_lock);
	head->next = queue;
	queue = head;
	queued++;
	pthread_mutex_unlock(&queue_lock);
}

unsigned long host_rcu_pending(void)
{
	unsigned long n;

	pthread_mutex_lock(&queue_lock);
	n = queued;
	pthread_mutex_unlock(&queue_lock);
	return n;
}

/* Waits until every thread inside a read section now has left it. */
static void wait_for_readers(void)
{
	unsigned int n = __atomic_load_n(&nreaders, __ATOMIC_ACQUIRE);

#ifndef __SANITIZE_THREAD__
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
	for (unsigned int i = 0; i < n && i < MAX_READERS; i++) {
		unsigned long s = __atomic_load_n(&reader_seq[i], __ATOMIC_SEQ_CST);

		while ((s & 1) && __atomic_load_n(&reader_seq[i], __ATOMIC_SEQ_CST) == s)
			sched_yield();
	}
}

unsigned long host_rcu_grace_period(void)
{
	struct rcu_head *batch;
	unsigned long n = 0;

	if (preempt_depth) {
		violation("a grace period waited for inside a read section", NULL);
		return 0;
	}
	pthread_mutex_lock(&queue_lock);
	batch = queue;
	queue = NULL;
	for (struct rcu_head *h = batch; h; h = h->next)
		queued--;
	pthread_mutex_unlock(&queue_lock);
	wait_for_readers();
	while (batch) {
		struct rcu_head *next = batch->next;
		void (*fn)(struct rcu_head *head) = batch->fn;

		batch->fn = NULL;
		fn(batch);
		batch = next;
		n++;
	}
	return n;
}

/* --- the console --- */

static unsigned long console_releases;          /* atomic */

static void console_release(struct file *f)
{
	violation("a console file released", f);
	__atomic_fetch_add(&console_releases, 1, __ATOMIC_RELAXED);
}

unsigned long console_release_count(void)
{
	return __atomic_load_n(&console_releases, __ATOMIC_RELAXED);
}

const struct file_ops console_file_ops = { .release = console_release };
