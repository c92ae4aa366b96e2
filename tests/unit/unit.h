/*
 * tests/unit/unit.h - a minimal host unit-test harness.
 *
 * Interface: UNIT_TEST(name) { CHECK(cond); CHECK_EQ(a, b); } defines a
 * test; unit.c's main() runs every test in the binary, prints "ok - name" or
 * "not ok - name" per test and closes with "N passed, N failed".  Tests are
 * built with ASan and UBSan (any report fails the binary).
 */
#ifndef TESTS_UNIT_UNIT_H
#define TESTS_UNIT_UNIT_H

#include <stdint.h>
#include <stdio.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define UNIT_TEST(id)                                                       \
	static void unit_fn_##id(void);                                     \
	static struct unit_test unit_t_##id = { #id, unit_fn_##id, NULL };  \
	__attribute__((constructor)) static void unit_reg_##id(void)        \
	{                                                                   \
		unit_register(&unit_t_##id);                                \
	}                                                                   \
	static void unit_fn_##id(void)

#define CHECK(cond)                                                         \
	((cond) ? (void)0 : unit_fail(__FILE__, __LINE__, "%s", #cond))

#define CHECK_EQ(a, b)                                                      \
	do {                                                                \
		long long a_ = (long long)(a), b_ = (long long)(b);         \
		if (a_ != b_)                                               \
			unit_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", \
				  #a, #b, a_, b_);                           \
	} while (0)

#define CHECK_STR(a, b)                                                     \
	do {                                                                \
		const char *a_ = (a), *b_ = (b);                            \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                      \
			unit_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")", \
				  #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

/* xorshift64*: a fast, deterministic generator for randomized tests (state
 * must start non-zero; tests seed it so that failures reproduce). */
static inline uint64_t unit_rand(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545F4914F6CDD1DULL;
}

#endif
