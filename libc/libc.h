/*
 * libc/libc.h - the system-call layer and the application's start: the one
 * header the rest of the kernel includes from libc/.
 *
 * Interface: libc_start(argc, argv) runs the application's main() through
 * musl's __libc_start_main on the calling thread (its main thread) and
 * never returns: the application ends with exit(), and with it the VM.
 * How system calls are written is in libc/syscall.h.
 */
#ifndef LIBC_LIBC_H
#define LIBC_LIBC_H

#include <stdint.h>

__attribute__((noreturn)) void libc_start(int argc, char **argv);

/* An unmodified binary's first thread, set up by loader/: jumps to entry
 * with the stack pointer at sp, on the stack [stack_lo, stack_hi). */
__attribute__((noreturn)) void libc_exec(uintptr_t entry, uintptr_t sp, uintptr_t stack_lo,
					 uintptr_t stack_hi);
/* The environment for the application: the KEY=VALUE kernel options. */
int libc_environment(const char ***envp);

/* The process as /proc/self shows it (fs/procfs_self.c); signal sets have
 * bit n-1 for signal n. */
struct libc_process {
	int pid;                        /* the main thread's tid */
	int threads;                    /* application threads alive */
	uint64_t cpu_ns;                /* the CPU time they have used */
	uint64_t sig_pending, sig_blocked;      /* the calling thread's */
	uint64_t sig_ignored, sig_caught;       /* handlers SIG_IGN, and functions */
};
void libc_process_get(struct libc_process *p);

#endif
