/*
 * arch/x86_64/context.c - a new thread's first stack frame, and its TLS.
 *
 * Interface: arch_context_init(c, stack_top, entry, arg) prepares a context
 * that, when first switched to, calls entry(arg) on the given stack with the
 * default FPU control words; arch_set_tls() loads the %fs base.
 */
#include "arch/x86_64/x86_impl.h"

void thread_trampoline(void);

/* The frame arch_switch pops: control words, r15..r12, rbx, rbp, return. */
struct switch_frame {
	uint16_t fcw;
	uint16_t pad;
	uint32_t mxcsr;
	uint64_t r15, r14, r13, r12, rbx, rbp;
	uint64_t ret;
};

void arch_context_init(struct arch_context *c, void *stack_top,
		       void (*entry)(void *), void *arg)
{
	uintptr_t top = ALIGN_DOWN((uintptr_t)stack_top, 16);
	/* Once arch_switch has popped the whole frame (ret included), rsp is
	 * top - 16: 16-aligned, so the trampoline's call gives entry the ABI's
	 * rsp % 16 == 8. */
	struct switch_frame *f = (struct switch_frame *)(top - 16 - sizeof(*f));

	memset(f, 0, sizeof(*f));
	f->fcw = 0x37f;                  /* x87: all exceptions masked, double extended */
	f->mxcsr = 0x1f80;               /* SSE: all exceptions masked, round to nearest */
	f->r12 = (uintptr_t)entry;
	f->r13 = (uintptr_t)arg;
	f->ret = (uintptr_t)thread_trampoline;
	c->rsp = (uintptr_t)f;
}

void arch_set_tls(uint64_t fs_base)
{
	wrmsr(MSR_FS_BASE, fs_base);
}

uint64_t arch_get_tls(void)
{
	return rdmsr(MSR_FS_BASE);
}
