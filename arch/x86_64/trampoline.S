/*
 * arch/x86_64/trampoline.S - where an application processor starts.
 *
 * smp.c copies this code to TRAMPOLINE_PA (below 1 MiB, as a STARTUP IPI
 * requires), fills in the data words at its end and sends INIT-SIPI-SIPI.
 * The AP comes up in 16-bit real mode at TRAMPOLINE_PA, goes to protected
 * mode, then long mode on the kernel's page table (which maps this page
 * 1:1 while APs start), takes a stack by ticket, and jumps to smp_ap_entry().
 */
#include "arch/x86_64/arch_defs.h"

#define TRAMPOLINE_PA 0x8000
#define T(x) (TRAMPOLINE_PA + (x) - smp_trampoline_start)

	.section .rodata
	.balign 16
	.globl smp_trampoline_start, smp_trampoline_end
	.globl tr_cr3, tr_efer, tr_ticket, tr_stacks, tr_entry
	.code16
smp_trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	lgdtl tr_gdt_ptr - smp_trampoline_start
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x18, $T(tr_pm32)

	.code32
tr_pm32:
	mov $GDT_KDATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $((1 << 5) | (1 << 9) | (1 << 10)), %eax   /* PAE, OSFXSR, OSXMMEXCPT */
	mov %eax, %cr4
	mov T(tr_cr3), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx
	rdmsr
	or T(tr_efer), %eax
	wrmsr
	mov %cr0, %eax
	and $~(1 << 2), %eax
	or $((1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1), %eax   /* PG, WP, NE, MP, PE */
	mov %eax, %cr0
	ljmp $GDT_KCODE, $T(tr_lm64)

	.code64
tr_lm64:
	mov $1, %eax
	lock xadd %eax, T(tr_ticket)
	mov T(tr_stacks), %rbx
	mov (%rbx, %rax, 8), %rsp
	xor %ebp, %ebp
	push $0                             /* as if called: rsp % 16 == 8 at entry */
	mov T(tr_entry), %rax
	jmp *%rax

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00af9a000000ffff            /* 0x08 code, 64-bit */
	.quad 0x00cf92000000ffff            /* 0x10 data */
	.quad 0x00cf9a000000ffff            /* 0x18 code, 32-bit */
tr_gdt_ptr:
	.word 31
	.long T(tr_gdt)
	.balign 8
tr_cr3:		.long 0
tr_efer:	.long 0
tr_ticket:	.long 0
		.long 0
tr_stacks:	.quad 0
tr_entry:	.quad 0
smp_trampoline_end:
