/*
 * tests/kernel/test_page.c - the physical frame allocator (core/mm.h) in the
 * booted kernel: 4 KiB and 2 MiB frames through the direct map, alignment
 * of every order, exhaustion and recovery, frames freed on another CPU than
 * the one that allocated them, every CPU at once, bad frees, and bootmem
 * forwarding to the allocator after the handoff.
 *
 * Each test drains the CPU caches and compares the statistics with what
 * they were before it, so a leak or a lost frame fails the test.  Work on
 * another CPU runs in a thread pinned there.
 */
#include "core/ktest.h"
#include "core/arch.h"
#include "core/bootmem.h"
#include "core/mm.h"
#include "sched/sched.h"

static void baseline(struct mm_stats *s)
{
	vm_trim();              /* else a shrinker may free the VM's spare tables mid-test */
	mm_drain_cpu_caches();
	mm_stats(s);
}

/* Drained, the memory is as it was: nothing leaked, nothing lost. */
static void check_baseline(struct ktest_ctx *t, const struct mm_stats *before)
{
	struct mm_stats s;

	mm_drain_cpu_caches();
	mm_stats(&s);
	KCHECK_EQ(t, s.free_bytes, before->free_bytes);
	KCHECK_EQ(t, s.used_bytes, before->used_bytes);
	KCHECK_EQ(t, s.cached_small + s.cached_huge, 0);
	KCHECK_EQ(t, s.total_bytes, s.free_bytes + s.used_bytes + s.overhead_bytes);
	KCHECK_EQ(t, mm_check(), 0);
}

static uint64_t *word(uint64_t pa)
{
	return arch_phys_to_virt(pa);
}

/* Runs fn(arg) on CPU id, in a thread pinned there (page allocation is
 * for threads: its slow path takes a sleeping mutex). */
static struct thread *post(unsigned int id, void (*fn)(void *), void *arg)
{
	return thread_create(fn, arg, &THREAD_ATTR(.name = "page-test", .cpu = (int)id));
}

static bool finished(struct thread *th)
{
	return !IS_ERR(th) && thread_join(th) == 0;
}

static bool run_on(unsigned int id, void (*fn)(void *), void *arg)
{
	return finished(post(id, fn, arg));
}

static void nothing(void *arg)
{
	(void)arg;
}

/* Threads' stacks are kept for reuse once freed: make them exist before a
 * test takes its memory baseline, so the baseline includes them. */
static void warm_thread_stacks(void)
{
	static struct thread *th[CONFIG_MAX_CPUS];

	for (unsigned int id = 0; id < ncpus_online; id++)
		th[id] = post(id, nothing, NULL);
	for (unsigned int id = 0; id < ncpus_online; id++)
		finished(th[id]);
}

KTEST(page_stats_describe_the_ram)
{
	struct mm_stats s;

	baseline(&s);
	KCHECK(t, s.total_bytes > 0);
	KCHECK(t, s.total_bytes <= bootmem_ram_bytes());
	KCHECK(t, s.total_bytes >= bootmem_ram_bytes() / 4 * 3);   /* the kernel took little */
	KCHECK_EQ(t, s.total_bytes, s.free_bytes + s.used_bytes + s.overhead_bytes);
	KCHECK(t, s.free_huge > 0);
	KCHECK_EQ(t, mm_check(), 0);
}

KTEST(page_alloc_free_4k_and_2m)
{
	struct mm_stats before, s;
	uint64_t small[100], huge[5];

	baseline(&before);
	for (unsigned int i = 0; i < ARRAY_SIZE(small); i++) {
		small[i] = page_alloc(PAGE_ORDER_4K);
		KCHECK(t, small[i] && small[i] % PAGE_SIZE == 0);
		*word(small[i]) = small[i];
		*(word(small[i]) + PAGE_SIZE / 8 - 1) = ~small[i];
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(huge); i++) {
		huge[i] = page_alloc(PAGE_ORDER_2M);
		KCHECK(t, huge[i] && huge[i] % HUGE_PAGE_SIZE == 0);
		memset(arch_phys_to_virt(huge[i]), 0x5a, HUGE_PAGE_SIZE);
	}
	mm_stats(&s);
	KCHECK_EQ(t, s.used_small, before.used_small + ARRAY_SIZE(small));
	KCHECK_EQ(t, s.used_huge, before.used_huge + ARRAY_SIZE(huge));
	KCHECK_EQ(t, s.used_bytes, before.used_bytes + ARRAY_SIZE(small) * PAGE_SIZE +
		  ARRAY_SIZE(huge) * HUGE_PAGE_SIZE);
	for (unsigned int i = 0; i < ARRAY_SIZE(small); i++) {
		KCHECK_EQ(t, *word(small[i]), small[i]);
		KCHECK_EQ(t, *(word(small[i]) + PAGE_SIZE / 8 - 1), ~small[i]);
		page_free(small[i], PAGE_ORDER_4K);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(huge); i++)
		page_free(huge[i], PAGE_ORDER_2M);
	check_baseline(t, &before);
}

KTEST(page_every_order_aligned)
{
	struct mm_stats before;
	void *va;

	baseline(&before);
	for (unsigned int order = 0; order <= PAGE_ORDER_MAX; order++) {
		uint64_t pa = page_alloc(order);

		/* Up to 8 MiB must exist on any machine we boot; beyond, that
		 * depends on its memory (0 is an answer, not a failure). */
		KCHECK(t, pa || order > 11);
		KCHECK_EQ(t, pa % (PAGE_SIZE << order), 0);
		page_free(pa, order);
	}
	va = page_alloc_va(PAGE_ORDER_4K);
	KCHECK(t, va && arch_virt_to_phys(va) % PAGE_SIZE == 0);
	page_free_va(va, PAGE_ORDER_4K);
	KCHECK(t, page_alloc(PAGE_ORDER_MAX + 1) == 0);
	check_baseline(t, &before);
}

/* Allocates frames of one order until there are none; they are chained
 * through their first word.  Returns how many. */
static uint64_t alloc_all(unsigned int order, uint64_t *chain)
{
	uint64_t pa, n = 0;

	while ((pa = page_alloc(order))) {
		*word(pa) = *chain;
		*chain = pa;
		n++;
	}
	return n;
}

static void free_chain(uint64_t chain, unsigned int order)
{
	while (chain) {
		uint64_t next = *word(chain);
		page_free(chain, order);
		chain = next;
	}
}

KTEST(page_exhaustion_returns_zero_and_recovers)
{
	struct mm_stats before, s;
	uint64_t huge = 0, small = 0, nhuge, nsmall;

	baseline(&before);
	nhuge = alloc_all(PAGE_ORDER_2M, &huge);
	nsmall = alloc_all(PAGE_ORDER_4K, &small);
	mm_stats(&s);
	KCHECK(t, nhuge > 0 && nsmall > 0);
	KCHECK_EQ(t, s.free_bytes, 0);
	KCHECK_EQ(t, page_alloc(PAGE_ORDER_4K), 0);
	KCHECK_EQ(t, page_alloc(PAGE_ORDER_2M), 0);
	KCHECK(t, page_alloc_va(PAGE_ORDER_4K) == NULL);
	KCHECK(t, bootmem_alloc(PAGE_SIZE, PAGE_SIZE, ~0ULL) == 0);
	KCHECK(t, s.alloc_failures > before.alloc_failures);
	KCHECK_EQ(t, nhuge * HUGE_PAGE_SIZE + nsmall * PAGE_SIZE + s.overhead_bytes,
		  before.free_bytes + before.overhead_bytes);
	KCHECK_EQ(t, mm_check(), 0);
	free_chain(small, PAGE_ORDER_4K);
	free_chain(huge, PAGE_ORDER_2M);
	check_baseline(t, &before);
	huge = page_alloc(PAGE_ORDER_2M);            /* and it works again */
	KCHECK(t, huge != 0);
	page_free(huge, PAGE_ORDER_2M);
	check_baseline(t, &before);
}

/* Frames that travel between CPUs, carrying who allocated them. */
#define XFER_SMALL 80
#define XFER_HUGE  6

struct xfer {
	uint64_t small[XFER_SMALL], huge[XFER_HUGE];
	bool ok;
};

static void xfer_alloc(void *arg)
{
	struct xfer *x = arg;

	x->ok = true;
	for (unsigned int i = 0; i < XFER_SMALL; i++) {
		x->small[i] = page_alloc(PAGE_ORDER_4K);
		x->ok &= x->small[i] != 0;
		if (x->small[i])
			*word(x->small[i]) = x->small[i] ^ this_cpu()->id;
	}
	for (unsigned int i = 0; i < XFER_HUGE; i++) {
		x->huge[i] = page_alloc(PAGE_ORDER_2M);
		x->ok &= x->huge[i] != 0;
		if (x->huge[i])
			*word(x->huge[i]) = x->huge[i] ^ this_cpu()->id;
	}
}

/* Frees them on this CPU; they were allocated on CPU `from` (in x->ok). */
static void xfer_free(void *arg)
{
	struct xfer *x = arg;

	for (unsigned int i = 0; i < XFER_SMALL; i++) {
		if (x->small[i])
			page_free(x->small[i], PAGE_ORDER_4K);
	}
	for (unsigned int i = 0; i < XFER_HUGE; i++) {
		if (x->huge[i])
			page_free(x->huge[i], PAGE_ORDER_2M);
	}
}

static bool xfer_from(const struct xfer *x, unsigned int cpu)
{
	bool ok = x->ok;

	for (unsigned int i = 0; i < XFER_SMALL; i++)
		ok &= x->small[i] && *word(x->small[i]) == (x->small[i] ^ cpu);
	for (unsigned int i = 0; i < XFER_HUGE; i++)
		ok &= x->huge[i] && *word(x->huge[i]) == (x->huge[i] ^ cpu);
	return ok;
}

static struct xfer xfer;

KTEST(page_frames_freed_on_other_cpus)
{
	struct mm_stats before, s;

	warm_thread_stacks();
	baseline(&before);
	for (unsigned int id = 1; id < ncpus_online; id++) {
		KCHECK(t, run_on(id, xfer_alloc, &xfer));
		KCHECK(t, xfer_from(&xfer, id));
		xfer_free(&xfer);                    /* into CPU 0's caches */
		mm_stats(&s);
		KCHECK(t, s.cached_small > 0 && s.cached_huge > 0);
		xfer_alloc(&xfer);
		KCHECK(t, xfer_from(&xfer, 0));
		KCHECK(t, run_on(id, xfer_free, &xfer));
		check_baseline(t, &before);
	}
	xfer_alloc(&xfer);                          /* one CPU: still a round trip */
	KCHECK(t, xfer_from(&xfer, 0));
	xfer_free(&xfer);
	check_baseline(t, &before);
}

/* Every CPU allocating and freeing at once, mixed orders, each frame
 * stamped with its owner and checked before it is freed. */
struct stress {
	unsigned int cpu, errors, allocs;
	uint64_t seed;
	uint64_t held[48];
	uint8_t order[48];
};

static struct stress stress[CONFIG_MAX_CPUS];

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void stress_free(struct stress *w, unsigned int k)
{
	if (*word(w->held[k]) != (w->held[k] ^ w->cpu))
		w->errors++;
	page_free(w->held[k], w->order[k]);
	w->held[k] = 0;
}

static void stress_run(void *arg)
{
	static const uint8_t orders[8] = { 0, 0, 0, 0, 1, 3, 9, 0 };
	struct stress *w = arg;

	for (int i = 0; i < 3000; i++) {
		unsigned int k = next_random(&w->seed) % ARRAY_SIZE(w->held);

		if (w->held[k]) {
			stress_free(w, k);
		} else {
			w->order[k] = orders[next_random(&w->seed) % 8];
			w->held[k] = page_alloc(w->order[k]);
			if (w->held[k]) {
				if (w->held[k] % (PAGE_SIZE << w->order[k]))
					w->errors++;
				*word(w->held[k]) = w->held[k] ^ w->cpu;
				w->allocs++;
			}
		}
	}
	for (unsigned int k = 0; k < ARRAY_SIZE(w->held); k++) {
		if (w->held[k])
			stress_free(w, k);
	}
}

KTEST(page_every_cpu_at_once)
{
	struct mm_stats before;

	warm_thread_stacks();
	baseline(&before);
	for (unsigned int id = 0; id < ncpus_online; id++)
		stress[id] = (struct stress){ .cpu = id, .seed = 0x9e3779b97f4a7c15ULL + id };
	static struct thread *th[CONFIG_MAX_CPUS];

	for (unsigned int id = 1; id < ncpus_online; id++)
		th[id] = post(id, stress_run, &stress[id]);
	stress_run(&stress[0]);
	for (unsigned int id = 0; id < ncpus_online; id++) {
		KCHECK(t, id == 0 || finished(th[id]));
		KCHECK_EQ(t, stress[id].errors, 0);
		KCHECK(t, stress[id].allocs > 500);
	}
	check_baseline(t, &before);
}

KTEST(page_bad_frees_reported_and_ignored)
{
	struct mm_stats before, s;
	uint64_t pa;

	baseline(&before);
	printk("# page_bad_frees: the next three mm: lines are expected\n");
	pa = page_alloc(PAGE_ORDER_4K);
	page_free(pa, PAGE_ORDER_4K);
	page_free(pa, PAGE_ORDER_4K);               /* double free */
	pa = page_alloc(PAGE_ORDER_2M);
	page_free(pa + PAGE_SIZE, PAGE_ORDER_4K);   /* inside a 2 MiB frame */
	page_free(pa, PAGE_ORDER_2M + 1);           /* wrong order */
	page_free(pa, PAGE_ORDER_2M);
	mm_stats(&s);
	KCHECK_EQ(t, s.bad_frees, before.bad_frees + 3);
	check_baseline(t, &before);
}

KTEST(page_bootmem_forwards_after_handoff)
{
	struct mm_stats before, s;
	uint64_t pa;
	bool zero = true;

	baseline(&before);
	pa = bootmem_alloc(3 * PAGE_SIZE, PAGE_SIZE, ~0ULL);
	KCHECK(t, pa != 0 && pa % PAGE_SIZE == 0);
	for (unsigned int i = 0; pa && i < 3 * PAGE_SIZE / 8; i++)
		zero &= word(pa)[i] == 0;
	KCHECK(t, zero);
	mm_stats(&s);
	KCHECK_EQ(t, s.used_small, before.used_small + 3);     /* the fourth went back */
	for (unsigned int i = 0; pa && i < 3; i++)
		page_free(pa + i * PAGE_SIZE, PAGE_ORDER_4K);
	check_baseline(t, &before);
}
