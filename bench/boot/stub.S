/*
 * bench/boot/stub.S - the empty guest: the smallest PVH kernel, which does
 * nothing but end the VM through QEMU's isa-debug-exit device.  Its QEMU
 * wall time is the floor that Skiff's boot is compared against.
 */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4, 4, 18                   /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long start
	.balign 4

	.text
	.code32
	.globl start
start:
	mov $0xf4, %dx
	xor %eax, %eax
	out %eax, %dx                     /* QEMU exits with status 1 */
1:	hlt
	jmp 1b
