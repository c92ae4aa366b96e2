/*
 * arch/x86_64/smp.c - starting the other CPUs.
 *
 * Interface: arch_smp_start() starts every CPU the MADT lists, in parallel
 * (INIT to all, STARTUP to all, wait; a second STARTUP only for those that
 * have not arrived), and returns how many CPUs run.  Each AP sets up its own
 * GDT, TSS, IST stacks, GS base and LAPIC, says it is online, and idles
 * waiting for interrupts (the scheduler issue gives it threads to run).
 */
#include "arch/x86_64/x86_impl.h"
#include "arch/x86_64/acpi_impl.h"
#include "core/bootmem.h"

#define TRAMPOLINE_PA    0x8000
#define AP_STACK_SIZE    16384
#define FIRST_WAIT_NS    10000000ULL     /* 10 ms */
#define SECOND_WAIT_NS   100000000ULL    /* 100 ms */

extern const char smp_trampoline_start[], smp_trampoline_end[];
extern const char tr_cr3[], tr_efer[], tr_ticket[], tr_stacks[], tr_entry[];

unsigned int ncpus_online = 1;

/* The APs' struct cpu must be set up before they run: kernel_ap_main needs
 * them and the scheduler (sched_init runs before arch_smp_start). */

static void *tramp_field(const char *sym)
{
	return (char *)arch_phys_to_virt(TRAMPOLINE_PA) + (sym - smp_trampoline_start);
}

static struct cpu *cpu_by_apic_id(uint32_t id)
{
	for (unsigned int i = 0; i < arch_ncpus_possible(); i++) {
		if (cpus[i].apic_id == id)
			return &cpus[i];
	}
	return NULL;
}

static uint32_t my_apic_id(void)
{
	if (x86_cpu.x2apic && x86_cpu.max_leaf >= 0xb)
		return cpuid(0xb, 0).edx;
	return cpuid(1, 0).ebx >> 24;
}

static __noreturn void ap_park(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

static bool aps_released;               /* the trampoline's identity map is gone */

__noreturn void smp_ap_entry(void)
{
	struct cpu *c = cpu_by_apic_id(my_apic_id());

	if (!c || c->id == 0)
		ap_park();           /* not one we started: stay out of the way */
	cpu_set_gs_base(c);
	cpu_enable_fpu();
	cpu_init_tables(c, c->arch.ist_block, IST_BLOCK_SIZE);
	apic_init_ap();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	__atomic_fetch_add(&ncpus_online, 1, __ATOMIC_RELAXED);
	while (!__atomic_load_n(&aps_released, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	arch_tlb_flush_all();        /* forget the trampoline's identity mapping */
	kernel_ap_main();
}

/* Gives each AP its APIC id, IST block and boot stack. */
static int prepare_aps(unsigned int n, uint64_t *stacks)
{
	uint32_t bsp = cpus[0].apic_id;
	unsigned int k = 1;

	for (unsigned int i = 0; i < acpi.ncpus && k < n; i++) {
		if (acpi.cpu_apic_id[i] == bsp)
			continue;
		struct cpu *c = &cpus[k];
		uint64_t ist = bootmem_alloc(IST_BLOCK_SIZE, PAGE_SIZE, ~0ULL);
		uint64_t stk = bootmem_alloc(AP_STACK_SIZE, PAGE_SIZE, ~0ULL);
		if (!ist || !stk)
			return -ENOMEM;
		c->id = k;
		c->apic_id = acpi.cpu_apic_id[i];
		c->arch.ist_block = (uintptr_t)arch_phys_to_virt(ist);
		stacks[k - 1] = (uintptr_t)arch_phys_to_virt(stk) + AP_STACK_SIZE;
		k++;
	}
	return k == n ? 0 : -ENODEV;
}

static void install_trampoline(uint64_t *stacks)
{
	memcpy(arch_phys_to_virt(TRAMPOLINE_PA), smp_trampoline_start,
	       (size_t)(smp_trampoline_end - smp_trampoline_start));
	*(uint32_t *)tramp_field(tr_cr3) = (uint32_t)read_cr3();
	*(uint32_t *)tramp_field(tr_efer) = (1 << 8) | (x86_cpu.nx ? (1 << 11) : 0);
	*(uint32_t *)tramp_field(tr_ticket) = 0;
	*(uint64_t *)tramp_field(tr_stacks) = (uintptr_t)stacks;
	*(uint64_t *)tramp_field(tr_entry) = (uintptr_t)smp_ap_entry;
	paging_identity_map_low(TRAMPOLINE_PA, true);
}

/* The STARTUP IPI needs a page below 1 MiB: ours must be RAM that nothing
 * else uses (bootmem keeps the first MiB for it; a boot module might not). */
static bool trampoline_page_free(void)
{
	return boot_ram_contains(TRAMPOLINE_PA, PAGE_SIZE);
}

static unsigned int wait_online(unsigned int n, uint64_t timeout_ns)
{
	uint64_t end = arch_clock_ns() + timeout_ns;
	unsigned int up;

	while ((up = __atomic_load_n(&ncpus_online, __ATOMIC_ACQUIRE)) < n && arch_clock_ns() < end)
		arch_cpu_relax();
	return up;
}

/* CPUs that did not come up are sent INIT (which holds them until another
 * STARTUP), so that none arrives late, and stay offline. */
static void stop_stragglers(unsigned int n)
{
	for (unsigned int i = 1; i < n; i++) {
		if (__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
			continue;
		apic_send_init(cpus[i].apic_id);
		printk("skiff: cpu %u (APIC id %u) did not start; it stays offline\n",
		       i, cpus[i].apic_id);
	}
}

int arch_smp_start(void)
{
	unsigned int n = arch_ncpus_possible();
	uint64_t *stacks;

	if (acpi.cpus_truncated || acpi.ncpus > CONFIG_MAX_CPUS) {
		printk("skiff: the machine has %s%u CPUs, but this kernel supports at most %u; "
		       "rebuild with `make CONFIG_MAX_CPUS=<n>` or start QEMU with fewer\n",
		       acpi.cpus_truncated ? "more than " : "", acpi.ncpus, CONFIG_MAX_CPUS);
		return -E2BIG;
	}
	if (n <= 1)
		return 1;
	uint64_t stacks_pa = bootmem_alloc(n * sizeof(*stacks), 8, ~0ULL);

	if (!stacks_pa || !trampoline_page_free()) {
		printk("skiff: no memory for starting the other CPUs; running on one\n");
		return 1;
	}
	stacks = arch_phys_to_virt(stacks_pa);
	if (prepare_aps(n, stacks)) {
		printk("skiff: cannot prepare %u CPUs (MADT or memory); running on one\n", n);
		return 1;
	}
	install_trampoline(stacks);
	for (unsigned int i = 1; i < n; i++)
		apic_send_init_sipi(cpus[i].apic_id, TRAMPOLINE_PA >> 12, false);
	if (wait_online(n, FIRST_WAIT_NS) < n) {
		for (unsigned int i = 1; i < n; i++) {
			if (!__atomic_load_n(&cpus[i].online, __ATOMIC_ACQUIRE))
				apic_send_init_sipi(cpus[i].apic_id, TRAMPOLINE_PA >> 12, true);
		}
	}
	if (wait_online(n, SECOND_WAIT_NS) < n)
		stop_stragglers(n);
	paging_identity_map_low(TRAMPOLINE_PA, false);
	__atomic_store_n(&aps_released, true, __ATOMIC_RELEASE);
	return (int)ncpus_online;
}
