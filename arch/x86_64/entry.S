/*
 * arch/x86_64/entry.S - interrupt and exception entry.
 *
 * Every vector has a stub that pushes a zero error code when the CPU does not
 * push one, then the vector number, and joins trap_common.  The IDT sends
 * every vector to an IST stack (cpu.c), because application code runs in
 * ring 0 with a 128-byte red zone below %rsp that an interrupt on the
 * current stack would overwrite.
 *
 * trap_common saves the general registers as a struct trap_frame, then the
 * FPU/SSE/AVX state (XSAVE, or FXSAVE before XSAVE is known) below it, so
 * that C handlers may use floating point freely, and calls trap_dispatch().
 */
#include "arch/x86_64/arch_defs.h"

	.altmacro
	.macro stub vec
	.balign 16
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	pushq $\vec
	.else
	pushq $0
	pushq $\vec
	.endif
	jmp trap_common
	.endm
	.noaltmacro

	/* Pops a struct trap_frame's registers, vector and error code. */
	.macro pop_frame
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp                       /* vector, error code */
	.endm

	.text
	.balign 16
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.altmacro
	.rept 256
	stub %vec
	.set vec, vec + 1
	.endr
	.noaltmacro

trap_common:
	cld
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rbx                      /* %rbx = struct trap_frame *, callee-saved */

	sub fpu_copy_size(%rip), %rsp       /* the FPU state, 64-aligned below */
	and $-64, %rsp
	cmpl $0, fpu_use_xsave(%rip)
	je 1f
	xor %eax, %eax                      /* XSAVE leaves XSTATE_BV bits outside XCR0 */
	mov %rax, 512(%rsp)                 /* as they were, and XRSTOR wants the whole */
	mov %rax, 512 + 8(%rsp)             /* header clean: zero all 64 bytes */
	mov %rax, 512 + 16(%rsp)
	mov %rax, 512 + 24(%rsp)
	mov %rax, 512 + 32(%rsp)
	mov %rax, 512 + 40(%rsp)
	mov %rax, 512 + 48(%rsp)
	mov %rax, 512 + 56(%rsp)
	mov $-1, %eax
	mov $-1, %edx
	xsave64 (%rsp)
	jmp 2f
1:	fxsave64 (%rsp)
2:
	/* A frame record for backtraces: "called" from the interrupted RIP. */
	pushq 8 * 17(%rbx)                  /* frame->rip */
	pushq 8 * 8(%rbx)                   /* frame->rbp */
	mov %rsp, %rbp
	mov %rbx, %rdi
	call trap_dispatch
	add $16, %rsp

	/* Preempt the interrupted thread, or let it resolve its own page
	 * fault?  Then its registers and FPU state are copied onto its own
	 * stack (below its red zone) and it continues from there: this IST
	 * stack is free again at once. */
	mov %rbx, %rdi
	mov %rsp, %rsi
	call trap_preempt_prepare
	test %rax, %rax
	jnz preempt

	cmpl $0, fpu_use_xsave(%rip)
	je 3f
	mov $-1, %eax
	mov $-1, %edx
	xrstor64 (%rsp)
	jmp 4f
3:	fxrstor64 (%rsp)
4:	mov %rbx, %rsp
	pop_frame
	iretq

	/* On the preempted thread's stack: [FPU copy][struct trap_frame copy]. */
preempt:
	mov %rax, %rsp
	mov %rsp, %rdi                      /* the FPU copy; the frame copy follows it */
	call trap_in_thread                 /* a deferred page fault, or a preemption */
	cmpl $0, fpu_use_xsave(%rip)
	je 5f
	mov $-1, %eax
	mov $-1, %edx
	xrstor64 (%rsp)
	jmp 6f
5:	fxrstor64 (%rsp)
6:	add fpu_copy_size(%rip), %rsp
	pop_frame
	iretq

	.data
	.balign 8
	.globl fpu_copy_size, fpu_use_xsave
fpu_copy_size:	.quad 512                   /* the state itself, a multiple of 64 */
fpu_use_xsave:	.long 0
