/*
 * sched/timerq.c - the timer queue (see sched/timerq_impl.h): the
 * red-black tree of core/rbtree.c keyed by deadline.  Pure C, tested on
 * the host (tests/unit/test_timerq.c).
 */
#include "sched/timerq_impl.h"

void timerq_init(struct timerq *q)
{
	rbtree_init(&q->tree);
}

void timerq_insert(struct timerq *q, struct timerq_node *n, uint64_t deadline)
{
	rbtree_insert(&q->tree, &n->rb, deadline);
}

bool timerq_cancel(struct timerq *q, struct timerq_node *n)
{
	return rbtree_remove(&q->tree, &n->rb);
}

struct timerq_node *timerq_pop_expired(struct timerq *q, uint64_t now)
{
	struct timerq_node *n = timerq_earliest(q);

	if (!n || timerq_deadline(n) > now)
		return NULL;
	rbtree_remove(&q->tree, &n->rb);
	return n;
}

#ifdef SKIFF_HOST_TEST
const char *timerq_check(const struct timerq *q)
{
	return rbtree_check(&q->tree);
}
#endif
