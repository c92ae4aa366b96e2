/*
 * core/boot.h - what the boot loader told us, in one protocol-neutral form.
 *
 * Interface: the arch entry code parses its boot protocol (PVH start_info or
 * a Multiboot2 information block) into a struct boot_info and hands it to
 * kernel_main().  Generic code never looks at protocol structures.  Physical
 * addresses stay physical here; the consumer maps them.
 */
#ifndef CORE_BOOT_H
#define CORE_BOOT_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define BOOT_CMDLINE_MAX 1024
#define BOOT_MEM_MAX     64
#define BOOT_MOD_MAX     8

enum boot_mem_type {
	BOOT_MEM_RAM = 1,      /* usable */
	BOOT_MEM_RESERVED = 2,
	BOOT_MEM_ACPI = 3,     /* ACPI reclaimable */
	BOOT_MEM_NVS = 4,
	BOOT_MEM_UNUSABLE = 5,
};

struct boot_mem_range {
	uint64_t base;
	uint64_t len;
	uint32_t type;         /* enum boot_mem_type */
};

struct boot_module {
	uint64_t start;        /* physical, inclusive */
	uint64_t end;          /* physical, exclusive */
	char name[64];         /* the module's command line, possibly cut */
};

struct boot_info {
	const char *protocol;  /* "pvh" or "multiboot2" */
	char cmdline[BOOT_CMDLINE_MAX];
	struct boot_mem_range mem[BOOT_MEM_MAX];
	unsigned int nmem;
	struct boot_module mod[BOOT_MOD_MAX];
	unsigned int nmod;
	unsigned int mod_ignored;   /* malformed modules (or past BOOT_MOD_MAX), left out */
	const char *mod_problem;    /* the first one's problem, for the console; or NULL */
	uint64_t rsdp;         /* physical address of the ACPI RSDP, 0 if unknown */
	uint8_t rsdp_copy[36]; /* Multiboot2 passes a copy of the RSDP, not its address */
	bool has_rsdp_copy;
	bool cmdline_truncated;
	bool mem_truncated;
};

/*
 * Protocol parsers (arch/x86_64).  They read the loader's structures through
 * boot_phys_to_virt() so that host unit tests can feed them ordinary memory.
 * Return 0, or -EINVAL for a malformed or absent structure (the message for
 * the console is left in *why).
 */
int boot_parse_pvh(uint64_t start_info_pa, struct boot_info *bi, const char **why);
int boot_parse_multiboot2(uint64_t info_pa, struct boot_info *bi, const char **why);

/* Reads boot-loader memory: NULL when [pa, pa+len) is not reachable yet. */
const void *boot_phys_to_virt(uint64_t pa, uint64_t len);

/* Modules are checked as the rest: one that is empty, ends before it
 * starts, wraps, lies outside usable RAM or comes after BOOT_MOD_MAX others
 * (or a PVH module list that is absurdly long or unreadable) is left out
 * and counted in mod_ignored, never an error: the kernel boots without it.
 * The modules kept lie wholly inside RAM ranges of the normalized map. */

/* Cuts out of RAM whatever another range overlaps, sorts, merges touching
 * ranges of one type and trims RAM to whole pages; used by both parsers. */
void boot_mem_normalize(struct boot_info *bi);

#endif
