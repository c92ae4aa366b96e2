/*
 * tests/kernel/crash.c - fatal conditions on purpose, one per boot, for the
 * boot tests that check the kernel's report and exit status.
 */
#include "core/kernel.h"
#include "sched/sched.h"
#include "core/arch.h"

int crash(const char *kind);

static volatile int recurse_limit = 1 << 30;    /* the compiler must not see "forever" */

static int __attribute__((noinline)) recurse(int depth)
{
	volatile char pad[512];

	pad[0] = (char)depth;
	if (depth >= recurse_limit)
		return 0;
	return recurse(depth + 1) + pad[0];
}

static void recurse_entry(void *arg)
{
	(void)arg;
	recurse(0);
}

static int refuse_fault(uintptr_t addr, unsigned int access, uintptr_t rip)
{
	(void)addr;
	(void)access;
	(void)rip;
	return -EFAULT;
}

/* A thread with the smallest stack recurses until it hits its guard page. */
static int overflow_a_stack(void)
{
	struct thread *t = thread_create(recurse_entry, NULL,
					 &THREAD_ATTR(.name = "deep", .stack_size = 16384));

	if (IS_ERR(t))
		return 3;
	thread_join(t);
	return 4;                               /* not reached: the guard faults */
}

static volatile uintptr_t bad_address;        /* volatile: the compiler must not see the 0 */

static int __attribute__((noinline)) crash_null(void)
{
	return *(volatile int *)bad_address;
}

static void __attribute__((noinline)) crash_write_text(void)
{
	*(volatile uint8_t *)(uintptr_t)crash_null = 0xc3;
}

__attribute__((noinline)) int crash(const char *kind)
{
	if (strcmp(kind, "null") == 0)
		return crash_null();
	if (strcmp(kind, "text") == 0)
		crash_write_text();
	else if (strcmp(kind, "ud") == 0)
		__builtin_trap();
	else if (strcmp(kind, "gp") == 0) {
		bad_address = 0x8000000000000000UL;    /* non-canonical */
		return crash_null();
	} else if (strcmp(kind, "panic") == 0) {
		panic("deliberate panic from the crash test");
	} else if (strcmp(kind, "stack") == 0) {
		return overflow_a_stack();
	} else if (strcmp(kind, "user") == 0) {
		arch_set_fault_handler(refuse_fault);   /* a VM layer that finds no mapping */
		bad_address = 0x60000000;
		return crash_null();
	}
	printk("crash: unknown kind '%s'\n", kind);
	return 2;
}
