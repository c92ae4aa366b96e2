/*
 * tests/unit/test_timerq.c - host unit tests for the timer queue
 * (sched/timerq.c over core/rbtree.c).
 *
 * Random arm/cancel/expire sequences, with a clock that moves forward, run
 * against a reference model (a sorted array) and check the tree's
 * invariants (timerq_check) after every operation.
 * Build and run: make build/unit/test_timerq && build/unit/test_timerq
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "sched/timerq_impl.h"

struct fake_timer {
	int id;
	struct timerq_node node;
};

#define POOL 512

static struct fake_timer pool[POOL];
static struct timerq q;

static struct fake_timer *timer_of(struct timerq_node *n)
{
	return n ? container_of(n, struct fake_timer, node) : NULL;
}

static void reset(void)
{
	memset(pool, 0, sizeof(pool));
	for (int i = 0; i < POOL; i++)
		pool[i].id = i;
	timerq_init(&q);
}

static void check_tree(void)
{
	const char *why = timerq_check(&q);

	if (why)
		unit_fail(__FILE__, __LINE__, "timerq_check: %s", why);
}

static uint64_t rng;

static uint64_t rand64(void)
{
	return unit_rand(&rng);
}

UNIT_TEST(timerq_empty)
{
	reset();
	CHECK(timerq_earliest(&q) == NULL);
	CHECK(timerq_pop_expired(&q, 0) == NULL);
	CHECK(timerq_pop_expired(&q, UINT64_MAX) == NULL);
	CHECK(!timerq_queued(&pool[0].node));
	CHECK(!timerq_cancel(&q, &pool[0].node));
	CHECK_EQ(timerq_count(&q), 0);
	check_tree();
}

UNIT_TEST(timerq_expiry_boundary)
{
	reset();
	timerq_insert(&q, &pool[0].node, 1000);
	CHECK(timerq_queued(&pool[0].node));
	CHECK(timerq_earliest(&q) == &pool[0].node);
	CHECK(timerq_deadline(&pool[0].node) == 1000);
	CHECK(timerq_pop_expired(&q, 999) == NULL);     /* not yet */
	CHECK(timerq_queued(&pool[0].node));
	CHECK(timerq_pop_expired(&q, 1000) == &pool[0].node);   /* deadline == now */
	CHECK(!timerq_queued(&pool[0].node));
	CHECK(timerq_pop_expired(&q, 1000) == NULL);
	timerq_insert(&q, &pool[1].node, 0);
	timerq_insert(&q, &pool[2].node, UINT64_MAX);
	CHECK(timerq_pop_expired(&q, 0) == &pool[1].node);
	CHECK(timerq_pop_expired(&q, UINT64_MAX - 1) == NULL);
	CHECK(timerq_pop_expired(&q, UINT64_MAX) == &pool[2].node);
	CHECK_EQ(timerq_count(&q), 0);
	check_tree();
}

UNIT_TEST(timerq_ties_fire_fifo)
{
	reset();
	for (int i = 0; i < 300; i++)
		timerq_insert(&q, &pool[i].node, 5000 + (uint64_t)(i % 3));
	check_tree();
	for (int d = 0; d < 3; d++)
		for (int i = d; i < 300; i += 3)
			CHECK_EQ(timer_of(timerq_pop_expired(&q, 1ULL << 40))->id, i);
	CHECK(timerq_pop_expired(&q, UINT64_MAX) == NULL);
}

UNIT_TEST(timerq_cancel_and_rearm)
{
	reset();
	for (int i = 0; i < 10; i++)
		timerq_insert(&q, &pool[i].node, 100 * (uint64_t)(i + 1));
	CHECK(timerq_cancel(&q, &pool[0].node));        /* the earliest */
	CHECK(!timerq_cancel(&q, &pool[0].node));       /* already gone */
	CHECK(timerq_cancel(&q, &pool[9].node));        /* the latest */
	CHECK(timerq_cancel(&q, &pool[4].node));
	CHECK(timerq_earliest(&q) == &pool[1].node);
	timerq_insert(&q, &pool[1].node, 2000);         /* re-armed later */
	timerq_insert(&q, &pool[8].node, 50);           /* re-armed earlier */
	CHECK_EQ(timerq_count(&q), 7);
	check_tree();
	static const int order[] = { 8, 2, 3, 5, 6, 7, 1 };
	for (int i = 0; i < 7; i++)
		CHECK_EQ(timer_of(timerq_pop_expired(&q, 5000))->id, order[i]);
	CHECK(timerq_earliest(&q) == NULL);
}

/* The checker itself must be able to fail. */
UNIT_TEST(timerq_check_finds_damage)
{
	reset();
	for (int i = 0; i < 20; i++)
		timerq_insert(&q, &pool[i].node, (uint64_t)i);
	CHECK(timerq_check(&q) == NULL);
	struct rbtree_node *leaf = q.tree.first;
	leaf->color = leaf->color == RBTREE_RED ? RBTREE_BLACK : RBTREE_RED;
	CHECK(timerq_check(&q) != NULL);            /* black height or red-red */
	leaf->color = leaf->color == RBTREE_RED ? RBTREE_BLACK : RBTREE_RED;
	CHECK(timerq_check(&q) == NULL);
	leaf->parent = NULL;
	CHECK(timerq_check(&q) != NULL);
}

/* --- random operations against a sorted array of (deadline, seq) --- */

static struct model {
	struct fake_timer *t[POOL];     /* armed timers, in firing order */
	uint64_t deadline[POOL];        /* by timer id */
	uint64_t seq[POOL];
	uint64_t next_seq;
	unsigned int n;
} m;

static bool model_before(int a, int b)
{
	return m.deadline[a] < m.deadline[b] ||
	       (m.deadline[a] == m.deadline[b] && m.seq[a] < m.seq[b]);
}

static bool model_remove(struct fake_timer *t)
{
	for (unsigned int i = 0; i < m.n; i++) {
		if (m.t[i] == t) {
			memmove(&m.t[i], &m.t[i + 1], (m.n - i - 1) * sizeof(m.t[0]));
			m.n--;
			return true;
		}
	}
	return false;
}

static void model_insert(struct fake_timer *t, uint64_t deadline)
{
	unsigned int i;

	model_remove(t);
	i = m.n;
	m.deadline[t->id] = deadline;
	m.seq[t->id] = m.next_seq++;
	while (i > 0 && model_before(t->id, m.t[i - 1]->id))
		i--;
	memmove(&m.t[i + 1], &m.t[i], (m.n - i) * sizeof(m.t[0]));
	m.t[i] = t;
	m.n++;
}

static bool compare_with_model(void)
{
	struct rbtree_node *rb = q.tree.first;
	const char *why = timerq_check(&q);

	if (why)
		return unit_fail(__FILE__, __LINE__, "timerq_check: %s", why), false;
	if (timerq_count(&q) != m.n)
		return unit_fail(__FILE__, __LINE__, "count %u, model %u", timerq_count(&q), m.n), false;
	for (unsigned int i = 0; i < m.n; i++, rb = rbtree_next(rb)) {
		if (!rb || container_of(rb, struct timerq_node, rb) != &m.t[i]->node)
			return unit_fail(__FILE__, __LINE__, "order differs at %u", i), false;
		if (timerq_deadline(&m.t[i]->node) != m.deadline[m.t[i]->id])
			return unit_fail(__FILE__, __LINE__, "deadline differs at %u", i), false;
	}
	if (rb)
		return unit_fail(__FILE__, __LINE__, "queue longer than model"), false;
	return true;
}

/* Everything due at `now`, in order; the model says what should come out. */
static void expire(uint64_t now)
{
	struct timerq_node *n;

	while ((n = timerq_pop_expired(&q, now))) {
		CHECK(m.n && n == &m.t[0]->node && m.deadline[m.t[0]->id] <= now);
		if (!m.n || n != &m.t[0]->node)
			return;
		model_remove(m.t[0]);
	}
	CHECK(!m.n || m.deadline[m.t[0]->id] > now);
}

static void random_op(uint64_t *now)
{
	struct fake_timer *t = &pool[rand64() % POOL];
	uint64_t r = rand64() % 8;

	if (r < 4) {                            /* arm or re-arm, mostly ahead */
		uint64_t deadline = *now + rand64() % 2000;
		if (r == 0)
			deadline = *now - rand64() % 100;   /* already due */
		timerq_insert(&q, &t->node, deadline);
		model_insert(t, deadline);
	} else if (r < 6) {                     /* cancel any */
		CHECK_EQ(timerq_cancel(&q, &t->node), model_remove(t));
	} else if (r < 7) {                     /* the clock moves; expire */
		*now += rand64() % 50;
		expire(*now);
	} else {                                /* peek */
		CHECK(timerq_earliest(&q) == (m.n ? &m.t[0]->node : NULL));
	}
}

static void run_random(uint64_t seed, uint64_t start, int ops)
{
	uint64_t now = start;

	reset();
	memset(&m, 0, sizeof(m));
	rng = seed;
	for (int i = 0; i < ops; i++) {
		random_op(&now);
		if (!compare_with_model())
			return;
	}
	expire(UINT64_MAX);
	CHECK_EQ(timerq_count(&q), 0);
	CHECK(compare_with_model());
}

UNIT_TEST(timerq_random_seed1)
{
	run_random(0x9E3779B97F4A7C15ULL, 1000000, 30000);
}

UNIT_TEST(timerq_random_seed2)
{
	run_random(777, 0, 30000);     /* early deadlines wrap: near UINT64_MAX */
}

UNIT_TEST(timerq_random_seed3)
{
	run_random(0xDEADBEEFCAFEF00DULL, 1ULL << 62, 30000);
}
