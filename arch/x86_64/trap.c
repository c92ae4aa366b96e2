/*
 * arch/x86_64/trap.c - what happens after entry.S: exceptions are reported
 * and end the VM; interrupts go to the handler registered for their vector.
 *
 * Interface: trap_set_irq_handler(vector, fn) installs an interrupt handler
 * (fn runs with interrupts off; the LAPIC EOI is sent after it returns).
 * An exception prints the vector, error code, registers, CR2 and a
 * symbolized backtrace, then ends the VM with the panic status.
 */
#include "arch/x86_64/x86_impl.h"

static void (*irq_handlers[256])(struct trap_frame *f);

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode", "#NM no FPU",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
	"reserved 24", "reserved 25", "reserved 26", "reserved 27",
	"#HV hypervisor injection", "#VC VMM communication", "#SX security", "reserved 31",
};

void trap_set_irq_handler(unsigned int vector, void (*fn)(struct trap_frame *f))
{
	ASSERT(vector >= 32 && vector < 256);
	irq_handlers[vector] = fn;          /* NULL uninstalls */
}

static void print_symbol(const char *prefix, uintptr_t addr)
{
	uintptr_t off;
	const char *name = ksym_lookup(addr, &off);

	if (name)
		printk("%s%016lx <%s+0x%lx>\n", prefix, addr, name, off);
	else
		printk("%s%016lx\n", prefix, addr);
}

void arch_backtrace(uintptr_t rbp, int max_frames)
{
	printk("  backtrace:\n");
	for (int i = 0; i < max_frames && rbp; i++) {
		if ((rbp & 7) || !paging_is_mapped(rbp) || !paging_is_mapped(rbp + 8))
			break;
		uintptr_t ret = ((uintptr_t *)rbp)[1];
		if (!ret)
			break;
		print_symbol("    ", ret);
		rbp = ((uintptr_t *)rbp)[0];
	}
}

/* A function that made no frame of its own (a leaf) has its caller's return
 * address on top of the stack, where the frame-pointer walk cannot see it:
 * show it, marked "?" as a guess, when it points into kernel text. */
static void print_stack_top(uintptr_t rsp)
{
	uintptr_t off, ret;

	if ((rsp & 7) || !paging_is_mapped(rsp))
		return;
	ret = *(uintptr_t *)rsp;
	if (ksym_lookup(ret, &off))
		print_symbol("  ? caller ", ret);
}

static void print_pf_error(uint64_t err)
{
	printk("  page fault: %s, %s%s%s\n",
	       (err & 1) ? "protection violation" : "page not present",
	       (err & 2) ? "write" : ((err & 16) ? "instruction fetch" : "read"),
	       (err & 8) ? ", reserved bit set" : "",
	       (err & 32) ? ", protection key" : "");
}

static void print_registers(const struct trap_frame *f)
{
	printk("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	printk("  rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
	printk("  r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", f->r8, f->r9, f->r10, f->r11);
	printk("  r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", f->r12, f->r13, f->r14, f->r15);
	printk("  rflags %016lx cs %lx ss %lx cr2 %016lx cr3 %016lx\n",
	       f->rflags, f->cs, f->ss, read_cr2(), read_cr3());
}

static __noreturn void exception_report(struct trap_frame *f)
{
	unsigned int cpu = this_cpu() ? this_cpu()->id : 0;

	printk("\nskiff: fatal exception %s (vector %lu), error code 0x%lx, cpu %u\n",
	       exc_names[f->vector], f->vector, f->error, cpu);
	if (f->vector == 14) {
		print_pf_error(f->error);
		if (sched_addr_in_stack_area(read_cr2()) && !(f->error & 1))
			printk("  stack overflow: the address is below a thread's stack (its guard)\n");
	}
	print_symbol("  rip ", f->rip);
	print_registers(f);
	print_stack_top(f->rsp);
	arch_backtrace(f->rbp, 16);
	arch_exit_panic();
}

/* The exception IST is shifted down while a handler runs, so that a fault
 * inside the handler lands below our frame instead of on top of it. */
static void exception_enter(struct arch_cpu *a)
{
	a->exc_depth++;
	if (a->exc_depth > 1) {
		static const char msg[] = "\nskiff: fault while reporting a fault; stopping\n";
		console_write(msg, sizeof(msg) - 1);
		arch_exit_panic();
	}
	a->tss.ist[IST_EXCEPTION - 1] -= IST_LARGE / 2;
}

static void exception_leave(struct arch_cpu *a)
{
	a->tss.ist[IST_EXCEPTION - 1] += IST_LARGE / 2;
	a->exc_depth--;
}

/* After an interrupt: if the scheduler wants the interrupted thread off
 * its CPU, copy its frame and FPU state onto its own stack, below the
 * 128-byte red zone it may be using (or onto its kernel stack if it runs
 * on an application stack: sched_trap_copy_base), and return where the
 * copy starts (entry.S switches to it and calls sched_preempted()); else 0. */
#define STACK_MARGIN 8192               /* for the handler that runs below the copy */

uintptr_t trap_preempt_prepare(struct trap_frame *f, const void *fpu)
{
	uintptr_t below, fpu_copy;
	/* The fault defer_fault() noted (an NMI or machine check arriving in
	 * between is not it). */
	bool fault = f->vector < 32 && f->vector != 2 && f->vector != 18 &&
		     this_cpu()->arch.fault_pending;

	if (!fault && (f->vector < 32 || !(f->rflags & (1 << 9)) ||
		       !(sched_preempt_wanted() || arch_signal_wanted(f))))
		return 0;
	below = sched_trap_copy_base(f->rsp) - sizeof(*f);
	fpu_copy = ALIGN_DOWN(below - fpu_copy_size, 64);
	/* The copy and what runs below it (a fault handler, the scheduler)
	 * must fit on the thread's stack: else no preemption now, or, for a
	 * fault, the report with the original frame. */
	if (!sched_stack_has_room(fpu_copy - STACK_MARGIN)) {
		if (fault) {
			this_cpu()->arch.fault_pending = false;
			printk("\nskiff: no stack left to handle a page fault (thread stack nearly full)\n");
			exception_report(f);
		}
		return 0;
	}
	memcpy((void *)(fpu_copy + fpu_copy_size), f, sizeof(*f));
	memcpy((void *)fpu_copy, fpu, fpu_copy_size);
	return fpu_copy;
}

/* --- the exception table: instructions allowed to fault, and where to go --- */

struct ex_entry {
	uintptr_t insn, fixup;
};
extern const struct ex_entry __ex_table_start[], __ex_table_end[];

static uintptr_t fixup_for(uintptr_t rip)
{
	for (const struct ex_entry *e = __ex_table_start; e < __ex_table_end; e++) {
		if (e->insn == rip)
			return e->fixup;
	}
	return 0;
}

bool arch_fault_has_fixup(uintptr_t rip)
{
	return fixup_for(rip) != 0;
}

/* --- page faults on the application's half, handled in the thread --- */

#define USER_TOP 0x0000800000000000ULL

static arch_fault_fn fault_handler;

arch_fault_fn arch_set_fault_handler(arch_fault_fn fn)
{
	arch_fault_fn old = fault_handler;

	fault_handler = fn;
	return old;
}

/* Faults handled in the thread itself: a page fault the VM layer may
 * resolve (demand paging: an application address), and any fault of
 * application code, which may become a signal its handler catches; both
 * only in code that ran with interrupts on (so it may sleep).  Noted here,
 * then entry.S moves to the thread's stack and calls trap_in_thread(). */
static bool in_thread_fault(const struct trap_frame *f, uint64_t addr)
{
	if (f->vector == 14 && fault_handler && addr < USER_TOP)
		return true;
	return arch_in_app_text(f->rip) &&
	       (f->vector == 0 || f->vector == 6 || f->vector == 13 || f->vector == 14 ||
		f->vector == 16 || f->vector == 17 || f->vector == 19);
}

static bool defer_fault(const struct trap_frame *f)
{
	struct arch_cpu *a = &this_cpu()->arch;
	uint64_t addr = f->vector == 14 ? read_cr2() : 0;

	if (!in_thread_fault(f, addr) || !(f->rflags & (1 << 9)) ||
	    !this_cpu()->current || sched_thread_preempt_count())
		return false;                   /* atomic context: it may not sleep (fix-up or report) */
	a->fault_vector = (unsigned int)f->vector;
	a->fault_addr = addr;
	a->fault_access = ((f->error & 2) ? ARCH_FAULT_WRITE : 0) |
			  ((f->error & 16) ? ARCH_FAULT_EXEC : 0) |
			  ((f->error & 1) ? ARCH_FAULT_PRESENT : 0);
	a->fault_rip = f->rip;
	a->fault_rbp = f->rbp;
	a->fault_rsp = f->rsp;
	a->fault_pending = true;
	return true;
}

/* On the interrupted thread's own stack, interrupts off: a deferred page
 * fault is resolved (with interrupts on; the handler may sleep) or reported;
 * else this is a preemption. */
void trap_in_thread(void *fpu_copy)
{
	struct trap_frame *frame = (struct trap_frame *)((char *)fpu_copy + fpu_copy_size);
	struct arch_cpu *a = &this_cpu()->arch;
	uint64_t addr = a->fault_addr, rip = a->fault_rip, rbp = a->fault_rbp, rsp = a->fault_rsp;
	unsigned int access = a->fault_access, vector = a->fault_vector;
	int err;

	/* From here on the thread may sleep and move: the fault is in locals,
	 * and this_cpu() is asked again where it matters. */
	if (!a->fault_pending) {
		/* A preemption; signals sent meanwhile are taken after it. */
		do {
			if (arch_signal_wanted(frame)) {
				arch_irq_enable();
				arch_signal_deliver(frame, fpu_copy);
				arch_irq_disable();
			}
			sched_preempted();
		} while (arch_signal_wanted(frame));
		return;
	}
	a->fault_pending = false;
	arch_irq_enable();
	err = -EFAULT;
	if (vector == 14 && fault_handler && addr < USER_TOP)
		err = fault_handler(addr, access, rip);
	arch_irq_disable();
	if (err == 0)
		return;                         /* mapped: the instruction runs again */
	if (fixup_for(rip)) {                   /* a user copy: it returns -EFAULT */
		frame->rip = fixup_for(rip);
		return;
	}
	arch_irq_enable();
	bool caught = arch_signal_fault(frame, fpu_copy, addr, err);
	arch_irq_disable();
	if (caught)
		return;                         /* resume where the handler says */
	if (vector != 14 || addr >= USER_TOP) {       /* not the VM layer's */
		exception_enter(&this_cpu()->arch);
		exception_report(frame);
	}
	printk("\nskiff: fatal page fault at %016lx (%s%s), error %d\n", addr,
	       (access & ARCH_FAULT_WRITE) ? "write" : ((access & ARCH_FAULT_EXEC) ? "execute" : "read"),
	       (access & ARCH_FAULT_PRESENT) ? ", protection" : ", not mapped", err);
	print_symbol("  rip ", rip);
	print_stack_top(rsp);
	arch_backtrace(rbp, 16);
	arch_exit_panic();
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector == 2) {                   /* NMI: its own IST, not a fault */
		printk("skiff: NMI on cpu %u\n", this_cpu()->id);
		return;
	}
	if (f->vector < 32) {
		struct arch_cpu *a = &this_cpu()->arch;
		exception_enter(a);
		if (!defer_fault(f)) {
			uintptr_t fix = fixup_for(f->rip);
			if (fix && (f->vector == 13 || f->vector == 14))
				f->rip = fix;           /* a user copy met a bad address */
			else
				exception_report(f);
		}
		exception_leave(a);
		return;
	}
	if (f->vector == VEC_SPURIOUS)
		return;
	if (irq_handlers[f->vector])
		irq_handlers[f->vector](f);
	else
		printk("skiff: unexpected interrupt, vector %lu\n", f->vector);
	apic_eoi();
}
