/*
 * arch/x86_64/time.c - the monotonic clock and the one-shot timer.
 *
 * The clock is the TSC, scaled to nanoseconds since the first kernel
 * instruction.  Its rate comes from, in order: CPUID (leaf 0x15/0x16 or the
 * hypervisor timing leaf), kvmclock, or a calibration against the ACPI PM
 * timer, the HPET or the PIT.  A boot-time calibration must be short, so
 * it takes 200 us (measured within 0.1% of the host's rate under TCG); it is
 * not refined later (that would need a re-base that readers on other CPUs
 * see consistently: a seqcount).
 *
 * The timer is one-shot: TSC-deadline mode where offered, else the LAPIC
 * count-down, whose rate is measured against the TSC.
 */
#include "arch/x86_64/x86_impl.h"
#include "arch/x86_64/acpi_impl.h"
#include "core/cmdline.h"

#define PM_TIMER_HZ     3579545ULL
#define PIT_HZ          1193182ULL
#define CALIBRATE_NS    200000ULL      /* boot-time calibration window */
#define CALIBRATE_WARMUP_NS 20000ULL   /* a first, discarded round (see calibrate()) */
#define CALIBRATE_APIC_NS 100000ULL    /* LAPIC timer against the TSC */
#define MAX_TIMER_NS    (3600ULL * 1000000000ULL)   /* arm at most an hour ahead */

/* ns per TSC tick, 32.32 fixed point: ns since boot = (tsc - boot_tsc) *
 * arch_tsc_mult >> 32 (arch_clock_ns, inline in arch_defs.h). */
uint64_t arch_tsc_mult;

static struct {
	uint64_t inv_mult;                 /* TSC ticks per ns, 32.32 fixed point */
	uint64_t tsc_khz;
	const char *source;
	uint64_t apic_ticks_per_ms;        /* LAPIC count-down rate, divide by 1 */
	uint64_t ref_count0;               /* the reference at the calibration's start */
	uint64_t (*ref_read)(void);
	uint64_t ref_hz, ref_mask;
} clk;

static void (*timer_handler)(void);

/* Set once, at boot, before any other CPU reads the clock. */
static void set_rate(uint64_t tsc_hz)
{
	arch_tsc_mult = (1000000000ULL << 32) / tsc_hz;     /* fits: 2^62 / hz */
	/* (hz << 32) / 1e9 without a 128-bit division (the kernel has no libgcc) */
	clk.inv_mult = ((tsc_hz / 1000000000ULL) << 32) +
		       ((tsc_hz % 1000000000ULL) << 32) / 1000000000ULL;
	clk.tsc_khz = tsc_hz / 1000;
}

uint64_t arch_tsc_to_ns(uint64_t d)
{
	return (uint64_t)(((unsigned __int128)d * arch_tsc_mult) >> 32);
}

uint64_t arch_tsc_khz(void)
{
	return clk.tsc_khz;
}

static uint64_t pm_timer_read(void)
{
	return inl((uint16_t)acpi.pm_timer_port);
}

static volatile uint8_t *hpet;
static uint64_t hpet_hz;

static uint64_t hpet_read(void)
{
	return mmio_read64(hpet + 0xf0);
}

static bool hpet_setup(void)
{
	uint64_t cap, period_fs;

	if (!acpi.hpet_addr)
		return false;
	hpet = arch_map_mmio(acpi.hpet_addr, PAGE_SIZE);
	cap = mmio_read64(hpet);
	period_fs = cap >> 32;
	if (period_fs == 0 || period_fs > 100000000ULL)
		return false;
	hpet_hz = 1000000000000000ULL / period_fs;
	mmio_write64(hpet + 0x10, mmio_read64(hpet + 0x10) | 1);   /* ENABLE_CNF */
	return true;
}

/* PIT channel 2, gated through port 0x61, counting down from 0xffff. */
static uint64_t pit_count;
static uint16_t pit_last;

static uint64_t pit_read(void)
{
	uint16_t v;

	outb(0x43, 0x80);                    /* latch channel 2 */
	v = inb(0x42);
	v |= (uint16_t)inb(0x42) << 8;
	pit_count += (uint16_t)(pit_last - v);
	pit_last = v;
	return pit_count;
}

static void pit_setup(void)
{
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);   /* gate on, speaker off */
	outb(0x43, 0xb4);                          /* channel 2, lo/hi, mode 2 */
	outb(0x42, 0xff);
	outb(0x42, 0xff);
	pit_last = 0xffff;
	pit_count = 0;
}

/* Reference clock number i (PM timer, HPET, PIT); false when absent. */
static bool use_reference(int i)
{
	if (i == 0 && acpi.pm_timer_port) {
		clk.ref_read = pm_timer_read;
		clk.ref_hz = PM_TIMER_HZ;
		clk.ref_mask = acpi.pm_timer_32bit ? 0xffffffffULL : 0xffffffULL;
		clk.source = "ACPI PM timer";
	} else if (i == 1 && hpet_setup()) {
		clk.ref_read = hpet_read;
		clk.ref_hz = hpet_hz;
		clk.ref_mask = ~0ULL;
		clk.source = "HPET";
	} else if (i == 2) {
		pit_setup();
		clk.ref_read = pit_read;      /* wraps every 55 ms: read it often */
		clk.ref_hz = PIT_HZ;
		clk.ref_mask = ~0ULL;
		clk.source = "PIT";
	} else {
		return false;
	}
	return true;
}

static uint64_t ref_elapsed(uint64_t now)
{
	return (now - clk.ref_count0) & clk.ref_mask;
}

/* Counts TSC ticks over window_ns of the reference clock, and LAPIC timer
 * ticks too where the timer will count down (no TSC-deadline mode).
 * Returns the TSC rate in Hz, or 0 when the reference does not move (a
 * broken device must not hang the boot).  Call it twice and keep the second
 * answer: under QEMU's TCG the first pass also pays for translating the code
 * between the reference read and the TSC read, which skews it by tens of
 * percent (measured: 1.5 GHz instead of 2.6 GHz). */
/* One reference sample and the TSC at its middle: a device read takes a
 * microsecond or more under emulation, longer than a PM timer tick.  A read
 * that took very long (the host descheduled us in the middle of it) says
 * little about when the device was sampled: it is taken again. */
#define SLOW_READ_TICKS 50000           /* ~20 us at 2.5 GHz */

static uint64_t ref_sample(uint64_t *tsc_mid)
{
	uint64_t before, after, c;
	int tries = 0;

	do {
		before = arch_tsc();
		c = clk.ref_read();
		after = arch_tsc();
	} while (after - before > SLOW_READ_TICKS && ++tries < 8);
	*tsc_mid = before + (after - before) / 2;
	return c;
}

static uint64_t calibrate(uint64_t window_ns)
{
	const uint64_t limit = 1ULL << 28;          /* TSC ticks: ~0.1 s at 2.6 GHz */
	uint64_t want = clk.ref_hz * window_ns / 1000000000ULL;
	uint64_t t0, c, t, ticks;

	if (!x86_cpu.tsc_deadline)
		apic_timer_arm_count(0xffffffffu);
	clk.ref_count0 = ref_sample(&t0);
	do {
		c = ref_sample(&t);
		if (t - t0 > limit)
			return 0;
	} while ((ticks = ref_elapsed(c)) < want);
	if (!x86_cpu.tsc_deadline) {
		uint64_t apic = 0xffffffffu - apic_timer_current();
		apic_timer_stop();
		clk.apic_ticks_per_ms = apic * clk.ref_hz / ticks / 1000;
	}
	return (t - t0) * clk.ref_hz / ticks;
}

/* The kernel option clock=pm|hpet|pit picks one reference (for tests, and
 * for platforms whose first choice misbehaves); -1 when not given. */
static int forced_reference(void)
{
	static const char *const names[] = { "pm", "hpet", "pit" };
	const char *v = cmdline_option(kernel_cmdline(), "clock");

	for (int i = 0; v && i < 3; i++) {
		if (strcmp(v, names[i]) == 0)
			return i;
	}
	if (v)
		printk("skiff: clock=%s is not one of pm, hpet, pit; ignored\n", v);
	return -1;
}

static bool reference_present(int i)
{
	return i == 2 || (i == 0 && acpi.pm_timer_port) || (i == 1 && acpi.hpet_addr);
}

static uint64_t calibrate_against_references(void)
{
	int only = forced_reference();

	if (only >= 0 && !reference_present(only)) {
		printk("skiff: clock=%s: this machine does not have it\n",
		       cmdline_option(kernel_cmdline(), "clock"));
		only = -1;
	}
	for (int i = 0; i < 3; i++) {
		if ((only >= 0 && i != only) || !use_reference(i))
			continue;
		calibrate(CALIBRATE_WARMUP_NS);
		uint64_t hz = calibrate(CALIBRATE_NS);
		if (hz)
			return hz;
		printk("skiff: the %s does not count; trying another clock\n", clk.source);
	}
	clk.ref_read = NULL;
	printk("skiff: no reference clock counts; assuming a 1 GHz TSC\n");
	clk.source = "a guess";
	clk.apic_ticks_per_ms = 1000000;
	return 1000000000ULL;
}

static uint64_t kvmclock_tsc_hz(void)
{
	static volatile struct {
		uint32_t version, pad0;
		uint64_t tsc_timestamp, system_time;
		uint32_t mul;
		int8_t shift;
		uint8_t flags, pad[2];
	} __attribute__((aligned(64))) pv;
	uint64_t hz;

	uint64_t t0 = arch_tsc();

	wrmsr(MSR_KVM_SYSTEM_TIME, arch_virt_to_phys((const void *)&pv) | 1);
	while ((pv.version == 0 || (pv.version & 1)) && arch_tsc() - t0 < (1ULL << 28))
		arch_cpu_relax();
	wrmsr(MSR_KVM_SYSTEM_TIME, 0);
	if (pv.version == 0 || (pv.version & 1) || !pv.mul || pv.shift > 31 || pv.shift < -31)
		return 0;                       /* the hypervisor did not answer sensibly */
	hz = (1000000000ULL << 32) / pv.mul;
	hz = pv.shift < 0 ? hz << -pv.shift : hz >> pv.shift;
	return hz > 10000000ULL && hz < 100000000000ULL ? hz : 0;
}

static void timer_irq(struct trap_frame *f)
{
	(void)f;
	this_cpu()->timer_irqs++;
	if (timer_handler)
		timer_handler();
}

/* LAPIC count-down ticks per ms, measured against the TSC; like
 * calibrate(), run twice and keep the second (TCG translation skew). */
static uint64_t calibrate_apic_timer(uint64_t window_ns)
{
	uint64_t t0, wait = clk.tsc_khz * window_ns / 1000000;
	uint32_t left;

	apic_timer_arm_count(0xffffffffu);
	t0 = arch_tsc();
	while (arch_tsc() - t0 < wait)
		;
	left = apic_timer_current();
	apic_timer_stop();
	return (uint64_t)(0xffffffffu - left) * 1000000 / window_ns;
}

void time_init(void)
{
	uint64_t hz;

	if (forced_reference() >= 0) {
		hz = calibrate_against_references();
	} else if (x86_cpu.tsc_khz_cpuid) {
		hz = (uint64_t)x86_cpu.tsc_khz_cpuid * 1000;
		clk.source = "CPUID";
	} else if (x86_cpu.kvmclock && (hz = kvmclock_tsc_hz())) {
		clk.source = "kvmclock";
	} else {
		hz = calibrate_against_references();
	}
	set_rate(hz);
	trap_set_irq_handler(VEC_TIMER, timer_irq);
	if (!x86_cpu.tsc_deadline && !clk.apic_ticks_per_ms) {
		calibrate_apic_timer(CALIBRATE_WARMUP_NS);
		clk.apic_ticks_per_ms = calibrate_apic_timer(CALIBRATE_APIC_NS);
	}
}

const char *time_source(void)
{
	return clk.source;
}

arch_timer_fn arch_timer_set_handler(arch_timer_fn fn)
{
	arch_timer_fn old = timer_handler;

	timer_handler = fn;
	return old;
}

void arch_timer_oneshot(uint64_t deadline_ns)
{
	uint64_t now = arch_clock_ns(), delta;

	if (!deadline_ns) {
		apic_timer_stop();
		return;
	}
	delta = deadline_ns > now ? deadline_ns - now : 1;
	delta = MIN(delta, MAX_TIMER_NS);       /* beyond: fire early, re-arm then */
	if (x86_cpu.tsc_deadline) {
		apic_timer_arm_deadline(arch_tsc() + (uint64_t)(((unsigned __int128)delta * clk.inv_mult) >> 32) + 1);
		return;
	}
	uint64_t ticks = delta / 1000 * clk.apic_ticks_per_ms / 1000 + 1;   /* < 2^64 for an hour */
	apic_timer_arm_count((uint32_t)MIN(ticks, 0xffffffffULL));
}
