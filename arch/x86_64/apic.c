/*
 * arch/x86_64/apic.c - the local APIC (x2APIC when offered), the IOAPIC and
 * interprocessor interrupts.
 *
 * Interface: apic_init_bsp()/apic_init_ap() enable this CPU's LAPIC;
 * apic_eoi() ends an interrupt; arch_ipi_send(cpu) interrupts another CPU at
 * VEC_IPI; apic_send_init_sipi() starts an AP.  The 8259 PICs are masked:
 * every interrupt goes through the IOAPIC, and all of its inputs start masked
 * until a driver routes one (ioapic_route()).
 */
#include "arch/x86_64/x86_impl.h"
#include "arch/x86_64/acpi_impl.h"

enum {
	APIC_ID = 0x20, APIC_TPR = 0x80, APIC_EOI = 0xb0, APIC_SVR = 0xf0,
	APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310, APIC_LVT_TIMER = 0x320,
	APIC_LVT_LINT0 = 0x350, APIC_LVT_LINT1 = 0x360, APIC_LVT_ERROR = 0x370,
	APIC_TIMER_INIT = 0x380, APIC_TIMER_CUR = 0x390, APIC_TIMER_DIV = 0x3e0,
};
#define APIC_BASE_EXTD   (1 << 10)
#define APIC_BASE_EN     (1 << 11)
#define ICR_PENDING      (1 << 12)
#define LVT_MASKED       (1 << 16)

static volatile uint8_t *lapic_mmio;
static bool use_x2apic;
static void (*ipi_handler)(void);

static uint32_t apic_read(uint32_t reg)
{
	if (use_x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return mmio_read32(lapic_mmio + reg);
}

static void apic_write(uint32_t reg, uint32_t v)
{
	if (use_x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		mmio_write32(lapic_mmio + reg, v);
}

uint32_t apic_id(void)
{
	return use_x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

static void ipi_irq(struct trap_frame *f)
{
	struct cpu *c = this_cpu();

	(void)f;
	c->ipis_received++;
	tlb_shootdown_irq();
	if (c->ipi_fn) {
		void (*fn)(void *) = c->ipi_fn;
		c->ipi_fn = NULL;
		fn(c->ipi_arg);
		__atomic_store_n(&c->ipi_done, true, __ATOMIC_RELEASE);
	}
	if (ipi_handler)
		ipi_handler();
}

static void apic_enable_this_cpu(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_EN;

	if (use_x2apic)
		base |= APIC_BASE_EXTD;
	wrmsr(MSR_APIC_BASE, base);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	apic_write(APIC_LVT_ERROR, LVT_MASKED);
	apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS);    /* software enable */
	this_cpu()->apic_id = apic_id();
	this_cpu()->arch.x2apic = use_x2apic;
}

void apic_init_bsp(void)
{
	uint64_t base = acpi.lapic_addr ? acpi.lapic_addr : (rdmsr(MSR_APIC_BASE) & ~0xfffULL);

	use_x2apic = x86_cpu.x2apic;
	if (!use_x2apic)
		lapic_mmio = arch_map_mmio(base, PAGE_SIZE);
	outb(0x21, 0xff);                 /* mask both 8259s */
	outb(0xa1, 0xff);
	trap_set_irq_handler(VEC_IPI, ipi_irq);
	apic_enable_this_cpu();
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	apic_write(APIC_LVT_LINT1, (4 << 8));   /* NMI */
}

void apic_init_ap(void)
{
	apic_enable_this_cpu();
	apic_write(APIC_LVT_LINT0, LVT_MASKED);
	apic_write(APIC_LVT_LINT1, LVT_MASKED);
}

/* Two register writes in xAPIC mode: an interrupt handler sending an IPI
 * between them would retarget ours, hence interrupts off. */
static void icr_send(uint32_t dest, uint32_t low)
{
	unsigned long flags;

	if (use_x2apic) {
		wrmsr(0x830, ((uint64_t)dest << 32) | low);
		return;
	}
	flags = arch_irq_save();
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, low);
	for (int i = 0; i < 1000000 && (apic_read(APIC_ICR_LO) & ICR_PENDING); i++)
		arch_cpu_relax();
	arch_irq_restore(flags);
}

void apic_send_init_sipi(uint32_t dest, uint8_t page, bool sipi_only)
{
	if (!sipi_only)
		icr_send(dest, 0x4500);           /* INIT, level assert */
	icr_send(dest, 0x4600 | page);        /* STARTUP at page * 4 KiB */
}

void apic_send_init(uint32_t dest)
{
	icr_send(dest, 0x4500);
}

void arch_ipi_send(unsigned int cpu_id)
{
	icr_send(cpus[cpu_id].apic_id, 0x4000 | VEC_IPI);   /* fixed, assert */
}

void arch_ipi_set_handler(void (*fn)(void))
{
	ipi_handler = fn;
}

/* --- LAPIC timer, for time.c --- */

/* Each register write is a VM exit, so the timer's mode (LVT, divider) is
 * written only when it changes; arming is then one write.  Per CPU. */
enum timer_mode { TIMER_OFF, TIMER_DEADLINE, TIMER_COUNT };
static enum timer_mode timer_mode[CONFIG_MAX_CPUS];

static void timer_set_mode(enum timer_mode m)
{
	unsigned int id = this_cpu()->id;

	if (timer_mode[id] == m)
		return;
	timer_mode[id] = m;
	if (m == TIMER_DEADLINE) {
		apic_write(APIC_LVT_TIMER, VEC_TIMER | (2 << 17));
		__asm__ volatile("mfence" : : : "memory");    /* SDM: before the MSR write */
	} else if (m == TIMER_COUNT) {
		apic_write(APIC_TIMER_DIV, 0xb);              /* divide by 1 */
		apic_write(APIC_LVT_TIMER, VEC_TIMER);        /* one-shot */
	} else {
		apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	}
}

void apic_timer_arm_deadline(uint64_t tsc)
{
	timer_set_mode(TIMER_DEADLINE);
	wrmsr(MSR_TSC_DEADLINE, tsc);
}

void apic_timer_arm_count(uint32_t count)
{
	timer_set_mode(TIMER_COUNT);
	apic_write(APIC_TIMER_INIT, count);
}

void apic_timer_stop(void)
{
	if (timer_mode[this_cpu()->id] == TIMER_DEADLINE)
		wrmsr(MSR_TSC_DEADLINE, 0);
	else if (timer_mode[this_cpu()->id] == TIMER_COUNT)
		apic_write(APIC_TIMER_INIT, 0);
}

uint32_t apic_timer_current(void)
{
	return apic_read(APIC_TIMER_CUR);
}

/* --- IOAPICs (every one in the MADT; a GSI belongs to the one whose range holds it) --- */

static struct ioapic {
	volatile uint32_t *mmio;
	uint32_t gsi_base;
	unsigned int pins;
} ioapics[ACPI_MAX_IOAPICS];
static unsigned int nioapics;

static uint32_t ioapic_read(struct ioapic *io, uint32_t reg)
{
	io->mmio[0] = reg;
	return io->mmio[4];
}

static void ioapic_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
	io->mmio[0] = reg;
	io->mmio[4] = v;
}

void ioapic_init(void)
{
	for (unsigned int k = 0; k < acpi.nioapics; k++) {
		struct ioapic *io = &ioapics[nioapics++];

		io->mmio = arch_map_mmio(acpi.ioapic[k].addr, PAGE_SIZE);
		io->gsi_base = acpi.ioapic[k].gsi_base;
		io->pins = ((ioapic_read(io, 1) >> 16) & 0xff) + 1;
		for (unsigned int i = 0; i < io->pins; i++) {
			ioapic_write(io, 0x10 + 2 * i, LVT_MASKED);
			ioapic_write(io, 0x11 + 2 * i, 0);
		}
	}
}

static struct ioapic *ioapic_for(uint32_t gsi, unsigned int *pin)
{
	for (unsigned int k = 0; k < nioapics; k++) {
		struct ioapic *io = &ioapics[k];
		if (gsi >= io->gsi_base && gsi - io->gsi_base < io->pins) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

/* The IOAPIC and input for an ISA IRQ (through the MADT overrides), with
 * the polarity and trigger bits of its redirection entry; NULL if none. */
static struct ioapic *isa_pin(unsigned int irq, unsigned int *pin, uint32_t *flags)
{
	/* IRQ 0 (the PIT) is wired to input 2 on PC chipsets and in QEMU's
	 * IOAPIC model; QEMU's microvm omits the MADT override that says so. */
	uint32_t gsi = irq == 0 ? 2 : irq;

	*flags = 0;
	for (unsigned int i = 0; i < acpi.niso; i++) {
		if (acpi.iso[i].irq != irq)
			continue;
		gsi = acpi.iso[i].gsi;
		if ((acpi.iso[i].flags & 3) == 3)
			*flags |= 1 << 13;             /* active low */
		if (((acpi.iso[i].flags >> 2) & 3) == 3)
			*flags |= 1 << 15;             /* level */
	}
	return ioapic_for(gsi, pin);
}

/* Routes ISA IRQ `irq` to `vector` on CPU `cpu`. */
int ioapic_route_isa(unsigned int irq, unsigned int vector, unsigned int cpu)
{
	uint32_t flags;
	unsigned int pin;
	struct ioapic *io = isa_pin(irq, &pin, &flags);

	if (!io || cpu >= CONFIG_MAX_CPUS || !cpus[cpu].online)
		return -ENODEV;
	ioapic_write(io, 0x11 + 2 * pin, cpus[cpu].apic_id << 24);
	ioapic_write(io, 0x10 + 2 * pin, vector | flags);
	return 0;
}

/* Masks ISA IRQ `irq` again. */
int ioapic_mask_isa(unsigned int irq)
{
	uint32_t flags;
	unsigned int pin;
	struct ioapic *io = isa_pin(irq, &pin, &flags);

	if (!io)
		return -ENODEV;
	ioapic_write(io, 0x10 + 2 * pin, LVT_MASKED);
	return 0;
}
