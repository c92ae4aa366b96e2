/*
 * tests/unit/test_malloc.c - host unit tests for the heap (core/malloc.c,
 * core/malloc_slab.c, core/malloc_large.c), the real code on a fake machine.
 *
 * The heap is compiled with -Dmalloc=kmalloc -Dfree=kfree ... (the
 * Makefile's UNIT_DEFS_malloc), so this process keeps the host's allocator
 * and calls the heap as kmalloc, kfree, kcalloc, krealloc, kaligned_alloc,
 * kposix_memalign and kmalloc_usable_size.
 *
 * The fake machine the heap runs on (RAM, a page allocator, mapped blocks,
 * CPUs and interrupt flags, the port's rules) and the reference model of
 * the live blocks the tests check it against are in tests/unit/malloc_fake.c;
 * tests/unit/malloc_fake.h says how to use them.  A test of the running
 * heap starts with machine_new() and ends by checking the model, the
 * accounting and that no port rule was broken (violations).
 *
 * (It does not include <stdlib.h>, whose attributes for malloc would then
 * apply to kmalloc and make the compiler reject the tests of absurd sizes.)
 *
 * Build and run: make build/unit/test_malloc && build/unit/test_malloc
 * (the threaded test is also meant for -fsanitize=thread).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "tests/unit/malloc_fake.h"

UNIT_TEST(malloc_class_table)
{
	for (size_t n = 0; n <= SMALL_MAX; n++) {
		unsigned int c = size_class(n);

		CHECK(c < NCLASS);
		if (c >= NCLASS)
			break;
		CHECK(malloc_class_size[c] >= n);
		CHECK(c == 0 || malloc_class_size[c - 1] < n);
	}
	for (unsigned int c = 0; c < NCLASS; c++) {
		uint32_t size = malloc_class_size[c];

		CHECK_EQ(size % 16, 0);
		CHECK(c < 8 || size * 4 <= malloc_class_size[c - 1] * 5);   /* steps <= 25% */
		CHECK(class_first(size) >= sizeof(struct slab));
		CHECK_EQ(class_first(size) % (size & -size), 0);
		CHECK(class_nobjs(size) >= 7);
		CHECK(class_first(size) + class_nobjs(size) * size <= SLAB_SIZE);
	}
	CHECK_EQ(malloc_class_size[NCLASS - 1], SMALL_MAX);
}

UNIT_TEST(malloc_basic)
{
	struct malloc_stats s;
	void *a, *b, *z;

	machine_new(64 * MIB);
	a = kmalloc(100);
	b = kmalloc(100);
	z = kmalloc(0);
	CHECK(a && b && z && a != b && z != a && z != b);
	CHECK_EQ((uintptr_t)a % 16, 0);
	CHECK_EQ(kmalloc_usable_size(a), 112);
	CHECK_EQ(kmalloc_usable_size(z), 16);
	CHECK_EQ(kmalloc_usable_size(NULL), 0);
	memset(a, 1, 112);
	memset(b, 2, 112);
	malloc_stats_get(&s);
	CHECK_EQ(s.cls[size_class(100)].objects_in_use, 2);
	CHECK_EQ(s.cls[size_class(100)].bytes_in_use, 224);
	CHECK_EQ(s.cls[0].objects_in_use, 1);
	CHECK_EQ(s.cls[size_class(100)].slabs, 1);
	CHECK_EQ(s.cls[size_class(100)].bytes_free,
		 (class_nobjs(112) - 2) * 112);
	CHECK_EQ(malloc_in_use_bytes(), 2 * 112 + 16);
	kfree(a);
	kfree(b);
	kfree(z);
	kfree(NULL);
	CHECK_EQ(malloc_in_use_bytes(), 0);
	CHECK(kmalloc(100) == b);                /* LIFO: the last freed first */
	kfree(b);
	check_accounting();
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

UNIT_TEST(malloc_every_class)
{
	void *p[NCLASS][20];

	machine_new(64 * MIB);
	for (unsigned int c = 0; c < NCLASS; c++) {
		uint32_t size = malloc_class_size[c];

		for (unsigned int i = 0; i < 20; i++) {
			p[c][i] = kmalloc(size);
			CHECK(model_add(p[c][i], size, size & -size));
			CHECK_EQ(kmalloc_usable_size(p[c][i]), size);
			CHECK_EQ(slab_of(p[c][i])->cls, c);
		}
	}
	CHECK_EQ(malloc_in_use_bytes(), model_bytes());
	check_accounting();
	model_free_all();
	CHECK_EQ(malloc_in_use_bytes(), 0);
	check_accounting();
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

UNIT_TEST(malloc_large_blocks)
{
	static const size_t sizes[] = { SMALL_MAX + 1, 12000, 16 * KIB, 16 * KIB + 1,
					100 * KIB, 1 * MIB, 3 * MIB, 16 * MIB };
	struct malloc_stats s;

	machine_new(64 * MIB);
	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint8_t *p = kmalloc(sizes[i]);
		size_t u = kmalloc_usable_size(p);

		CHECK(model_add(p, sizes[i], PG));
		CHECK(u >= sizes[i] && u < 2 * sizes[i] && (u & (u - 1)) == 0);
		CHECK_EQ((uintptr_t)p % u, 0);          /* aligned to its size */
	}
	malloc_stats_get(&s);
	CHECK_EQ(s.large_blocks, ARRAY_SIZE(sizes));
	CHECK_EQ(s.large_bytes, model_bytes());
	CHECK(s.overhead_bytes > 0);
	check_accounting();
	model_free_all();
	malloc_stats_get(&s);
	CHECK_EQ(s.large_blocks, 0);
	CHECK_EQ(s.large_bytes, 0);
	CHECK_EQ(used_pages * PG, s.overhead_bytes);    /* every block went back */
	CHECK(kmalloc(64 * MIB) == NULL);               /* more than the machine */
	CHECK_EQ(errno, ENOMEM);
	CHECK(kmalloc(SIZE_MAX) == NULL);
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

/* Random malloc/calloc/realloc/aligned_alloc/free on four CPUs, each block
 * freed on whatever CPU comes up: most frees are remote. */
static void random_against_model(bool maps)
{
	machine_new(256 * MIB);
	maps_on = maps;
	for (unsigned int step = 0; step < 60000; step++) {
		uint64_t r = rnd() % 100;

		cur_cpu = rnd() % NCPU;
		if (nlive && (r < 40 || nlive > 1500)) {
			model_free(rnd() % nlive);
		} else if (nlive && r < 55) {
			struct live *l = &lv[rnd() % nlive];
			size_t n = maps && rnd() % 3 == 0 ? MALLOC_MAP_MIN + rnd() % MIB : random_size();
			size_t keep = MIN(n, l->usable);
			uint8_t *q;

			CHECK(intact(l->p, l->usable, l->tag));
			q = krealloc(l->p, n);
			CHECK(q != NULL);
			if (!q)
				continue;
			CHECK(intact_upto(q, l->usable, keep, l->tag));
			*l = lv[--nlive];
			CHECK(model_add(q, n, 16));
		} else if (r < 65) {
			size_t n = random_size() / 2, m = 1 + rnd() % 3;
			uint8_t *p = kcalloc(m, n);

			for (size_t j = 0; p && j < m * n; j++) {
				if (p[j]) {
					CHECK(!"calloc memory not zero");
					break;
				}
			}
			CHECK(model_add(p, m * n, 16));
		} else if (r < 72) {
			size_t a = random_align(), n = random_size();

			CHECK(model_add(kaligned_alloc(a, n), n, a));
		} else {
			size_t n = maps && rnd() % 8 == 0 ? MALLOC_MAP_MIN + rnd() % MIB : random_size();

			CHECK(model_add(kmalloc(n), n, 16));
		}
		if (step % 5000 == 0) {
			CHECK_EQ(malloc_in_use_bytes(), model_bytes());
			check_accounting();
		}
	}
	CHECK_EQ(malloc_in_use_bytes(), model_bytes());
	model_free_all();
	CHECK_EQ(malloc_in_use_bytes(), 0);
	check_accounting();
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

UNIT_TEST(malloc_random_against_model)
{
	random_against_model(false);
}

/* The same with mapped blocks: large reallocs remap (mremap), never copy. */
UNIT_TEST(malloc_random_against_model_mapped)
{
	random_against_model(true);
	printf("#   %lu mapped blocks remapped in place, %lu moved\n", (unsigned long)remaps_in_place,
	       (unsigned long)remaps_moved);
	CHECK(remaps_moved + remaps_in_place > 0);
	CHECK_EQ(nmapped, 0);
}

/* A mapped block grows, shrinks and moves by remapping: the contents stay,
 * the statistics follow, and a small size goes back to a small block. */
UNIT_TEST(malloc_realloc_remaps_mapped_blocks)
{
	struct malloc_stats s;
	uint8_t *p, *q;

	machine_new(64 * MIB);
	maps_on = true;
	p = kmalloc(200 * KIB);
	CHECK(p && !malloc_va_ok(p) && kmalloc_usable_size(p) == 200 * KIB);
	fill(p, 200 * KIB, 7);
	q = krealloc(p, 5 * MIB);
	CHECK(q && intact_upto(q, 200 * KIB, 200 * KIB, 7));
	CHECK_EQ(remaps_moved + remaps_in_place, 1);    /* remapped, not copied */
	CHECK_EQ(kmalloc_usable_size(q), 5 * MIB);
	malloc_stats_get(&s);
	CHECK_EQ(s.large_blocks, 1);
	CHECK_EQ(s.large_bytes, 5 * MIB);
	check_accounting();
	p = krealloc(q, 129 * KIB);                     /* less than half: shrinks by remapping */
	CHECK(p && intact_upto(p, 200 * KIB, 129 * KIB, 7));
	CHECK_EQ(remaps_moved + remaps_in_place, 2);
	CHECK_EQ(kmalloc_usable_size(p), 132 * KIB);
	q = krealloc(p, 1000);                          /* small again: a copy */
	CHECK(q && malloc_va_ok(q) && intact_upto(q, 200 * KIB, 1000, 7));
	CHECK_EQ(nmapped, 0);
	kfree(q);
	CHECK_EQ(malloc_in_use_bytes(), 0);
	check_accounting();
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

/* Objects freed on other CPUs go back to their owner, who finds them when
 * its list runs dry: no new slab is needed. */
UNIT_TEST(malloc_remote_frees_return_to_owner)
{
	enum { N = 3000 };
	static void *p[N];
	struct malloc_stats before, s;

	machine_new(64 * MIB);
	cur_cpu = 0;
	for (unsigned int i = 0; i < N; i++)
		p[i] = kmalloc(64);
	malloc_stats_get(&before);
	cur_cpu = 1;
	for (unsigned int i = 0; i < N; i++)
		kfree(p[i]);
	malloc_stats_get(&s);
	CHECK_EQ(s.cls[3].objects_in_use, 0);          /* free at once */
	CHECK_EQ(s.cls[3].slabs, before.cls[3].slabs);  /* still CPU 0's */
	CHECK_EQ(malloc_in_use_bytes(), 0);
	cur_cpu = 0;
	for (unsigned int i = 0; i < N; i++) {
		p[i] = kmalloc(64);
		CHECK(slab_of(p[i])->owner == 0);
	}
	malloc_stats_get(&s);
	CHECK_EQ(s.cls[3].slabs, before.cls[3].slabs);
	for (unsigned int i = 0; i < N; i++)
		kfree(p[i]);                            /* local, now */
	malloc_stats_get(&s);
	CHECK_EQ(s.cls[3].slabs, 1);                    /* the empty ones given up */
	check_accounting();
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

UNIT_TEST(malloc_empty_slabs_given_back)
{
	enum { N = 20000 };
	static void *p[N];
	struct malloc_stats s;

	machine_new(64 * MIB);
	for (unsigned int i = 0; i < N; i++)
		p[i] = kmalloc(200);
	malloc_stats_get(&s);
	CHECK(s.cls[size_class(200)].slabs >= N * 224 / SLAB_SIZE);
	for (unsigned int i = 0; i < N; i++)
		kfree(p[(i * 7919) % N]);               /* in a scattered order */
	malloc_stats_get(&s);
	CHECK_EQ(s.cls[size_class(200)].slabs, 1);      /* the current one */
	CHECK_EQ(s.spare_slab_bytes, SLAB_SIZE);
	CHECK_EQ(used_pages * PG, 2 * SLAB_SIZE);
	check_accounting();
	CHECK_EQ(violations, 0);
}

struct shared {
	void *slot[256];                  /* atomic */
	unsigned int rounds;
	int bad;                          /* atomic */
};

static void shared_fill(uint64_t *p, size_t n)
{
	p[0] = (uintptr_t)p ^ n;
	p[1] = n;
	memset(p + 2, (uint8_t)n, n - 16);
}

static bool shared_ok(const uint64_t *p)
{
	size_t n = p[1];
	const uint8_t *b = (const uint8_t *)(p + 2);

	if (p[0] != ((uintptr_t)p ^ n))
		return false;
	for (size_t i = 0; i < n - 16; i++) {
		if (b[i] != (uint8_t)n)
			return false;
	}
	return true;
}

struct worker {
	struct shared *sh;
	unsigned int cpu;
	uint64_t seed;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t x = w->seed;

	cur_cpu = w->cpu;
	for (unsigned int i = 0; i < w->sh->rounds; i++) {
		size_t n;
		uint64_t *p, *old;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = 16 + (x % 64 == 0 ? x % (40 * KIB) : x % 600);
		p = kmalloc(n);
		if (!p) {
			__atomic_fetch_add(&w->sh->bad, 1, __ATOMIC_RELAXED);
			continue;
		}
		shared_fill(p, n);
		old = __atomic_exchange_n(&w->sh->slot[(x >> 20) % 256], p, __ATOMIC_ACQ_REL);
		if (old && !shared_ok(old))
			__atomic_fetch_add(&w->sh->bad, 1, __ATOMIC_RELAXED);
		kfree(old);
	}
	return NULL;
}

/* Four threads as four CPUs: each frees what the others allocated. */
UNIT_TEST(malloc_threads_cross_cpu)
{
	static struct shared sh;
	struct worker w[NCPU];
	pthread_t th[NCPU];

	machine_new(256 * MIB);
	memset(&sh, 0, sizeof(sh));
	sh.rounds = 40000;
	for (unsigned int i = 0; i < NCPU; i++) {
		w[i] = (struct worker){ &sh, i, 0x1234567ULL * (i + 1) };
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (unsigned int i = 0; i < NCPU; i++)
		pthread_join(th[i], NULL);
	cur_cpu = 0;
	for (unsigned int i = 0; i < 256; i++) {
		if (sh.slot[i]) {
			CHECK(shared_ok(sh.slot[i]));
			kfree(sh.slot[i]);
		}
	}
	CHECK_EQ(sh.bad, 0);
	CHECK_EQ(malloc_in_use_bytes(), 0);
	check_accounting();
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

UNIT_TEST(malloc_bad_frees_reported_and_ignored)
{
	struct malloc_stats s;
	int on_stack;
	static int in_data;
	uint8_t *a, *b, *big;
	int reports = 0;

	machine_new(64 * MIB);
	quiet = true;
	a = kmalloc(48);
	b = kmalloc(48);
	big = kmalloc(64 * KIB);
	CHECK(model_add(a, 48, 16) && model_add(b, 48, 16));
	CHECK(model_add(big, 64 * KIB, PG) && model_add(kmalloc(4096), 4096, 4096));
	kfree(&on_stack);                       reports++;
	kfree(&in_data);                        reports++;
	kfree(a + 16);                          reports++;     /* inside a block */
	kfree(a + 1);                           reports++;
	kfree(big + PG);                        reports++;     /* page-aligned, inside */
	kfree(big + 100);                       reports++;
	kfree((uint8_t *)slab_of(a));           reports++;     /* the slab header */
	kfree((uint8_t *)slab_of(a) + SLAB_SIZE - 48 * 4);  reports++;  /* never made */
	kfree(a + 48 * 5);                      reports++;     /* made, not handed out */
	kfree(ram + ram_size - PG);             reports++;     /* free memory */
	CHECK(krealloc(a + 16, 10) == NULL);    reports++;
	CHECK_EQ(kmalloc_usable_size(a + 16), 0);  reports++;
	CHECK_EQ(printk_count, reports);
	malloc_stats_get(&s);
	CHECK_EQ(s.bad_frees, reports);
	CHECK_EQ(malloc_in_use_bytes(), model_bytes());     /* nothing changed */

	/* Double frees: local, remote, large; the second of each is refused. */
	kfree(a);
	model_forget(a);
	kfree(a);                               reports++;
	cur_cpu = 1;
	kfree(b);
	model_forget(b);
	kfree(b);                               reports++;
	cur_cpu = 0;
	kfree(big);
	model_forget(big);
	kfree(big);                             reports++;
	CHECK_EQ(printk_count, reports);
	CHECK_EQ(malloc_in_use_bytes(), model_bytes());
	model_free_all();
	CHECK_EQ(malloc_in_use_bytes(), 0);

	/* And the heap still works: the same objects come back once each. */
	a = kmalloc(48);
	b = kmalloc(48);
	CHECK(a && b && a != b);
	CHECK(model_add(a, 48, 16) && model_add(b, 48, 16));
	cur_cpu = 1;
	for (int i = 0; i < 100; i++)
		CHECK(model_add(kmalloc(48), 48, 16));
	model_free_all();
	CHECK_EQ(malloc_in_use_bytes(), 0);
	check_accounting();
	CHECK_EQ(printk_count, reports);
	CHECK_EQ(violations, 0);
}

UNIT_TEST(malloc_calloc)
{
	uint8_t *p;

	machine_new(64 * MIB);
	p = kmalloc(300);
	memset(p, 0xff, 300);
	kfree(p);
	CHECK(kcalloc(3, 100) == p);             /* the same object, zeroed */
	for (int i = 0; i < 300; i++)
		CHECK_EQ(p[i], 0);
	kfree(p);
	p = kcalloc(5, 100 * KIB);
	CHECK(p != NULL);
	for (size_t i = 0; p && i < 500 * KIB; i += 997)
		CHECK_EQ(p[i], 0);
	kfree(p);
	errno = 0;
	CHECK(kcalloc(SIZE_MAX / 2, 3) == NULL);
	CHECK_EQ(errno, ENOMEM);
	errno = 0;
	CHECK(kcalloc((size_t)1 << 32, (size_t)1 << 32) == NULL);
	CHECK_EQ(errno, ENOMEM);
	p = kcalloc(0, 10);
	CHECK(p != NULL);
	kfree(p);
	CHECK_EQ(malloc_in_use_bytes(), 0);
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

UNIT_TEST(malloc_aligned_alloc)
{
	static const size_t sizes[] = { 1, 100, 4096, 10000, 300 * KIB };
	void *p;

	machine_new(256 * MIB);
	for (size_t a = 1; a <= 2 * MIB; a *= 2) {
		for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
			CHECK(model_add(kaligned_alloc(a, sizes[i]), sizes[i], a));
			CHECK(model_add(kaligned_alloc(a, a), a, a));
			CHECK(model_add(kaligned_alloc(a, a + a / 2), a + a / 2, a));
		}
		CHECK(kposix_memalign(&p, MAX(a, sizeof(void *)), 50) == 0);
		CHECK(model_add(p, 50, a));
	}
	/* A page-aligned page costs a page, not two. */
	p = kaligned_alloc(4096, 4096);
	CHECK_EQ(kmalloc_usable_size(p), 4096);
	kfree(p);
	p = kaligned_alloc(64 * KIB, 64 * KIB);
	CHECK_EQ(kmalloc_usable_size(p), 64 * KIB);
	kfree(p);
	model_free_all();

	errno = 0;
	CHECK(kaligned_alloc(24, 100) == NULL);
	CHECK_EQ(errno, EINVAL);
	errno = 0;
	CHECK(kaligned_alloc(4 * GIB, 100) == NULL);     /* valid, too big */
	CHECK_EQ(errno, ENOMEM);
	p = (void *)0x1234;
	errno = 77;
	CHECK_EQ(kposix_memalign(&p, 4, 100), EINVAL);   /* < sizeof(void *) */
	CHECK_EQ(kposix_memalign(&p, 0, 100), EINVAL);
	CHECK_EQ(kposix_memalign(&p, 48, 100), EINVAL);
	CHECK_EQ(kposix_memalign(&p, 64, SIZE_MAX), ENOMEM);
	CHECK(p == (void *)0x1234);                      /* untouched on failure */
	CHECK_EQ(errno, 77);                             /* and errno too */
	CHECK_EQ(malloc_in_use_bytes(), 0);
	check_accounting();
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

UNIT_TEST(malloc_realloc)
{
	uint8_t *p, *q;
	size_t n = 10;

	machine_new(64 * MIB);
	p = krealloc(NULL, n);
	for (size_t i = 0; i < n; i++)
		p[i] = pat(1, i);
	for (; n < 5 * MIB; n = n * 3 / 2 + 7) {        /* small, to large, to 2 MiB+ */
		size_t old = n;

		p = krealloc(p, n * 3 / 2 + 7);
		CHECK(p != NULL);
		for (size_t i = 0; p && i < old; i++) {
			if (p[i] != pat(1, i)) {
				CHECK(!"realloc lost the contents");
				break;
			}
		}
		for (size_t i = old; p && i < n * 3 / 2 + 7; i++)
			p[i] = pat(1, i);
	}
	/* Shrinking a little stays in place; a lot moves, keeping the prefix. */
	q = krealloc(p, kmalloc_usable_size(p) / 2 + 1);
	CHECK(q == p);
	q = krealloc(p, 1000);
	CHECK(q != p && kmalloc_usable_size(q) == 1024);
	for (size_t i = 0; i < 1000; i++)
		CHECK_EQ(q[i], pat(1, i));
	p = krealloc(q, 900);                           /* one class down: in place */
	CHECK(p == q);
	q = krealloc(p, 0);                             /* musl: a block, not NULL */
	CHECK(q != NULL && kmalloc_usable_size(q) == 16);
	/* Out of memory: NULL, and the block stays as it was. */
	limit_pages = used_pages;
	errno = 0;
	p = krealloc(q, 100 * KIB);
	CHECK(p == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(kmalloc_usable_size(q), 16);
	limit_pages = npages;
	kfree(q);
	CHECK_EQ(malloc_in_use_bytes(), 0);
	check_accounting();
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}

/* Allocating until there is nothing left returns NULL (never aborts), and
 * everything works again once the memory is freed. */
UNIT_TEST(malloc_out_of_memory)
{
	struct malloc_stats s;
	uint64_t *chain = NULL, *p;
	unsigned int nlarge = 0, nsmall = 0;

	machine_new(32 * MIB);
	while ((p = kmalloc(1 * MIB))) {
		*p = (uintptr_t)chain;
		chain = p;
		nlarge++;
	}
	CHECK_EQ(errno, ENOMEM);
	for (cur_cpu = 0; cur_cpu < NCPU; cur_cpu++) {
		while ((p = kmalloc(1000))) {
			*p = (uintptr_t)chain;
			chain = p;
			nsmall++;
		}
	}
	cur_cpu = 0;
	CHECK(kmalloc(16) == NULL);
	CHECK(kaligned_alloc(4096, 10) == NULL);
	CHECK(kcalloc(1, 20) == NULL);
	printf("#   %u blocks of 1 MiB, %u of 1000 bytes\n", nlarge, nsmall);
	CHECK(nlarge >= 28 && nsmall > 63 * 10);
	malloc_stats_get(&s);
	CHECK(s.alloc_failures >= NCPU + 3);
	CHECK(used_pages > npages - 32);
	while (chain) {
		p = (uint64_t *)*chain;
		kfree(chain);
		chain = p;
	}
	CHECK_EQ(malloc_in_use_bytes(), 0);
	check_accounting();
	p = kmalloc(16 * MIB);                           /* the slabs went back */
	CHECK(p != NULL);
	kfree(p);
	CHECK_EQ(violations, 0);
	CHECK_EQ(printk_count, 0);
}
