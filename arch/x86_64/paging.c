/*
 * arch/x86_64/paging.c - the kernel's page tables.
 *
 * Interface: paging_init(bi) replaces boot.S's 4-page table with the real
 * one: every RAM range mapped at PHYS_MAP_BASE with 1 GiB pages where the
 * CPU offers them and a whole GiB is RAM (2 MiB pages otherwise), all of it
 * non-executable; the kernel image at KERNEL_VMA in 4 KiB pages, text
 * read-only+executable, everything else non-executable and rodata read-only;
 * nothing in the lower half, so address 0 faults.  arch_map_mmio() and
 * arch_map_phys() add device and firmware ranges later.
 */
#include "arch/x86_64/x86_impl.h"
#include "core/boot.h"
#include "core/bootmem.h"


extern const char __kernel_start[], __text_end[], __rodata_start[], __rodata_end[];
extern const char __data_start[], __data_end[], __kernel_end[];

static uint64_t *kernel_pml4;
static bool direct_map_ready;
uint64_t nx_bit;

void *arch_phys_to_virt(uint64_t pa)
{
	if (direct_map_ready)
		return (void *)(PHYS_MAP_BASE + pa);
	return (void *)(KERNEL_VMA + pa);       /* boot.S maps the first GiB here */
}

uint64_t arch_virt_to_phys(const void *va)
{
	uintptr_t v = (uintptr_t)va;

	if (v >= KERNEL_VMA)
		return v - KERNEL_VMA;
	return v - PHYS_MAP_BASE;
}

/* Until the switch, new tables must sit where boot.S's map reaches them. */
static uint64_t table_limit(void)
{
	return direct_map_ready ? ~0ULL : GIANT_PAGE_SIZE;
}

static unsigned int pt_index(uintptr_t va, int level)   /* level 4 = PML4 */
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

/* Returns the entry for va at `level`, creating tables above it as needed. */
uint64_t *pte_walk(uintptr_t va, int level, bool create)
{
	uint64_t *table = kernel_pml4;

	for (int l = 4; l > level; l--) {
		uint64_t *e = &table[pt_index(va, l)];
		if (!(*e & (PTE_P | PTE_NONE))) {
			uint64_t pa;
			if (!create || !(pa = bootmem_alloc(PAGE_SIZE, PAGE_SIZE, table_limit())))
				return NULL;
			*e = pa | PTE_P | PTE_W;
		} else if (*e & PTE_PS) {
			return NULL;                /* inside a large page (PROT_NONE ones too) */
		}
		table = arch_phys_to_virt(*e & PTE_ADDR);
	}
	return &table[pt_index(va, level)];
}

static void map_one(uintptr_t va, uint64_t pa, int level, uint64_t flags)
{
	uint64_t *e = pte_walk(va, level, true);

	if (!e)
		panic("paging: cannot map %lx (out of boot memory)", va);
	*e = pa | flags | PTE_P | (level > 1 ? PTE_PS : 0);
}

static void map_kernel_range(const char *start, const char *end, uint64_t flags)
{
	for (uintptr_t va = (uintptr_t)start; va < (uintptr_t)end; va += PAGE_SIZE)
		map_one(va, va - KERNEL_VMA, 1, flags);
}

static bool range_is_ram(const struct boot_info *bi, uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < bi->nmem; i++) {
		const struct boot_mem_range *r = &bi->mem[i];
		if (r->type == BOOT_MEM_RAM && r->base <= start && r->base + r->len >= end)
			return true;
	}
	return false;
}

static void map_ram_range(const struct boot_info *bi, uint64_t base, uint64_t end)
{
	uint64_t pa = ALIGN_DOWN(base, HUGE_PAGE_SIZE);

	while (pa < end) {
		if (x86_cpu.pdpe1gb && !(pa & (GIANT_PAGE_SIZE - 1)) &&
		    range_is_ram(bi, pa, pa + GIANT_PAGE_SIZE)) {
			map_one(PHYS_MAP_BASE + pa, pa, 3, PTE_W | nx_bit);
			pa += GIANT_PAGE_SIZE;
		} else {
			map_one(PHYS_MAP_BASE + pa, pa, 2, PTE_W | nx_bit);
			pa += HUGE_PAGE_SIZE;
		}
	}
}

void paging_init(const struct boot_info *bi)
{
	uint64_t pml4_pa = bootmem_alloc(PAGE_SIZE, PAGE_SIZE, GIANT_PAGE_SIZE);

	if (!pml4_pa)
		panic("paging: no memory for page tables");
	nx_bit = x86_cpu.nx ? PTE_NX : 0;
	kernel_pml4 = arch_phys_to_virt(pml4_pa);
	map_kernel_range(__kernel_start, __text_end, 0);
	map_kernel_range(__rodata_start, __rodata_end, nx_bit);
	map_kernel_range(__data_start, __data_end, PTE_W | nx_bit);
	map_kernel_range(__data_end, __kernel_end, nx_bit);         /* .ksyms */
	for (unsigned int i = 0; i < bi->nmem; i++) {
		const struct boot_mem_range *r = &bi->mem[i];
		if (r->type == BOOT_MEM_RAM)
			map_ram_range(bi, r->base, r->base + r->len);
	}
	/* Page-table pages come from the first GiB, so they stay reachable
	 * through KERNEL_VMA until the switch, and through the direct map after. */
	write_cr3(pml4_pa);
	direct_map_ready = true;
	kernel_pml4 = arch_phys_to_virt(pml4_pa);
}

static void *map_range(uint64_t pa, size_t len, uint64_t flags)
{
	uint64_t start = ALIGN_DOWN(pa, PAGE_SIZE), end = ALIGN_UP(pa + len, PAGE_SIZE);

	for (uint64_t p = start; p < end; p += PAGE_SIZE) {
		if (paging_is_mapped(PHYS_MAP_BASE + p))
			continue;
		map_one(PHYS_MAP_BASE + p, p, 1, flags);
		invlpg((void *)(PHYS_MAP_BASE + p));
	}
	return (void *)(PHYS_MAP_BASE + pa);
}

/* Maps [va, va+len) to [pa, pa+len) in 4 KiB pages, writable, not
 * executable, in a kernel region that nothing maps yet (the thread-stack
 * area).  The caller serializes (page tables are shared by all CPUs).
 * -ENOMEM when a page table cannot be allocated (what was mapped stays). */
int arch_map_kernel(uintptr_t va, uint64_t pa, size_t len)
{
	for (size_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t *e = pte_walk(va + off, 1, true);
		if (!e)
			return -ENOMEM;
		*e = (pa + off) | PTE_W | nx_bit | PTE_P;
	}
	return 0;
}

void *arch_map_mmio(uint64_t pa, size_t len)
{
	return map_range(pa, len, PTE_W | PTE_PCD | PTE_PWT | nx_bit);
}

void *arch_map_phys(uint64_t pa, size_t len)
{
	if (!direct_map_ready)                  /* only boot.S's first GiB so far */
		return pa + len <= GIANT_PAGE_SIZE ? arch_phys_to_virt(pa) : NULL;
	return map_range(pa, len, nx_bit);
}

/* The entry that maps va (0 if none), and the level it sits at (1 = 4 KiB). */
uint64_t paging_pte(uintptr_t va)
{
	uint64_t *table = arch_phys_to_virt(read_cr3() & PTE_ADDR);

	for (int l = 4; l >= 1; l--) {
		uint64_t e = table[pt_index(va, l)];
		if (!(e & PTE_P) || l == 1 || (e & PTE_PS))
			return e;
		table = arch_phys_to_virt(e & PTE_ADDR);
	}
	return 0;
}

int paging_pte_level(uintptr_t va)
{
	uint64_t *table = arch_phys_to_virt(read_cr3() & PTE_ADDR);

	if ((uint64_t)((int64_t)(va << 16) >> 16) != va)
		return 0;                       /* non-canonical: never mapped */
	for (int l = 4; l >= 1; l--) {
		uint64_t e = table[pt_index(va, l)];
		if (!(e & PTE_P))
			return 0;
		if (l == 1 || (e & PTE_PS))
			return l;
		table = arch_phys_to_virt(e & PTE_ADDR);
	}
	return 0;
}

bool paging_is_mapped(uintptr_t va)
{
	return paging_pte_level(va) != 0;
}

/* The AP trampoline runs at its physical address while paging turns on, so
 * it needs an identity mapping for that moment (smp.c removes it after). */
void paging_identity_map_low(uint64_t pa, bool on)
{
	if (on) {
		map_one(pa, pa, 1, PTE_W);
	} else {
		kernel_pml4[0] = 0;            /* the lower half holds nothing else yet */
		arch_tlb_flush_all();
	}
}

void arch_tlb_flush_all(void)
{
	write_cr3(read_cr3());
}
