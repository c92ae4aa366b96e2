/*
 * arch/x86_64/x86_impl.h - private to arch/x86_64: CPU instructions that C
 * needs (CPUID, MSRs, control registers), the CPU feature set, the trap
 * frame, and the functions the arch files call in each other.
 */
#ifndef ARCH_X86_64_X86_IMPL_H
#define ARCH_X86_64_X86_IMPL_H

#include "core/arch.h"
#include "core/kernel.h"
#include "core/bootmem.h"

#define MSR_APIC_BASE       0x1b
#define MSR_TSC_DEADLINE    0x6e0
#define MSR_EFER            0xc0000080
#define MSR_FS_BASE         0xc0000100
#define MSR_GS_BASE         0xc0000101
#define MSR_KVM_SYSTEM_TIME 0x4b564d01

#define BOOT_PROTO_PVH 1
#define BOOT_PROTO_MB2 2

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(sub));
	return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline void invlpg(const void *va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }

/* What the CPU offers (cpu.c fills it on the boot CPU). */
struct x86_features {
	char vendor[13];
	uint32_t max_leaf, max_ext_leaf;
	bool pdpe1gb, nx, x2apic, tsc_deadline, invariant_tsc;
	bool xsave, avx, fsgsbase, hypervisor, kvmclock;
	uint32_t xsave_size;          /* bytes of XSAVE area for the enabled XCR0 */
	uint64_t xcr0;
	uint32_t tsc_khz_cpuid;       /* from CPUID 0x15/0x16 or 0x40000010; 0 if not offered */
};
extern struct x86_features x86_cpu;

/* The registers an interrupt or exception saves, in push order reversed. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;     /* pushed by the CPU */
};

/* signal.c */
bool arch_signal_wanted(const struct trap_frame *f);
void arch_signal_deliver(struct trap_frame *f, void *fpu);
bool arch_signal_fault(struct trap_frame *f, void *fpu, uintptr_t addr, int err);

/* entry.S */
extern uint32_t fpu_use_xsave;      /* read by entry.S */
extern uint64_t fpu_copy_size;      /* bytes of FPU state copied when preempting */
extern char trap_stubs[];           /* 256 stubs, 16 bytes apart */

/* cpu.c */
void cpu_detect_features(void);
void cpu_enable_fpu(void);
void cpu_init_tables(struct cpu *c, uintptr_t ist_block, size_t ist_block_size);
void cpu_load_idt(void);
unsigned int idt_ist(unsigned int vector);
void cpu_set_gs_base(struct cpu *c);

/* trap.c */
void trap_dispatch(struct trap_frame *f);
void trap_set_irq_handler(unsigned int vector, void (*fn)(struct trap_frame *f));

/* serial.c */
void serial_init(void);

/* paging.c */
#define PTE_P    (1ULL << 0)
#define PTE_W    (1ULL << 1)
#define PTE_PWT  (1ULL << 3)
#define PTE_PCD  (1ULL << 4)
#define PTE_PS   (1ULL << 7)
#define PTE_NONE (1ULL << 9)         /* software: a PROT_NONE page, not present */
#define PTE_BORROWED (1ULL << 10)    /* software: the frame is not the mapping's own */
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL
extern uint64_t nx_bit;              /* PTE_NX where the CPU has it, else 0 */
uint64_t *pte_walk(uintptr_t va, int level, bool create);   /* level 1 = 4 KiB */
void paging_init(const struct boot_info *bi);
bool paging_is_mapped(uintptr_t va);   /* readable without a fault */
uint64_t paging_pte(uintptr_t va);
int paging_pte_level(uintptr_t va);
void paging_identity_map_low(uint64_t pa, bool on);

/* apic.c */
void apic_init_bsp(void);
void apic_init_ap(void);
void apic_eoi(void);
uint32_t apic_id(void);
void apic_send_init_sipi(uint32_t apic_id, uint8_t vector_page, bool sipi_only);
void apic_send_init(uint32_t apic_id);

/* uspace.c */
void tlb_shootdown_irq(void);
void ioapic_init(void);
int ioapic_route_isa(unsigned int irq, unsigned int vector, unsigned int cpu);
int ioapic_mask_isa(unsigned int irq);
void apic_timer_arm_deadline(uint64_t tsc);
void apic_timer_arm_count(uint32_t count);
void apic_timer_stop(void);
uint32_t apic_timer_current(void);

/* time.c */
void time_init(void);
const char *time_source(void);

/* smp.c */
__attribute__((noreturn)) void smp_ap_entry(void);




/* power.c */
void power_init(void);

/* setup.c */
bool boot_ram_contains(uint64_t pa, uint64_t len);    /* usable RAM, no module in it */

/* acpi glue (setup.c) */
struct acpi_info;
extern struct acpi_info acpi;
void acpi_init(const struct boot_info *bi);

#endif
