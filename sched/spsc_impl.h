/*
 * sched/spsc_impl.h - a bounded lock-free ring of pointers with one
 * producer and one consumer: the scheduler's cross-CPU wakeup queues (one
 * ring for each ordered pair of CPUs, OSv section 2.4).  Private to sched/.
 *
 * Interface: spsc_init(r) before either side uses r.  Then exactly one
 * thread of control at a time pushes (the producer: CPU a, for ring a->b)
 * and exactly one pops (the consumer: CPU b).  spsc_push(r, item) is false
 * when the ring is full (or item is NULL: NULL means "empty" to spsc_pop);
 * spsc_pop(r) is NULL when it is empty.  Items come out in the order they
 * went in.  spsc_empty() is a snapshot from either side: to the consumer,
 * "not empty" stays true until it pops; to the producer, "empty" stays
 * true until it pushes.
 *
 * Ordering: the producer's writes before spsc_push(r, p) happen before the
 * consumer's reads after the spsc_pop(r) that returns p (release/acquire
 * on `tail`); the consumer is done with a slot before the producer reuses
 * it (release/acquire on `head`).  Nothing more: a producer that pushes,
 * then reads a "consumer is idle, send an IPI" flag the consumer set before
 * its last spsc_empty(), needs a full fence (__atomic_thread_fence
 * (__ATOMIC_SEQ_CST)) between the two on both sides.
 *
 * Both indexes run freely (wrapping uint32_t); a slot is index % capacity,
 * the ring is empty when tail == head and full when tail - head ==
 * SPSC_CAPACITY.  Each side caches its last view of the other's index, on
 * its own cache line, and rereads the shared one only when the cache says
 * full (producer) or empty (consumer): a burst of n pushes, or of n pops,
 * pulls the other side's line once, not n times.  Every operation is O(1)
 * and wait-free.
 */
#ifndef SCHED_SPSC_IMPL_H
#define SCHED_SPSC_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SPSC_CAPACITY
#define SPSC_CAPACITY 256               /* slots: a power of two */
#endif
#define SPSC_CACHELINE 64

_Static_assert(SPSC_CAPACITY >= 2 && (SPSC_CAPACITY & (SPSC_CAPACITY - 1)) == 0,
	       "SPSC_CAPACITY must be a power of two");
_Static_assert(SPSC_CAPACITY <= (1U << 31), "SPSC_CAPACITY must fit the indexes");

struct spsc_ring {
	/* The producer's line. */
	_Alignas(SPSC_CACHELINE)
	uint32_t tail;          /* next slot to fill: written by the producer only */
	uint32_t head_seen;     /* producer-private: a past value of head */

	/* The consumer's line. */
	_Alignas(SPSC_CACHELINE)
	uint32_t head;          /* next slot to empty: written by the consumer only */
	uint32_t tail_seen;     /* consumer-private: a past value of tail */

	/* slot[i % SPSC_CAPACITY]: filled by the producer while it is outside
	 * [head, tail), emptied by the consumer while it is inside. */
	_Alignas(SPSC_CACHELINE)
	void *slot[SPSC_CAPACITY];
};

/* O(1): a slot is never read before the producer fills it. */
static inline void spsc_init(struct spsc_ring *r)
{
	r->tail = r->head_seen = 0;
	r->head = r->tail_seen = 0;
}

/* Producer side only. */
static inline bool spsc_push(struct spsc_ring *r, void *item)
{
	uint32_t tail = r->tail;        /* ours: no other writer */

	if (!item)
		return false;
	if (tail - r->head_seen == SPSC_CAPACITY) {
		/* Acquire: the consumer's reads of the slots it freed are done. */
		r->head_seen = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (tail - r->head_seen == SPSC_CAPACITY)
			return false;
	}
	r->slot[tail % SPSC_CAPACITY] = item;
	/* Release: the slot (and what item points to) before the new tail. */
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

/* Consumer side only. */
static inline void *spsc_pop(struct spsc_ring *r)
{
	uint32_t head = r->head;        /* ours: no other writer */
	void *item;

	if (head == r->tail_seen) {
		/* Acquire: pairs with spsc_push's release of tail. */
		r->tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (head == r->tail_seen)
			return NULL;
	}
	item = r->slot[head % SPSC_CAPACITY];
	/* Release: our read of the slot before the producer may refill it. */
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return item;
}

/* Either side, as a snapshot; see the top of the file. */
static inline bool spsc_empty(const struct spsc_ring *r)
{
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	return __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) == head;
}

#endif
