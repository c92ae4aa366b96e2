/*
 * core/ktest.h - in-kernel tests.
 *
 * Interface: write a test case as
 *     KTEST(timer_fires) { ...; KCHECK(t, cond); KCHECK_EQ(t, a, b); }
 * in a file under tests/kernel/; the build links every such case into the
 * test image (build/test/kernel.elf), whose runner prints one line per case
 * and a closing "N passed, N failed".  The `test=PREFIX` kernel option runs
 * only the cases whose names start with PREFIX.
 */
#ifndef CORE_KTEST_H
#define CORE_KTEST_H

#include "core/kernel.h"

struct ktest_ctx {
	const char *name;
	int failures;
};

struct ktest {
	const char *name;
	void (*fn)(struct ktest_ctx *t);
};

#define KTEST(id)                                                           \
	static void ktest_fn_##id(struct ktest_ctx *t);                     \
	static const struct ktest ktest_##id                                \
		__attribute__((used, section(".ktest"), aligned(8))) =      \
		{ #id, ktest_fn_##id };                                     \
	static void ktest_fn_##id(struct ktest_ctx *t)

void ktest_fail(struct ktest_ctx *t, const char *file, int line, const char *fmt, ...);

#define KCHECK(t, cond)                                                     \
	((cond) ? (void)0 : ktest_fail(t, __FILE__, __LINE__, "%s", #cond))
#define KCHECK_EQ(t, a, b)                                                  \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_)                                               \
			ktest_fail(t, __FILE__, __LINE__, "%s == %s (%lld != %lld)", \
				   #a, #b, a_, b_);                          \
	} while (0)

#endif
