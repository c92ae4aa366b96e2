/*
 * core/bootmem.h - the boot-time frame allocator.
 *
 * Interface: bootmem_init(bi) learns RAM from the boot memory map and keeps
 * out the kernel image, boot modules and the first MiB; bootmem_alloc()
 * hands out zeroed, aligned physical memory in address order, O(1) and
 * without touching any memory it does not hand out (boot time must not grow
 * with RAM).  The page allocator (core/mm) takes over from it and asks
 * bootmem_used_end() which memory is already spoken for.
 */
#ifndef CORE_BOOTMEM_H
#define CORE_BOOTMEM_H

#include <stdint.h>
#include "core/boot.h"

void bootmem_init(const struct boot_info *bi, uint64_t kernel_start_pa, uint64_t kernel_end_pa);
uint64_t bootmem_alloc(uint64_t size, uint64_t align, uint64_t max_pa);   /* 0 when none */
uint64_t bootmem_ram_bytes(void);       /* usable RAM in the memory map */
uint64_t bootmem_ram_top(void);         /* end of the highest usable range */

#endif
