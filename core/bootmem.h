/*
 * core/bootmem.h - the boot-time frame allocator.
 *
 * Interface: bootmem_init(bi) learns RAM from the boot memory map and keeps
 * out the kernel image, boot modules and the first MiB; bootmem_alloc()
 * hands out zeroed, aligned physical memory in address order, O(1) and
 * without touching any memory it does not hand out (boot time must not grow
 * with RAM).  The page allocator (core/mm.h) takes over with
 * bootmem_handoff(), which tells it what memory is still free; from then on
 * bootmem_alloc() forwards to page_alloc(), so that code which runs both
 * before and after the takeover (page tables, CPU stacks) keeps working.
 * Before the takeover it is for the boot CPU alone; after, any CPU may call
 * it (not from interrupt handlers: page_alloc may sleep).
 */
#ifndef CORE_BOOTMEM_H
#define CORE_BOOTMEM_H

#include <stdint.h>
#include "core/boot.h"

void bootmem_init(const struct boot_info *bi, uint64_t kernel_start_pa, uint64_t kernel_end_pa);
uint64_t bootmem_alloc(uint64_t size, uint64_t align, uint64_t max_pa);   /* 0 when none */
/* The same, not zeroed (before the handoff): for large tables whose entries
 * are written before they are read, so that boot does not touch them. */
uint64_t bootmem_alloc_raw(uint64_t size, uint64_t align, uint64_t max_pa);
uint64_t bootmem_ram_bytes(void);       /* usable RAM in the memory map */
uint64_t bootmem_ram_top(void);         /* end of the highest usable range */

/* Free memory: the pieces of usable RAM that bootmem has neither handed out
 * nor reserved, page-aligned, sorted and disjoint.  At most
 * BOOTMEM_FREE_MAX of them (each reserved area splits at most one range). */
struct bootmem_range {
	uint64_t start, end;
};
#define BOOTMEM_FREE_MAX (BOOT_MEM_MAX + BOOT_MOD_MAX + 2)

/* For mm_init: stores the free pieces in out[] and returns how many; from
 * then on bootmem_alloc() forwards to page_alloc(). */
unsigned int bootmem_handoff(struct bootmem_range *out, unsigned int max);

/* Once the boot modules are unpacked (fs/initramfs.c) and nothing reads
 * them again: gives their memory to the page allocator, as whole 2 MiB
 * chunks (page_add_ram), except a module that overlaps the first MiB or the
 * kernel image.  Returns the bytes given. */
uint64_t bootmem_release_modules(void);

#endif
