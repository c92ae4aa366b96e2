/*
 * arch/x86_64/cpu.c - CPU features and the per-CPU descriptor tables.
 *
 * Interface: cpu_detect_features() once on the boot CPU fills x86_cpu and
 * finishes FPU set-up (boot.S already turned on SSE, XSAVE and AVX);
 * cpu_init_tables() gives a CPU its GDT, TSS and IST stacks, and loads them
 * with the shared IDT, in which every vector runs on an IST stack.
 */
#include "arch/x86_64/x86_impl.h"

struct x86_features x86_cpu;

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_entry idt[256] __attribute__((aligned(16)));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static uint32_t cpuid_tsc_khz(void)
{
	if (x86_cpu.max_leaf >= 0x15) {
		struct cpuid_regs r = cpuid(0x15, 0);
		if (r.eax && r.ebx && r.ecx)
			return (uint32_t)((uint64_t)r.ecx * r.ebx / r.eax / 1000);
	}
	if (x86_cpu.hypervisor && cpuid(0x40000000, 0).eax >= 0x40000010) {
		struct cpuid_regs r = cpuid(0x40000010, 0);
		if (r.eax)
			return r.eax;          /* TSC kHz, VMware-style timing leaf */
	}
	return 0;
}

static void detect_hypervisor(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);
	char sig[13];

	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	if (strcmp(sig, "KVMKVMKVM") == 0 && r.eax >= 0x40000001)
		x86_cpu.kvmclock = cpuid(0x40000001, 0).eax & (1 << 3);  /* CLOCKSOURCE2 */
}

static void detect_fpu(void)
{
	uint32_t lo, hi;

	if (!x86_cpu.xsave)
		return;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	x86_cpu.xcr0 = ((uint64_t)hi << 32) | lo;
	x86_cpu.xsave_size = cpuid(0xd, 0).ebx;
	fpu_copy_size = ALIGN_UP((uint64_t)x86_cpu.xsave_size, 64);
	fpu_use_xsave = 1;
}

/* On an AP: the same XSAVE/AVX set-up boot.S did on the boot CPU. */
void cpu_enable_fpu(void)
{
	if (!x86_cpu.xsave)
		return;
	write_cr4(read_cr4() | (1 << 18));
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)x86_cpu.xcr0),
			 "d"((uint32_t)(x86_cpu.xcr0 >> 32)));
}

void cpu_detect_features(void)
{
	struct cpuid_regs r = cpuid(0, 0);

	x86_cpu.max_leaf = r.eax;
	memcpy(x86_cpu.vendor, &r.ebx, 4);
	memcpy(x86_cpu.vendor + 4, &r.edx, 4);
	memcpy(x86_cpu.vendor + 8, &r.ecx, 4);
	r = cpuid(1, 0);
	x86_cpu.x2apic = r.ecx & (1 << 21);
	x86_cpu.tsc_deadline = r.ecx & (1 << 24);
	x86_cpu.xsave = r.ecx & (1 << 26);
	x86_cpu.avx = x86_cpu.xsave && (r.ecx & (1 << 28));
	x86_cpu.hypervisor = r.ecx & (1u << 31);
	if (x86_cpu.max_leaf >= 7)
		x86_cpu.fsgsbase = cpuid(7, 0).ebx & 1;
	x86_cpu.max_ext_leaf = cpuid(0x80000000, 0).eax;
	if (x86_cpu.max_ext_leaf >= 0x80000001) {
		r = cpuid(0x80000001, 0);
		x86_cpu.nx = r.edx & (1 << 20);
		x86_cpu.pdpe1gb = r.edx & (1 << 26);
	}
	if (x86_cpu.max_ext_leaf >= 0x80000007)
		x86_cpu.invariant_tsc = cpuid(0x80000007, 0).edx & (1 << 8);
	if (x86_cpu.hypervisor)
		detect_hypervisor();
	x86_cpu.tsc_khz_cpuid = cpuid_tsc_khz();
	detect_fpu();
}

static void idt_set(unsigned int vec, unsigned int ist)
{
	uintptr_t addr = (uintptr_t)trap_stubs + vec * 16;
	struct idt_entry *e = &idt[vec];

	e->off_lo = addr & 0xffff;
	e->sel = GDT_KCODE;
	e->ist = ist;
	e->type = 0x8e;                 /* present, DPL 0, interrupt gate */
	e->off_mid = (addr >> 16) & 0xffff;
	e->off_hi = addr >> 32;
	e->zero = 0;
}

static unsigned int vector_ist(unsigned int vec)
{
	switch (vec) {
	case 2:  return IST_NMI;
	case 8:  return IST_DOUBLE_FAULT;
	case 18: return IST_MCE;
	default: return vec < 32 ? IST_EXCEPTION : IST_IRQ;
	}
}

unsigned int idt_ist(unsigned int vector)
{
	return idt[vector].ist;
}

void cpu_load_idt(void)
{
	struct desc_ptr p = { sizeof(idt) - 1, (uintptr_t)idt };

	if (idt[0].sel == 0) {
		for (unsigned int v = 0; v < 256; v++)
			idt_set(v, vector_ist(v));
	}
	__asm__ volatile("lidt %0" : : "m"(p));
}

static void gdt_fill(struct arch_cpu *a)
{
	uintptr_t tss = (uintptr_t)&a->tss;
	uint64_t limit = sizeof(a->tss) - 1;

	a->gdt[0] = 0;
	a->gdt[1] = 0x00af9a000000ffffULL;      /* kernel code, 64-bit */
	a->gdt[2] = 0x00cf92000000ffffULL;      /* kernel data */
	a->gdt[3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) |
		    (0x89ULL << 40) | (((tss >> 24) & 0xff) << 56);
	a->gdt[4] = tss >> 32;
}

/* IST sizes: the exception stack is split in halves so that a fault inside
 * an exception handler (a nested fault) gets a fresh half, not our frame. */
static const size_t ist_size[IST_COUNT + 1] = {
	[IST_DOUBLE_FAULT] = IST_SMALL, [IST_NMI] = IST_SMALL, [IST_MCE] = IST_SMALL,
	[IST_EXCEPTION] = IST_LARGE, [IST_IRQ] = IST_LARGE,
};

void cpu_init_tables(struct cpu *c, uintptr_t block, size_t block_size)
{
	struct arch_cpu *a = &c->arch;
	struct desc_ptr g = { sizeof(a->gdt) - 1, (uintptr_t)a->gdt };

	ASSERT(block_size >= IST_BLOCK_SIZE);
	for (int i = 1; i <= IST_COUNT; i++) {
		block += ist_size[i];
		a->ist_top[i] = block;
		a->tss.ist[i - 1] = block;
	}
	a->tss.iomap_base = sizeof(a->tss);
	gdt_fill(a);
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "lea 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%eax\n\t"
			 "mov %%eax, %%ds\n\t"
			 "mov %%eax, %%es\n\t"
			 "mov %%eax, %%ss\n\t"
			 "ltr %w3"
			 : : "m"(g), "i"(GDT_KCODE), "i"(GDT_KDATA), "r"(GDT_TSS)
			 : "rax", "memory");
	cpu_load_idt();
	arch_syscall_init();
}

/* SYSCALL from ring 0 to ring 0 (syscall.S): the kernel's code and data
 * selectors in STAR, the entry in LSTAR, and TF, DF, AC and NT cleared on
 * entry (interrupts stay as they were). */
#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_FMASK  0xc0000084
#define EFER_SCE   (1 << 0)

void arch_syscall_init(void)
{
	extern char syscall_entry[];

	wrmsr(MSR_STAR, (uint64_t)GDT_KCODE << 32);
	wrmsr(MSR_LSTAR, (uintptr_t)syscall_entry);
	wrmsr(MSR_FMASK, (1 << 8) | (1 << 10) | (1 << 14) | (1 << 18));
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

void cpu_set_gs_base(struct cpu *c)
{
	c->self = c;
	wrmsr(MSR_GS_BASE, (uintptr_t)c);
}

