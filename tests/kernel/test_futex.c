/*
 * tests/kernel/test_futex.c - futexes: values, FIFO wakeups, deadlines,
 * bitsets, requeueing, argument checks; then races (timeouts against wakes
 * and requeues, a two-thread ping-pong) and a futex-based mutex under load,
 * with the threads spread over every CPU.
 *
 * How many threads wait on a word is read without waking them, as Linux
 * allows: a requeue of a futex onto itself wakes none and counts them all.
 */
#include <limits.h>

#include "core/arch.h"
#include "core/ktest.h"
#include "sched/sched.h"

/* ---- until sched/sched.h declares the futex calls (see sched/futex.c) ---- */
/* ---- end ---- */

#define ANY FUTEX_BITSET_MATCH_ANY
#define MS 1000000ULL
#define MAX_WAITERS 8

static int waiters_on(uint32_t *uaddr)
{
	return futex_requeue(uaddr, 0, uaddr, INT_MAX, NULL);
}

/* Polls until *uaddr has n waiters; false after two seconds. */
static bool wait_for_waiters(uint32_t *uaddr, int n)
{
	uint64_t end = arch_clock_ns() + 2000 * MS;

	while (waiters_on(uaddr) != n) {
		if (arch_clock_ns() > end)
			return false;
		thread_sleep_ns(20000);
	}
	return true;
}

static bool wait_for_count(int *count, int n)
{
	uint64_t end = arch_clock_ns() + 2000 * MS;

	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) != n) {
		if (arch_clock_ns() > end)
			return false;
		thread_sleep_ns(20000);
	}
	return true;
}

/* A group of waiter threads, each doing one futex_wait and recording the
 * order in which they came back. */
struct waiter {
	struct group *g;
	uint32_t *uaddr;
	uint32_t bitset;
	uint64_t deadline;
	int id, ret;
	bool done;                      /* atomic */
	struct thread *th;
};

struct group {
	struct waiter w[MAX_WAITERS];
	int n;
	int returned;                   /* atomic: how many came back */
	int order[MAX_WAITERS];         /* ids in the order they came back */
};

/* Calls futex_wait 2 KiB down the stack.  A waiter record wrongly left
 * queued then stays intact after the return (nothing the caller does next
 * reaches that deep), so the checks find it instead of reading garbage. */
static __attribute__((noinline)) int wait_deep(uint32_t *uaddr, uint64_t deadline, uint32_t bitset)
{
	volatile char pad[2048];

	pad[0] = 0;
	return futex_wait(uaddr, 0, deadline, bitset) + pad[0];
}

static void waiter_fn(void *arg)
{
	struct waiter *w = arg;
	int slot;

	w->ret = wait_deep(w->uaddr, w->deadline, w->bitset);
	slot = __atomic_fetch_add(&w->g->returned, 1, __ATOMIC_ACQ_REL);
	w->g->order[slot] = w->id;
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
}

/* Starts waiter i on CPU i % ncpus_online and waits until it is queued, so
 * that waiters queue in id order.  *uaddr must be 0. */
static void start_waiter(struct ktest_ctx *t, struct group *g, uint32_t *uaddr,
			 uint32_t bitset, uint64_t deadline)
{
	struct waiter *w = &g->w[g->n];
	int queued = waiters_on(uaddr);

	*w = (struct waiter){ .g = g, .uaddr = uaddr, .bitset = bitset,
			      .deadline = deadline, .id = g->n, .ret = 1 };
	w->th = thread_create(waiter_fn, w, &THREAD_ATTR(.name = "futex-waiter",
							 .cpu = (int)(g->n % ncpus_online)));
	KCHECK(t, !IS_ERR(w->th));
	if (IS_ERR(w->th))
		return;
	g->n++;
	KCHECK(t, wait_for_waiters(uaddr, queued + 1));
}

/* Wakes whatever is left on the words and joins every waiter; one that
 * does not come back within two seconds is reported and left behind. */
static void finish_group(struct ktest_ctx *t, struct group *g, uint32_t *a, uint32_t *b)
{
	uint64_t end = arch_clock_ns() + 2000 * MS;

	for (int i = 0; i < g->n; i++) {
		while (!__atomic_load_n(&g->w[i].done, __ATOMIC_ACQUIRE) && arch_clock_ns() < end) {
			futex_wake(a, INT_MAX, ANY);
			if (b)
				futex_wake(b, INT_MAX, ANY);
			thread_sleep_ns(20000);
		}
		KCHECK(t, __atomic_load_n(&g->w[i].done, __ATOMIC_ACQUIRE));
		if (__atomic_load_n(&g->w[i].done, __ATOMIC_ACQUIRE))
			KCHECK_EQ(t, thread_join(g->w[i].th), 0);
	}
}

static bool is_done(struct group *g, int id)
{
	return __atomic_load_n(&g->w[id].done, __ATOMIC_ACQUIRE);
}

KTEST(futex_wait_value_mismatch_is_eagain)
{
	uint32_t word = 1;
	uint64_t deadline = arch_clock_ns() + 10 * MS;

	KCHECK_EQ(t, futex_wait(&word, 0, deadline, ANY), -EAGAIN);
	KCHECK_EQ(t, futex_wait(&word, 2, 1, ANY), -EAGAIN);     /* before the deadline */
	KCHECK(t, arch_clock_ns() < deadline);                    /* did not sleep */
	KCHECK_EQ(t, waiters_on(&word), 0);
}

KTEST(futex_wake_without_waiters_is_zero)
{
	uint32_t word = 0;

	KCHECK_EQ(t, futex_wake(&word, 1, ANY), 0);
	KCHECK_EQ(t, futex_wake(&word, INT_MAX, ANY), 0);
	KCHECK_EQ(t, futex_wake(&word, 0, 1), 0);
	KCHECK_EQ(t, futex_requeue(&word, 1, &word + 1, 1, NULL), 0);
}

KTEST(futex_wake_one_at_a_time_in_fifo_order)
{
	static struct group g;
	static uint32_t word;
	int n = MAX_WAITERS;

	g = (struct group){ 0 };
	word = 0;
	for (int i = 0; i < n; i++)
		start_waiter(t, &g, &word, ANY, 0);
	for (int i = 0; i < n; i++) {
		KCHECK_EQ(t, futex_wake(&word, 1, ANY), 1);
		KCHECK(t, wait_for_count(&g.returned, i + 1));
		KCHECK_EQ(t, g.order[i], i);
		KCHECK_EQ(t, g.w[g.order[i]].ret, 0);
		KCHECK_EQ(t, waiters_on(&word), n - i - 1);
	}
	KCHECK_EQ(t, futex_wake(&word, 1, ANY), 0);
	finish_group(t, &g, &word, NULL);
}

KTEST(futex_wake_all_and_nr_zero_wakes_one)
{
	static struct group g;
	static uint32_t word;
	int n = MAX_WAITERS;

	g = (struct group){ 0 };
	word = 0;
	for (int i = 0; i < n; i++)
		start_waiter(t, &g, &word, ANY, 0);
	KCHECK_EQ(t, futex_wake(&word, 0, ANY), 1);           /* Linux: 0 counts as 1 */
	KCHECK(t, wait_for_count(&g.returned, 1));
	KCHECK_EQ(t, g.order[0], 0);
	KCHECK_EQ(t, futex_wake(&word, INT_MAX, ANY), n - 1);
	KCHECK(t, wait_for_count(&g.returned, n));
	KCHECK_EQ(t, waiters_on(&word), 0);
	finish_group(t, &g, &word, NULL);
	for (int i = 0; i < n; i++)
		KCHECK_EQ(t, g.w[i].ret, 0);
}

KTEST(futex_wait_times_out_and_leaves_the_queue)
{
	static uint32_t word;
	uint64_t deadline = arch_clock_ns() + 5 * MS;

	word = 0;
	KCHECK_EQ(t, wait_deep(&word, deadline, ANY), -ETIMEDOUT);
	KCHECK(t, arch_clock_ns() >= deadline);
	KCHECK_EQ(t, waiters_on(&word), 0);
	KCHECK_EQ(t, futex_wake(&word, INT_MAX, ANY), 0);
	KCHECK_EQ(t, wait_deep(&word, 1, ANY), -ETIMEDOUT);      /* already past */
	KCHECK_EQ(t, futex_wake(&word, INT_MAX, ANY), 0);
}

KTEST(futex_timeout_on_another_cpu_leaves_the_queue)
{
	static struct group g;
	static uint32_t word;
	uint64_t deadline = arch_clock_ns() + 100 * MS;

	g = (struct group){ 0 };
	word = 0;
	start_waiter(t, &g, &word, ANY, deadline);
	start_waiter(t, &g, &word, ANY, 0);
	KCHECK(t, wait_for_count(&g.returned, 1));
	KCHECK(t, arch_clock_ns() >= deadline);
	KCHECK_EQ(t, g.w[0].ret, -ETIMEDOUT);
	KCHECK_EQ(t, waiters_on(&word), 1);                   /* only the untimed one */
	KCHECK_EQ(t, futex_wake(&word, INT_MAX, ANY), 1);
	finish_group(t, &g, &word, NULL);
	KCHECK_EQ(t, g.w[1].ret, 0);
}

KTEST(futex_bitset_wakes_only_matching_waiters)
{
	static struct group g;
	static uint32_t word;

	g = (struct group){ 0 };
	word = 0;
	start_waiter(t, &g, &word, 0x1, 0);
	start_waiter(t, &g, &word, 0x2, 0);
	start_waiter(t, &g, &word, 0x3, 0);
	KCHECK_EQ(t, futex_wake(&word, INT_MAX, 0x4), 0);
	KCHECK_EQ(t, futex_wake(&word, INT_MAX, 0x2), 2);     /* waiters 1 and 2 */
	KCHECK(t, wait_for_count(&g.returned, 2));
	KCHECK(t, !is_done(&g, 0));
	KCHECK_EQ(t, waiters_on(&word), 1);
	KCHECK_EQ(t, futex_wake(&word, INT_MAX, 0x2), 0);
	KCHECK_EQ(t, futex_wake(&word, 1, 0x1), 1);           /* waiter 0 */
	finish_group(t, &g, &word, NULL);
	for (int i = 0; i < 3; i++)
		KCHECK_EQ(t, g.w[i].ret, 0);
}

KTEST(futex_requeue_moves_waiters)
{
	static struct group g;
	static uint32_t words[2];
	uint32_t *a = &words[0], *b = &words[1];

	g = (struct group){ 0 };
	words[0] = words[1] = 0;
	for (int i = 0; i < 4; i++)
		start_waiter(t, &g, a, ANY, 0);
	KCHECK_EQ(t, futex_requeue(a, 1, b, 2, NULL), 3);     /* wakes 0, moves 1, 2 */
	KCHECK(t, wait_for_count(&g.returned, 1));
	KCHECK(t, is_done(&g, 0));
	KCHECK_EQ(t, waiters_on(a), 1);
	KCHECK_EQ(t, waiters_on(b), 2);
	KCHECK_EQ(t, futex_wake(b, 1, ANY), 1);               /* FIFO kept: waiter 1 */
	KCHECK(t, wait_for_count(&g.returned, 2));
	KCHECK(t, is_done(&g, 1));
	KCHECK_EQ(t, futex_wake(b, INT_MAX, ANY), 1);         /* waiter 2 */
	KCHECK(t, wait_for_count(&g.returned, 3));
	KCHECK(t, is_done(&g, 2) && !is_done(&g, 3));
	KCHECK_EQ(t, futex_wake(a, INT_MAX, ANY), 1);         /* waiter 3 */
	finish_group(t, &g, a, b);
}

KTEST(futex_cmp_requeue_checks_the_value)
{
	static struct group g;
	static uint32_t words[2];
	uint32_t *a = &words[0], *b = &words[1], bad = 7, good = 0;

	g = (struct group){ 0 };
	words[0] = words[1] = 0;
	for (int i = 0; i < 3; i++)
		start_waiter(t, &g, a, ANY, 0);
	KCHECK_EQ(t, futex_requeue(a, 1, b, INT_MAX, &bad), -EAGAIN);
	KCHECK_EQ(t, waiters_on(a), 3);                       /* nothing woken or moved */
	KCHECK_EQ(t, waiters_on(b), 0);
	KCHECK_EQ(t, g.returned, 0);
	KCHECK_EQ(t, futex_requeue(a, 0, b, INT_MAX, &good), 3);
	KCHECK_EQ(t, waiters_on(a), 0);
	KCHECK_EQ(t, futex_wake(b, INT_MAX, ANY), 3);
	finish_group(t, &g, a, b);
}

/* A waiter that times out after being requeued must leave the queue it was
 * moved to.  Several targets, so that some lie in other hash buckets. */
KTEST(futex_requeued_waiter_times_out_from_its_new_queue)
{
	static struct group g;
	static uint32_t src, dst[4 * MAX_WAITERS];
	uint64_t deadline = arch_clock_ns() + 300 * MS;
	int n = 4;

	g = (struct group){ 0 };
	src = 0;
	for (int i = 0; i < n; i++)
		start_waiter(t, &g, &src, ANY, deadline);
	for (int i = 0; i < n; i++)
		KCHECK_EQ(t, futex_requeue(&src, 0, &dst[4 * i], 1, NULL), 1);
	KCHECK(t, wait_for_count(&g.returned, n));
	KCHECK(t, arch_clock_ns() >= deadline);
	for (int i = 0; i < n; i++) {
		KCHECK_EQ(t, g.w[i].ret, -ETIMEDOUT);
		KCHECK_EQ(t, waiters_on(&dst[4 * i]), 0);
		KCHECK_EQ(t, futex_wake(&dst[4 * i], INT_MAX, ANY), 0);
	}
	finish_group(t, &g, &src, NULL);
}

KTEST(futex_invalid_arguments_are_refused)
{
	static struct group g;
	static uint32_t words[2];
	uint32_t *a = &words[0], *odd = (uint32_t *)((char *)a + 1), cmp = 0;
	uint64_t soon = arch_clock_ns() + 10 * MS;      /* were they to wait */

	g = (struct group){ 0 };
	words[0] = words[1] = 0;
	start_waiter(t, &g, a, ANY, 0);
	KCHECK_EQ(t, futex_wait(a, 0, soon, 0), -EINVAL);
	KCHECK_EQ(t, futex_wait(odd, 0, soon, ANY), -EINVAL);
	KCHECK_EQ(t, futex_wait(NULL, 0, soon, ANY), -EFAULT);
	KCHECK_EQ(t, futex_wake(a, 1, 0), -EINVAL);
	KCHECK_EQ(t, futex_wake(odd, 1, ANY), -EINVAL);
	KCHECK_EQ(t, futex_requeue(a, -1, a + 1, 1, NULL), -EINVAL);
	KCHECK_EQ(t, futex_requeue(a, 1, a + 1, -1, NULL), -EINVAL);
	KCHECK_EQ(t, futex_requeue(odd, 1, a + 1, 1, NULL), -EINVAL);
	KCHECK_EQ(t, futex_requeue(a, 1, odd, 1, &cmp), -EINVAL);
	KCHECK_EQ(t, futex_requeue(NULL, 1, a + 1, 1, &cmp), -EFAULT);
	KCHECK_EQ(t, waiters_on(a), 1);                       /* none of it touched it */
	KCHECK_EQ(t, g.returned, 0);
	KCHECK_EQ(t, futex_wake(a, 1, ANY), 1);
	finish_group(t, &g, a, NULL);
}

/* Waiters with short deadlines race wakers: every wake a waker counts must
 * be a 0 from futex_wait, and the rest time out. */
struct race {
	uint32_t word;
	int waiters_left;               /* atomic */
	long woken_seen, woken_counted; /* atomic */
};

static void race_waiter(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < 400; i++) {
		uint64_t deadline = arch_clock_ns() + 10000 + (uint64_t)(i % 7) * 15000;
		int ret = futex_wait(&r->word, 0, deadline, ANY);

		if (ret == 0)
			__atomic_fetch_add(&r->woken_seen, 1, __ATOMIC_RELAXED);
		else if (ret != -ETIMEDOUT)
			__atomic_fetch_add(&r->woken_seen, 1000000, __ATOMIC_RELAXED);
	}
	__atomic_fetch_sub(&r->waiters_left, 1, __ATOMIC_RELEASE);
}

static void race_waker(void *arg)
{
	struct race *r = arg;

	while (__atomic_load_n(&r->waiters_left, __ATOMIC_ACQUIRE)) {
		int n = futex_wake(&r->word, 1, ANY);

		__atomic_fetch_add(&r->woken_counted, n, __ATOMIC_RELAXED);
		thread_sleep_ns(n ? 5000 : 20000);
	}
}

KTEST(futex_timeouts_race_wakes_without_losing_any)
{
	static struct race r;
	struct thread *th[6];
	int nw = 4;

	r = (struct race){ .waiters_left = nw };
	for (int i = 0; i < 6; i++)
		th[i] = thread_create(i < nw ? race_waiter : race_waker, &r,
				      &THREAD_ATTR(.cpu = (int)(i % ncpus_online)));
	for (int i = 0; i < 6; i++)
		KCHECK_EQ(t, thread_join(th[i]), 0);
	KCHECK_EQ(t, r.woken_seen, r.woken_counted);
	KCHECK(t, r.woken_counted > 0);
	KCHECK_EQ(t, waiters_on(&r.word), 0);
}

/* Two threads keep requeueing everything from one word to the other and
 * back (taking the two buckets' locks in opposite argument order) while
 * waiters time out: each must leave whichever queue it has been moved to. */
struct bounce {
	uint32_t words[2];
	int stop, waiters_left, ids;    /* atomic */
	long moved, bad;                /* atomic */
};

static void bounce_requeuer(void *arg)
{
	struct bounce *b = arg;
	int from = __atomic_fetch_add(&b->ids, 1, __ATOMIC_RELAXED) & 1;

	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE)) {
		int n = futex_requeue(&b->words[from], 0, &b->words[!from], INT_MAX, NULL);

		__atomic_fetch_add(&b->moved, n, __ATOMIC_RELAXED);
		thread_yield();
	}
}

static void bounce_waiter(void *arg)
{
	struct bounce *b = arg;

	for (int i = 0; i < 300; i++) {
		uint64_t deadline = arch_clock_ns() + 20000 + (uint64_t)(i % 5) * 20000;

		if (futex_wait(&b->words[i & 1], 0, deadline, ANY) != -ETIMEDOUT ||
		    arch_clock_ns() < deadline)
			__atomic_fetch_add(&b->bad, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_sub(&b->waiters_left, 1, __ATOMIC_RELEASE);
}

KTEST(futex_requeue_both_ways_while_waiters_time_out)
{
	static struct bounce b;
	struct thread *th[6];

	b = (struct bounce){ .waiters_left = 4 };
	for (int i = 0; i < 6; i++)
		th[i] = thread_create(i < 2 ? bounce_requeuer : bounce_waiter, &b,
				      &THREAD_ATTR(.cpu = (int)(i % ncpus_online)));
	while (__atomic_load_n(&b.waiters_left, __ATOMIC_ACQUIRE))
		thread_sleep_ns(100000);
	__atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 6; i++)
		KCHECK_EQ(t, thread_join(th[i]), 0);
	KCHECK_EQ(t, b.bad, 0);
	KCHECK(t, b.moved > 0);
	KCHECK_EQ(t, waiters_on(&b.words[0]), 0);
	KCHECK_EQ(t, waiters_on(&b.words[1]), 0);
}

/* Two threads on two CPUs take turns through one word; each waits while
 * the word says it is the other's turn.  A lost wakeup leaves both asleep
 * until the deadline: nothing else would wake them. */
struct turns {
	uint32_t word;                  /* 1: pong's turn, 0: ping's */
	int rounds, timeouts;
};

static void turns_wait_while(struct turns *p, uint32_t v)
{
	while (__atomic_load_n(&p->word, __ATOMIC_ACQUIRE) == v) {
		if (futex_wait(&p->word, v, arch_clock_ns() + 500 * MS, ANY) == -ETIMEDOUT)
			__atomic_fetch_add(&p->timeouts, 1, __ATOMIC_RELAXED);
	}
}

static void turns_pass(struct turns *p, uint32_t v)
{
	__atomic_store_n(&p->word, v, __ATOMIC_RELEASE);
	futex_wake(&p->word, 1, ANY);
}

static void turns_pong(void *arg)
{
	struct turns *p = arg;

	for (int i = 0; i < p->rounds; i++) {
		turns_wait_while(p, 0);
		turns_pass(p, 0);
	}
}

KTEST(futex_ping_pong_loses_no_wakeup)
{
	static struct turns p;
	struct thread *th;

	p = (struct turns){ .word = 0, .rounds = 2000 };
	th = thread_create(turns_pong, &p, &THREAD_ATTR(.name = "pong",
							.cpu = (int)(ncpus_online - 1)));
	KCHECK(t, !IS_ERR(th));
	if (IS_ERR(th))
		return;
	for (int i = 0; i < p.rounds; i++) {
		turns_pass(&p, 1);
		turns_wait_while(&p, 1);
	}
	KCHECK_EQ(t, thread_join(th), 0);
	KCHECK_EQ(t, p.timeouts, 0);
	KCHECK_EQ(t, waiters_on(&p.word), 0);
}

/* Drepper's "mutex, take 2" from "Futexes Are Tricky": 0 free, 1 locked,
 * 2 locked with (maybe) waiters.  A wait that times out would mean a lost
 * wakeup: nothing holds the lock for long. */
struct fmutex_stress {
	uint32_t lock;
	long counter;
	int inside, violations, timeouts, waits;
};

static uint32_t cmpxchg(uint32_t *p, uint32_t old, uint32_t new)
{
	__atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
	return old;
}

static void fmutex_lock(struct fmutex_stress *s)
{
	uint32_t c = cmpxchg(&s->lock, 0, 1);

	if (!c)
		return;
	if (c != 2)
		c = __atomic_exchange_n(&s->lock, 2, __ATOMIC_ACQUIRE);
	while (c) {
		__atomic_fetch_add(&s->waits, 1, __ATOMIC_RELAXED);
		if (futex_wait(&s->lock, 2, arch_clock_ns() + 1000 * MS, ANY) == -ETIMEDOUT)
			__atomic_fetch_add(&s->timeouts, 1, __ATOMIC_RELAXED);
		c = __atomic_exchange_n(&s->lock, 2, __ATOMIC_ACQUIRE);
	}
}

static void fmutex_unlock(struct fmutex_stress *s)
{
	if (__atomic_fetch_sub(&s->lock, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
		futex_wake(&s->lock, 1, ANY);
	}
}

static void fmutex_hammer(void *arg)
{
	struct fmutex_stress *s = arg;

	for (int i = 0; i < 5000; i++) {
		fmutex_lock(s);
		if (s->inside++)
			s->violations++;
		s->counter++;
		if ((i & 31) == 0)
			thread_sleep_ns(10000); /* the others find it taken and wait */
		else if ((i & 7) == 0)
			thread_yield();
		s->inside--;
		fmutex_unlock(s);
	}
}

KTEST(futex_mutex_stress_every_cpu)
{
	static struct fmutex_stress s;
	struct thread *th[4];

	s = (struct fmutex_stress){ 0 };
	for (int i = 0; i < 4; i++)
		th[i] = thread_create(fmutex_hammer, &s, &THREAD_ATTR(.name = "fmutex",
								       .cpu = (int)(i % ncpus_online)));
	for (int i = 0; i < 4; i++)
		KCHECK_EQ(t, thread_join(th[i]), 0);
	printk("#   futex waits: %d\n", s.waits);
	KCHECK(t, s.waits > 0);                 /* the futex path was taken */
	KCHECK_EQ(t, s.counter, 4 * 5000);
	KCHECK_EQ(t, s.violations, 0);
	KCHECK_EQ(t, s.timeouts, 0);
	KCHECK_EQ(t, s.lock, 0);
	KCHECK_EQ(t, waiters_on(&s.lock), 0);
}
