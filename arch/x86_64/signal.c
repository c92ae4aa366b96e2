/*
 * arch/x86_64/signal.c - signals at the machine level: which code may be
 * interrupted for one, and the interrupted context as Linux's struct
 * sigcontext.
 *
 * The trap paths (trap.c) already move an interrupted thread onto its own
 * stack, with its registers and FPU state copied there, to preempt it or
 * to let it resolve a page fault.  A signal uses the same move: the
 * handler runs in the thread, below the copy, and the thread resumes from
 * the copy, changed if the handler changed its context.  The FPU copy is
 * in XSAVE/FXSAVE layout, whose first 512 bytes are exactly Linux's
 * struct _fpstate, so sigcontext.fpstate points straight at it.
 */
#include "core/kernel.h"
#include "core/arch.h"
#include "arch/x86_64/x86_impl.h"
#include <asm/sigcontext.h>

extern char __app_text_start[], __app_text_end[];

#define USER_TOP 0x0000800000000000ULL          /* the application's half ends */

static const struct arch_signal_hooks *hooks;

void arch_set_signal_hooks(const struct arch_signal_hooks *h)
{
	hooks = h;
}

/* The application and musl linked into the image, and any code in the
 * application's half: a program the loader started, or code an
 * application made itself (the kernel never runs there). */
bool arch_in_app_text(uintptr_t rip)
{
	return rip < USER_TOP ||
	       (rip >= (uintptr_t)__app_text_start && rip < (uintptr_t)__app_text_end);
}

static void to_sigcontext(const struct trap_frame *f, void *fpu, struct sigcontext *sc)
{
	*sc = (struct sigcontext){
		.r8 = f->r8, .r9 = f->r9, .r10 = f->r10, .r11 = f->r11,
		.r12 = f->r12, .r13 = f->r13, .r14 = f->r14, .r15 = f->r15,
		.rdi = f->rdi, .rsi = f->rsi, .rbp = f->rbp, .rbx = f->rbx,
		.rdx = f->rdx, .rax = f->rax, .rcx = f->rcx, .rsp = f->rsp,
		.rip = f->rip, .eflags = f->rflags, .cs = (uint16_t)f->cs, .ss = (uint16_t)f->ss,
		.err = f->error, .trapno = f->vector < 32 ? f->vector : 0,
		.cr2 = f->vector == 14 ? read_cr2() : 0,
		.fpstate = fpu,
	};
}

/* What a handler may change: the general registers, the instruction and
 * stack pointers, and the arithmetic flags (not IF, not the privilege). */
#define USER_FLAGS 0xcd5UL                      /* CF PF AF ZF SF DF OF: not TF, in ring 0 */

static void from_sigcontext(const struct sigcontext *sc, struct trap_frame *f)
{
	f->r8 = sc->r8, f->r9 = sc->r9, f->r10 = sc->r10, f->r11 = sc->r11;
	f->r12 = sc->r12, f->r13 = sc->r13, f->r14 = sc->r14, f->r15 = sc->r15;
	f->rdi = sc->rdi, f->rsi = sc->rsi, f->rbp = sc->rbp, f->rbx = sc->rbx;
	f->rdx = sc->rdx, f->rax = sc->rax, f->rcx = sc->rcx, f->rsp = sc->rsp;
	f->rip = sc->rip;
	f->rflags = (f->rflags & ~USER_FLAGS) | (sc->eflags & USER_FLAGS);
}

void arch_syscall_frame_to_sigcontext(const struct arch_syscall_frame *f, struct sigcontext *sc)
{
	*sc = (struct sigcontext){
		.r8 = f->r8, .r9 = f->r9, .r10 = f->r10, .r12 = f->r12, .r13 = f->r13,
		.r14 = f->r14, .r15 = f->r15, .rdi = f->rdi, .rsi = f->rsi, .rbp = f->rbp,
		.rbx = f->rbx, .rdx = f->rdx, .rax = f->rax, .rsp = f->rsp, .rip = f->rip,
		.eflags = f->rflags, .cs = GDT_KCODE, .ss = GDT_KDATA,
		.rcx = f->rip, .r11 = f->rflags,        /* what SYSCALL put there */
	};
}

void arch_sigcontext_to_syscall_frame(const struct sigcontext *sc, struct arch_syscall_frame *f)
{
	f->r8 = sc->r8, f->r9 = sc->r9, f->r10 = sc->r10, f->r12 = sc->r12;
	f->r13 = sc->r13, f->r14 = sc->r14, f->r15 = sc->r15, f->rdi = sc->rdi;
	f->rsi = sc->rsi, f->rbp = sc->rbp, f->rbx = sc->rbx, f->rdx = sc->rdx;
	f->rax = sc->rax, f->rsp = sc->rsp, f->rip = sc->rip;
	f->rflags = (f->rflags & ~USER_FLAGS) | (sc->eflags & USER_FLAGS);
}

/* The signal a page fault the VM layer refused with err raises. */
static int page_fault_signal(int err)
{
	return err == -EIO ? 7 /* SIGBUS */ : 11 /* SIGSEGV */;
}

bool arch_fault_is_caught(uintptr_t rip, int err)
{
	return arch_fault_has_fixup(rip) ||
	       (hooks && arch_in_app_text(rip) && hooks->catches(page_fault_signal(err)));
}

bool arch_signal_wanted(const struct trap_frame *f)
{
	return hooks && (f->rflags & (1 << 9)) && arch_in_app_text(f->rip) && hooks->pending();
}

/* In the thread, interrupts on: run the handlers of its pending signals. */
void arch_signal_deliver(struct trap_frame *f, void *fpu)
{
	struct sigcontext sc;

	to_sigcontext(f, fpu, &sc);
	hooks->deliver(&sc);
	from_sigcontext(&sc, f);
}

/* A fault in application code: the signal it raises, if caught. */
bool arch_signal_fault(struct trap_frame *f, void *fpu, uintptr_t addr, int err)
{
	static const struct { uint8_t vector, sig, code; } map[] = {
		{ 0, 8 /* SIGFPE */, 1 /* FPE_INTDIV */ },
		{ 6, 4 /* SIGILL */, 1 /* ILL_ILLOPC */ },
		{ 13, 11 /* SIGSEGV */, 0x80 /* SI_KERNEL */ },
		{ 14, 11 /* SIGSEGV */, 1 /* SEGV_MAPERR; ACCERR below */ },
		{ 16, 8 /* SIGFPE */, 0 },
		{ 17, 7 /* SIGBUS */, 1 /* BUS_ADRALN */ },
		{ 19, 8 /* SIGFPE */, 0 },
	};
	struct sigcontext sc;

	if (!hooks || !arch_in_app_text(f->rip))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (map[i].vector != f->vector)
			continue;
		int sig = map[i].sig, code = map[i].code;
		if (f->vector == 14 && (f->error & 1))
			code = 2;                   /* SEGV_ACCERR: mapped, not allowed */
		if (f->vector == 14 && page_fault_signal(err) == 7)
			sig = 7, code = 2;          /* SIGBUS, BUS_ADRERR: past a file's end */
		to_sigcontext(f, fpu, &sc);
		if (f->vector == 14)
			sc.cr2 = addr;
		if (!hooks->fault(sig, code, f->vector == 14 ? addr : f->rip, &sc))
			return false;
		from_sigcontext(&sc, f);
		return true;
	}
	return false;
}
