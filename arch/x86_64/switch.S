/*
 * arch/x86_64/switch.S - switching threads.
 *
 * arch_switch(from, to) is a function call like any other: it saves what
 * the C calling convention says a callee must preserve (rbx, rbp, r12-r15,
 * the x87 control word and MXCSR) on the old thread's stack, stores the
 * stack pointer in from->rsp, and resumes `to` where it last called
 * arch_switch.  The FPU/SSE data registers are caller-saved, so a voluntary
 * switch does not save them; a preempted thread's full state was saved by
 * the interrupt path (entry.S) on its own stack before it got here.
 *
 * A new thread's stack is laid out (arch_context_init) so that its first
 * arch_switch "returns" into thread_trampoline, which calls the C entry
 * stored in r12 with the argument in r13.
 */
	.text
	.globl arch_switch
	.type arch_switch, @function
arch_switch:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	sub $8, %rsp
	fnstcw (%rsp)
	stmxcsr 4(%rsp)
	mov %rsp, (%rdi)
	mov (%rsi), %rsp
	fldcw (%rsp)
	ldmxcsr 4(%rsp)
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size arch_switch, . - arch_switch

	.globl thread_trampoline
	.type thread_trampoline, @function
thread_trampoline:
	xor %ebp, %ebp                  /* the end of every backtrace */
	mov %r13, %rdi
	call *%r12
	ud2                             /* the entry function never returns */
	.size thread_trampoline, . - thread_trampoline

/*
 * long arch_call_on_stack(void *top, long (*fn)(void *), void *arg):
 * calls fn(arg) with the stack pointer at top (16-byte aligned by the
 * caller) and returns its value on the caller's stack.  Application
 * threads run on the stacks their libc allocates; this is how a thread
 * moves onto one, and back to its own kernel stack to end.
 */
	.globl arch_call_on_stack
	.type arch_call_on_stack, @function
arch_call_on_stack:
	push %rbp
	mov %rsp, %rbp
	mov %rdi, %rsp
	mov %rdx, %rdi
	call *%rsi
	mov %rbp, %rsp
	pop %rbp
	ret
	.size arch_call_on_stack, . - arch_call_on_stack

/* void arch_enter_program(uintptr_t entry, uintptr_t sp): as Linux's exec
 * leaves a new program, but in ring 0: registers zero (rdx: no exit
 * function for atexit), the stack at argc, the direction flag clear. */
	.globl arch_enter_program
	.type arch_enter_program, @function
arch_enter_program:
	mov %rsi, %rsp
	mov %rdi, %r11
	xor %eax, %eax
	xor %ebx, %ebx
	xor %ecx, %ecx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	cld
	jmp *%r11
	.size arch_enter_program, . - arch_enter_program
