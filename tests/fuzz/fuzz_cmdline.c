/*
 * tests/fuzz/fuzz_cmdline.c - libFuzzer target for the kernel command line
 * splitter (core/cmdline.c).
 *
 * The input, cut at its first NUL and terminated, is handed to
 * cmdline_parse() in an exact-size heap block (ASan catches a read past the
 * NUL).  On success every word must lie inside the parse buffer and end
 * there, counts stay in bounds, argv[0] and argv[argc + 1] are NULL, and no
 * option name is empty or holds '='.  Then each word is written back quoted
 * (with \" and \\ escapes) and parsed again: the same options and arguments
 * must come out.  On failure there must be a reason.
 *
 * Build and run (from the repository root):
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -DSKIFF_HOST_TEST -I. \
 *     tests/fuzz/fuzz_cmdline.c core/cmdline.c -o /tmp/fuzz_cmdline
 *   mkdir -p /tmp/fuzz_cmdline_corpus
 *   /tmp/fuzz_cmdline -max_total_time=60 -max_len=2048 /tmp/fuzz_cmdline_corpus
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cmdline.h"

static struct cmdline cl, cl2;

/* A word: inside buf, NUL-terminated inside buf. */
static void check_word(const struct cmdline *c, const char *w)
{
	if (!w || w < c->buf || w >= c->buf + sizeof(c->buf))
		abort();
	if (!memchr(w, 0, (size_t)(c->buf + sizeof(c->buf) - w)))
		abort();
}

static void check(const struct cmdline *c)
{
	if (c->nopts > CMDLINE_MAX_OPTS || c->argc < 0 || c->argc > CMDLINE_MAX_ARGS)
		abort();
	if (c->argv[0] || c->argv[c->argc + 1])
		abort();
	for (unsigned int i = 0; i < c->nopts; i++) {
		check_word(c, c->key[i]);
		if (!c->key[i][0] || strchr(c->key[i], '='))
			abort();
		if (c->val[i][0])
			check_word(c, c->val[i]);
		if (!cmdline_option(c, c->key[i]))
			abort();
	}
	for (int i = 1; i <= c->argc; i++)
		check_word(c, c->argv[i]);
}

/* Appends w quoted to *p (below end); false when it does not fit. */
static bool quote(char **p, const char *end, const char *w, const char *eq)
{
	char *d = *p;

	if (d + 1 >= end)
		return false;
	*d++ = '"';
	for (; *w; w++) {
		if (d + 3 >= end)
			return false;
		if (*w == '"' || *w == '\\')
			*d++ = '\\';
		*d++ = *w;
	}
	for (; eq && *eq; eq++) {       /* "=value", quoted alike */
		if (d + 3 >= end)
			return false;
		if (*eq == '"' || *eq == '\\')
			*d++ = '\\';
		*d++ = *eq;
	}
	if (d + 2 >= end)
		return false;
	*d++ = '"';
	*d++ = ' ';
	*d = 0;
	*p = d;
	return true;
}

/* Writes c back as a command line of quoted words; false if too long. */
static bool unparse(const struct cmdline *c, char *buf, size_t size)
{
	char *p = buf, *end = buf + size;

	*p = 0;
	for (unsigned int i = 0; i < c->nopts; i++) {
		char val[BOOT_CMDLINE_MAX + 1] = "";
		if (c->val[i][0]) {
			val[0] = '=';
			strcpy(val + 1, c->val[i]);
		}
		if (!quote(&p, end, c->key[i], val))
			return false;
	}
	if (p + 4 >= end)
		return false;
	strcpy(p, "-- ");
	p += 3;
	for (int i = 1; i <= c->argc; i++) {
		if (!quote(&p, end, c->argv[i], NULL))
			return false;
	}
	return true;
}

static void check_round_trip(void)
{
	static char line[BOOT_CMDLINE_MAX * 4];
	const char *why = NULL;

	if (!unparse(&cl, line, sizeof(line)) || strlen(line) >= BOOT_CMDLINE_MAX)
		return;
	if (cmdline_parse(line, &cl2, &why) != 0)
		abort();
	check(&cl2);
	if (cl2.nopts != cl.nopts || cl2.argc != cl.argc)
		abort();
	for (unsigned int i = 0; i < cl.nopts; i++) {
		/* A bare key and "key=" both read as "": unparse writes bare. */
		if (strcmp(cl.key[i], cl2.key[i]) || strcmp(cl.val[i], cl2.val[i]))
			abort();
	}
	for (int i = 1; i <= cl.argc; i++)
		if (strcmp(cl.argv[i], cl2.argv[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = strnlen((const char *)data, size);
	char *s = malloc(n + 1);
	const char *why = NULL;

	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = 0;
	if (cmdline_parse(s, &cl, &why) == 0) {
		check(&cl);
		check_round_trip();
	} else if (!why || !why[0]) {
		abort();
	}
	free(s);
	return 0;
}
