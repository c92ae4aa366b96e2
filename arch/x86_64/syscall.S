/*
 * arch/x86_64/syscall.S - the SYSCALL instruction, for unmodified Linux
 * binaries (the loader issue).  Applications linked with Skiff's musl
 * never come here: their system calls are plain function calls.
 *
 * Everything runs in ring 0, so SYSCALL goes from ring 0 to ring 0: the
 * CPU loads RIP from LSTAR, keeps the stack, puts the return address in
 * rcx and the flags in r11, and clears the flags FMASK names (TF, DF, AC,
 * NT; not IF).  SYSRET cannot return (it always enters ring 3), so the
 * way back is popfq and an indirect jump.
 *
 * The Linux ABI: the number in rax, arguments in rdi, rsi, rdx, r10, r8,
 * r9; the result in rax; rcx and r11 clobbered, every other register
 * preserved, including the vector registers (the kernel's C code may use
 * xmm0-15, so they are saved; it never uses AVX, so their upper halves
 * survive).  The caller's stack may be in use below its stack pointer:
 * the 128-byte red zone is skipped before anything is pushed.
 *
 * The frame below is struct arch_syscall_frame (core/arch.h); the C side
 * is syscall_instruction(), which dispatches through the same table as
 * syscall(2).  arch_syscall_return_child() leaves through the same path
 * with a frame of its own (a new thread of clone(2)).
 */
	.text
	.globl syscall_entry
	.type syscall_entry, @function
syscall_entry:
	sub $128, %rsp                  /* the red zone */
	/* struct arch_syscall_frame, from its end: */
	push %rcx                       /* rip: where to return */
	push %r11                       /* rflags */
	lea 144(%rsp), %rcx             /* rsp: the caller's */
	push %rcx
	push %rax
	push %rbx
	push %rbp
	push %rdi
	push %rsi
	push %rdx
	push %r8
	push %r9
	push %r10
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rbx                  /* the frame (callee-saved: survives the call) */
	and $-16, %rsp
	sub $256, %rsp
	movaps %xmm0, 0(%rsp)
	movaps %xmm1, 16(%rsp)
	movaps %xmm2, 32(%rsp)
	movaps %xmm3, 48(%rsp)
	movaps %xmm4, 64(%rsp)
	movaps %xmm5, 80(%rsp)
	movaps %xmm6, 96(%rsp)
	movaps %xmm7, 112(%rsp)
	movaps %xmm8, 128(%rsp)
	movaps %xmm9, 144(%rsp)
	movaps %xmm10, 160(%rsp)
	movaps %xmm11, 176(%rsp)
	movaps %xmm12, 192(%rsp)
	movaps %xmm13, 208(%rsp)
	movaps %xmm14, 224(%rsp)
	movaps %xmm15, 240(%rsp)
	cld
	mov %rbx, %rdi
	xor %ebp, %ebp                  /* backtraces end here */
	call syscall_instruction
	mov %rax, 8 * 12(%rbx)          /* frame->rax: the result */
	movaps 0(%rsp), %xmm0
	movaps 16(%rsp), %xmm1
	movaps 32(%rsp), %xmm2
	movaps 48(%rsp), %xmm3
	movaps 64(%rsp), %xmm4
	movaps 80(%rsp), %xmm5
	movaps 96(%rsp), %xmm6
	movaps 112(%rsp), %xmm7
	movaps 128(%rsp), %xmm8
	movaps 144(%rsp), %xmm9
	movaps 160(%rsp), %xmm10
	movaps 176(%rsp), %xmm11
	movaps 192(%rsp), %xmm12
	movaps 208(%rsp), %xmm13
	movaps 224(%rsp), %xmm14
	movaps 240(%rsp), %xmm15
	mov %rbx, %rsp
	jmp syscall_leave
	.size syscall_entry, . - syscall_entry

/* rsp = a struct arch_syscall_frame: restore it and return to frame->rip
 * on frame->rsp with frame->rflags; r11 = the flags, rcx = rip, as Linux. */
	.type syscall_leave, @function
syscall_leave:
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r10
	pop %r9
	pop %r8
	pop %rdx
	pop %rsi
	pop %rdi
	pop %rbp
	pop %rbx
	pop %rax
	mov 8(%rsp), %r11               /* rflags */
	mov 16(%rsp), %rcx              /* rip */
	push %r11                       /* on the frame, not on the caller's red zone */
	popfq
	mov (%rsp), %rsp                /* the caller's stack pointer (mov keeps the flags) */
	jmp *%rcx
	.size syscall_leave, . - syscall_leave

/* void arch_syscall_return_child(const struct arch_syscall_frame *f):
 * the frame is copied onto this stack, and the thread leaves through it. */
	.globl arch_syscall_return_child
	.type arch_syscall_return_child, @function
arch_syscall_return_child:
	sub $128, %rsp                  /* sizeof(struct arch_syscall_frame) */
	mov %rdi, %rsi
	mov %rsp, %rdi
	mov $16, %ecx
	rep movsq
	jmp syscall_leave
	.size arch_syscall_return_child, . - arch_syscall_return_child
	.section .note.GNU-stack, "", @progbits
