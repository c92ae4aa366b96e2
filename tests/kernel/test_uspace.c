/*
 * tests/kernel/test_uspace.c - page tables of the application's half: 2 MiB
 * and 4 KiB pages, splitting with contents kept, protection, and TLB
 * shootdown seen by every CPU.
 */
#include "core/ktest.h"
#include "core/arch.h"
#include "core/mm.h"
#include "sched/sched.h"

#define AREA 0x40000000UL                  /* 1 GiB: nothing else uses it in tests */

KTEST(uspace_bad_arguments)
{
	KCHECK_EQ(t, arch_user_map(0, 0x200000, 1, ARCH_PROT_READ), -EINVAL);
	KCHECK_EQ(t, arch_user_map(AREA + 0x800, 0x200000, 1, ARCH_PROT_READ), -EINVAL);
	KCHECK_EQ(t, arch_user_map(AREA + 0x1000, 0x200000, 2, ARCH_PROT_READ), -EINVAL);
	KCHECK_EQ(t, arch_user_map(0xffff800000000000UL, 0x200000, 1, ARCH_PROT_READ), -EINVAL);
	KCHECK_EQ(t, arch_user_split(AREA), -EINVAL);          /* nothing mapped */
	KCHECK_EQ(t, arch_user_query(AREA, NULL, NULL), 0);
}

KTEST(uspace_huge_page_splits_keeping_contents)
{
	uint64_t pa = page_alloc(PAGE_ORDER_2M);
	volatile uint32_t *v = (volatile uint32_t *)AREA;
	unsigned int prot = 0;
	int level = 0;

	KCHECK(t, pa != 0);
	KCHECK_EQ(t, arch_user_map(AREA, pa, 2, ARCH_PROT_READ | ARCH_PROT_WRITE), 0);
	KCHECK_EQ(t, arch_user_map(AREA, pa, 2, ARCH_PROT_READ), -EEXIST);
	KCHECK_EQ(t, arch_user_query(AREA + 0x12345, &level, &prot), pa);
	KCHECK_EQ(t, level, 2);
	KCHECK_EQ(t, prot, ARCH_PROT_READ | ARCH_PROT_WRITE);
	for (unsigned int i = 0; i < 512; i++)
		v[i * 1024] = 0xc0de0000 + i;       /* one word in every 4 KiB page */
	KCHECK_EQ(t, arch_user_split(AREA + 0x5000), 0);
	arch_tlb_shootdown(AREA, HUGE_PAGE_SIZE);
	KCHECK_EQ(t, arch_user_query(AREA + 0x5000, &level, NULL), pa + 0x5000);
	KCHECK_EQ(t, level, 1);
	KCHECK_EQ(t, arch_user_unmap(AREA + 0x3000, &level), pa + 0x3000);
	KCHECK_EQ(t, arch_user_protect(AREA + 0x4000, ARCH_PROT_READ), 0);
	arch_tlb_shootdown(AREA + 0x3000, 2 * PAGE_SIZE);
	KCHECK_EQ(t, arch_user_query(AREA + 0x3000, NULL, NULL), 0);
	arch_user_query(AREA + 0x4000, NULL, &prot);
	KCHECK_EQ(t, prot, ARCH_PROT_READ);
	for (unsigned int i = 0; i < 512; i++) {
		if (i != 3)                         /* the other 511 pages keep their contents */
			KCHECK_EQ(t, v[i * 1024], 0xc0de0000 + i);
	}
	for (uintptr_t va = AREA; va < AREA + HUGE_PAGE_SIZE; va += PAGE_SIZE)
		arch_user_unmap(va, NULL);
	arch_tlb_shootdown(AREA, HUGE_PAGE_SIZE);
	KCHECK_EQ(t, arch_user_query(AREA, NULL, NULL), 0);
	page_free(pa, PAGE_ORDER_2M);
}

struct reader {
	volatile uint32_t seen;
	volatile int phase;                     /* 0 read, 1 done, 2 read again, 3 done */
};

static void read_twice(void *arg)
{
	struct reader *r = arg;

	r->seen = *(volatile uint32_t *)AREA;   /* caches the translation */
	r->phase = 1;
	while (r->phase != 2)
		thread_yield();
	r->seen = *(volatile uint32_t *)AREA;
	r->phase = 3;
}

/* Every CPU reads a page; the page is then mapped to another frame and
 * shot down: every CPU must read the new frame. */
KTEST(uspace_shootdown_reaches_every_cpu)
{
	static struct reader r[CONFIG_MAX_CPUS];
	struct thread *th[CONFIG_MAX_CPUS];
	uint64_t f1 = page_alloc(0), f2 = page_alloc(0);
	unsigned int n = ncpus_online;

	*(uint32_t *)arch_phys_to_virt(f1) = 1;
	*(uint32_t *)arch_phys_to_virt(f2) = 2;
	KCHECK_EQ(t, arch_user_map(AREA, f1, 1, ARCH_PROT_READ), 0);
	for (unsigned int i = 0; i < n; i++) {
		r[i].phase = 0;
		th[i] = thread_create(read_twice, &r[i], &THREAD_ATTR(.cpu = (int)i));
	}
	for (unsigned int i = 0; i < n; i++) {
		while (r[i].phase != 1)
			thread_yield();
		KCHECK_EQ(t, r[i].seen, 1);
	}
	KCHECK_EQ(t, arch_user_unmap(AREA, NULL), f1);
	KCHECK_EQ(t, arch_user_map(AREA, f2, 1, ARCH_PROT_READ), 0);
	arch_tlb_shootdown(AREA, PAGE_SIZE);
	for (unsigned int i = 0; i < n; i++)
		r[i].phase = 2;
	for (unsigned int i = 0; i < n; i++) {
		KCHECK_EQ(t, thread_join(th[i]), 0);
		KCHECK_EQ(t, r[i].seen, 2);
	}
	arch_user_unmap(AREA, NULL);
	arch_tlb_shootdown(AREA, PAGE_SIZE);
	page_free(f1, 0);
	page_free(f2, 0);
}

/* --- page faults resolved in the faulting thread --- */

#define DEMAND 0x50000000UL
#define DEMAND_PAGES 16

static volatile int faults_seen;
static uint64_t demand_frames[DEMAND_PAGES];

static int demand_map(uintptr_t addr, unsigned int access, uintptr_t rip)
{
	uintptr_t page = ALIGN_DOWN(addr, PAGE_SIZE);
	unsigned int k = (unsigned int)((page - DEMAND) / PAGE_SIZE);

	(void)access;
	(void)rip;
	if (addr < DEMAND || k >= DEMAND_PAGES)
		return -EFAULT;
	thread_yield();                         /* it may sleep: it runs in the thread */
	demand_frames[k] = page_alloc(0);
	if (!demand_frames[k])
		return -ENOMEM;
	memset(arch_phys_to_virt(demand_frames[k]), 0, PAGE_SIZE);
	faults_seen++;
	return arch_user_map(page, demand_frames[k], 1, ARCH_PROT_READ | ARCH_PROT_WRITE);
}

KTEST(uspace_faults_are_resolved_in_the_thread)
{
	volatile uint64_t *p = (volatile uint64_t *)DEMAND;

	arch_fault_fn saved;

	faults_seen = 0;
	saved = arch_set_fault_handler(demand_map);
	for (unsigned int k = 0; k < DEMAND_PAGES; k++)
		p[k * 512 + 7] = 0xfeed0000 + k;      /* first touch of each page faults */
	for (unsigned int k = 0; k < DEMAND_PAGES; k++) {
		KCHECK_EQ(t, p[k * 512 + 7], 0xfeed0000 + k);
		KCHECK_EQ(t, p[k * 512], 0);         /* a fresh zeroed page */
	}
	KCHECK_EQ(t, faults_seen, DEMAND_PAGES);     /* once per page, then mapped */
	arch_set_fault_handler(saved);                /* the VM layer's */
	for (unsigned int k = 0; k < DEMAND_PAGES; k++) {
		KCHECK_EQ(t, arch_user_unmap(DEMAND + k * PAGE_SIZE, NULL), demand_frames[k]);
		page_free(demand_frames[k], 0);
	}
	arch_tlb_shootdown(DEMAND, DEMAND_PAGES * PAGE_SIZE);
}
