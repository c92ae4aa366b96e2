/*
 * tests/kernel/test_shrink.c - the shrinker API under real memory pressure:
 * a "cache" that holds 2 MiB frames gives them back when asked, both to an
 * allocation that would fail and to the background shrink thread.
 */
#include "core/ktest.h"
#include "core/arch.h"
#include "core/mm.h"
#include "sched/sched.h"

#define MAX_HELD 2048

static uint64_t held[MAX_HELD];
static int nheld;
#define MAX_SMALL 8192
static uint64_t small[MAX_SMALL];         /* 4 KiB frames the test holds */
static int nsmall;
static volatile bool refuse;           /* while the test fills memory */
static volatile int calls;

static size_t cache_shrink(size_t want)
{
	size_t got = 0;

	calls++;
	while (!refuse && got < want && nheld > 0) {
		page_free(held[--nheld], PAGE_ORDER_2M);
		got += HUGE_PAGE_SIZE;
	}
	return got;
}

KTEST(shrink_releases_cache_under_pressure)
{
	struct shrink_stats before, after;
	uint64_t pa;

	shrink_get_stats(&before);
	KCHECK_EQ(t, shrinker_register("test-cache", cache_shrink), 0);
	refuse = true;
	nheld = 0;
	while (nheld < MAX_HELD && (pa = page_alloc(PAGE_ORDER_2M)))
		held[nheld++] = pa;                 /* the cache grows to all of memory */
	KCHECK(t, nheld > 4);
	/* What is left is 4 KiB frames in chunks others use (fragmentation):
	 * take them too, so that free memory is below the low watermark. */
	while (nsmall < MAX_SMALL && (pa = page_alloc(PAGE_ORDER_4K)))
		small[nsmall++] = pa;
	refuse = false;
	calls = 0;
	pa = page_alloc(PAGE_ORDER_2M);             /* would fail: the cache gives one back */
	KCHECK(t, pa != 0);
	KCHECK(t, calls > 0);
	if (pa)
		page_free(pa, PAGE_ORDER_2M);
	/* Free memory is below the low watermark: the shrink thread brings it
	 * back above the high one. */
	for (uint64_t end = arch_clock_ns() + 2000000000ULL;
	     mm_free_estimate() < before.high && arch_clock_ns() < end;)
		thread_sleep_ns(2000000);
	shrink_get_stats(&after);
	KCHECK(t, after.background_runs > before.background_runs);
	KCHECK(t, after.sync_shrinks > before.sync_shrinks);
	KCHECK(t, mm_free_estimate() >= before.high);
	while (nheld > 0)
		page_free(held[--nheld], PAGE_ORDER_2M);
	while (nsmall > 0)
		page_free(small[--nsmall], PAGE_ORDER_4K);
	KCHECK_EQ(t, shrinker_unregister(cache_shrink), 0);
	KCHECK_EQ(t, shrinker_unregister(cache_shrink), -ENOENT);
	KCHECK_EQ(t, shrinker_register(NULL, cache_shrink), -EINVAL);
}
