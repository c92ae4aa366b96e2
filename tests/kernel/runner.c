/*
 * tests/kernel/runner.c - the test image's main(): runs every KTEST case
 * (core/ktest.h) and reports.  With application arguments it instead
 * provokes one fatal condition, for the boot tests that check how the kernel
 * reports them:  -- crash null | crash ud | crash gp | crash stack | crash panic
 */
#include "core/ktest.h"
#include "core/arch.h"
#include "core/cmdline.h"
#include "sched/sched.h"

extern const struct ktest __ktest_start[], __ktest_end[];
int crash(const char *kind);

void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk("#   %s: %s:%d: check failed: %s\n", t->name, file, line, msg);
	t->failures++;
}

static bool selected(const struct ktest *k, const char *prefix)
{
	return !prefix || strncmp(k->name, prefix, strlen(prefix)) == 0;
}

int main(int argc, char **argv)
{
	const char *prefix = cmdline_option(kernel_cmdline(), "test");
	int passed = 0, failed = 0;

	/* Tests that measure per-CPU behaviour start from the boot CPU. */
	thread_pin(0);
	if (argc == 3 && strcmp(argv[1], "crash") == 0)
		return crash(argv[2]);
	for (const struct ktest *k = __ktest_start; k < __ktest_end; k++) {
		struct ktest_ctx t = { k->name, 0 };
		if (!selected(k, prefix))
			continue;
		k->fn(&t);
		if (!arch_irq_enabled()) {              /* tests run with interrupts on */
			ktest_fail(&t, __FILE__, __LINE__, "the test left interrupts disabled");
			arch_irq_enable();
		}
		printk("%s - %s\n", t.failures ? "not ok" : "ok", k->name);
		if (t.failures)
			failed++;
		else
			passed++;
	}
	printk("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
