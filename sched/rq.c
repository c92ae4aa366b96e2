/*
 * sched/rq.c - the run queue (see sched/rq_impl.h): the red-black tree of
 * core/rbtree.c with double keys.  Pure C, tested on the host
 * (tests/unit/test_rq.c).
 *
 * A double key becomes a uint64_t in the same order: a positive double's
 * bits, read as an integer, grow with its value, so setting the sign bit
 * puts them above every negative; a negative double's bits grow as it
 * falls, so inverting them all reverses that and clears the sign bit.
 */
#include "sched/rq_impl.h"

union rq_bits {
	double d;
	uint64_t u;
};

#define RQ_SIGN (1ULL << 63)

static uint64_t key_to_bits(double key)
{
	union rq_bits b = { .d = key == 0.0 ? 0.0 : key };    /* -0.0 is 0.0 */

	return b.u & RQ_SIGN ? ~b.u : b.u | RQ_SIGN;
}

static double bits_to_key(uint64_t u)
{
	union rq_bits b = { .u = u & RQ_SIGN ? u & ~RQ_SIGN : ~u };

	return b.d;
}

void rq_init(struct rq *q)
{
	rbtree_init(&q->tree);
}

void rq_insert(struct rq *q, struct rq_node *n, double key)
{
	rbtree_insert(&q->tree, &n->rb, key_to_bits(key));
}

void rq_remove(struct rq *q, struct rq_node *n)
{
	rbtree_remove(&q->tree, &n->rb);
}

struct rq_node *rq_pop_min(struct rq *q)
{
	struct rq_node *n = rq_min(q);

	if (n)
		rbtree_remove(&q->tree, &n->rb);
	return n;
}

double rq_key(const struct rq_node *n)
{
	return bits_to_key(n->rb.key);
}

#ifdef SKIFF_HOST_TEST
const char *rq_check(const struct rq *q)
{
	return rbtree_check(&q->tree);
}
#endif
