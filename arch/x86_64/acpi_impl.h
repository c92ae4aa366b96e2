/*
 * arch/x86_64/acpi_impl.h - the ACPI facts Skiff needs, parsed from tables.
 *
 * Interface: acpi_parse() walks RSDP -> XSDT/RSDT -> MADT, FADT (-> DSDT),
 * HPET and fills struct acpi_info.  It reads tables only through
 * boot_phys_to_virt(), checks every signature, length and checksum, and never
 * trusts a length to stay inside a table.  Tables are read through the
 * acpi_map() hook (NULL: treat the table as absent).  A missing or corrupt table is not
 * fatal: the field stays at its "absent" value and the caller falls back.
 * Pure logic, no hardware access: host unit tests feed it synthetic tables.
 */
#ifndef ARCH_X86_64_ACPI_IMPL_H
#define ARCH_X86_64_ACPI_IMPL_H

#include <stdint.h>
#include <stdbool.h>

#define ACPI_MAX_CPUS     256
#define ACPI_MAX_IOAPICS  8
#define ACPI_MAX_ISO      16   /* interrupt source overrides */

struct acpi_ioapic {
	uint8_t id;
	uint64_t addr;          /* physical MMIO base */
	uint32_t gsi_base;
};

struct acpi_iso {               /* ISA IRQ -> GSI override */
	uint8_t irq;
	uint32_t gsi;
	uint16_t flags;         /* MPS INTI flags: polarity bits 0-1, trigger 2-3 */
};

/* A generic address (FADT GAS), reduced to what we use. */
struct acpi_gas {
	uint8_t space;          /* 0 = system memory, 1 = system I/O; 0xff = absent */
	uint8_t bit_width;
	uint64_t addr;
};

struct acpi_info {
	bool valid;                     /* an RSDP with a good checksum was found */
	uint8_t revision;               /* RSDP revision */
	char oem_id[7];

	/* MADT */
	uint64_t lapic_addr;            /* 0 if no MADT */
	uint32_t cpu_apic_id[ACPI_MAX_CPUS];   /* enabled CPUs, in MADT order */
	unsigned int ncpus;
	unsigned int ncpus_hotplug;     /* online-capable slots: absent, not started */
	bool cpus_truncated;            /* the MADT listed more than ACPI_MAX_CPUS */
	struct acpi_ioapic ioapic[ACPI_MAX_IOAPICS];
	unsigned int nioapics;
	struct acpi_iso iso[ACPI_MAX_ISO];
	unsigned int niso;
	bool has_8259;                  /* MADT flags PCAT_COMPAT */

	/* FADT */
	bool hw_reduced;                /* FADT flags bit 20 */
	uint32_t pm_timer_port;         /* 0 if none (X_PM_TMR_BLK preferred when I/O space) */
	bool pm_timer_32bit;            /* FADT flags TMR_VAL_EXT */
	uint32_t pm1a_cnt_port;         /* 0 if none */
	uint32_t pm1b_cnt_port;         /* 0 if none */
	struct acpi_gas sleep_control;  /* HW-reduced sleep control register; space 0xff if absent */
	struct acpi_gas reset_reg;      /* space 0xff if absent */
	uint8_t reset_value;

	/* DSDT \_S5_ package: SLP_TYPa/b; s5_valid false if not found */
	bool s5_valid;
	uint8_t s5_slp_typa, s5_slp_typb;

	/* HPET */
	uint64_t hpet_addr;             /* 0 if none */
};

/* Maps a physical range for reading; the kernel uses its direct map. */
const void *acpi_map(uint64_t pa, uint64_t len);

/* Fills *ai from the RSDP at rsdp_pa.  0 on success, -ENOENT when no valid RSDP,
 * other tables missing are not errors (their fields stay absent). */
int acpi_parse(uint64_t rsdp_pa, struct acpi_info *ai);

/* Checks a candidate RSDP in memory (signature, v1 checksum, v2 extended checksum). */
bool acpi_rsdp_valid(const void *p, uint64_t avail_len);

/* Finds "RSD PTR " in a buffer on 16-byte boundaries (the BIOS-area scan);
 * returns the offset, or -ENOENT when there is none. */
long acpi_rsdp_scan(const void *buf, uint64_t len);

#endif
