/*
 * tests/kernel/test_x86.c - x86-64 platform facts, checked in the booted
 * kernel: page-table permissions, IST use, ACPI, APIC, CPU features.
 */
#include "core/ktest.h"
#include "arch/x86_64/x86_impl.h"
#include "arch/x86_64/acpi_impl.h"

extern const char __kernel_start[], __rodata_start[], __data_start[];

KTEST(x86_null_page_unmapped)
{
	KCHECK(t, !paging_is_mapped(0));
	KCHECK(t, !paging_is_mapped(0x1000));
	KCHECK(t, !paging_is_mapped(0x400000));         /* the lower half is the application's */
}

KTEST(x86_kernel_image_permissions)
{
	uint64_t text = paging_pte((uintptr_t)__kernel_start);
	uint64_t ro = paging_pte((uintptr_t)__rodata_start);
	uint64_t data = paging_pte((uintptr_t)__data_start);

	KCHECK(t, text & 1);
	KCHECK(t, !(text & 2));                         /* text: not writable */
	KCHECK(t, !(text >> 63));                       /* text: executable */
	KCHECK(t, !(ro & 2));                           /* rodata: not writable */
	KCHECK(t, (data & 2));                          /* data: writable */
	if (x86_cpu.nx) {
		KCHECK(t, ro >> 63);                    /* rodata: not executable */
		KCHECK(t, data >> 63);                  /* data: not executable */
	}
	KCHECK(t, read_cr0() & (1 << 16));              /* WP: ring 0 honours read-only */
}

KTEST(x86_direct_map_uses_large_pages)
{
	uint64_t e = paging_pte(PHYS_MAP_BASE + 0x200000);

	KCHECK(t, e & 1);
	KCHECK(t, e & 0x80);                            /* a 2 MiB or 1 GiB page */
	KCHECK(t, paging_pte_level(PHYS_MAP_BASE + 0x200000) == (x86_cpu.pdpe1gb ? 3 : 2) ||
		  paging_pte_level(PHYS_MAP_BASE + 0x200000) == 2);
}

KTEST(x86_every_vector_uses_an_ist_stack)
{
	for (unsigned int v = 0; v < 256; v++)
		KCHECK(t, idt_ist(v) != 0);
	KCHECK(t, this_cpu()->arch.tss.ist[IST_IRQ - 1] != 0);
}

KTEST(x86_sse_and_xsave_enabled)
{
	KCHECK(t, read_cr4() & (1 << 9));               /* OSFXSR */
	if (x86_cpu.xsave) {
		KCHECK(t, read_cr4() & (1 << 18));      /* OSXSAVE */
		KCHECK(t, x86_cpu.xcr0 & 3);
		KCHECK(t, fpu_use_xsave);
	}
}

KTEST(x86_acpi_tables_found)
{
	KCHECK(t, acpi.valid);
	KCHECK(t, acpi.ncpus >= 1);
	KCHECK(t, acpi.lapic_addr != 0);
	KCHECK(t, acpi.nioapics >= 1);
	KCHECK(t, acpi.s5_valid || acpi.hw_reduced);
}

KTEST(x86_apic_ids_unique)
{
	for (unsigned int i = 0; i < ncpus_online; i++) {
		for (unsigned int j = i + 1; j < ncpus_online; j++)
			KCHECK(t, cpus[i].apic_id != cpus[j].apic_id);
	}
	KCHECK_EQ(t, apic_id(), cpus[0].apic_id);
}

static volatile int pit_irqs;

static void on_pit(struct trap_frame *f)
{
	(void)f;
	pit_irqs++;
}

/* The PIT's channel 0 counts down once (mode 0) and raises ISA IRQ 0, which
 * reaches us only through the MADT override (IRQ 0 -> GSI 2 on QEMU) and a
 * correctly programmed IOAPIC entry. */
KTEST(x86_ioapic_routes_isa_irq)
{
	uint64_t end;

	pit_irqs = 0;
	trap_set_irq_handler(VEC_IRQ_BASE, on_pit);
	KCHECK_EQ(t, ioapic_route_isa(0, VEC_IRQ_BASE, 0), 0);
	outb(0x43, 0x30);                       /* channel 0, lo/hi byte, mode 0 */
	outb(0x40, 1193 & 0xff);                /* ~1 ms */
	outb(0x40, 1193 >> 8);
	end = arch_clock_ns() + 1000000000ULL;
	while (!pit_irqs && arch_clock_ns() < end)
		arch_cpu_relax();                       /* interrupts are on in tests */
	KCHECK_EQ(t, ioapic_mask_isa(0), 0);
	trap_set_irq_handler(VEC_IRQ_BASE, NULL);
	KCHECK_EQ(t, pit_irqs, 1);
	KCHECK(t, ioapic_route_isa(200, VEC_IRQ_BASE, 0) < 0);   /* no such pin */
}
