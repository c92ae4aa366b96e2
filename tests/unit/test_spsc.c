/*
 * tests/unit/test_spsc.c - host unit tests for the single-producer
 * single-consumer ring (sched/spsc_impl.h): empty, full and wrap-around on
 * one thread, then a producer and a consumer thread under stress.
 *
 * The threaded tests pass under ASan/UBSan (make unit) and must also pass
 * under ThreadSanitizer, which sees a missing acquire/release as a data
 * race on the slots or on the buffers passed through them:
 * tests/unit/tsan.sh builds and runs this file that way.
 * Build and run: make build/unit/test_spsc && build/unit/test_spsc
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "sched/spsc_impl.h"

static struct spsc_ring ring, back;

static void *item(uintptr_t i)
{
	return (void *)(i + 1);
}

UNIT_TEST(spsc_empty)
{
	spsc_init(&ring);
	CHECK(spsc_empty(&ring));
	CHECK(spsc_pop(&ring) == NULL);
	CHECK(!spsc_push(&ring, NULL));         /* NULL would read as "empty" */
	CHECK(spsc_empty(&ring));
	CHECK(spsc_push(&ring, item(7)));
	CHECK(!spsc_empty(&ring));
	CHECK(spsc_pop(&ring) == item(7));
	CHECK(spsc_empty(&ring));
	CHECK(spsc_pop(&ring) == NULL);
}

UNIT_TEST(spsc_full)
{
	spsc_init(&ring);
	for (uintptr_t i = 0; i < SPSC_CAPACITY; i++)
		CHECK(spsc_push(&ring, item(i)));
	CHECK(!spsc_push(&ring, item(999)));    /* full */
	CHECK(!spsc_push(&ring, item(999)));
	CHECK(spsc_pop(&ring) == item(0));
	CHECK(spsc_push(&ring, item(SPSC_CAPACITY)));   /* one slot freed */
	CHECK(!spsc_push(&ring, item(999)));
	for (uintptr_t i = 1; i <= SPSC_CAPACITY; i++)
		CHECK(spsc_pop(&ring) == item(i));
	CHECK(spsc_pop(&ring) == NULL);
	CHECK(spsc_empty(&ring));
}

/* Batches of every size from 1 past twice the capacity wrap the slots. */
UNIT_TEST(spsc_wraps_slots)
{
	uintptr_t in = 0, out = 0;

	spsc_init(&ring);
	for (unsigned int batch = 1; batch <= 2 * SPSC_CAPACITY + 64; batch++) {
		for (unsigned int k = 0; k < batch; k++)
			if (spsc_push(&ring, item(in)))
				in++;
		for (unsigned int k = 0; k < batch / 2 + 1; k++) {
			void *p = spsc_pop(&ring);
			if (!p)
				break;
			CHECK(p == item(out));
			out++;
		}
		CHECK(in - out <= SPSC_CAPACITY);
	}
	for (void *p; (p = spsc_pop(&ring)); out++)
		CHECK(p == item(out));
	CHECK_EQ(in, out);
	CHECK(in > 4 * SPSC_CAPACITY);
}

/* The free-running indexes wrap past UINT32_MAX: full and empty still hold. */
UNIT_TEST(spsc_wraps_indexes)
{
	spsc_init(&ring);
	ring.head = ring.tail = ring.head_seen = ring.tail_seen =
		UINT32_MAX - SPSC_CAPACITY / 2;
	for (uintptr_t i = 0; i < SPSC_CAPACITY; i++)
		CHECK(spsc_push(&ring, item(i)));
	CHECK(ring.tail < ring.head);           /* tail has wrapped */
	CHECK(!spsc_push(&ring, item(999)));
	for (uintptr_t i = 0; i < SPSC_CAPACITY; i++)
		CHECK(spsc_pop(&ring) == item(i));
	CHECK(spsc_pop(&ring) == NULL);
	CHECK(spsc_empty(&ring));
	CHECK(spsc_push(&ring, item(1)));
	CHECK(spsc_pop(&ring) == item(1));
}

/* --- two threads --- */

#define STRESS_ITEMS (1U << 21)

struct stress {
	uintptr_t bad_at;               /* first out-of-order item, or 0 */
	uintptr_t received;
	unsigned long full, empty;      /* how often each side had to wait */
};

static void *produce(void *arg)
{
	struct stress *s = arg;

	for (uintptr_t i = 0; i < STRESS_ITEMS; i++) {
		while (!spsc_push(&ring, item(i))) {
			s->full++;
			sched_yield();
		}
	}
	return NULL;
}

static void *consume(void *arg)
{
	struct stress *s = arg;

	while (s->received < STRESS_ITEMS) {
		void *p = spsc_pop(&ring);
		if (!p) {
			s->empty++;
			sched_yield();
			continue;
		}
		if (p != item(s->received) && !s->bad_at)
			s->bad_at = s->received + 1;
		s->received++;
	}
	return NULL;
}

/* The producer pushes 0..N-1; the consumer sees each once, in order. */
UNIT_TEST(spsc_threads_in_order)
{
	struct stress prod = { 0 }, cons = { 0 };
	pthread_t p, c;

	spsc_init(&ring);
	CHECK_EQ(pthread_create(&c, NULL, consume, &cons), 0);
	CHECK_EQ(pthread_create(&p, NULL, produce, &prod), 0);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	CHECK_EQ(cons.bad_at, 0);
	CHECK_EQ(cons.received, STRESS_ITEMS);
	CHECK(spsc_empty(&ring));
	CHECK(spsc_pop(&ring) == NULL);
	printf("#   %u items; producer waited %lu times, consumer %lu\n",
	       STRESS_ITEMS, prod.full, cons.empty);
}

/*
 * Buffers travel through `ring` and come back through `back`, each side
 * writing into them with plain stores: only the rings' acquire/release
 * orders those, so TSan reports a race if either ring's ordering is wrong.
 */
#define BUFS (SPSC_CAPACITY < 64 ? SPSC_CAPACITY : 64)
#define BUF_ROUNDS (1U << 18)

struct buf {
	uint64_t value;
	char payload[48];
};

static struct buf bufs[BUFS];

static void *buf_produce(void *arg)
{
	unsigned long *waits = arg;

	for (uint64_t i = 0; i < BUF_ROUNDS; i++) {
		struct buf *b;
		while (!(b = spsc_pop(&back))) {
			(*waits)++;
			sched_yield();
		}
		b->value = i;
		memset(b->payload, (int)(i & 0xff), sizeof(b->payload));
		while (!spsc_push(&ring, b))
			sched_yield();
	}
	return NULL;
}

static void *buf_consume(void *arg)
{
	uint64_t *bad = arg;

	for (uint64_t i = 0; i < BUF_ROUNDS; i++) {
		struct buf *b;
		while (!(b = spsc_pop(&ring)))
			sched_yield();
		if (b->value != i || b->payload[47] != (char)(i & 0xff))
			(*bad)++;
		b->value = UINT64_MAX;          /* poison, then hand it back */
		memset(b->payload, 0, sizeof(b->payload));
		while (!spsc_push(&back, b))
			sched_yield();
	}
	return NULL;
}

UNIT_TEST(spsc_threads_pass_buffers)
{
	unsigned long waits = 0;
	uint64_t bad = 0;
	pthread_t p, c;

	spsc_init(&ring);
	spsc_init(&back);
	for (int i = 0; i < BUFS; i++)
		CHECK(spsc_push(&back, &bufs[i]));
	CHECK_EQ(pthread_create(&c, NULL, buf_consume, &bad), 0);
	CHECK_EQ(pthread_create(&p, NULL, buf_produce, &waits), 0);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	CHECK_EQ(bad, 0);
	CHECK(spsc_empty(&ring));
	int returned = 0;
	while (spsc_pop(&back))
		returned++;
	CHECK_EQ(returned, BUFS);
}
