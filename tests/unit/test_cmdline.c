/*
 * tests/unit/test_cmdline.c - host unit tests for the kernel command line
 * splitter (core/cmdline.c; syntax in core/cmdline.h).
 *
 * Inputs are built in exact-size heap blocks where their length matters, so
 * ASan reports any read past the terminating NUL.
 * Build and run: make build/unit/test_cmdline && build/unit/test_cmdline
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "core/cmdline.h"
#include "core/errno.h"

static struct cmdline cl;

/* Parses s and checks that it succeeds. */
static int parse_ok(const char *s)
{
	const char *why = NULL;
	int err = cmdline_parse(s, &cl, &why);

	CHECK_EQ(err, 0);
	CHECK(cl.argv[0] == NULL);
	CHECK(cl.argv[cl.argc + 1] == NULL);
	return err;
}

/* Parses s and checks that it fails with -EINVAL and a reason. */
static const char *parse_bad(const char *s)
{
	const char *why = NULL;

	CHECK_EQ(cmdline_parse(s, &cl, &why), -EINVAL);
	CHECK(why != NULL && why[0] != 0);
	return why ? why : "";
}

UNIT_TEST(cmdline_empty)
{
	parse_ok("");
	CHECK_EQ(cl.nopts, 0);
	CHECK_EQ(cl.argc, 0);
	parse_ok(" \t\n  ");
	CHECK_EQ(cl.nopts, 0);
	CHECK_EQ(cl.argc, 0);
	CHECK(cmdline_option(&cl, "x") == NULL);
}

/* A built-in command line merged with the boot loader's (core/cmdline.h). */
UNIT_TEST(cmdline_merge_builtin)
{
	static struct cmdline base;
	const char *why = NULL;

	CHECK_EQ(cmdline_parse("exec=/bin/x FOO=1 -- built in", &base, &why), 0);
	CHECK(base.dashdash);
	parse_ok("-- a b");
	CHECK(cl.dashdash);
	CHECK_EQ(cmdline_merge(&cl, &base, &why), 0);
	CHECK_STR(cmdline_option(&cl, "exec"), "/bin/x");
	CHECK_EQ(cl.argc, 2);
	CHECK_STR(cl.argv[1], "a");
	CHECK_STR(cl.argv[2], "b");
	CHECK(cl.argv[3] == NULL);

	parse_ok("exec=/bin/y BAR=2");             /* no "--": the built-in arguments */
	CHECK(!cl.dashdash);
	CHECK_EQ(cmdline_merge(&cl, &base, &why), 0);
	CHECK_EQ(cl.nopts, 4);
	CHECK_STR(cl.key[0], "exec");
	CHECK_STR(cl.key[3], "BAR");
	CHECK_STR(cmdline_option(&cl, "exec"), "/bin/y");   /* the boot line's wins */
	CHECK_STR(cmdline_option(&cl, "FOO"), "1");
	CHECK_EQ(cl.argc, 2);
	CHECK_STR(cl.argv[1], "built");
	CHECK_STR(cl.argv[2], "in");

	parse_ok("--");                             /* an explicit empty argument list */
	CHECK_EQ(cmdline_merge(&cl, &base, &why), 0);
	CHECK_EQ(cl.argc, 0);
	CHECK(cl.argv[1] == NULL);

	parse_ok("");                               /* nothing given: the built-in line */
	CHECK_EQ(cmdline_merge(&cl, &base, &why), 0);
	CHECK_EQ(cl.nopts, 2);
	CHECK_EQ(cl.argc, 2);

	CHECK_EQ(cmdline_parse("a b c d e f g h i j k l m n o p", &base, &why), 0);
	parse_ok("A B C D E F G H I J K L M N O P Q");
	CHECK_EQ(cmdline_merge(&cl, &base, &why), -EINVAL);
	CHECK(why != NULL && strstr(why, "32") != NULL);
}

UNIT_TEST(cmdline_options_and_flags)
{
	parse_ok("bootlog test=sched mem=64M empty= a=b=c");
	CHECK_EQ(cl.nopts, 5);
	CHECK_EQ(cl.argc, 0);
	CHECK_STR(cmdline_option(&cl, "bootlog"), "");
	CHECK_STR(cmdline_option(&cl, "test"), "sched");
	CHECK_STR(cmdline_option(&cl, "mem"), "64M");
	CHECK_STR(cmdline_option(&cl, "empty"), "");
	CHECK_STR(cmdline_option(&cl, "a"), "b=c");
	CHECK(cmdline_option(&cl, "boot") == NULL);
	CHECK(cmdline_option(&cl, "bootlogx") == NULL);
	CHECK(cmdline_option(&cl, "") == NULL);
}

UNIT_TEST(cmdline_last_option_wins)
{
	parse_ok("test=a verbose test=b test=c");
	CHECK_EQ(cl.nopts, 4);
	CHECK_STR(cmdline_option(&cl, "test"), "c");
	parse_ok("x=1 x");
	CHECK_STR(cmdline_option(&cl, "x"), "");
	parse_ok("x x=1");
	CHECK_STR(cmdline_option(&cl, "x"), "1");
}

UNIT_TEST(cmdline_separator)
{
	parse_ok("bootlog test=sched -- --port 11211 \"a b\"");
	CHECK_EQ(cl.nopts, 2);
	CHECK_STR(cmdline_option(&cl, "test"), "sched");
	CHECK_EQ(cl.argc, 3);
	CHECK_STR(cl.argv[1], "--port");
	CHECK_STR(cl.argv[2], "11211");
	CHECK_STR(cl.argv[3], "a b");
	/* After the separator, options syntax means nothing. */
	parse_ok("-- a=b =c -- x");
	CHECK_EQ(cl.nopts, 0);
	CHECK_EQ(cl.argc, 4);
	CHECK_STR(cl.argv[1], "a=b");
	CHECK_STR(cl.argv[2], "=c");
	CHECK_STR(cl.argv[3], "--");
	CHECK_STR(cl.argv[4], "x");
	CHECK(cmdline_option(&cl, "a") == NULL);
	/* A trailing separator: no arguments. */
	parse_ok("quiet --");
	CHECK_EQ(cl.nopts, 1);
	CHECK_EQ(cl.argc, 0);
	/* "--" must be a whole word to separate. */
	parse_ok("--x -- y");
	CHECK_EQ(cl.nopts, 1);
	CHECK(cmdline_option(&cl, "--x") != NULL);
	CHECK_EQ(cl.argc, 1);
	CHECK_STR(cl.argv[1], "y");
}

UNIT_TEST(cmdline_quoted_separator)
{
	/* A quoted "--" after the separator is an argument ... */
	parse_ok("-- a \"--\" b");
	CHECK_EQ(cl.argc, 3);
	CHECK_STR(cl.argv[2], "--");
	/* ... and before it, it is not the separator but an option named "--". */
	parse_ok("\"--\" x -- y");
	CHECK_EQ(cl.nopts, 2);
	CHECK_STR(cmdline_option(&cl, "--"), "");
	CHECK_STR(cmdline_option(&cl, "x"), "");
	CHECK_EQ(cl.argc, 1);
	CHECK_STR(cl.argv[1], "y");
}

UNIT_TEST(cmdline_quotes_and_escapes)
{
	parse_ok("-- \"a b\" \"say \\\"hi\\\"\" \"back\\\\slash\" \"x\\y\" plain\\\\");
	CHECK_EQ(cl.argc, 5);
	CHECK_STR(cl.argv[1], "a b");
	CHECK_STR(cl.argv[2], "say \"hi\"");
	CHECK_STR(cl.argv[3], "back\\slash");
	CHECK_STR(cl.argv[4], "x\\y");                  /* only \" and \\ escape */
	CHECK_STR(cl.argv[5], "plain\\\\");              /* no escapes outside quotes */
	/* Quotes may start or stop within a word. */
	parse_ok("name=\"two words\" -- pre\"mid dle\"post");
	CHECK_STR(cmdline_option(&cl, "name"), "two words");
	CHECK_EQ(cl.argc, 1);
	CHECK_STR(cl.argv[1], "premid dlepost");
	/* Blanks of every kind survive inside quotes. */
	parse_ok("-- \"a\tb\nc\"");
	CHECK_EQ(cl.argc, 1);
	CHECK_STR(cl.argv[1], "a\tb\nc");
	/* A quoted escaped quote at the very end. */
	parse_ok("-- \"\\\"\"");
	CHECK_EQ(cl.argc, 1);
	CHECK_STR(cl.argv[1], "\"");
}

UNIT_TEST(cmdline_empty_quoted_argument)
{
	parse_ok("-- \"\" x \"\"");
	CHECK_EQ(cl.argc, 3);
	CHECK_STR(cl.argv[1], "");
	CHECK_STR(cl.argv[2], "x");
	CHECK_STR(cl.argv[3], "");
	CHECK(cl.argv[4] == NULL);
	/* An empty quoted word is not a valid option name. */
	parse_bad("\"\"");
	parse_bad("\"\"=x");
}

UNIT_TEST(cmdline_blanks)
{
	parse_ok("\ta\n\nb=1\t \t--\n x\ty \n");
	CHECK_EQ(cl.nopts, 2);
	CHECK_STR(cmdline_option(&cl, "a"), "");
	CHECK_STR(cmdline_option(&cl, "b"), "1");
	CHECK_EQ(cl.argc, 2);
	CHECK_STR(cl.argv[1], "x");
	CHECK_STR(cl.argv[2], "y");
}

UNIT_TEST(cmdline_unterminated_quote)
{
	const char *why;

	why = parse_bad("a \"b c");
	CHECK(strstr(why, "quote") != NULL);
	why = parse_bad("-- \"abc\\\"");
	CHECK(strstr(why, "quote") != NULL);
	why = parse_bad("-- \"abc\\");
	CHECK(strstr(why, "quote") != NULL);
	why = parse_bad("\"");
	CHECK(strstr(why, "quote") != NULL);
}

UNIT_TEST(cmdline_empty_key)
{
	const char *why = parse_bad("ok =value");

	CHECK(strstr(why, "empty") != NULL);
	parse_bad("=");
	parse_ok("k=");
}

UNIT_TEST(cmdline_too_many_options)
{
	char s[CMDLINE_MAX_OPTS * 8 + 16] = "";
	const char *why;

	for (int i = 0; i < CMDLINE_MAX_OPTS; i++)
		sprintf(s + strlen(s), "o%d=%d ", i, i);
	parse_ok(s);
	CHECK_EQ(cl.nopts, CMDLINE_MAX_OPTS);
	CHECK_STR(cmdline_option(&cl, "o31"), "31");
	strcat(s, "one-more");
	why = parse_bad(s);
	CHECK(strstr(why, "options") != NULL);
}

UNIT_TEST(cmdline_too_many_args)
{
	char s[CMDLINE_MAX_ARGS * 4 + 16] = "--";
	const char *why;

	for (int i = 0; i < CMDLINE_MAX_ARGS; i++)
		sprintf(s + strlen(s), " %d", i);
	parse_ok(s);
	CHECK_EQ(cl.argc, CMDLINE_MAX_ARGS);
	CHECK_STR(cl.argv[CMDLINE_MAX_ARGS], "63");
	CHECK(cl.argv[CMDLINE_MAX_ARGS + 1] == NULL);
	strcat(s, " x");
	why = parse_bad(s);
	CHECK(strstr(why, "arguments") != NULL);
}

/* An exact-size heap copy of n repetitions of pattern, cut to n chars. */
static char *make_line(const char *pattern, size_t n)
{
	char *s = malloc(n + 1);
	size_t plen = strlen(pattern);

	if (!s)
		abort();
	for (size_t i = 0; i < n; i++)
		s[i] = pattern[i % plen];
	s[n] = 0;
	return s;
}

/* "-- " and nwords words of blanks-separated 'w's, n chars in all. */
static char *make_args(size_t nwords, size_t n)
{
	size_t chars = n - 3 - (nwords - 1), each = chars / nwords;
	char *s = malloc(n + 1), *p = s;

	if (!s)
		abort();
	memcpy(p, "-- ", 3);
	p += 3;
	for (size_t i = 0; i < nwords; i++) {
		size_t len = i + 1 < nwords ? each : chars - each * (nwords - 1);
		memset(p, 'w', len);
		p += len;
		if (i + 1 < nwords)
			*p++ = ' ';
	}
	*p = 0;
	return s;
}

UNIT_TEST(cmdline_maximal_length)
{
	size_t n = BOOT_CMDLINE_MAX - 1;
	char *s;

	/* One long option word. */
	s = make_line("k", n);
	parse_ok(s);
	CHECK_EQ(cl.nopts, 1);
	CHECK_EQ(strlen(cl.key[0]), n);
	free(s);
	/* The most words allowed: the words and their NULs fill the buffer. */
	s = make_args(CMDLINE_MAX_ARGS, n);
	CHECK_EQ(strlen(s), n);
	parse_ok(s);
	CHECK_EQ(cl.argc, CMDLINE_MAX_ARGS);
	CHECK_EQ(strlen(cl.argv[1]) + 1, (n - 3 - 63) / 64 + 1);
	CHECK(cl.argv[CMDLINE_MAX_ARGS] + strlen(cl.argv[CMDLINE_MAX_ARGS]) ==
	      cl.buf + sizeof(cl.buf) - 1);
	free(s);
	/* One word made of empty quoted pieces. */
	s = make_line("\"\"", n);
	s[0] = 'x';
	parse_ok(s);
	CHECK_EQ(cl.nopts, 1);
	CHECK_STR(cl.key[0], "x");
	free(s);
	/* A quoted word filling the whole line. */
	s = make_line("q", n);
	s[0] = '"';
	s[n - 1] = '"';
	parse_ok(s);
	CHECK_EQ(strlen(cl.key[0]), n - 2);
	free(s);
}

UNIT_TEST(cmdline_overlong_input)
{
	/* Longer than any boot loader may pass: refused, never overflowed. */
	const char *patterns[] = { "k", "a b ", "\"\"", "\"\" ", "x=\"y z\" " };
	const char *why;
	char *s;

	for (size_t p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++) {
		for (size_t n = BOOT_CMDLINE_MAX - 2; n < BOOT_CMDLINE_MAX + 8; n++) {
			const char *w = NULL;
			int err;

			s = make_line(patterns[p], n);
			err = cmdline_parse(s, &cl, &w);
			CHECK(err == 0 || (err == -EINVAL && w != NULL));
			free(s);
		}
	}
	s = make_line("k", 4 * BOOT_CMDLINE_MAX);
	why = parse_bad(s);
	CHECK(strstr(why, "long") != NULL);
	free(s);
	/* 63 words that fill the buffer, then an empty quoted word. */
	s = make_args(CMDLINE_MAX_ARGS - 1, BOOT_CMDLINE_MAX - 1);
	if (!(s = realloc(s, BOOT_CMDLINE_MAX + 3)))
		abort();
	strcat(s, " \"\"");
	why = parse_bad(s);
	CHECK(strstr(why, "long") != NULL);
	free(s);
	/* The same with an empty quoted option name. */
	s = make_line("k", BOOT_CMDLINE_MAX + 2);
	memcpy(s + BOOT_CMDLINE_MAX - 1, " \"\"", 3);
	why = parse_bad(s);
	CHECK(strstr(why, "long") != NULL);
	free(s);
}
