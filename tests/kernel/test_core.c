/*
 * tests/kernel/test_core.c - generic kernel facilities, tested in the booted
 * kernel: formatting, the symbol table, the clock, the one-shot timer,
 * interrupts on every CPU, floating point across interrupts.
 */
#include "core/ktest.h"
#include "core/arch.h"
#include "core/cmdline.h"

void kernel_main(void *bi);

KTEST(snprintf_formats)
{
	char buf[64];

	ksnprintf(buf, sizeof(buf), "%d|%5u|%-4x|%08lx|%s|%c", -42, 7u, 0xabu, 0xdeadUL, "ok", 'z');
	KCHECK(t, strcmp(buf, "-42|    7|ab  |0000dead|ok|z") == 0);
	KCHECK_EQ(t, ksnprintf(buf, 4, "%s", "truncated"), 9);
	KCHECK(t, strcmp(buf, "tru") == 0);
}

KTEST(ksym_names_kernel_functions)
{
	uintptr_t off = 1;
	const char *name = ksym_lookup((uintptr_t)kernel_main + 3, &off);

	KCHECK(t, name && strcmp(name, "kernel_main") == 0);
	KCHECK_EQ(t, off, 3);
	KCHECK(t, ksym_lookup(0x1000, &off) == NULL);
}

KTEST(clock_is_monotonic_and_calibrated)
{
	uint64_t a = arch_clock_ns(), b;
	uint64_t ms = arch_tsc_to_ns(arch_tsc_khz());   /* 1 ms worth of TSC ticks */

	for (int i = 0; i < 1000; i++) {
		b = arch_clock_ns();
		KCHECK(t, b >= a);
		a = b;
	}
	/* The TSC rate must be plausible (100 MHz .. 10 GHz), and the scale
	 * that turns ticks into nanoseconds must agree with it.  (How close the
	 * rate is to the truth is a benchmark's question, not a timed test's.) */
	KCHECK(t, arch_tsc_khz() > 100000 && arch_tsc_khz() < 10000000);
	KCHECK(t, ms >= 999000 && ms <= 1001000);
	KCHECK(t, arch_clock_ns() < 3600ULL * 1000000000ULL);   /* booted < 1 h ago */
}

static volatile int timer_fired;
static arch_timer_fn saved_handler;

/* These tests borrow the timer from the scheduler: take it, and give it
 * back with an early interrupt, after which the scheduler re-arms its own
 * deadline. */
static void borrow_timer(arch_timer_fn fn)
{
	uint64_t end;

	saved_handler = arch_timer_set_handler(fn);
	arch_timer_oneshot(0);
	end = arch_clock_ns() + 200000;         /* let an interrupt already latched fire */
	while (arch_clock_ns() < end)
		arch_cpu_relax();
	timer_fired = 0;
}

static void return_timer(void)
{
	arch_timer_set_handler(saved_handler);
	arch_timer_oneshot(arch_clock_ns() + 1000);
}

static void on_timer(void)
{
	timer_fired++;
}

/* Waits with interrupts on, polling (not halting: the interrupt may never come). */
static bool wait_until(volatile int *flag, int value, uint64_t timeout_ns)
{
	uint64_t end = arch_clock_ns() + timeout_ns;
	unsigned long flags = arch_irq_save();

	arch_irq_enable();
	while (*flag < value && arch_clock_ns() < end)
		arch_cpu_relax();
	arch_irq_restore(flags);
	return *flag >= value;
}

KTEST(oneshot_timer_fires_after_deadline)
{
	uint64_t deadline;

	timer_fired = 0;
	borrow_timer(on_timer);
	deadline = arch_clock_ns() + 2000000;           /* 2 ms */
	arch_timer_oneshot(deadline);
	KCHECK(t, wait_until(&timer_fired, 1, 2000000000ULL));
	KCHECK(t, arch_clock_ns() >= deadline);
	KCHECK_EQ(t, timer_fired, 1);                   /* one-shot: once only */
	arch_timer_oneshot(arch_clock_ns() + 1000000);  /* a cancelled timer stays silent */
	arch_timer_oneshot(0);
	timer_fired = 0;
	wait_until(&timer_fired, 1, 5000000);
	KCHECK_EQ(t, timer_fired, 0);
	return_timer();
}

static volatile int ran_on[CONFIG_MAX_CPUS];

static void record_cpu(void *arg)
{
	(void)arg;
	ran_on[this_cpu()->id]++;
}

KTEST(every_cpu_online_and_answers_ipi)
{
	KCHECK_EQ(t, ncpus_online, arch_ncpus_possible());
	for (unsigned int i = 1; i < ncpus_online; i++) {
		struct cpu *c = &cpus[i];
		uint64_t end = arch_clock_ns() + 1000000000ULL;

		KCHECK(t, c->online);
		c->ipi_done = false;
		c->ipi_arg = NULL;
		__atomic_store_n(&c->ipi_fn, record_cpu, __ATOMIC_RELEASE);
		arch_ipi_send(i);
		while (!__atomic_load_n(&c->ipi_done, __ATOMIC_ACQUIRE) && arch_clock_ns() < end)
			arch_cpu_relax();
		KCHECK(t, c->ipi_done);
		KCHECK_EQ(t, ran_on[i], 1);
	}
	KCHECK_EQ(t, this_cpu()->id, 0);
	KCHECK(t, this_cpu()->self == &cpus[0]);
}

/* A handler that uses the SSE registers itself, as any C code may. */
static void on_timer_with_fpu(void)
{
	volatile double k = 3.25;
	double a = k, b = k * 2, c = k * 3, d = k * 4;

	for (int i = 0; i < 8; i++) {
		a = a * b + c;
		b = b * c + d;
		c = c * d + a;
		d = d * a + b;
	}
	k = a + b + c + d;
	timer_fired++;
}

/* Four accumulators that stay in SSE registers for the whole loop (O2: no
 * spills), while interrupts arrive whose handler computes in the same
 * registers.  Returns their sum. */
__attribute__((optimize("O2"), noinline))
static double fpu_work(int n, double seed)
{
	double a = 1.0, b = 2.0, c = 3.0, d = 4.0;

	for (int i = 0; i < n; i++) {
		a = a * seed + 1e-7;
		b = b * seed - 1e-7;
		c = c * seed + 2e-7;
		d = d * seed - 2e-7;
	}
	return a + b * 3 + c * 5 + d * 7;
}

/* The entry code must save and restore the FPU/SSE/AVX state. */
KTEST(fpu_state_survives_interrupts)
{
	volatile double seed = 1.0000001;
	int fired_before, inside = 0;
	bool same = true;

	borrow_timer(on_timer_with_fpu);
	timer_fired = 0;
	for (int round = 0; round < 20; round++) {
		double expect = fpu_work(20000, seed), got;

		fired_before = timer_fired;
		arch_timer_oneshot(arch_clock_ns() + 20000);
		got = fpu_work(20000, seed);            /* interrupts are on in tests */
		inside += timer_fired > fired_before;    /* it hit the loop */
		same &= got == expect;
		wait_until(&timer_fired, fired_before + 1, 100000000);
	}
	return_timer();
	KCHECK(t, inside >= 5);
	KCHECK(t, same);
}

KTEST(cmdline_reaches_kernel)
{
	const char *v = cmdline_option(kernel_cmdline(), "test");

	/* The runner is started with or without test=PREFIX; if with, this
	 * test ran only because PREFIX (read from the command line) selects
	 * it.  An option that was never given must read as absent. */
	KCHECK(t, v == NULL || strncmp("cmdline_reaches_kernel", v, strlen(v)) == 0);
	KCHECK(t, cmdline_option(kernel_cmdline(), "no-such-option") == NULL);
}
