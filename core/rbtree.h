/*
 * core/rbtree.h - an intrusive red-black tree, for the scheduler's run
 * queues (sched/rq_impl.h) and timer queues (sched/timerq_impl.h) and the
 * application's mapping set (core/vma_impl.h).
 *
 * Interface: embed a struct rbtree_node in the queued object; a zeroed node
 * is valid and not queued.  rbtree_insert(t, n, key) queues n, ordered by
 * (key, insertion sequence): lower keys first, equal keys first-in first-out.
 * rbtree_remove(t, n) unqueues n from t, the tree it is in.  rbtree_first()
 * is the minimum, kept cached.  Keys are uint64_t; a queue with another key
 * type maps it to a uint64_t in the same order (sched/rq.c does for double).
 * Callers serialize (a run queue: its CPU with interrupts off; the mapping
 * set: the address-space mutex).
 *
 * Why a red-black tree: worst-case O(log n) insert and arbitrary removal and
 * O(1) minimum (cached leftmost), with no allocation and no amortization —
 * a pairing heap's delete-min is O(n) in the worst case and amortized
 * O(log n) only, a poor fit for code that runs with interrupts disabled.
 * The tree also keeps everything in order, so a later load balancer or timer
 * wheel can walk it.  The comparison is inline (no callback): the key is
 * always a uint64_t, and the sequence number makes every key distinct.
 *
 * Complexity: insert and remove O(log n) (at most 2 and 3 rotations), first,
 * count and queued O(1).  Memory: 48 bytes a node, nothing else.
 */
#ifndef CORE_RBTREE_H
#define CORE_RBTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef container_of
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#endif

enum {
	RBTREE_OFF = 0,         /* not in a tree: what a zeroed node says */
	RBTREE_RED,
	RBTREE_BLACK,
};

struct rbtree_node {
	struct rbtree_node *parent;     /* NULL for the root */
	struct rbtree_node *child[2];   /* [0] left (smaller), [1] right */
	uint64_t key;                   /* the order, then ... */
	uint64_t seq;                   /* ... insertion order, for ties */
	uint8_t color;                  /* RBTREE_RED/BLACK, or RBTREE_OFF */
};

struct rbtree {
	struct rbtree_node *root;
	struct rbtree_node *first;      /* leftmost node (the minimum), or NULL */
	unsigned int count;
	uint64_t next_seq;              /* given to the next inserted node */
};

void rbtree_init(struct rbtree *t);

/* Queues n with `key`; a node already in t is moved, as if removed first. */
void rbtree_insert(struct rbtree *t, struct rbtree_node *n, uint64_t key);

/* Unqueues n from t, the tree it is in: false if n was not queued. */
bool rbtree_remove(struct rbtree *t, struct rbtree_node *n);

/* The node after n in the order, or NULL. */
struct rbtree_node *rbtree_next(const struct rbtree_node *n);

static inline struct rbtree_node *rbtree_first(const struct rbtree *t)
{
	return t->first;
}

static inline unsigned int rbtree_count(const struct rbtree *t)
{
	return t->count;
}

static inline bool rbtree_queued(const struct rbtree_node *n)
{
	return n->color != RBTREE_OFF;
}

#ifdef SKIFF_HOST_TEST
/* Host tests only: NULL if every invariant holds, else the first broken. */
const char *rbtree_check(const struct rbtree *t);
#endif

#endif
