/*
 * arch/x86_64/uspace.c - page tables of the application's half of the
 * address space, and TLB shootdown.
 *
 * Interface (core/arch.h): arch_user_map/unmap/protect/query work on one
 * page, 4 KiB (level 1) or 2 MiB (level 2), in the lower half;
 * arch_user_split turns a 2 MiB page into 512 4 KiB pages onto the same
 * frames with the same protection, so contents are preserved.  None of
 * them flushes the TLB: the caller batches its changes and then calls
 * arch_tlb_shootdown() once for the range.  The caller serializes all of
 * these (the VM layer holds its address-space mutex): page tables and the
 * one shootdown request are shared by every CPU.
 *
 * PROT_NONE pages keep their frame in a not-present entry marked PTE_NONE,
 * so that a later mprotect can bring them back.  PTE_BORROWED marks a frame
 * the mapping does not own (ARCH_MAP_BORROWED: a file's page); protect and
 * split keep it.
 */
#include "arch/x86_64/x86_impl.h"
#include "core/mm.h"
#include "sched/sched.h"

#define USER_TOP 0x0000800000000000ULL

static void shootdown(uintptr_t start, size_t len, bool lazy_too);

static uint64_t prot_bits(unsigned int prot)
{
	uint64_t f = ((prot & ARCH_PROT_EXEC) ? 0 : nx_bit) |
		     ((prot & ARCH_MAP_BORROWED) ? PTE_BORROWED : 0);

	if (!(prot & (ARCH_PROT_READ | ARCH_PROT_WRITE | ARCH_PROT_EXEC)))
		return f | PTE_NONE;
	f |= PTE_P;
	if (prot & ARCH_PROT_WRITE)
		f |= PTE_W;
	return f;
}

static unsigned int bits_prot(uint64_t e)
{
	unsigned int borrowed = (e & PTE_BORROWED) ? ARCH_MAP_BORROWED : 0;

	if (!(e & PTE_P))
		return borrowed;
	return borrowed | ARCH_PROT_READ | ((e & PTE_W) ? ARCH_PROT_WRITE : 0) |
	       ((e & PTE_NX) || !nx_bit ? 0 : ARCH_PROT_EXEC);
}

static bool bad_page(uintptr_t va, int level)
{
	uint64_t size = level == 2 ? HUGE_PAGE_SIZE : PAGE_SIZE;

	return (level != 1 && level != 2) || (va & (size - 1)) || va == 0 || va + size > USER_TOP;
}

static bool present(uint64_t e)
{
	return e & (PTE_P | PTE_NONE);
}

/* A 2 MiB page may replace a page table whose entries are all empty (what
 * unmapping 4 KiB pages leaves); the table is freed. */
static bool drop_empty_table(uint64_t *pd, uintptr_t base)
{
	uint64_t *pt;

	if (!(*pd & PTE_P) || (*pd & PTE_PS))
		return !present(*pd);
	pt = arch_phys_to_virt(*pd & PTE_ADDR);
	for (unsigned int i = 0; i < 512; i++) {
		if (present(pt[i]))
			return false;
	}
	uint64_t table = *pd & PTE_ADDR;

	*pd = 0;
	shootdown(base, HUGE_PAGE_SIZE, true);   /* no CPU may still walk it */
	page_free(table, 0);
	return true;
}

int arch_user_map(uintptr_t va, uint64_t pa, int level, unsigned int prot)
{
	uint64_t *e;

	if (bad_page(va, level))
		return -EINVAL;
	e = pte_walk(va, level, true);
	if (!e)
		return -ENOMEM;                 /* no page table, or a huge page is in the way */
	if (level == 2 ? !drop_empty_table(e, va) : present(*e))
		return -EEXIST;
	*e = pa | prot_bits(prot) | (level == 2 ? PTE_PS : 0);
	return 0;
}

int arch_user_prepare(uintptr_t va, int level)
{
	if (bad_page(ALIGN_DOWN(va, level == 2 ? HUGE_PAGE_SIZE : PAGE_SIZE), level))
		return -EINVAL;
	return pte_walk(va, level, true) ? 0 : -ENOMEM;
}

/* The entry for va at `level`, or NULL when none is there. */
static uint64_t *entry(uintptr_t va, int *level)
{
	uint64_t *e = pte_walk(va, 2, false);

	if (e && (*e & PTE_PS)) {
		*level = 2;
		return e;
	}
	*level = 1;
	return pte_walk(va, 1, false);
}

uint64_t arch_user_query(uintptr_t va, int *level, unsigned int *prot)
{
	uint64_t *e;
	int l;

	if (va >= USER_TOP || !(e = entry(va, &l)) || !present(*e))
		return 0;
	if (level)
		*level = l;
	if (prot)
		*prot = bits_prot(*e);
	return *e & PTE_ADDR & ~(l == 2 ? HUGE_PAGE_SIZE - 1 : 0);
}

uint64_t arch_user_unmap(uintptr_t va, int *level)
{
	uint64_t *e, pa;
	int l;

	if (va >= USER_TOP || !(e = entry(va, &l)) || !present(*e))
		return 0;
	pa = *e & PTE_ADDR & ~(l == 2 ? HUGE_PAGE_SIZE - 1 : 0);
	*e = 0;
	if (level)
		*level = l;
	return pa;
}

int arch_user_protect(uintptr_t va, unsigned int prot)
{
	uint64_t *e;
	int l;

	if (va >= USER_TOP || !(e = entry(va, &l)) || !present(*e))
		return -ENOENT;
	*e = (*e & (PTE_ADDR | PTE_BORROWED)) | prot_bits(prot) | (l == 2 ? PTE_PS : 0);
	return 0;
}

int arch_user_split(uintptr_t va)
{
	uint64_t *pd = pte_walk(va & ~(HUGE_PAGE_SIZE - 1), 2, false), *pt, table_pa, old;

	if (va >= USER_TOP || !pd || !(*pd & PTE_PS))
		return -EINVAL;
	table_pa = bootmem_alloc(PAGE_SIZE, PAGE_SIZE, ~0ULL);   /* the page allocator, after boot */
	if (!table_pa)
		return -ENOMEM;
	pt = arch_phys_to_virt(table_pa);
	old = *pd;
	for (unsigned int i = 0; i < 512; i++)
		pt[i] = ((old & PTE_ADDR) + i * PAGE_SIZE) | (old & ~(PTE_ADDR | PTE_PS));
	/* One store swaps the 2 MiB entry for the table: any CPU sees either. */
	__atomic_store_n(pd, table_pa | PTE_P | PTE_W, __ATOMIC_RELEASE);
	return 0;
}

/* --- TLB shootdown --- */

#define FLUSH_ALL_PAGES 64              /* beyond this, reload CR3 instead */

static struct {
	uintptr_t start;
	size_t len;
	uint64_t generation;            /* atomic */
} request;
static uint64_t acked[CONFIG_MAX_CPUS];   /* per CPU: the generation it has done */

static void flush_local(uintptr_t start, size_t len)
{
	if (len / PAGE_SIZE > FLUSH_ALL_PAGES) {
		arch_tlb_flush_all();
		return;
	}
	for (uintptr_t va = start; va < start + len; va += PAGE_SIZE)
		invlpg((void *)va);
}

/* From the IPI handler: do the request if it is newer than our last. */
void tlb_shootdown_irq(void)
{
	unsigned int me = this_cpu()->id;
	uint64_t gen = __atomic_load_n(&request.generation, __ATOMIC_ACQUIRE);

	if (gen == acked[me])
		return;
	flush_local(request.start, request.len);
	__atomic_store_n(&acked[me], gen, __ATOMIC_RELEASE);
}

/*
 * Lazy CPUs.  An idle CPU runs only kernel code, which uses no application
 * mapping of the lower half, so a stale translation there is harmless
 * until it runs a thread again.  (The heap's blocks, which kernel code
 * does use, are shot down with arch_tlb_shootdown_all.)  It says so (lazy); a shootdown marks it stale instead of
 * interrupting it (an IPI to a halted virtual CPU is among the dearest
 * things a guest does), and the CPU flushes its whole TLB when it leaves
 * idle.  Each side stores, then reads the other's word, both sequentially
 * consistent: either the shooter sees the CPU still lazy and the CPU then
 * sees the stale mark, or the shooter sees it active and interrupts it.
 */
static uint32_t lazy[CONFIG_MAX_CPUS];         /* atomic */
static uint32_t stale[CONFIG_MAX_CPUS];        /* atomic */

void arch_tlb_lazy_enter(void)
{
	__atomic_store_n(&lazy[this_cpu()->id], 1, __ATOMIC_SEQ_CST);
}

void arch_tlb_lazy_leave(void)
{
	unsigned int me = this_cpu()->id;

	__atomic_store_n(&lazy[me], 0, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&stale[me], 0, __ATOMIC_SEQ_CST))
		arch_tlb_flush_all();
}

/* Page tables arch_user_prune took out, freed after the next shootdown
 * (which then interrupts lazy CPUs too).  Linked through their first word;
 * the caller's lock (the VM's) covers the list. */
static uint64_t *pruned;

static void free_pruned(void)
{
	while (pruned) {
		uint64_t *next = (uint64_t *)pruned[0];

		page_free(arch_virt_to_phys(pruned), 0);
		pruned = next;
	}
}

void arch_tlb_shootdown(uintptr_t start, size_t len)
{
	shootdown(start, len, pruned != NULL);
	free_pruned();
}

void arch_tlb_shootdown_all(uintptr_t start, size_t len)
{
	shootdown(start, len, true);
	free_pruned();
}

bool arch_user_range_used(uintptr_t va)
{
	uint64_t *pd = pte_walk(ALIGN_DOWN(va, HUGE_PAGE_SIZE), 2, false);

	return va < USER_TOP && pd && present(*pd);
}

int arch_user_prune(uintptr_t va)
{
	uint64_t *pd = pte_walk(ALIGN_DOWN(va, HUGE_PAGE_SIZE), 2, false), *pt;

	if (va >= USER_TOP || !pd || !(*pd & PTE_P) || (*pd & PTE_PS))
		return 0;
	pt = arch_phys_to_virt(*pd & PTE_ADDR);
	for (unsigned int i = 0; i < 512; i++) {
		if (present(pt[i]))
			return 0;
	}
	*pd = 0;
	pt[0] = (uint64_t)pruned;
	pruned = pt;
	return 1;
}

/* With lazy_too, lazy CPUs are interrupted as well: before a page table is
 * freed, no CPU may keep a cached pointer to it (a speculative walk would
 * read whatever the page holds next). */
static void shootdown(uintptr_t start, size_t len, bool lazy_too)
{
	uint64_t targets = 0;                   /* CPUs interrupted (CONFIG_MAX_CPUS <= 64) */
	uint64_t was_stale = 0;                 /* of those, the ones that owed a full flush */
	unsigned int me;
	uint64_t gen;

	BUILD_ASSERT(CONFIG_MAX_CPUS <= 64);
	start = ALIGN_DOWN(start, PAGE_SIZE);
	len = ALIGN_UP(len, PAGE_SIZE);
	preempt_disable();                      /* "this CPU" must stay this CPU */
	request.start = start;
	request.len = len;
	gen = __atomic_add_fetch(&request.generation, 1, __ATOMIC_ACQ_REL);
	me = this_cpu()->id;
	acked[me] = gen;
	flush_local(start, len);
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++) {
		if (i == me || !cpus[i].online)
			continue;
		if (__atomic_exchange_n(&stale[i], 1, __ATOMIC_SEQ_CST))
			was_stale |= 1ULL << i;
		if (!lazy_too && __atomic_load_n(&lazy[i], __ATOMIC_SEQ_CST))
			continue;                       /* it flushes when it leaves idle */
		targets |= 1ULL << i;
		arch_ipi_send(i);
	}
	for (unsigned int i = 0; i < CONFIG_MAX_CPUS; i++) {
		if (!(targets >> i & 1))
			continue;
		/* Bounded only by the other CPU's interrupts-off sections. */
		while (__atomic_load_n(&acked[i], __ATOMIC_ACQUIRE) < gen)
			arch_cpu_relax();
		/* Flushed by the IPI: no need to flush again on leaving idle,
		 * unless an earlier shootdown that skipped it left it stale (the
		 * IPI flushed only this range).  (Shootdowns are serialized by
		 * their callers: no other sets it.) */
		if (!(was_stale >> i & 1))
			__atomic_store_n(&stale[i], 0, __ATOMIC_RELAXED);
	}
	preempt_enable();
}
