/*
 * arch/x86_64/boot.S - the first instructions: both boot protocols' headers,
 * the 32-bit entry, the switch to long mode and the jump to the kernel's
 * higher-half address.
 *
 * Two ways in, one way on:
 *   PVH (Xen ELF note PHYS32_ENTRY): %ebx = physical address of hvm_start_info
 *   Multiboot2 (GRUB):               %eax = 0x36d76289, %ebx = info block
 * Both arrive in 32-bit protected mode with paging off.  We record the TSC
 * (boot_us counts from here), build a 4-page boot page table that maps the
 * first GiB twice (identity, and at KERNEL_VMA), enter long mode, turn on
 * SSE (and XSAVE/AVX where offered) so ordinary C runs, and call
 * arch_boot_main(protocol, info_pa) on the boot stack.
 */
#include "arch/x86_64/arch_defs.h"

#define PHYS(x)          ((x) - KERNEL_VMA)
#define MB2_MAGIC        0xe85250d6
#define MB2_BOOT_MAGIC   0x36d76289
#define BOOT_PROTO_NONE  0
#define BOOT_PROTO_PVH   1
#define BOOT_PROTO_MB2   2
#define COM1             0x3f8
#define BOOT_STACK_SIZE  (64 * 1024)

/* ---- Multiboot2 header (first 32 KiB of the file, 8-aligned) ---- */
	.section .boot.header, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long 0                                   /* i386 protected mode */
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_MAGIC + (mb2_header_end - mb2_header))
	.balign 8                                 /* entry address tag */
	.word 3, 0
	.long 12
	.long PHYS(mb2_entry32)
	.balign 8                                 /* end tag */
	.word 0, 0
	.long 8
mb2_header_end:

/* ---- PVH ELF note: XEN_ELFNOTE_PHYS32_ENTRY (18) ---- */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4, 4, 18
	.asciz "Xen"
	.balign 4
	.long PHYS(pvh_entry32)
	.balign 4

/* ---- 32-bit entry, executed at its physical address ---- */
	.section .text.boot32, "ax"
	.code32
	.globl pvh_entry32
pvh_entry32:
	mov %ebx, %esi
	rdtsc
	mov %eax, PHYS(boot_tsc)
	mov %edx, PHYS(boot_tsc) + 4
	movl $BOOT_PROTO_PVH, PHYS(boot_proto)
	mov %esi, PHYS(boot_info_pa)
	jmp common32

	.globl mb2_entry32
mb2_entry32:
	mov %eax, %ecx
	mov %ebx, %esi
	rdtsc
	mov %eax, PHYS(boot_tsc)
	mov %edx, PHYS(boot_tsc) + 4
	mov %esi, PHYS(boot_info_pa)
	movl $BOOT_PROTO_NONE, PHYS(boot_proto)
	cmp $MB2_BOOT_MAGIC, %ecx
	jne common32
	movl $BOOT_PROTO_MB2, PHYS(boot_proto)

common32:
	cli
	cld
	lgdt PHYS(boot_gdt_ptr)
	mov $GDT_KDATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss

	/* Long mode is the one thing we cannot report from C. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc no_long_mode
	mov %edx, %ebp                            /* bit 20: NX */

	/* Boot page tables: PML4, PDPT (low), PDPT (high), PD. */
	mov $PHYS(boot_pml4), %edi
	mov $(4 * 4096 / 4), %ecx
	xor %eax, %eax
	rep stosl
	movl $(PHYS(boot_pdpt_lo) + 3), PHYS(boot_pml4)
	movl $(PHYS(boot_pdpt_hi) + 3), PHYS(boot_pml4) + 511 * 8
	movl $(PHYS(boot_pd) + 3), PHYS(boot_pdpt_lo)
	movl $(PHYS(boot_pd) + 3), PHYS(boot_pdpt_hi) + 510 * 8
	mov $PHYS(boot_pd), %edi
	mov $0x83, %eax                           /* present, writable, 2 MiB */
	mov $512, %ecx
1:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b

	mov %cr4, %eax
	or $((1 << 5) | (1 << 9) | (1 << 10)), %eax   /* PAE, OSFXSR, OSXMMEXCPT */
	mov %eax, %cr4
	mov $PHYS(boot_pml4), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx                     /* EFER */
	rdmsr
	or $(1 << 8), %eax                        /* LME */
	bt $20, %ebp
	jnc 2f
	or $(1 << 11), %eax                       /* NXE */
2:	wrmsr
	mov %cr0, %eax
	and $~(1 << 2), %eax                      /* EM off: the FPU is real */
	or $((1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1), %eax  /* PG, WP, NE, MP, PE */
	mov %eax, %cr0
	ljmp $GDT_KCODE, $PHYS(long64_low)

no_long_mode:
	mov $PHYS(msg_no_long_mode), %esi
3:	lodsb
	test %al, %al
	jz 4f
	mov $COM1, %dx
	out %al, %dx
	jmp 3b
4:	mov $0xf4, %dx                            /* isa-debug-exit, if present */
	mov $0x7f, %al
	out %al, %dx
5:	hlt
	jmp 5b

	.code64
long64_low:
	movabs $long64_high, %rax
	jmp *%rax

	.text
long64_high:
	xor %eax, %eax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	lea boot_stack_top(%rip), %rsp
	xor %ebp, %ebp

	/* .bss is already zero: an ELF loader fills p_memsz beyond p_filesz
	 * with zeros (QEMU's PVH loader and GRUB both do), and clearing 200 KiB
	 * again would cost half a millisecond under TCG. */

	/* XSAVE, and AVX on top of it, where the CPU offers them. */
	mov $1, %eax
	cpuid
	bt $26, %ecx
	jnc 6f
	mov %ecx, %esi
	mov %cr4, %rax
	or $(1 << 18), %rax                       /* OSXSAVE */
	mov %rax, %cr4
	mov $3, %eax                              /* x87 | SSE */
	bt $28, %esi
	jnc 7f
	or $4, %eax                               /* | AVX */
7:	xor %edx, %edx
	xor %ecx, %ecx
	xsetbv
6:
	mov boot_proto(%rip), %edi
	mov boot_info_pa(%rip), %esi
	call arch_boot_main
8:	cli
	hlt
	jmp 8b

/* ---- data the 32-bit code writes (physical addresses) ---- */
	.section .rodata
msg_no_long_mode:
	.asciz "skiff: this CPU has no 64-bit long mode; cannot boot\r\n"

	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff                  /* 0x08 kernel code, 64-bit */
	.quad 0x00cf92000000ffff                  /* 0x10 kernel data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long PHYS(boot_gdt)

	.data
	.balign 8
	.globl boot_tsc
boot_tsc:	.quad 0
boot_proto:	.long 0
boot_info_pa:	.long 0

	.section .bss.boot_pt, "aw", @nobits
	.balign 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt_lo:	.skip 4096
boot_pdpt_hi:	.skip 4096
boot_pd:	.skip 4096

	.bss
	.balign 16
	.globl boot_stack_top
boot_stack:	.skip BOOT_STACK_SIZE
boot_stack_top:
