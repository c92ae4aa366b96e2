/*
 * sched/rq_impl.h - a CPU's run queue: the runnable threads in order of a
 * fairness key, lowest first (OSv's scheduler, section 2.4).  Private to
 * sched/.
 *
 * Interface: embed a struct rq_node in the thread; a zeroed node is valid
 * and not queued.  rq_insert(q, n, key) queues n; threads with equal keys
 * run first-in first-out.  rq_min() peeks at the thread to run next,
 * rq_pop_min() takes it; rq_remove() takes any queued thread out.  Recover
 * the thread with container_of(node, struct thread, member).  A run queue
 * is touched only by its own CPU, with interrupts disabled: no locking here.
 *
 * Keys are doubles (so callers use the FPU/SSE, like OSv's scheduler);
 * -0.0 counts as 0.0 and a NaN is ordered by its bits (a positive NaN after
 * +inf, a negative one before -inf): never pass one.  The queue is a thin
 * wrapper over core/rbtree.h, which says why a red-black tree:
 * O(log n) insert and removal, O(1) minimum and count.
 */
#ifndef SCHED_RQ_IMPL_H
#define SCHED_RQ_IMPL_H

#include "core/rbtree.h"

struct rq_node {
	struct rbtree_node rb;          /* key: the fairness key, mapped by rq.c */
};

struct rq {
	struct rbtree tree;             /* owned by its CPU; irqs off */
};

void rq_init(struct rq *q);

/* Queues n with `key`; an n already in q is moved to its new place. */
void rq_insert(struct rq *q, struct rq_node *n, double key);

/* Takes n out of q, the queue it is in; nothing if n is not queued. */
void rq_remove(struct rq *q, struct rq_node *n);

/* The node with the lowest key (first queued among equals) taken out of q,
 * or NULL when q is empty. */
struct rq_node *rq_pop_min(struct rq *q);

/* The key n was queued with (the key last given to it). */
double rq_key(const struct rq_node *n);

/* The node with the lowest key, left in q, or NULL when q is empty. */
static inline struct rq_node *rq_min(const struct rq *q)
{
	struct rbtree_node *rb = rbtree_first(&q->tree);

	return rb ? container_of(rb, struct rq_node, rb) : NULL;
}

static inline unsigned int rq_count(const struct rq *q)
{
	return rbtree_count(&q->tree);
}

static inline bool rq_queued(const struct rq_node *n)
{
	return rbtree_queued(&n->rb);
}

#ifdef SKIFF_HOST_TEST
/* Host tests only: NULL if q is well formed, else what is wrong. */
const char *rq_check(const struct rq *q);
#endif

#endif
