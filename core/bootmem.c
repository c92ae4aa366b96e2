/*
 * core/bootmem.c - the boot-time frame allocator (see core/bootmem.h).
 *
 * A cursor walks up through the usable RAM ranges; allocations come from the
 * cursor, skipping the reserved areas.  Nothing is ever freed: this serves
 * page tables and per-CPU stacks until the page allocator takes over, and
 * forwards to it after.
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "core/bootmem.h"
#include "core/mm.h"

#define LOW_RESERVE 0x100000ULL      /* the first MiB: BIOS data, AP trampoline */

struct area { uint64_t start, end; };

static struct {
	const struct boot_info *bi;
	struct area reserved[BOOT_MOD_MAX + 2];
	unsigned int nreserved;
	unsigned int range;               /* current memory-map index */
	uint64_t cursor;                  /* next free address in it */
	uint64_t used_end[BOOT_MEM_MAX];  /* where earlier ranges were left */
	uint64_t kernel_end;              /* [0, kernel_end): the first MiB and the image */
	bool handed_off;                  /* page_alloc() serves from now on */
} bm;

static void reserve(uint64_t start, uint64_t end)
{
	if (bm.nreserved < ARRAY_SIZE(bm.reserved))
		bm.reserved[bm.nreserved++] = (struct area){ start, end };
}

void bootmem_init(const struct boot_info *bi, uint64_t kstart, uint64_t kend)
{
	memset(&bm, 0, sizeof(bm));
	bm.bi = bi;
	reserve(0, LOW_RESERVE);
	reserve(kstart, kend);
	bm.kernel_end = MAX(kend, LOW_RESERVE);
	for (unsigned int i = 0; i < bi->nmod; i++)
		reserve(bi->mod[i].start, bi->mod[i].end);
}

/* Moves addr past any reserved area it falls in; true if it moved. */
static bool skip_reserved(uint64_t *addr, uint64_t size)
{
	for (unsigned int i = 0; i < bm.nreserved; i++) {
		if (*addr < bm.reserved[i].end && *addr + size > bm.reserved[i].start) {
			*addr = bm.reserved[i].end;
			return true;
		}
	}
	return false;
}

static void leave_range(void)
{
	bm.used_end[bm.range++] = bm.cursor;
	bm.cursor = 0;
}

/* After the handoff: a block from the page allocator, its unused tail given
 * back when it comes from a split chunk (orders below 2 MiB). */
static uint64_t alloc_from_mm(uint64_t size, uint64_t align, uint64_t max_pa)
{
	uint64_t pages = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE, pa;
	unsigned int order;

	for (order = 0; order <= PAGE_ORDER_MAX; order++) {
		if ((1ULL << order) >= pages && (PAGE_SIZE << order) >= align)
			break;
	}
	if (order > PAGE_ORDER_MAX || !(pa = page_alloc(order)))
		return 0;
	if (pa + size > max_pa) {
		page_free(pa, order);
		return 0;
	}
	if (order < PAGE_ORDER_2M) {
		for (uint64_t i = MAX(pages, 1); i < (1ULL << order); i += i & -i)
			page_free(pa + i * PAGE_SIZE, __builtin_ctzll(i));
	}
	memset(arch_phys_to_virt(pa), 0, size);
	return pa;
}

uint64_t bootmem_alloc(uint64_t size, uint64_t align, uint64_t max_pa)
{
	uint64_t pa;

	if (bm.handed_off)
		return alloc_from_mm(size, align, max_pa);
	pa = bootmem_alloc_raw(size, align, max_pa);
	if (pa)
		memset(arch_phys_to_virt(pa), 0, size);
	return pa;
}

uint64_t bootmem_alloc_raw(uint64_t size, uint64_t align, uint64_t max_pa)
{
	if (bm.handed_off)
		return alloc_from_mm(size, align, max_pa);
	for (; bm.range < bm.bi->nmem; leave_range()) {
		const struct boot_mem_range *r = &bm.bi->mem[bm.range];
		uint64_t addr;

		if (r->type != BOOT_MEM_RAM)
			continue;
		addr = MAX(bm.cursor, r->base);
		do {
			addr = ALIGN_UP(addr, align);
		} while (skip_reserved(&addr, size));
		if (addr + size > r->base + r->len || addr + size > max_pa)
			continue;
		bm.cursor = addr + size;
		return addr;
	}
	return 0;
}

uint64_t bootmem_ram_bytes(void)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < bm.bi->nmem; i++) {
		if (bm.bi->mem[i].type == BOOT_MEM_RAM)
			n += bm.bi->mem[i].len;
	}
	return n;
}

uint64_t bootmem_ram_top(void)
{
	uint64_t top = 0;

	for (unsigned int i = 0; i < bm.bi->nmem; i++) {
		if (bm.bi->mem[i].type == BOOT_MEM_RAM)
			top = MAX(top, bm.bi->mem[i].base + bm.bi->mem[i].len);
	}
	return top;
}

/* Where handing out stopped in memory-map range i. */
static uint64_t used_end(unsigned int i)
{
	if (i < bm.range)
		return bm.used_end[i];
	return i == bm.range ? bm.cursor : 0;
}

static void sort_reserved(void)
{
	for (unsigned int i = 1; i < bm.nreserved; i++) {
		struct area a = bm.reserved[i];
		unsigned int j = i;

		for (; j > 0 && bm.reserved[j - 1].start > a.start; j--)
			bm.reserved[j] = bm.reserved[j - 1];
		bm.reserved[j] = a;
	}
}

static unsigned int add_piece(struct bootmem_range *out, unsigned int n, unsigned int max,
			      uint64_t start, uint64_t end)
{
	start = ALIGN_UP(start, PAGE_SIZE);
	end = ALIGN_DOWN(end, PAGE_SIZE);
	if (start < end && n < max)
		out[n++] = (struct bootmem_range){ start, end };
	return n;
}

/* Adds [start, end) less the reserved areas (sorted by start). */
static unsigned int add_free(struct bootmem_range *out, unsigned int n, unsigned int max,
			     uint64_t start, uint64_t end)
{
	uint64_t pos = start;

	for (unsigned int k = 0; k < bm.nreserved && pos < end; k++) {
		const struct area *a = &bm.reserved[k];

		if (a->end <= pos || a->start >= end)
			continue;
		n = add_piece(out, n, max, pos, a->start);
		pos = a->end;
	}
	return add_piece(out, n, max, pos, end);
}

uint64_t bootmem_release_modules(void)
{
	uint64_t bytes = 0;

	if (!bm.handed_off)
		return 0;
	for (unsigned int i = 0; i < bm.bi->nmod; i++) {
		const struct boot_module *m = &bm.bi->mod[i];

		if (m->start < bm.kernel_end)
			continue;               /* overlaps the first MiB or the image */
		bytes += page_add_ram(m->start, m->end);
	}
	return bytes;
}

unsigned int bootmem_handoff(struct bootmem_range *out, unsigned int max)
{
	unsigned int n = 0;

	sort_reserved();
	for (unsigned int i = 0; i < bm.bi->nmem; i++) {
		const struct boot_mem_range *r = &bm.bi->mem[i];

		if (r->type == BOOT_MEM_RAM)
			n = add_free(out, n, max, MAX(r->base, used_end(i)), r->base + r->len);
	}
	bm.handed_off = true;
	return n;
}
