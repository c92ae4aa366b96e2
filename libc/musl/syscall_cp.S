/*
 * libc/musl/syscall_cp.S - musl's cancellation-point system call.
 *
 * __syscall_cp_asm(&self->cancel, nr, a, b, c, d, e, f): if the thread
 * has a cancellation pending, go to __cancel; else make the call.  musl's
 * cancellation signal handler treats an interrupted address between
 * __cp_begin and __cp_end as "blocked in a cancellable call".  The call
 * is Skiff's generic entry, syscall_dispatch(nr, a, ..., f).
 */
	.text
	.globl __cp_begin, __cp_end, __cp_cancel, __syscall_cp_asm
	.hidden __cp_begin, __cp_end, __cp_cancel, __syscall_cp_asm
	.type __syscall_cp_asm, @function
__syscall_cp_asm:
__cp_begin:
	mov (%rdi), %eax
	test %eax, %eax
	jnz __cp_cancel
	mov %rsi, %rdi                  /* nr */
	mov %rdx, %rsi                  /* a */
	mov %rcx, %rdx                  /* b */
	mov %r8, %rcx                   /* c */
	mov %r9, %r8                    /* d */
	mov 8(%rsp), %r9                /* e */
	push 16(%rsp)                   /* f: the 7th argument, on the stack */
	call syscall_dispatch
	add $8, %rsp
__cp_end:
	ret
__cp_cancel:
	jmp __cancel
	.size __syscall_cp_asm, . - __syscall_cp_asm
	.section .note.GNU-stack, "", @progbits
