/*
 * arch/x86_64/arch_defs.h - x86-64 constants, per-CPU layout and the inline
 * hooks of the core/arch.h contract.  Included only through core/arch.h.
 *
 * Virtual memory layout (one address space for kernel and application):
 *   0 .. 0x00007fffffffffff     the application (lower half); page 0 never mapped
 *   0xffff800000000000 ...      PHYS_MAP_BASE: all RAM, 1 GiB / 2 MiB pages
 *   0xffffc00000000000 ...      STACK_AREA_BASE: thread stacks, 2 MiB slots,
 *                               an unmapped guard page below each stack
 *   0xffffffff80000000 ...      KERNEL_VMA: the kernel image, 4 KiB pages, W^X
 */
#ifndef ARCH_X86_64_ARCH_DEFS_H
#define ARCH_X86_64_ARCH_DEFS_H

#include "core/config.h"

#define PAGE_SIZE        4096UL
#define PAGE_SHIFT       12
#define HUGE_PAGE_SIZE   (2UL << 20)
#define GIANT_PAGE_SIZE  (1UL << 30)

#define KERNEL_VMA       0xffffffff80000000UL
#define PHYS_MAP_BASE    0xffff800000000000UL
#define STACK_AREA_BASE  0xffffc00000000000UL   /* thread stacks, with guard pages */
#define STACK_AREA_SIZE  (1UL << 40)

/* GDT selectors */
#define GDT_KCODE        0x08
#define GDT_KDATA        0x10
#define GDT_TSS          0x18

/* IST slots (1-based in the IDT) */
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MCE          3
#define IST_EXCEPTION    4
#define IST_IRQ          5
#define IST_COUNT        5
#define IST_SMALL        4096      /* double fault, NMI, machine check */
#define IST_LARGE        16384     /* exceptions (split in halves for nesting), IRQs */
#define IST_BLOCK_SIZE   (3 * IST_SMALL + 2 * IST_LARGE)   /* one CPU's IST stacks */

/* Interrupt vectors */
#define VEC_IRQ_BASE     0x20      /* IOAPIC GSIs 0..23 map here */
#define VEC_TIMER        0xf0
#define VEC_IPI          0xf1
#define VEC_SPURIOUS     0xff

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <stdbool.h>

struct x86_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct arch_cpu {
	uint64_t gdt[5];              /* null, kcode, kdata, tss (2 slots) */
	struct x86_tss tss;
	uintptr_t ist_top[IST_COUNT + 1];  /* initial IST pointers, [0] unused */
	uintptr_t ist_block;          /* the IST stacks' memory (APs: from bootmem) */
	unsigned int exc_depth;       /* nesting of exceptions on IST_EXCEPTION */
	bool fault_pending;           /* a fault for trap_in_thread() (trap.c) */
	unsigned int fault_vector;
	unsigned int fault_access;
	uint64_t fault_addr, fault_rip, fault_rbp, fault_rsp;
	bool x2apic;
};

/* A thread's saved context: everything else is on its stack (switch.S). */
struct arch_context {
	uint64_t rsp;
};

/* The inline hooks of the contract. */
static inline struct cpu *arch_this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

/* The running thread, read in one instruction (so preemption cannot come
 * between finding this CPU and reading its field). */
static inline struct thread *arch_current_thread(void)
{
	struct thread *t;
	__asm__ volatile("mov %%gs:8, %0" : "=r"(t));
	return t;
}

static inline unsigned long arch_irq_save(void)
{
	unsigned long flags;
	__asm__ volatile("pushfq; pop %0; cli" : "=r"(flags) : : "memory");
	return flags;
}

static inline void arch_irq_restore(unsigned long flags)
{
	if (flags & (1UL << 9))
		__asm__ volatile("sti" : : : "memory");
}

static inline void arch_irq_enable(void) { __asm__ volatile("sti" : : : "memory"); }
static inline void arch_irq_disable(void) { __asm__ volatile("cli" : : : "memory"); }
static inline bool arch_irq_enabled(void)
{
	unsigned long flags;
	__asm__ volatile("pushfq; pop %0" : "=r"(flags));
	return flags & (1UL << 9);
}

/* Halts until the next interrupt; enabling interrupts and halting is atomic. */
static inline void arch_wait_for_irq(void) { __asm__ volatile("sti; hlt; cli" : : : "memory"); }
static inline void arch_cpu_relax(void) { __asm__ volatile("pause" : : : "memory"); }
static inline uintptr_t arch_stack_pointer(void)
{
	uintptr_t sp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	return sp;
}

static inline uint64_t arch_tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Monotonic nanoseconds since boot, the same on every CPU: inline, as it
 * is every clock_gettime's whole work (time.c sets the rate once). */
extern uint64_t boot_tsc, arch_tsc_mult;
static inline uint64_t arch_clock_ns(void)
{
	return (uint64_t)(((unsigned __int128)(arch_tsc() - boot_tsc) * arch_tsc_mult) >> 32);
}

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t mmio_read32(const volatile void *p) { return *(const volatile uint32_t *)p; }
static inline void mmio_write32(volatile void *p, uint32_t v) { *(volatile uint32_t *)p = v; }
static inline uint64_t mmio_read64(const volatile void *p) { return *(const volatile uint64_t *)p; }
static inline void mmio_write64(volatile void *p, uint64_t v) { *(volatile uint64_t *)p = v; }

#endif /* __ASSEMBLER__ */
#endif
