/*
 * sched/futex.c - futexes: sleep on a 32-bit word until it is woken,
 * with bitsets, deadlines and requeueing (what musl's pthreads are built on).
 *
 * Interface (Linux's futex(2) semantics and return values, as negative
 * errno, so that the syscall layer maps FUTEX_* onto these one to one):
 *   futex_wait(uaddr, val, deadline_ns, bitset)      FUTEX_WAIT, _WAIT_BITSET
 *       sleeps if *uaddr == val (else -EAGAIN) until woken (0) or until
 *       the absolute deadline on arch_clock_ns() passes (-ETIMEDOUT;
 *       0: no deadline).  -EINTR is not produced yet: there are no signals.
 *   futex_wake(uaddr, nr, bitset)                    FUTEX_WAKE, _WAKE_BITSET
 *       wakes up to nr waiters (nr <= 0 wakes one, as Linux does) whose
 *       bitset shares a bit with bitset; returns how many.
 *   futex_requeue(uaddr, nr_wake, uaddr2, nr_requeue, cmpval)
 *                                                    FUTEX_REQUEUE, _CMP_REQUEUE
 *       wakes up to nr_wake waiters on uaddr and moves up to nr_requeue
 *       more to uaddr2, whatever their bitsets; with cmpval, first fails
 *       with -EAGAIN unless *uaddr == *cmpval.  Returns woken + moved.
 * Waiters on one address are served in arrival order.  Every futex is
 * private: there is one address space, so a futex is its address.
 *
 * Waiters sleep in a fixed table of hash buckets, each a mutex and a FIFO
 * of waiter records that live on the waiters' stacks.  futex_wait compares
 * the value under the bucket's lock, so a thread that changes the word and
 * then calls futex_wake (which takes the same lock) cannot be missed.  A
 * waker unlinks the record, marks it woken and wakes its thread under the
 * lock; the waiter takes the lock once more before returning, so its
 * record and thread outlive the waker's use of them.  A waiter whose
 * deadline passes unlinks itself, unless a waker got there first, in which
 * case the wake counts.  Requeue moves records under both buckets' locks
 * and updates each record's bucket, which its waiter re-checks after
 * locking.
 */
#include "core/kernel.h"
#include "sched/sched.h"

#define FUTEX_HASH_BITS 8
#define FUTEX_NULL_PAGE 4096            /* never mapped: reading it would fault */

struct futex_bucket;

struct futex_waiter {
	uint32_t *uaddr;                /* the futex; under bucket->lock */
	uint32_t bitset;
	struct thread *thread;
	struct futex_bucket *bucket;    /* changed under its old and new locks; atomic */
	struct futex_waiter *prev, *next;   /* bucket's list; under bucket->lock */
	bool woken;                     /* set under bucket->lock; atomic */
};

struct futex_bucket {
	struct mutex lock;
	struct futex_waiter *head, *tail;   /* FIFO; under lock */
} __attribute__((aligned(64)));         /* one cache line each: no false sharing */

static struct futex_bucket futex_table[1 << FUTEX_HASH_BITS];

static struct futex_bucket *bucket_of(const uint32_t *uaddr)
{
	uint64_t h = ((uintptr_t)uaddr >> 2) * 0x9e3779b97f4a7c15ull;   /* Fibonacci */

	return &futex_table[h >> (64 - FUTEX_HASH_BITS)];
}

/* Linux's checks on an address: 4-byte aligned (-EINVAL), and readable if
 * the call reads it (-EFAULT).  With one address space and no fault
 * recovery, only the null page is caught. */
static int check_addr(const uint32_t *uaddr, bool read)
{
	if ((uintptr_t)uaddr % sizeof(uint32_t))
		return -EINVAL;
	if (read && (uintptr_t)uaddr < FUTEX_NULL_PAGE)
		return -EFAULT;
	return 0;
}

static void list_append(struct futex_bucket *b, struct futex_waiter *w)
{
	w->next = NULL;
	w->prev = b->tail;
	if (b->tail)
		b->tail->next = w;
	else
		b->head = w;
	b->tail = w;
}

static void list_remove(struct futex_bucket *b, struct futex_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		b->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		b->tail = w->prev;
}

/* Under b->lock.  After the store to woken, w may be gone (but not its
 * thread: the waiter cannot return before we unlock). */
static void wake_waiter(struct futex_bucket *b, struct futex_waiter *w)
{
	struct thread *t = w->thread;

	list_remove(b, w);
	__atomic_store_n(&w->woken, true, __ATOMIC_RELEASE);
	sched_wake(t);
}

/* Locks the bucket w is in; requeue may move w while we wait for a lock. */
static struct futex_bucket *lock_waiter_bucket(struct futex_waiter *w)
{
	for (;;) {
		struct futex_bucket *b = __atomic_load_n(&w->bucket, __ATOMIC_ACQUIRE);

		mutex_lock(&b->lock);
		if (b == __atomic_load_n(&w->bucket, __ATOMIC_RELAXED))
			return b;
		mutex_unlock(&b->lock);
	}
}

/* Both buckets' locks, lower index first; one lock if they are the same. */
static void lock_pair(struct futex_bucket *b1, struct futex_bucket *b2)
{
	if (b1 > b2) {
		struct futex_bucket *b = b1;
		b1 = b2;
		b2 = b;
	}
	mutex_lock(&b1->lock);
	if (b2 != b1)
		mutex_lock(&b2->lock);
}

static void unlock_pair(struct futex_bucket *b1, struct futex_bucket *b2)
{
	if (b2 != b1)
		mutex_unlock(&b2->lock);
	mutex_unlock(&b1->lock);
}

/* Queues w if *uaddr still holds val; -EAGAIN if not. */
static int queue_if_equal(struct futex_waiter *w, uint32_t val)
{
	struct futex_bucket *b = bucket_of(w->uaddr);
	int err = 0;

	w->bucket = b;
	WITH_LOCK(&b->lock) {
		if (__atomic_load_n(w->uaddr, __ATOMIC_RELAXED) != val)
			err = -EAGAIN;
		else
			list_append(b, w);
	}
	return err;
}

/* Dequeues w unless a waker did; true if it did (the wake counts). */
static bool dequeue_or_woken(struct futex_waiter *w)
{
	struct futex_bucket *b = lock_waiter_bucket(w);
	bool woken = w->woken;

	if (!woken)
		list_remove(b, w);
	mutex_unlock(&b->lock);
	return woken;
}

int futex_wait(uint32_t *uaddr, uint32_t val, uint64_t deadline_ns, uint32_t bitset)
{
	struct futex_waiter w = { .uaddr = uaddr, .bitset = bitset, .thread = thread_self() };
	int err;

	if (!bitset)
		return -EINVAL;
	err = check_addr(uaddr, true);
	if (!err)
		err = queue_if_equal(&w, val);
	if (err)
		return err;
	for (;;) {
		sched_prepare_wait();
		if (__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE)) {
			sched_cancel_wait();
			break;
		}
		if (thread_signal_pending()) {
			sched_cancel_wait();
			return dequeue_or_woken(&w) ? 0 : -EINTR;
		}
		if (!sched_wait_until(deadline_ns) && deadline_ns)
			break;                  /* timed out (maybe woken too) */
	}
	return dequeue_or_woken(&w) ? 0 : -ETIMEDOUT;
}

int futex_wake(uint32_t *uaddr, int nr, uint32_t bitset)
{
	struct futex_bucket *b = bucket_of(uaddr);
	struct futex_waiter *w, *next;
	int err = check_addr(uaddr, false), woken = 0;

	if (!bitset)
		return -EINVAL;
	if (err)
		return err;
	WITH_LOCK(&b->lock) {
		for (w = b->head; w && woken < MAX(nr, 1); w = next) {
			next = w->next;
			if (w->uaddr == uaddr && (w->bitset & bitset)) {
				wake_waiter(b, w);
				woken++;
			}
		}
	}
	return woken;
}

/* Moves w to the tail of b2's list, as a waiter on uaddr2.  Onto its own
 * futex, a waiter keeps its place (as in Linux). */
static void requeue_waiter(struct futex_bucket *b1, struct futex_waiter *w,
			   struct futex_bucket *b2, uint32_t *uaddr2)
{
	if (w->uaddr == uaddr2)
		return;
	list_remove(b1, w);
	w->uaddr = uaddr2;
	__atomic_store_n(&w->bucket, b2, __ATOMIC_RELEASE);
	list_append(b2, w);
}

/* Under both locks.  Moved waiters that come round again in b1 (b1 == b2)
 * wait on uaddr2 and are passed over. */
static int requeue_locked(struct futex_bucket *b1, uint32_t *uaddr, int nr_wake,
			  struct futex_bucket *b2, uint32_t *uaddr2, int nr_requeue)
{
	struct futex_waiter *w, *next;
	int count = 0;

	for (w = b1->head; w && count - nr_wake < nr_requeue; w = next) {
		next = w->next;
		if (w->uaddr != uaddr)
			continue;
		if (++count <= nr_wake)
			wake_waiter(b1, w);
		else
			requeue_waiter(b1, w, b2, uaddr2);
	}
	return count;
}

int futex_requeue(uint32_t *uaddr, int nr_wake, uint32_t *uaddr2, int nr_requeue,
		  const uint32_t *cmpval)
{
	struct futex_bucket *b1 = bucket_of(uaddr), *b2 = bucket_of(uaddr2);
	int ret;

	if (nr_wake < 0 || nr_requeue < 0)
		return -EINVAL;
	ret = check_addr(uaddr, cmpval != NULL);
	if (!ret)
		ret = check_addr(uaddr2, false);
	if (ret)
		return ret;
	lock_pair(b1, b2);
	if (cmpval && __atomic_load_n(uaddr, __ATOMIC_RELAXED) != *cmpval)
		ret = -EAGAIN;
	else
		ret = requeue_locked(b1, uaddr, nr_wake, b2, uaddr2, nr_requeue);
	unlock_pair(b1, b2);
	return ret;
}
