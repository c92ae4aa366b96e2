/*
 * core/shrink.c - memory pressure: the shrinker API.
 *
 * Components that cache memory (the memcached appliance's store, later the
 * page cache) register a shrinker instead of fixing their size in advance:
 * shrinker_register(name, fn), where fn(want) releases up to `want` bytes
 * and returns how many it released.  Two paths ask them:
 *   - when free memory falls below the low watermark, the "shrink" thread
 *     asks the shrinkers in turn until free memory is back above the high
 *     watermark (or none can give more);
 *   - an allocation that would fail asks them at once, in the allocating
 *     thread, for what it needs, then retries (page_alloc).
 * Out of memory is still an error return, never a panic.  A shrinker runs
 * in a thread and may allocate (it is not asked again while it runs), but a
 * lock that its owner holds while allocating may only be try-locked by its
 * shrinker (else: the owner waits for the shrinking, which waits for it).
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "core/mm.h"
#include "core/page_impl.h"
#include "sched/sched.h"

struct shrinker {
	char name[24];
	size_t (*fn)(size_t want);
	struct shrinker *next;
};

static struct {
	struct mutex lock;              /* the list; one shrinking pass at a time */
	struct shrinker *list;
	struct semaphore wake;          /* the shrink thread's */
	bool thread_started, signalled; /* signalled: atomic */
	uint64_t low, high;             /* watermarks, bytes */
	struct shrink_stats stats;
} sh = { .lock = MUTEX_RECURSIVE_INIT };

int shrinker_register(const char *name, size_t (*fn)(size_t want))
{
	struct shrinker *s;

	if (!fn || !name)
		return -EINVAL;
	s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	strlcpy(s->name, name, sizeof(s->name));
	s->fn = fn;
	WITH_LOCK(&sh.lock) {
		s->next = sh.list;
		sh.list = s;
	}
	return 0;
}

int shrinker_unregister(size_t (*fn)(size_t want))
{
	int err = -ENOENT;

	WITH_LOCK(&sh.lock) {
		for (struct shrinker **p = &sh.list; *p; p = &(*p)->next) {
			if ((*p)->fn == fn) {
				struct shrinker *s = *p;
				*p = s->next;
				free(s);
				err = 0;
				break;
			}
		}
	}
	return err;
}

/* Asks the shrinkers, in turn, for `want` bytes; returns what they gave. */
static size_t shrink(size_t want)
{
	size_t got = 0;

	WITH_LOCK(&sh.lock) {
		for (struct shrinker *s = sh.list; s && got < want; s = s->next) {
			size_t g = s->fn(want - got);
			got += g;
		}
		sh.stats.calls++;
		sh.stats.released += got;
	}
	return got;
}

/* page_alloc found nothing for `order`: ask now (unless we are the one
 * shrinking: a shrinker that allocates must not recurse). */
bool mm_out_of_memory(unsigned int order)
{
	struct thread *me = thread_self();

	size_t got;

	/* Not from inside a shrinker, and not while the VM layer's lock is held
	 * (a shrinker may need it).  Behind a pass of the shrink thread we wait:
	 * it is releasing memory too. */
	if (!me || !sh.thread_started || mutex_owned(&sh.lock) || vm_lock_held())
		return false;
	sh.stats.sync_shrinks++;
	got = shrink(PAGE_SIZE << order);
	return got > 0;
}

void mm_memory_low(void)
{
	if (!sh.low || mm_free_estimate() >= sh.low)
		return;
	if (!__atomic_exchange_n(&sh.signalled, true, __ATOMIC_ACQ_REL))
		sem_up(&sh.wake);
}

static void shrink_thread(void *arg)
{
	(void)arg;
	for (;;) {
		sem_down(&sh.wake);
		sh.stats.background_runs++;
		for (;;) {
			uint64_t f = mm_free_estimate();
			if (f >= sh.high || !shrink(sh.high - f))
				break;                  /* enough, or nobody can give more */
		}
		__atomic_store_n(&sh.signalled, false, __ATOMIC_RELEASE);
	}
}

/* After the scheduler: watermarks at 5% and 10% of RAM (at least 1 and
 * 2 MiB), and the shrink thread. */
int shrink_init(void)
{
	struct mm_stats s;
	struct thread *t;

	mm_stats(&s);
	sh.low = MAX(s.total_bytes / 20, 1ULL << 20);
	sh.high = MAX(s.total_bytes / 10, 2ULL << 20);
	sem_init(&sh.wake, 0);
	t = thread_create(shrink_thread, NULL, &THREAD_ATTR(.name = "shrink", .detached = true));
	if (IS_ERR(t))
		return (int)PTR_ERR(t);
	sh.thread_started = true;
	return 0;
}

void shrink_get_stats(struct shrink_stats *s)
{
	WITH_LOCK(&sh.lock) {
		*s = sh.stats;
		s->low = sh.low;
		s->high = sh.high;
	}
}
