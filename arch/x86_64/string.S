/*
 * arch/x86_64/string.S - memcpy and memset as single `rep movsb`/`rep stosb`
 * instructions: short, and fast on CPUs with ERMS and under QEMU's TCG,
 * which runs them as one helper call.
 */
	.text
	.globl memcpy
	.type memcpy, @function
memcpy:
	mov %rdi, %rax
	mov %rdx, %rcx
	rep movsb
	ret
	.size memcpy, . - memcpy

	.globl memset
	.type memset, @function
memset:
	mov %rdi, %r8
	mov %esi, %eax
	mov %rdx, %rcx
	rep stosb
	mov %r8, %rax
	ret
	.size memset, . - memset
