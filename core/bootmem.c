/*
 * core/bootmem.c - the boot-time frame allocator (see core/bootmem.h).
 *
 * A cursor walks up through the usable RAM ranges; allocations come from the
 * cursor, skipping the reserved areas.  Nothing is ever freed: this serves
 * page tables and per-CPU stacks until the real page allocator exists.
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "core/bootmem.h"

#define LOW_RESERVE 0x100000ULL      /* the first MiB: BIOS data, AP trampoline */

struct area { uint64_t start, end; };

static struct {
	const struct boot_info *bi;
	struct area reserved[BOOT_MOD_MAX + 2];
	unsigned int nreserved;
	unsigned int range;               /* current memory-map index */
	uint64_t cursor;                  /* next free address in it */
} bm;

static void reserve(uint64_t start, uint64_t end)
{
	if (bm.nreserved < ARRAY_SIZE(bm.reserved))
		bm.reserved[bm.nreserved++] = (struct area){ start, end };
}

void bootmem_init(const struct boot_info *bi, uint64_t kstart, uint64_t kend)
{
	bm.bi = bi;
	reserve(0, LOW_RESERVE);
	reserve(kstart, kend);
	for (unsigned int i = 0; i < bi->nmod; i++)
		reserve(bi->mod[i].start, bi->mod[i].end);
	bm.range = 0;
	bm.cursor = 0;
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

uint64_t bootmem_alloc(uint64_t size, uint64_t align, uint64_t max_pa)
{
	for (; bm.range < bm.bi->nmem; bm.range++, bm.cursor = 0) {
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
		memset(arch_phys_to_virt(addr), 0, size);
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
