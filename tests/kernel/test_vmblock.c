/*
 * tests/kernel/test_vmblock.c - the heap's mapped blocks (core/vm_file.c)
 * and the TLB rules they lean on: realloc that must move a block, the
 * application's calls kept off the blocks' area, frees where the thread
 * may not sleep, page tables freed after a move, an idle CPU's stale
 * translations, and munmap / MAP_FIXED that fail without having changed
 * anything.  (Most of these began as reviews' demonstrations.)
 */
#include "libc/abi.h"                           /* before core/kernel.h */
#include "core/ktest.h"
#include "core/arch.h"
#include "core/mm.h"
#include "core/vm_impl.h"                       /* to make record allocation fail */
#include "sched/sched.h"

long sys_mmap(long, long, long, long, long, long);
long sys_munmap(long, long);
long sys_mprotect(long, long, long);
long sys_madvise(long, long, long);

#define L(x) ((long)(x))
#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)
#define BLOCKS_LO 0x7e0000000000ULL             /* core/vm_impl.h: VM_BLOCK_BASE */

/* Pages of [lo, hi) mapped in the page tables with no mapping record. */
static unsigned long orphans(uintptr_t lo, uintptr_t hi)
{
	unsigned long n = 0;
	uintptr_t s, e;

	for (uintptr_t va = lo; va < hi; va += 4096) {
		if (arch_user_query(va, NULL, NULL) && vm_find(va, &s, &e) != 0)
			n++;
	}
	return n;
}

/* A 3 MiB block that cannot grow in place moves to 8 MiB: its pages move
 * (the first keeps its frame) and nothing is left without a record. */
KTEST(vmblock_realloc_moves_pages)
{
	uint8_t *p = malloc(3 << 20), *r, *next = malloc(1 << 20);     /* next: after p */
	uint64_t frame;

	KCHECK(t, p && next);
	if (!p || !next)
		return;
	KCHECK(t, (uintptr_t)p >= BLOCKS_LO);
	KCHECK(t, vm_block_remap(p, 3 << 20) == p);    /* the same size: nothing to do */
	memset(p, 0x11, 3 << 20);
	frame = arch_user_query((uintptr_t)p, NULL, NULL);
	r = realloc(p, 8 << 20);
	KCHECK(t, r != NULL);
	if (!r)
		return;
	KCHECK_EQ(t, arch_user_query((uintptr_t)r, NULL, NULL), frame);   /* remapped */
	KCHECK(t, r[0] == 0x11 && r[(3 << 20) - 1] == 0x11);
	memset(r + (3 << 20), 0x22, 5 << 20);
	KCHECK_EQ(t, orphans(BLOCKS_LO, BLOCKS_LO + (64 << 20)), 0);
	free(r);
	free(next);
	KCHECK_EQ(t, orphans(BLOCKS_LO, BLOCKS_LO + (64 << 20)), 0);
}

/* After a move (and a trim), the old place keeps no empty page table. */
KTEST(vmblock_move_frees_old_tables)
{
	uint8_t *p = malloc(1 << 20), *q = malloc(1 << 20), *r;
	uintptr_t old = (uintptr_t)p;

	KCHECK(t, p && q);
	if (!p || !q)
		return;
	r = realloc(p, 3 << 20);
	KCHECK(t, r != NULL);
	vm_trim();                              /* empty tables are kept until this */
	if (r != p)
		KCHECK_EQ(t, arch_user_prune(old), 0);  /* nothing left to prune */
	free(r ? r : p);
	free(q);
}

/* Buffers growing in turn, and random sizes: contents kept, no orphans. */
KTEST(vmblock_realloc_growth_and_random)
{
	enum { N = 4 };
	uint8_t *b[N] = { 0 };
	size_t sz[N] = { 0 };
	uint64_t x = 88172645463325252ULL;

	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < N; i++) {
			size_t n = sz[i] + (1536 << 10);
			uint8_t *q = realloc(b[i], n);

			KCHECK(t, q != NULL);
			if (!q)
				continue;
			for (size_t k = 0; k < sz[i]; k += 4096)
				KCHECK_EQ(t, q[k], (uint8_t)(i + 1));
			memset(q + sz[i], i + 1, n - sz[i]);
			b[i] = q;
			sz[i] = n;
		}
	}
	for (int it = 0; it < 200; it++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int i = (int)(x % N);
		size_t n = (size_t)((x >> 8) % (8 << 20)) + (128 << 10);
		uint8_t *q = realloc(b[i], n);

		KCHECK(t, q != NULL);
		if (!q)
			continue;
		for (size_t k = 0; k < MIN(sz[i], n); k += 4096)
			KCHECK_EQ(t, q[k], (uint8_t)(i + 1));
		memset(q, i + 1, n);
		b[i] = q;
		sz[i] = n;
	}
	KCHECK_EQ(t, orphans(BLOCKS_LO, BLOCKS_LO + (256ULL << 20)), 0);
	for (int i = 0; i < N; i++)
		free(b[i]);
}

/* The application's calls cannot reach a heap block. */
KTEST(vmblock_app_calls_cannot_touch_blocks)
{
	uint8_t *p = malloc(256 << 10);

	KCHECK(t, p != NULL);
	if (!p)
		return;
	memset(p, 0xab, 256 << 10);
	KCHECK_EQ(t, sys_madvise(L(p), 4096, 4 /* MADV_DONTNEED */), -ENOMEM);
	KCHECK_EQ(t, sys_mmap(L(p) + 8192, 4096, RW, ANON | VM_MAP_FIXED, -1, 0), -ENOMEM);
	KCHECK_EQ(t, sys_munmap(L(p), 4096), -EINVAL);
	KCHECK_EQ(t, sys_mprotect(L(p), 4096, 0), -ENOMEM);
	KCHECK_EQ(t, vm_mremap((uintptr_t)p, 4096, 8192, VM_MREMAP_MAYMOVE), -EFAULT);
	KCHECK(t, p[0] == 0xab && p[8192] == 0xab && p[(256 << 10) - 1] == 0xab);
	long m = vm_mmap(BLOCKS_LO + 4096, 4096, RW, ANON);     /* a hint there: ignored */
	KCHECK(t, m > 0 && ((uint64_t)m < BLOCKS_LO || (uint64_t)m >= BLOCKS_LO + (1ULL << 40)));
	if (m > 0)
		vm_munmap((uintptr_t)m, 4096);
	free(p);
}

/* A block freed where the thread may not sleep is not a bad free; it is
 * unmapped by the next block call. */
KTEST(vmblock_free_where_thread_may_not_sleep)
{
	struct malloc_stats s0, s1;
	uintptr_t st, en;
	size_t base = malloc_in_use_bytes();
	void *p = malloc(1 << 20), *q;

	KCHECK(t, p != NULL);
	malloc_stats_get(&s0);
	preempt_disable();
	free(p);
	preempt_enable();
	malloc_stats_get(&s1);
	KCHECK_EQ(t, s1.bad_frees, s0.bad_frees);
	KCHECK_EQ(t, s1.large_bytes, s0.large_bytes - (1 << 20));      /* free to the heap */
	q = malloc(1 << 20);                    /* drains the deferred free */
	free(q);
	KCHECK(t, q == p || vm_find((uintptr_t)p, &st, &en) != 0);
	KCHECK_EQ(t, malloc_in_use_bytes(), base);
}

/* An idle CPU skipped by one shootdown (it owes a full flush) and then
 * interrupted by another must still flush everything when it wakes. */
static struct semaphore ready, go;
static volatile uint32_t *shared;
static uint32_t seen;

static void reader(void *arg)
{
	(void)arg;
	(void)*shared;                          /* a translation on CPU 1 */
	sem_up(&ready);
	sem_down(&go);                          /* CPU 1 idles: lazy */
	seen = *shared;
}

KTEST(vmblock_idle_cpu_keeps_owed_flush)
{
	long a;
	struct thread *th;
	uint64_t hold;
	void *blk;

	if (ncpus_online < 2)
		return;
	a = vm_mmap(0, 2 * 4096, RW, ANON);
	KCHECK(t, a > 0);
	if (a <= 0)
		return;
	sem_init(&ready, 0);
	sem_init(&go, 0);
	shared = (volatile uint32_t *)a;
	shared[0] = 1;
	shared[1024] = 1;                       /* keeps the page table */
	th = thread_create(reader, NULL, &THREAD_ATTR(.name = "vmblock-reader", .cpu = 1));
	KCHECK(t, !IS_ERR(th));
	if (IS_ERR(th))
		return;
	sem_down(&ready);
	thread_sleep_ns(20 * 1000 * 1000);      /* CPU 1 goes idle (lazy) */
	KCHECK_EQ(t, vm_munmap((uintptr_t)a, 4096), 0);        /* CPU 1 skipped */
	hold = page_alloc(0);                   /* likely the old frame */
	if (hold)
		memset(arch_phys_to_virt(hold), 0x77, 4096);
	KCHECK_EQ(t, vm_mmap((uintptr_t)a, 4096, RW, ANON | VM_MAP_FIXED), a);
	shared[0] = 2;
	blk = malloc(128 << 10);                /* a block's shootdown interrupts CPU 1 */
	free(blk);
	sem_up(&go);
	thread_join(th);
	KCHECK_EQ(t, seen, 2);
	if (hold)
		page_free(hold, 0);
	vm_munmap((uintptr_t)a, 2 * 4096);
}

/* --- a failed munmap or MAP_FIXED changes nothing --- */

static struct vma *no_record(void)
{
	return NULL;
}

/* Record allocation fails from now on (and nothing is set aside). */
static struct vma *(*records_fail(void))(void)
{
	struct vma *(*saved)(void);

	vm_lock();
	saved = vm.set.alloc;
	vm.set.alloc = no_record;
	while (vm.set.nreserve)
		free(vm.set.reserve[--vm.set.nreserve]);
	vm_unlock();
	return saved;
}

static void records_back(struct vma *(*saved)(void))
{
	vm_lock();
	vm.set.alloc = saved;
	vm_unlock();
}

KTEST(vmblock_failed_munmap_and_map_fixed_change_nothing)
{
	long a = vm_mmap(0, 3 * 4096, RW, ANON), r;
	struct vma *(*saved)(void);
	uintptr_t st, en;
	int err;

	KCHECK(t, a > 0);
	if (a <= 0)
		return;
	memset((void *)a, 0x5a, 3 * 4096);
	saved = records_fail();
	err = vm_munmap((uintptr_t)a + 4096, 4096);    /* a hole needs a record */
	r = vm_mmap((uintptr_t)a + 4096, 4096, VM_PROT_READ, ANON | VM_MAP_FIXED);
	records_back(saved);
	KCHECK_EQ(t, err, -ENOMEM);
	KCHECK_EQ(t, r, -ENOMEM);
	KCHECK_EQ(t, vm_find((uintptr_t)a + 4096, &st, &en), 0);    /* still mapped */
	KCHECK_EQ(t, ((volatile uint8_t *)a)[4096], 0x5a);          /* with its data */
	KCHECK_EQ(t, ((volatile uint8_t *)a)[3 * 4096 - 1], 0x5a);
	KCHECK_EQ(t, vm_munmap((uintptr_t)a, 3 * 4096), 0);
}
