/*
 * arch/x86_64/setup.c - from boot.S to kernel_main, and platform bring-up.
 *
 * arch_boot_main() runs first, on the boot CPU: per-CPU base, console, CPU
 * features, descriptor tables (so exceptions are reported from here on), and
 * the boot protocol.  arch_platform_init() is kernel_main's first call: memory
 * map, page tables, ACPI, interrupt controllers, clock, power-off.
 */
#include "arch/x86_64/x86_impl.h"
#include "arch/x86_64/acpi_impl.h"
#include "core/boot.h"
#include "core/bootmem.h"

void kernel_main(struct boot_info *bi);

struct cpu cpus[CONFIG_MAX_CPUS];
struct acpi_info acpi;
static struct boot_info boot_info;
static uint8_t bsp_ist[IST_BLOCK_SIZE] __attribute__((aligned(16)));

extern const char __kernel_start[], __kernel_end[];

/* Before paging_init() only the first GiB is mapped (boot.S). */
const void *boot_phys_to_virt(uint64_t pa, uint64_t len)
{
	if (pa == 0 || pa + len < pa || pa + len > GIANT_PAGE_SIZE)
		return NULL;
	return arch_phys_to_virt(pa);
}

static void boot_fail(const char *why)
{
	printk("skiff: cannot boot: %s\n", why);
	acpi_init(&boot_info);          /* best effort, for ACPI power-off */
	arch_exit_panic();
}

void arch_boot_main(uint32_t proto, uint32_t info_pa)
{
	const char *why = NULL;
	int err;

	cpu_set_gs_base(&cpus[0]);
	cpus[0].online = true;
	serial_init();
	cpu_detect_features();
	cpu_init_tables(&cpus[0], (uintptr_t)bsp_ist, sizeof(bsp_ist));
	boot_mark("early arch");
	if (proto == BOOT_PROTO_PVH)
		err = boot_parse_pvh(info_pa, &boot_info, &why);
	else if (proto == BOOT_PROTO_MB2)
		err = boot_parse_multiboot2(info_pa, &boot_info, &why);
	else
		err = -EINVAL, why = "started by an unknown boot loader (neither PVH nor Multiboot2)";
	if (err)
		boot_fail(why);
	kernel_main(&boot_info);
}

const void *acpi_map(uint64_t pa, uint64_t len)
{
	if (!pa || pa + len < pa)
		return NULL;
	return arch_map_phys(pa, len);
}

/* The RSDP: from the loader, or by the BIOS-area scan (EBDA, E0000-FFFFF). */
static uint64_t find_rsdp(const struct boot_info *bi)
{
	static const struct { uint64_t start, len; } areas[] = {
		{ 0x9fc00, 0x400 }, { 0xe0000, 0x20000 },
	};

	if (bi->has_rsdp_copy)
		return arch_virt_to_phys(bi->rsdp_copy);
	if (bi->rsdp)
		return bi->rsdp;
	for (unsigned int i = 0; i < ARRAY_SIZE(areas); i++) {
		const void *p = arch_map_phys(areas[i].start, areas[i].len);
		long off = acpi_rsdp_scan(p, areas[i].len);
		if (off >= 0)
			return areas[i].start + (uint64_t)off;
	}
	return 0;
}

void acpi_init(const struct boot_info *bi)
{
	uint64_t rsdp = find_rsdp(bi);

	if (!rsdp || acpi_parse(rsdp, &acpi) != 0) {
		printk("skiff: no usable ACPI tables; one CPU, no ACPI power-off\n");
		acpi.sleep_control.space = acpi.reset_reg.space = 0xff;
	}
}

void arch_platform_init(struct boot_info *bi)
{
	bootmem_init(bi, arch_virt_to_phys(__kernel_start), arch_virt_to_phys(__kernel_end));
	paging_init(bi);
	boot_mark("page tables");
	acpi_init(bi);
	power_init();
	boot_mark("ACPI");
	apic_init_bsp();
	ioapic_init();
	boot_mark("APIC");
	time_init();
	boot_mark("clock");
}

bool boot_ram_contains(uint64_t pa, uint64_t len)
{
	bool ram = false;

	for (unsigned int i = 0; i < boot_info.nmem; i++) {
		const struct boot_mem_range *r = &boot_info.mem[i];
		if (r->type == BOOT_MEM_RAM && r->base <= pa && r->base + r->len >= pa + len)
			ram = true;
	}
	for (unsigned int i = 0; i < boot_info.nmod; i++) {
		if (boot_info.mod[i].start < pa + len && boot_info.mod[i].end > pa)
			return false;
	}
	return ram;
}

unsigned int arch_ncpus_possible(void)
{
	return acpi.ncpus ? MIN(acpi.ncpus, (unsigned int)CONFIG_MAX_CPUS) : 1;
}

uint64_t arch_boot_tsc(void)
{
	return boot_tsc;
}

void arch_describe(void)
{
	printk("skiff: cpu %s%s%s%s%s%s%s, clock %s at %lu kHz, xsave area %u bytes\n",
	       x86_cpu.vendor, x86_cpu.x2apic ? " x2apic" : "", x86_cpu.tsc_deadline ? " tsc-deadline" : "",
	       x86_cpu.pdpe1gb ? " 1g-pages" : "", x86_cpu.nx ? " nx" : "",
	       x86_cpu.avx ? " avx" : "", x86_cpu.invariant_tsc ? " invariant-tsc" : "",
	       time_source(), arch_tsc_khz(), x86_cpu.xsave_size);
}
