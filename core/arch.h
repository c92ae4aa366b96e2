/*
 * core/arch.h - the contract between generic code and an architecture.
 *
 * Interface: generic code calls only the arch_* hooks below; each
 * architecture implements them in arch/<name>/ and supplies arch_defs.h with
 * its constants, struct arch_cpu and the inline hooks (interrupt flags, port
 * and MMIO access, TSC).  Keep this list short and greppable.
 */
#ifndef CORE_ARCH_H
#define CORE_ARCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#if defined(__x86_64__)
#include "arch/x86_64/arch_defs.h"
#else
#error "Skiff supports x86-64 only: no arch/<name>/arch_defs.h for this target"
#endif

struct boot_info;
struct sched_cpu;
struct thread;
struct thread_libc;

/* Per-CPU state: one struct per CPU, reached through arch_this_cpu(). */
struct cpu {
	struct cpu *self;          /* must stay first: %gs:0 reads it */
	struct thread *current;    /* must stay second: %gs:8 reads it (sched/) */
	struct thread_libc *current_libc;   /* current's system-call state (sched/, libc/) */
	unsigned int id;           /* 0 = boot CPU, dense */
	uint32_t apic_id;
	volatile bool online;      /* set by the CPU itself once it runs C code */
	uint64_t ipis_received;    /* owned by this CPU; irqs off */
	uint64_t timer_irqs;       /* owned by this CPU; irqs off */
	void (*ipi_fn)(void *);    /* cross-call posted by another CPU */
	void *ipi_arg;
	volatile bool ipi_done;
	struct sched_cpu *sched;   /* the scheduler's state for this CPU (sched/) */
	struct arch_cpu arch;      /* TSS, IST stacks, ...: arch-private */
};

extern struct cpu cpus[CONFIG_MAX_CPUS];
extern unsigned int ncpus_online;

static inline struct cpu *this_cpu(void) { return arch_this_cpu(); }

/* Generic entry points the arch calls. */
__attribute__((noreturn)) void kernel_ap_main(void);   /* each AP, once up (core/main.c) */
bool sched_preempt_wanted(void);        /* after an interrupt (sched/sched.c) */
void sched_preempted(void);             /* on the preempted thread's stack, irqs off */
bool sched_addr_in_stack_area(uintptr_t addr);   /* a fault there: a stack overflow */
unsigned int sched_thread_preempt_count(void);   /* the running thread's */
bool sched_stack_has_room(uintptr_t low);        /* the running thread's stack reaches down to low */
/* Where a trap taken at rsp may copy the interrupted state: just below the
 * red zone, or the thread's kernel stack if rsp is on its app stack. */
uintptr_t sched_trap_copy_base(uintptr_t rsp);

/* Boot and platform bring-up (arch/x86_64/setup.c), called by kernel_main. */
void arch_platform_init(struct boot_info *bi);
int arch_smp_start(void);           /* starts every CPU in the MADT; returns how many run */
unsigned int arch_ncpus_possible(void);

/* Time (arch/x86_64/time.c). */
/* arch_clock_ns(): monotonic nanoseconds since boot (inline: arch_defs.h). */
uint64_t arch_boot_tsc(void);       /* TSC at the first kernel instruction */
uint64_t arch_tsc_to_ns(uint64_t tsc_delta);
uint64_t arch_tsc_khz(void);
uint64_t arch_wall_clock_ns(void);  /* since 1970 (the RTC, read once per call); 0: unknown */
void arch_timer_oneshot(uint64_t deadline_ns);   /* 0 cancels */
typedef void (*arch_timer_fn)(void);
arch_timer_fn arch_timer_set_handler(arch_timer_fn fn);   /* returns the previous one */

/* Interprocessor interrupts (arch/x86_64/apic.c). */
void arch_ipi_send(unsigned int cpu_id);     /* wakes cpu_id: runs its IPI hook */
void arch_ipi_set_handler(void (*fn)(void));

/* Memory (arch/x86_64/paging.c). */
void *arch_phys_to_virt(uint64_t pa);
uint64_t arch_virt_to_phys(const void *va);
void *arch_map_mmio(uint64_t pa, size_t len);           /* uncached */
void *arch_map_phys(uint64_t pa, size_t len);           /* write-back, read-only use */
void arch_tlb_flush_all(void);
int arch_map_kernel(uintptr_t va, uint64_t pa, size_t len);   /* 4 KiB pages, RW, NX */
void arch_zero_pages(void *p, size_t len);      /* 64-byte aligned, a multiple of 64 */
/* memcpy for application pointers: 0, or -EFAULT if an address is bad
 * (faults the VM layer resolves, like a first touch, are resolved). */
int arch_copy_user(void *dst, const void *src, size_t n);
bool arch_fault_has_fixup(uintptr_t rip);      /* the fault becomes an error return */
/* A bad access at rip will not end the VM: it has a fix-up, or it is in
 * application code that catches the signal the fault handler's error err
 * raises (SIGBUS for -EIO, else SIGSEGV).  Fault reports wait for fatal ones. */
bool arch_fault_is_caught(uintptr_t rip, int err);

/* The application's half (arch/x86_64/uspace.c): one page at a time, 4 KiB
 * (level 1) or 2 MiB (level 2); no TLB flush: batch, then shoot down once.
 * Callers serialize (the VM layer's mutex). */
#define ARCH_PROT_READ  1
#define ARCH_PROT_WRITE 2
#define ARCH_PROT_EXEC  4
/* With a prot: the frame is not the mapping's own (a file's page).  Kept in
 * the entry across protect and split, and reported by query, so that the
 * VM layer knows not to free it when it unmaps the page. */
#define ARCH_MAP_BORROWED 8
int arch_user_map(uintptr_t va, uint64_t pa, int level, unsigned int prot);
uint64_t arch_user_unmap(uintptr_t va, int *level);       /* the frame, or 0 */
int arch_user_protect(uintptr_t va, unsigned int prot);
int arch_user_split(uintptr_t va);                        /* 2 MiB -> 512 x 4 KiB */
int arch_user_prepare(uintptr_t va, int level);   /* makes the tables a map there needs */
uint64_t arch_user_query(uintptr_t va, int *level, unsigned int *prot);
void arch_tlb_shootdown(uintptr_t start, size_t len);     /* every CPU, waits */
/* Also the lazy CPUs below: for lower-half memory kernel code uses. */
void arch_tlb_shootdown_all(uintptr_t start, size_t len);
/* Frees the page table of the 2 MiB range at va when none of its entries
 * is in use (after the next shootdown, which then reaches every CPU):
 * unmapping leaves no table behind to pin memory.  1 if it did. */
int arch_user_prune(uintptr_t va);
/* Whether the 2 MiB range holding va has a page or a page table: false
 * lets a walk over a large, mostly empty range skip it whole. */
bool arch_user_range_used(uintptr_t va);
/* An idle CPU (running only kernel code) is lazy: shootdowns skip it, and
 * it flushes its TLB on leaving idle if one did. */
void arch_tlb_lazy_enter(void);
void arch_tlb_lazy_leave(void);

/* Page faults on the application's half, from code running with interrupts
 * on, go to this handler in the faulting thread (interrupts on, it may
 * sleep): 0 retries the access, a negative errno ends the VM with a report
 * or raises a signal: SIGBUS for -EIO (a file page past the end of its
 * file), SIGSEGV otherwise.
 * (The VM layer installs it for demand paging.) */
#define ARCH_FAULT_WRITE   1
#define ARCH_FAULT_EXEC    2
#define ARCH_FAULT_PRESENT 4            /* a protection fault, not a missing page */
typedef int (*arch_fault_fn)(uintptr_t addr, unsigned int access, uintptr_t rip);
arch_fault_fn arch_set_fault_handler(arch_fault_fn fn);   /* returns the previous */

/* The SYSCALL instruction (arch/x86_64/syscall.S), for unmodified Linux
 * binaries: the caller's registers, as the entry saved them.  The entry
 * calls syscall_instruction(f) (libc/), whose result goes back in rax;
 * arch_syscall_return_child(f) makes the calling thread leave a system
 * call through frame f instead (clone(2)'s child: rax 0, its own stack). */
struct arch_syscall_frame {
	uint64_t r15, r14, r13, r12, r10, r9, r8, rdx, rsi, rdi, rbp, rbx, rax;
	uint64_t rsp, rflags, rip;
};
long syscall_instruction(struct arch_syscall_frame *f);
__attribute__((noreturn)) void arch_syscall_return_child(const struct arch_syscall_frame *f);
void arch_syscall_init(void);           /* on each CPU: LSTAR, STAR, FMASK, EFER.SCE */
/* Starts a program loaded by loader/: the ELF entry with the stack pointer
 * at sp (its argc), the other registers zero (rdx 0: no exit function). */
__attribute__((noreturn)) void arch_enter_program(uintptr_t entry, uintptr_t sp);

/* Signals (arch/x86_64/signal.c): the system-call layer's hooks.  A thread
 * running application code (arch_in_app_text: the application and musl,
 * or any code in the application's half, such as a loaded program; not
 * the kernel) is interrupted for a signal when pending() says it has
 * one; deliver(sc) then runs handlers in the thread, on its interrupted
 * context sc (Linux's struct sigcontext), which they may change and the
 * thread resumes.  A fault in application code (bad access, invalid
 * instruction, division by zero) goes to fault(sig, code, addr, sc); it
 * returns false when nothing catches the signal, and the fault is then
 * reported as a kernel fault is. */
struct sigcontext;
struct arch_signal_hooks {
	bool (*pending)(void);
	void (*deliver)(struct sigcontext *sc);
	bool (*fault)(int sig, int code, uintptr_t addr, struct sigcontext *sc);
	bool (*catches)(int sig);       /* a handler would take a fault's sig */
};
void arch_set_signal_hooks(const struct arch_signal_hooks *hooks);
/* A SYSCALL-instruction caller's registers as a signal context, and back
 * (a handler may change where the call returns to). */
void arch_syscall_frame_to_sigcontext(const struct arch_syscall_frame *f, struct sigcontext *sc);
void arch_sigcontext_to_syscall_frame(const struct sigcontext *sc, struct arch_syscall_frame *f);
bool arch_in_app_text(uintptr_t rip);

/* Ending the VM (arch/x86_64/power.c): status 0..255, or panic. */
__attribute__((noreturn)) void arch_exit(int status);
__attribute__((noreturn)) void arch_exit_panic(void);

/* Threads (arch/x86_64/switch.S, context.c). */
void arch_switch(struct arch_context *from, struct arch_context *to);
void arch_context_init(struct arch_context *c, void *stack_top,
		       void (*entry)(void *), void *arg);
void arch_set_tls(uint64_t fs_base);     /* the thread pointer (%fs base) */
/* fn(arg) with the stack pointer at top (16-byte aligned); returns its value. */
long arch_call_on_stack(void *top, long (*fn)(void *), void *arg);
uint64_t arch_get_tls(void);

/* Console (arch/x86_64/serial.c): raw bytes out, no locking. */
void arch_console_write(const char *s, size_t len);

/* Debugging (arch/x86_64/trap.c). */
void arch_backtrace(uintptr_t rbp, int max_frames);
/* CPU identity and randomness (arch/x86_64/cpuinfo.c). */
void arch_cpu_names(char vendor[13], char model[49]);   /* NUL-terminated */
bool arch_random_u64(uint64_t *v);      /* false: the CPU has no generator */
uint64_t arch_hwcap(void);              /* Linux's AT_HWCAP */
void arch_describe(void);          /* prints CPU features, clock source, ... */

#endif
