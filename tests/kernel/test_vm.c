/*
 * tests/kernel/test_vm.c - mmap, munmap and mprotect of anonymous memory:
 * demand paging with 2 MiB pages, splitting with contents kept, MAP_FIXED,
 * and memory returning to the page allocator.
 */
#include "core/ktest.h"
#include "core/arch.h"
#include "core/mm.h"

#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define ANON (VM_MAP_PRIVATE | VM_MAP_ANONYMOUS)

KTEST(vm_huge_pages_on_first_touch)
{
	struct vm_stats before, after;
	struct mm_stats mb, ma;
	long a;
	volatile char *p;

	vm_get_stats(&before);
	mm_stats(&mb);
	a = vm_mmap(0, 8 << 20, RW, ANON);
	KCHECK(t, a > 0 && !(a & (HUGE_PAGE_SIZE - 1)));   /* 2 MiB aligned */
	if (a <= 0)
		return;
	p = (volatile char *)a;
	for (int i = 0; i < 4; i++)
		p[i * HUGE_PAGE_SIZE + 4096 * i] = (char)(i + 1);
	vm_get_stats(&after);
	KCHECK_EQ(t, after.huge_faults - before.huge_faults, 4);
	KCHECK_EQ(t, after.small_faults - before.small_faults, 0);
	for (int i = 0; i < 4; i++) {
		KCHECK_EQ(t, p[i * HUGE_PAGE_SIZE + 4096 * i], i + 1);
		KCHECK_EQ(t, p[i * HUGE_PAGE_SIZE + 4096 * i + 8], 0);   /* zeroed memory */
	}
	KCHECK_EQ(t, vm_munmap((uintptr_t)a, 8 << 20), 0);
	vm_get_stats(&after);
	KCHECK_EQ(t, after.huge_pages, before.huge_pages);
	mm_stats(&ma);
	KCHECK(t, ma.used_bytes <= mb.used_bytes + 64 * 1024);   /* frames went back */
}

KTEST(vm_partial_munmap_splits_and_keeps_contents)
{
	struct vm_stats before, after;
	long a = vm_mmap(0, 2 << 20, RW, ANON);
	volatile uint32_t *w = (volatile uint32_t *)a;

	KCHECK(t, a > 0);
	if (a <= 0)
		return;
	vm_get_stats(&before);
	for (unsigned int i = 0; i < 512; i++)
		w[i * 1024] = 0xabc00000 + i;       /* one huge page, every 4 KiB written */
	KCHECK_EQ(t, vm_munmap((uintptr_t)a + 5 * 4096, 4096), 0);
	vm_get_stats(&after);
	KCHECK_EQ(t, after.splits - before.splits, 1);
	KCHECK_EQ(t, arch_user_query((uintptr_t)a + 5 * 4096, NULL, NULL), 0);
	for (unsigned int i = 0; i < 512; i++) {
		if (i != 5)
			KCHECK_EQ(t, w[i * 1024], 0xabc00000 + i);
	}
	KCHECK_EQ(t, vm_mprotect((uintptr_t)a + 7 * 4096, 4096, VM_PROT_READ), 0);
	unsigned int prot = 0;
	arch_user_query((uintptr_t)a + 7 * 4096, NULL, &prot);
	KCHECK_EQ(t, prot, ARCH_PROT_READ);
	KCHECK_EQ(t, vm_munmap((uintptr_t)a, 2 << 20), 0);
	vm_get_stats(&after);
	KCHECK_EQ(t, after.small_pages, before.small_pages);      /* all 511 gone, frame freed */
}

KTEST(vm_small_pages_where_huge_do_not_fit)
{
	struct vm_stats before, after;
	long a = vm_mmap(0, 3 * 4096, RW, ANON);
	volatile char *p = (volatile char *)a;

	KCHECK(t, a > 0);
	vm_get_stats(&before);
	p[0] = 1;
	p[2 * 4096] = 2;
	vm_get_stats(&after);
	KCHECK_EQ(t, after.small_faults - before.small_faults, 2);
	KCHECK_EQ(t, after.huge_faults - before.huge_faults, 0);
	KCHECK_EQ(t, vm_munmap((uintptr_t)a, 3 * 4096), 0);
}

KTEST(vm_map_fixed_replaces_and_noreplace_refuses)
{
	long a = vm_mmap(0, 16 * 4096, RW, ANON | VM_MAP_POPULATE);
	volatile char *p = (volatile char *)a;
	long b;

	KCHECK(t, a > 0);
	p[4 * 4096] = 7;
	KCHECK_EQ(t, vm_mmap((uintptr_t)a + 4 * 4096, 4096, RW, ANON | VM_MAP_FIXED_NOREPLACE), -EEXIST);
	KCHECK_EQ(t, p[4 * 4096], 7);
	b = vm_mmap((uintptr_t)a + 4 * 4096, 4096, RW, ANON | VM_MAP_FIXED);
	KCHECK_EQ(t, b, a + 4 * 4096);
	KCHECK_EQ(t, p[4 * 4096], 0);                     /* a fresh page replaced it */
	KCHECK_EQ(t, vm_munmap((uintptr_t)a, 16 * 4096), 0);
}

KTEST(vm_bad_arguments)
{
	KCHECK_EQ(t, vm_mmap(0, 0, RW, ANON), -EINVAL);
	KCHECK_EQ(t, vm_mmap(0x1001, 4096, RW, ANON | VM_MAP_FIXED), -EINVAL);
	KCHECK_EQ(t, vm_mmap(0, 4096, RW, VM_MAP_ANONYMOUS), -EINVAL);      /* neither private nor shared */
	KCHECK_EQ(t, vm_mmap(0, 4096, 0x80, ANON), -EINVAL);
	KCHECK_EQ(t, vm_mmap(0, 4096, RW, VM_MAP_PRIVATE), -ENODEV);        /* files: vm_mmap_file */
	KCHECK_EQ(t, vm_munmap(0x1001, 4096), -EINVAL);
	KCHECK_EQ(t, vm_mprotect(0x123000, 4096, RW), -ENOMEM);           /* not mapped */
	KCHECK_EQ(t, vm_munmap(0x123000, 4096), 0);                        /* nothing there: fine */
}

/* Copies that touch application memory return -EFAULT for bad addresses
 * instead of ending the VM, and fault in mapped memory on the way. */
KTEST(vm_user_copy_faults_become_efault)
{
	char buf[64] = "skiff";
	long a = vm_mmap(0, 8192, RW, ANON);
	long ro = vm_mmap(0, 4096, VM_PROT_READ, ANON);

	KCHECK(t, a > 0 && ro > 0);
	KCHECK_EQ(t, arch_copy_user((void *)a, buf, sizeof(buf)), 0);          /* first touch */
	KCHECK_EQ(t, arch_copy_user(buf, (void *)(a + 4096), 16), 0);          /* untouched: zero */
	KCHECK_EQ(t, buf[0], 0);
	KCHECK_EQ(t, arch_copy_user(buf, (void *)a, 6), 0);
	KCHECK(t, strcmp(buf, "skiff") == 0);
	KCHECK_EQ(t, arch_copy_user(buf, NULL, 8), -EFAULT);                   /* page 0 */
	KCHECK_EQ(t, arch_copy_user((void *)0x7000000000UL, buf, 8), -EFAULT);  /* nothing mapped */
	KCHECK_EQ(t, arch_copy_user((void *)ro, buf, 8), -EFAULT);             /* read-only */
	KCHECK_EQ(t, arch_copy_user(buf, (void *)0x8000000000000000UL, 8), -EFAULT);   /* non-canonical */
	KCHECK_EQ(t, arch_copy_user((void *)(a + 8188), buf, 8), -EFAULT);     /* runs off the end */
	KCHECK_EQ(t, vm_munmap((uintptr_t)a, 8192), 0);
	KCHECK_EQ(t, vm_munmap((uintptr_t)ro, 4096), 0);
}

KTEST(vm_mremap_grows_and_moves_without_copying)
{
	long a = vm_mmap(0, 2 << 20, RW, ANON), b, c;
	volatile uint32_t *w;
	uint64_t frame;

	KCHECK(t, a > 0);
	w = (volatile uint32_t *)a;
	for (unsigned int i = 0; i < 512; i++)
		w[i * 1024] = 0x5eed0000 + i;
	frame = arch_user_query((uintptr_t)a, NULL, NULL);
	/* A blocker right after it: growing must move. */
	c = vm_mmap((uintptr_t)a + (2 << 20), 4096, RW, ANON | VM_MAP_FIXED_NOREPLACE);
	KCHECK_EQ(t, c, a + (2 << 20));
	KCHECK_EQ(t, vm_mremap((uintptr_t)a, 2 << 20, 4 << 20, 0), -ENOMEM);   /* may not move */
	b = vm_mremap((uintptr_t)a, 2 << 20, 4 << 20, VM_MREMAP_MAYMOVE);
	KCHECK(t, b > 0 && b != a);
	KCHECK_EQ(t, b & (HUGE_PAGE_SIZE - 1), 0);           /* 2 MiB pages moved whole */
	int level = 0;
	arch_user_query((uintptr_t)b, &level, NULL);
	KCHECK_EQ(t, level, 2);
	w = (volatile uint32_t *)b;
	for (unsigned int i = 0; i < 512; i++)
		KCHECK_EQ(t, w[i * 1024], 0x5eed0000 + i);
	KCHECK_EQ(t, arch_user_query((uintptr_t)b, NULL, NULL), frame);   /* the same frame: no copy */
	KCHECK_EQ(t, arch_user_query((uintptr_t)a, NULL, NULL), 0);
	w[(3 << 20) / 4] = 1;                       /* the grown part is usable */
	b = vm_mremap((uintptr_t)b, 4 << 20, 1 << 20, 0);   /* shrink in place */
	KCHECK(t, b > 0);
	KCHECK_EQ(t, vm_munmap((uintptr_t)b, 1 << 20), 0);
	KCHECK_EQ(t, vm_munmap((uintptr_t)c, 4096), 0);
}

KTEST(vm_madvise_dontneed_and_willneed)
{
	struct vm_stats before, after;
	long a = vm_mmap(0, 16 * 4096, RW, ANON);
	volatile char *p = (volatile char *)a;

	KCHECK(t, a > 0);
	vm_get_stats(&before);
	KCHECK_EQ(t, vm_madvise((uintptr_t)a, 16 * 4096, VM_MADV_WILLNEED), 0);
	vm_get_stats(&after);
	KCHECK_EQ(t, after.small_faults - before.small_faults, 16);     /* populated ahead */
	p[5 * 4096] = 42;
	KCHECK_EQ(t, vm_madvise((uintptr_t)a + 5 * 4096, 4096, VM_MADV_DONTNEED), 0);
	KCHECK_EQ(t, p[5 * 4096], 0);                /* a fresh zero page on next touch */
	KCHECK_EQ(t, vm_madvise((uintptr_t)a, 4096, 77), -EINVAL);
	KCHECK_EQ(t, vm_madvise(0x123000, 4096, VM_MADV_DONTNEED), -ENOMEM);
	KCHECK_EQ(t, vm_munmap((uintptr_t)a, 16 * 4096), 0);
}

/* Found in review: bad ranges are refused before anything is taken down,
 * and statistics can be written to untouched application memory. */
KTEST(vm_review_regressions)
{
	long a = vm_mmap(0, 4096, RW, ANON);

	KCHECK(t, a > 0);
	vm_get_stats((struct vm_stats *)a);     /* faults while writing: outside vm.lock */
	vm_get_stats((struct vm_stats *)a);     /* now it counts that fault */
	KCHECK(t, ((struct vm_stats *)a)->faults > 0);
	KCHECK_EQ(t, vm_mmap(0x7fffffe00000UL, 1UL << 40, RW, ANON | VM_MAP_FIXED), -EINVAL);
	KCHECK_EQ(t, vm_mmap(0x1000, 4096, RW, ANON | VM_MAP_FIXED), -EINVAL);   /* below VM_LO */
	KCHECK_EQ(t, vm_mprotect((uintptr_t)a, ~0UL - 100, RW), -ENOMEM);          /* wraps */
	KCHECK_EQ(t, vm_madvise((uintptr_t)a, ~0UL - 100, VM_MADV_DONTNEED), -EINVAL);
	KCHECK_EQ(t, vm_munmap((uintptr_t)a, 4096), 0);
}
