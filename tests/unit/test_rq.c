/*
 * tests/unit/test_rq.c - host unit tests for the run queue (sched/rq.c) and
 * the red-black tree under it (core/rbtree.c).
 *
 * Random operation sequences run against a reference model (a sorted array)
 * and check the tree's invariants (rq_check) after every operation.
 * Build and run: make build/unit/test_rq && build/unit/test_rq
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "sched/rq_impl.h"

struct fake_thread {
	int id;
	struct rq_node node;
};

#define POOL 512

static struct fake_thread pool[POOL];
static struct rq q;

static struct fake_thread *thread_of(struct rq_node *n)
{
	return n ? container_of(n, struct fake_thread, node) : NULL;
}

static void reset(void)
{
	memset(pool, 0, sizeof(pool));
	for (int i = 0; i < POOL; i++)
		pool[i].id = i;
	rq_init(&q);
}

/* Checks the tree and reports what is wrong once per call site. */
static void check_tree(void)
{
	const char *why = rq_check(&q);

	if (why)
		unit_fail(__FILE__, __LINE__, "rq_check: %s", why);
}

static uint64_t rng;

static uint64_t rand64(void)
{
	return unit_rand(&rng);
}

UNIT_TEST(rq_empty)
{
	reset();
	CHECK(rq_min(&q) == NULL);
	CHECK(rq_pop_min(&q) == NULL);
	CHECK_EQ(rq_count(&q), 0);
	CHECK(!rq_queued(&pool[0].node));
	rq_remove(&q, &pool[0].node);           /* not queued: nothing */
	CHECK_EQ(rq_count(&q), 0);
	check_tree();
	rq_insert(&q, &pool[0].node, 1.5);
	CHECK(rq_queued(&pool[0].node));
	CHECK(rq_min(&q) == &pool[0].node);
	CHECK_EQ(rq_count(&q), 1);
	CHECK(rq_pop_min(&q) == &pool[0].node);
	CHECK(!rq_queued(&pool[0].node));
	CHECK(rq_min(&q) == NULL);
	CHECK(rq_pop_min(&q) == NULL);
	check_tree();
}

UNIT_TEST(rq_orders_by_key)
{
	static const double keys[] = { 5, -3, 2.5, 1e300, -1e-300, 0, 7, -1e300, 4.75 };
	static const int order[] = { 7, 1, 4, 5, 2, 8, 0, 6, 3 };

	reset();
	for (int i = 0; i < 9; i++) {
		rq_insert(&q, &pool[i].node, keys[i]);
		check_tree();
	}
	CHECK_EQ(rq_count(&q), 9);
	for (int i = 0; i < 9; i++) {
		struct fake_thread *t = thread_of(rq_pop_min(&q));
		CHECK(t != NULL);
		if (!t)
			return;
		CHECK_EQ(t->id, order[i]);
		CHECK(rq_key(&t->node) == keys[order[i]]);
		check_tree();
	}
	CHECK(rq_pop_min(&q) == NULL);
}

UNIT_TEST(rq_ties_are_fifo)
{
	reset();
	/* Keys 1, 0, 1, 0, ...: the zeros in insertion order, then the ones. */
	for (int i = 0; i < 200; i++)
		rq_insert(&q, &pool[i].node, i % 2 ? 0.0 : 1.0);
	rq_insert(&q, &pool[200].node, -0.0);   /* -0.0 ties with 0.0 */
	check_tree();
	for (int i = 1; i < 200; i += 2)
		CHECK_EQ(thread_of(rq_pop_min(&q))->id, i);
	CHECK_EQ(thread_of(rq_pop_min(&q))->id, 200);
	for (int i = 0; i < 200; i += 2)
		CHECK_EQ(thread_of(rq_pop_min(&q))->id, i);
	CHECK_EQ(rq_count(&q), 0);
}

UNIT_TEST(rq_reinsert_moves_to_back)
{
	reset();
	for (int i = 0; i < 4; i++)
		rq_insert(&q, &pool[i].node, 10.0);
	rq_insert(&q, &pool[0].node, 10.0);     /* queued: to the back of the 10s */
	rq_insert(&q, &pool[3].node, 2.0);      /* queued: to the front */
	CHECK_EQ(rq_count(&q), 4);
	check_tree();
	CHECK(rq_key(&pool[3].node) == 2.0);
	static const int order[] = { 3, 1, 2, 0 };
	for (int i = 0; i < 4; i++)
		CHECK_EQ(thread_of(rq_pop_min(&q))->id, order[i]);
}

UNIT_TEST(rq_remove_any)
{
	reset();
	for (int i = 0; i < 100; i++)
		rq_insert(&q, &pool[i].node, (double)(i * 37 % 100));
	/* Remove the minimum, the maximum, then every third of what is left. */
	rq_remove(&q, rq_min(&q));
	for (int i = 0; i < 100; i++)
		if (i * 37 % 100 == 99)
			rq_remove(&q, &pool[i].node);
	check_tree();
	for (int i = 0; i < 100; i += 3) {
		rq_remove(&q, &pool[i].node);
		rq_remove(&q, &pool[i].node);   /* twice: the second does nothing */
		CHECK(!rq_queued(&pool[i].node));
		check_tree();
	}
	double last = -1;
	unsigned int n = rq_count(&q);
	for (unsigned int i = 0; i < n; i++) {
		struct fake_thread *t = thread_of(rq_pop_min(&q));
		double key = rq_key(&t->node);
		CHECK(t->id % 3 != 0);
		CHECK(key > last && key != 0 && key != 99);
		last = key;
	}
	CHECK_EQ(rq_count(&q), 0);
	CHECK(rq_min(&q) == NULL);
}

UNIT_TEST(rq_key_roundtrip)
{
	static const double keys[] = {
		-__builtin_inf(), -1e308, -1.0, -4.9e-324, 0.0, 4.9e-324,
		1.0, 1.0000000000000002, 1e308, __builtin_inf(),
	};
	const int n = sizeof(keys) / sizeof(keys[0]);

	reset();
	for (int i = n - 1; i >= 0; i--)
		rq_insert(&q, &pool[i].node, keys[i]);
	for (int i = 0; i < n; i++) {
		struct rq_node *m = rq_pop_min(&q);
		CHECK(m == &pool[i].node);
		CHECK(m && rq_key(m) == keys[i]);
	}
	rq_insert(&q, &pool[0].node, -0.0);
	CHECK(rq_key(&pool[0].node) == 0.0);
}

/* The checker itself must be able to fail. */
UNIT_TEST(rq_check_finds_damage)
{
	reset();
	for (int i = 0; i < 20; i++)
		rq_insert(&q, &pool[i].node, (double)i);
	CHECK(rq_check(&q) == NULL);
	q.tree.root->color = RBTREE_RED;
	CHECK(rq_check(&q) != NULL);
	q.tree.root->color = RBTREE_BLACK;
	pool[5].node.rb.key = pool[15].node.rb.key;
	CHECK(rq_check(&q) != NULL);
	pool[5].node.rb.key = pool[4].node.rb.key;      /* a tie, but seq order holds */
	CHECK(rq_check(&q) == NULL);
	pool[5].node.rb.seq = pool[4].node.rb.seq - 1;
	CHECK(rq_check(&q) != NULL);
	pool[5].node.rb.seq = 5;
	q.tree.count++;
	CHECK(rq_check(&q) != NULL);
	q.tree.count--;
	q.tree.first = &pool[1].node.rb;
	CHECK(rq_check(&q) != NULL);
}

/* --- random operations against a sorted array of (key, seq) --- */

static struct model {
	struct fake_thread *t[POOL];    /* queued threads, in run order */
	double key[POOL];               /* by thread id */
	uint64_t seq[POOL];
	uint64_t next_seq;
	unsigned int n;
} m;

static bool model_before(int a, int b)
{
	return m.key[a] < m.key[b] || (m.key[a] == m.key[b] && m.seq[a] < m.seq[b]);
}

static void model_remove(struct fake_thread *t)
{
	for (unsigned int i = 0; i < m.n; i++) {
		if (m.t[i] == t) {
			memmove(&m.t[i], &m.t[i + 1], (m.n - i - 1) * sizeof(m.t[0]));
			m.n--;
			return;
		}
	}
}

static void model_insert(struct fake_thread *t, double key)
{
	unsigned int i;

	model_remove(t);
	i = m.n;
	m.key[t->id] = key;
	m.seq[t->id] = m.next_seq++;
	while (i > 0 && model_before(t->id, m.t[i - 1]->id))
		i--;
	memmove(&m.t[i + 1], &m.t[i], (m.n - i) * sizeof(m.t[0]));
	m.t[i] = t;
	m.n++;
}

static double random_key(void)
{
	uint64_t r = rand64();

	switch (r % 4) {
	case 0:
		return (double)(int)(r >> 8 & 15) - 8;          /* many ties */
	case 1:
		return (r >> 8 & 1) ? -0.0 : 0.0;
	default:
		return ((double)(int64_t)(r >> 2) / 9007199254740992.0) * 1e3;
	}
}

/* Walks the queue in order and compares it with the model; false on the
 * first difference (reported once). */
static bool compare_with_model(void)
{
	struct rbtree_node *rb = q.tree.first;
	const char *why = rq_check(&q);

	if (why)
		return unit_fail(__FILE__, __LINE__, "rq_check: %s", why), false;
	if (rq_count(&q) != m.n)
		return unit_fail(__FILE__, __LINE__, "count %u, model %u", rq_count(&q), m.n), false;
	for (unsigned int i = 0; i < m.n; i++, rb = rbtree_next(rb)) {
		if (!rb || container_of(rb, struct rq_node, rb) != &m.t[i]->node)
			return unit_fail(__FILE__, __LINE__, "order differs at %u", i), false;
		if (rq_key(&m.t[i]->node) != m.key[m.t[i]->id])
			return unit_fail(__FILE__, __LINE__, "key differs at %u", i), false;
	}
	if (rb)
		return unit_fail(__FILE__, __LINE__, "queue longer than model"), false;
	return true;
}

static void random_op(void)
{
	struct fake_thread *t = &pool[rand64() % POOL];
	uint64_t r = rand64() % 8;

	if (r < 3 || (r < 4 && rq_queued(&t->node))) {          /* insert, or move */
		double key = random_key();
		rq_insert(&q, &t->node, key);
		model_insert(t, key);
	} else if (r < 6) {                                     /* remove any */
		rq_remove(&q, &t->node);
		model_remove(t);
	} else if (r < 7) {                                     /* pop the minimum */
		struct rq_node *n = rq_pop_min(&q);
		CHECK(n == (m.n ? &m.t[0]->node : NULL));
		if (m.n)
			model_remove(m.t[0]);
	} else {                                                /* peek */
		CHECK(rq_min(&q) == (m.n ? &m.t[0]->node : NULL));
	}
}

static void run_random(uint64_t seed, int ops)
{
	reset();
	memset(&m, 0, sizeof(m));
	rng = seed;
	for (int i = 0; i < ops; i++) {
		random_op();
		if (!compare_with_model())
			return;
	}
	while (m.n) {                   /* drain: everything comes out in order */
		CHECK(rq_pop_min(&q) == &m.t[0]->node);
		model_remove(m.t[0]);
	}
	CHECK(rq_pop_min(&q) == NULL);
	CHECK(compare_with_model());
}

UNIT_TEST(rq_random_seed1)
{
	run_random(0x9E3779B97F4A7C15ULL, 30000);
}

UNIT_TEST(rq_random_seed2)
{
	run_random(12345, 30000);
}

UNIT_TEST(rq_random_seed3)
{
	run_random(0xDEADBEEFCAFEF00DULL, 30000);
}

/* Long monotone runs: the worst cases for an unbalanced tree. */
UNIT_TEST(rq_monotone)
{
	reset();
	for (int i = 0; i < POOL; i++)
		rq_insert(&q, &pool[i].node, (double)i);
	check_tree();
	for (int i = 0; i < POOL; i++)
		CHECK(rq_pop_min(&q) == &pool[i].node);
	for (int i = 0; i < POOL; i++)
		rq_insert(&q, &pool[i].node, (double)-i);
	check_tree();
	for (int i = POOL - 1; i >= 0; i--)
		rq_remove(&q, &pool[i].node);   /* removes the minimum each time */
	CHECK_EQ(rq_count(&q), 0);
	check_tree();
}
