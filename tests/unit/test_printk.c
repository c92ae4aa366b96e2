/*
 * tests/unit/test_printk.c - host unit tests for the kernel's formatter
 * (core/printk.c), compared with the host C library's snprintf.
 *
 * The kernel's formatter is named ksnprintf/kvsnprintf (the application's
 * snprintf is musl's), so both link into this test side by side.
 *
 * Where Skiff intentionally differs from glibc, the test checks Skiff's own
 * documented behaviour (see core/printk.c):
 *   - %p of NULL is "0x0" (glibc: "(nil)");
 *   - an unknown conversion prints '%' and its character, drops any flags,
 *     width or precision before it, and consumes no argument (glibc prints the
 *     whole specification back);
 *   - there is no '#' flag, so "%#x" is such an unknown conversion.
 * Build and run: make build/unit/test_printk && build/unit/test_printk
 */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/unit.h"

int ksnprintf(char *buf, size_t size, const char *fmt, ...);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

static unsigned long compared;

/* Formats with both and fails the test, naming the format, if they differ. */
static void __attribute__((format(printf, 2, 3))) cmp_at(int line, const char *fmt, ...)
{
	char want[512], got[512];
	va_list ap, aq;
	int wn, gn;

	va_start(ap, fmt);
	va_copy(aq, ap);
	wn = vsnprintf(want, sizeof(want), fmt, ap);
	gn = kvsnprintf(got, sizeof(got), fmt, aq);
	va_end(aq);
	va_end(ap);
	compared++;
	if (wn != gn || strcmp(want, got) != 0)
		unit_fail(__FILE__, line, "format \"%s\": libc \"%s\" (%d), skiff \"%s\" (%d)",
			  fmt, want, wn, got, gn);
}

#define CMP(...) cmp_at(__LINE__, __VA_ARGS__)

/* Skiff's result must be `want`, returning its length. */
static void want_at(int line, const char *want, const char *fmt, ...)
{
	char got[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	if (n != (int)strlen(want) || strcmp(got, want) != 0)
		unit_fail(__FILE__, line, "format \"%s\": want \"%s\", skiff \"%s\" (%d)",
			  fmt, want, got, n);
}

#define WANT(...) want_at(__LINE__, __VA_ARGS__)

UNIT_TEST(printk_plain)
{
	CMP("hello, world\n");
	CMP("100%%");
	CMP("%%d %%%%");
	CMP("%d%%", 50);
	WANT("%", "%5%");                       /* as glibc: no width for %% */
	CMP("a%cb", 'x');
	CMP("[%5c|%-5c|%1c]", 'x', 'y', 'z');
	CMP("%d %i %u %x %X %o", 1, -2, 3u, 0xabcu, 0xabcu, 8u);
}

UNIT_TEST(printk_extremes)
{
	CMP("%d %d %d", 0, INT_MAX, INT_MIN);
	CMP("%u %x %o", UINT_MAX, UINT_MAX, UINT_MAX);
	CMP("%ld %ld %lu %lx", LONG_MAX, LONG_MIN, ULONG_MAX, ULONG_MAX);
	CMP("%lld %lld %llu %llx %llX %llo", LLONG_MAX, LLONG_MIN, ULLONG_MAX,
	    ULLONG_MAX, ULLONG_MAX, ULLONG_MAX);
	CMP("%+lld|% lld|%30lld|%-30lld|%030lld", LLONG_MIN, LLONG_MIN, LLONG_MIN,
	    LLONG_MIN, LLONG_MIN);
	CMP("%.25llu|%25.22llo", ULLONG_MAX, ULLONG_MAX);
	CMP("%zu %zd %zx", (size_t)-1, (ssize_t)-5, (size_t)SIZE_MAX);
	CMP("%td %tx %jd %ju", (ptrdiff_t)PTRDIFF_MIN, (ptrdiff_t)-1, (intmax_t)INTMAX_MIN,
	    (uintmax_t)UINTMAX_MAX);
	CMP("%hd %hu %hx %hhd %hhu %hhx", (short)-1, (unsigned short)65535,
	    (unsigned short)0xbeef, (signed char)-128, (unsigned char)255,
	    (unsigned char)0xab);
}

/* Integers in every combination of flags, width, precision and length. */
static const long long values[] = {
	0, 1, -1, 7, -7, 42, -42, 127, 128, -128, 255, 256, 32767, -32768, 65535,
	65536, INT_MAX, INT_MIN, UINT_MAX, (long long)UINT_MAX + 1, 0x123456789abcdefLL,
	LLONG_MAX, LLONG_MIN, -1000000000000LL,
};

static void cmp_int(const char *fmt, const char *len, long long v)
{
	if (!strcmp(len, "hh") || !strcmp(len, "h") || !strcmp(len, ""))
		cmp_at(__LINE__, fmt, (int)v);
	else if (!strcmp(len, "l") || !strcmp(len, "z"))
		cmp_at(__LINE__, fmt, (long)v);
	else
		cmp_at(__LINE__, fmt, v);
}

UNIT_TEST(printk_integer_matrix)
{
	static const char *flags[] = { "", "-", "0", "+", " ", "-0", "+0", "- ", "0 ", "+ ", "-+0 " };
	static const char *widths[] = { "", "1", "3", "8", "25" };
	static const char *precs[] = { "", ".", ".0", ".1", ".4", ".22" };
	static const char *lens[] = { "hh", "h", "", "l", "ll", "z" };
	static const char convs[] = "diuxXo";
	char fmt[32];

	for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
	for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
	for (size_t p = 0; p < sizeof(precs) / sizeof(precs[0]); p++)
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++)
	for (const char *c = convs; *c; c++) {
		snprintf(fmt, sizeof(fmt), "[%%%s%s%s%s%c]", flags[f], widths[w],
			 precs[p], lens[l], *c);
		for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++)
			cmp_int(fmt, lens[l], values[v]);
	}
	CHECK(compared > 100000);
}

UNIT_TEST(printk_star)
{
	static const int ws[] = { -30, -5, -1, 0, 1, 5, 30 };
	static const int ps[] = { -30, -1, 0, 1, 3, 30 };

	for (size_t i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
		CMP("[%*d]", ws[i], -42);
		CMP("[%-*x]", ws[i], 0xbeefu);
		CMP("[%0*d]", ws[i], 42);
		CMP("[%*s]", ws[i], "abc");
		CMP("[%*c]", ws[i], 'q');
		for (size_t j = 0; j < sizeof(ps) / sizeof(ps[0]); j++) {
			CMP("[%*.*d]", ws[i], ps[j], 12345);
			CMP("[%.*lld]", ps[j], LLONG_MIN);
			CMP("[%.*s]", ps[j], "hello, world");
		}
	}
}

UNIT_TEST(printk_strings)
{
	static const char *strs[] = { "", "a", "hello", "a somewhat longer string, 40 chars long" };
	static const char *specs[] = { "%s", "%1s", "%10s", "%-10s", "%.0s", "%.3s", "%8.3s",
				       "%-8.3s", "%.50s", "%50.45s", "%-50s" };
	char fmt[16];

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		for (size_t j = 0; j < sizeof(specs) / sizeof(specs[0]); j++) {
			snprintf(fmt, sizeof(fmt), "[%s]", specs[j]);
			cmp_at(__LINE__, fmt, strs[i]);
		}
	}
	CMP("%s|%s", "two", "strings");
	/* A string exactly as long as a precision, and unterminated beyond it. */
	{
		char raw[3] = { 'a', 'b', 'c' };
		CMP("[%.3s]", raw);
		CMP("[%.2s]", raw);
	}
}

UNIT_TEST(printk_null_string)
{
	const char *null = NULL;

	/* As glibc, which the compiler will not let us call with NULL here. */
	WANT("[(null)]", "[%s]", null);
	WANT("[    (null)]", "[%10s]", null);
	WANT("[(null)    ]", "[%-10s]", null);
}

UNIT_TEST(printk_pointer)
{
	int x;
	void *p = &x, *big = (void *)UINTPTR_MAX, *small = (void *)0x1234;

	CMP("%p", p);
	CMP("%p %p", big, small);
	CMP("[%20p]", small);
	CMP("[%-20p]", small);
	WANT("[0x000000000000001234]", "[%020p]", small);  /* as glibc */
	CMP("[%3p]", small);
	CMP("[%-3p]", small);
	/* Skiff's NULL is "0x0" (glibc: "(nil)"), padded like any pointer. */
	WANT("0x0", "%p", NULL);
	WANT("[  0x0]", "[%5p]", NULL);
	WANT("[0x0  ]", "[%-5p]", NULL);
	WANT("[0x000]", "[%05p]", NULL);
}

UNIT_TEST(printk_unknown_conversion)
{
	WANT("%y", "%y");
	WANT("a%yb", "a%5yb");
	WANT("%y 7", "%y %d", 7);               /* no argument consumed */
	WANT("%#x 9", "%#x %d", 9);             /* no '#' flag */
	WANT("abc%", "abc%");                   /* a lone '%' at the end */
	WANT("abc%", "abc%-08ll");
}

/* Every buffer size from 0 to past the output: libc's result, and no byte
 * written at or past `size`. */
static void cmp_truncated(const char *fmt, int v, const char *s)
{
	char want[128], got[128 + 8];
	int full = snprintf(want, sizeof(want), fmt, v, s);

	for (size_t size = 0; size <= (size_t)full + 2; size++) {
		char w[128];
		int wn, gn;

		memset(got, 0x5a, sizeof(got));
		wn = snprintf(w, size, fmt, v, s);
		gn = ksnprintf(size ? got : NULL, size, fmt, v, s);
		CHECK_EQ(gn, wn);
		CHECK_EQ(gn, full);
		if (size)
			CHECK_STR(got, w);
		for (size_t i = size; i < sizeof(got); i++)
			if (got[i] != 0x5a) {
				unit_fail(__FILE__, __LINE__, "\"%s\" size %zu: wrote byte %zu",
					  fmt, size, i);
				break;
			}
	}
}

UNIT_TEST(printk_truncation)
{
	char one = 'x';

	cmp_truncated("%d and %s", -12345, "a string");
	cmp_truncated("[%-10d|%10s]", 7, "pad");
	cmp_truncated("", 0, "");
	cmp_truncated("%%%c", 'c', "");
	/* size 0 writes nothing at all, not even a NUL. */
	CHECK_EQ(ksnprintf(&one, 0, "%s", "abc"), 3);
	CHECK_EQ(one, 'x');
	/* size 1: just the NUL. */
	CHECK_EQ(ksnprintf(&one, 1, "%s", "abc"), 3);
	CHECK_EQ(one, 0);
	/* Long output into a small buffer still counts every character. */
	{
		char small[4];
		CHECK_EQ(ksnprintf(small, sizeof(small), "%300d", 1), 300);
		CHECK_STR(small, "   ");
		CHECK_EQ(ksnprintf(small, sizeof(small), "%-300d", 1), 300);
		CHECK_STR(small, "1  ");
	}
}

static int call_v(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

UNIT_TEST(printkvsnprintf)
{
	char buf[32];

	CHECK_EQ(call_v(buf, sizeof(buf), "%s=%d", "x", 5), 3);
	CHECK_STR(buf, "x=5");
	CHECK_EQ(call_v(buf, 3, "%s=%d", "x", 5), 3);
	CHECK_STR(buf, "x=");
}

UNIT_TEST(printk_huge_width)
{
	char buf[8];

	/* Skiff cuts widths and precisions to 4096 (glibc fails with
	 * EOVERFLOW past INT_MAX); parsing them must not overflow an int. */
	CMP("%4096d", 1);
	CMP("%.4096d", 1);
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%99999999999d", 1), 4096);
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%.99999999999d", 1), 4096);
	CHECK_STR(buf, "0000000");
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%*d", INT_MIN, 1), 4096);
	CHECK_STR(buf, "1      ");
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%*d", INT_MAX, 1), 4096);
	CHECK_EQ(ksnprintf(buf, sizeof(buf), "%.*s", INT_MAX, "ab"), 2);
	CHECK_STR(buf, "ab");
}
