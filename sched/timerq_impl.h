/*
 * sched/timerq_impl.h - a CPU's timer queue: pending timers in order of
 * deadline, earliest first.  Private to sched/.
 *
 * Interface: embed a struct timerq_node in the timer; a zeroed node is
 * valid and not queued.  timerq_insert(q, n, deadline) arms n (re-arms it
 * if queued); timers with equal deadlines fire first-in first-out.
 * timerq_earliest() says when to program the CPU's one-shot timer;
 * timerq_pop_expired(q, now) takes the earliest timer whose deadline is at
 * or before `now`, so the interrupt handler loops until it returns NULL.
 * timerq_cancel() disarms a timer.  Recover the timer with container_of.
 * Deadlines are nanoseconds on the monotonic clock (arch_clock_ns()).  A
 * timer queue is touched only by its own CPU, with interrupts disabled.
 *
 * A thin wrapper over core/rbtree.h, which says why a red-black tree:
 * O(log n) insert and cancel, O(1) earliest.
 */
#ifndef SCHED_TIMERQ_IMPL_H
#define SCHED_TIMERQ_IMPL_H

#include "core/rbtree.h"

struct timerq_node {
	struct rbtree_node rb;          /* key: the deadline */
};

struct timerq {
	struct rbtree tree;             /* owned by its CPU; irqs off */
};

void timerq_init(struct timerq *q);

/* Arms n for `deadline`; an n already in q is moved to its new place. */
void timerq_insert(struct timerq *q, struct timerq_node *n, uint64_t deadline);

/* Disarms n, queued in q: false if n was not queued. */
bool timerq_cancel(struct timerq *q, struct timerq_node *n);

/* The earliest timer, taken out of q, if its deadline is <= now; else NULL. */
struct timerq_node *timerq_pop_expired(struct timerq *q, uint64_t now);

/* The earliest timer, left in q, or NULL when q is empty. */
static inline struct timerq_node *timerq_earliest(const struct timerq *q)
{
	struct rbtree_node *rb = rbtree_first(&q->tree);

	return rb ? container_of(rb, struct timerq_node, rb) : NULL;
}

/* The deadline n was armed with (the last one given to it). */
static inline uint64_t timerq_deadline(const struct timerq_node *n)
{
	return n->rb.key;
}

static inline bool timerq_queued(const struct timerq_node *n)
{
	return rbtree_queued(&n->rb);
}

static inline unsigned int timerq_count(const struct timerq *q)
{
	return rbtree_count(&q->tree);
}

#ifdef SKIFF_HOST_TEST
/* Host tests only: NULL if q is well formed, else what is wrong. */
const char *timerq_check(const struct timerq *q);
#endif

#endif
