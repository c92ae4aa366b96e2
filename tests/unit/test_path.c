/*
 * tests/unit/test_path.c - host unit tests for the path splitting and
 * link splicing of fs/path.c.
 *
 * Exact cases, then random paths over a small alphabet ('a', '.', '/')
 * checked against a reference model: a plain split on '/' that drops
 * empty pieces, and the resolution of "." and ".." over a component stack
 * that both sides compute.  Inputs live in exact-size heap blocks, so ASan
 * reports any read past the NUL.
 * Build and run: make build/unit/test_path && build/unit/test_path
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "core/errno.h"
#include "fs/path.h"

#define MAXC 64

struct comps {
	int n;
	char s[MAXC][300];
	bool trailing;                          /* a slash after the last one */
};

static char *dup_exact(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	memcpy(p, s, n);
	return p;
}

/* Through fs/path.c: path_next until the end. */
static int split(const char *path, struct comps *c)
{
	const char *p = path, *name;
	size_t len;
	int err;

	c->n = 0;
	c->trailing = false;
	while ((name = path_next(&p, &len, &err))) {
		if (err)
			return err;
		memcpy(c->s[c->n], name, len);
		c->s[c->n][len] = 0;
		c->n++;
		c->trailing = *p == '/';
		if (path_at_end(p))
			break;
	}
	return 0;
}

/* The model: split on every '/', keep the non-empty pieces. */
static void model_split(const char *path, struct comps *c)
{
	char *copy = dup_exact(path), *save = NULL;
	size_t n = strlen(path);

	c->n = 0;
	for (char *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		strcpy(c->s[c->n++], tok);
	c->trailing = c->n > 0 && n > 0 && path[n - 1] == '/';
	free(copy);
}

/* Resolves "." and ".." lexically on a stack, as the walker does without
 * links: the result joined with '/'. */
static void resolve(const struct comps *c, char *out, bool use_kind)
{
	const char *stack[MAXC];
	int depth = 0;

	for (int i = 0; i < c->n; i++) {
		const char *s = c->s[i];
		enum path_kind k = use_kind ? path_kind(s, strlen(s))
			: strcmp(s, ".") == 0 ? PATH_DOT : strcmp(s, "..") == 0 ? PATH_DOTDOT : PATH_NAME;

		if (k == PATH_DOTDOT && depth > 0)
			depth--;
		else if (k == PATH_NAME)
			stack[depth++] = s;
	}
	out[0] = 0;
	for (int i = 0; i < depth; i++) {
		strcat(out, "/");
		strcat(out, stack[i]);
	}
}

UNIT_TEST(path_split_cases)
{
	struct comps c;

	CHECK_EQ(split("/", &c), 0);
	CHECK_EQ(c.n, 0);
	CHECK_EQ(split("a//b///c", &c), 0);
	CHECK_EQ(c.n, 3);
	CHECK_STR(c.s[2], "c");
	CHECK(!c.trailing);
	CHECK_EQ(split("//a/./..//", &c), 0);
	CHECK_EQ(c.n, 3);
	CHECK_STR(c.s[1], ".");
	CHECK_STR(c.s[2], "..");
	CHECK(c.trailing);
	CHECK_EQ(path_kind(".", 1), PATH_DOT);
	CHECK_EQ(path_kind("..", 2), PATH_DOTDOT);
	CHECK_EQ(path_kind("...", 3), PATH_NAME);
	CHECK_EQ(path_kind(".a", 2), PATH_NAME);
	CHECK(path_at_end("///"));
	CHECK(path_at_end(""));
	CHECK(!path_at_end("/a"));
}

UNIT_TEST(path_component_length_limit)
{
	char name[300];
	struct comps c;

	memset(name, 'x', 255);
	name[255] = 0;
	CHECK_EQ(split(name, &c), 0);
	CHECK_EQ(strlen(c.s[0]), 255);
	name[255] = 'x';
	name[256] = 0;
	CHECK_EQ(split(name, &c), -ENAMETOOLONG);
}

UNIT_TEST(path_splice_cases)
{
	char buf[32];

	strcpy(buf, "a/link/b");                /* "link" resolved: rest is "/b" */
	CHECK_EQ(path_splice(buf, sizeof(buf), 6, "x/y"), 0);
	CHECK_STR(buf, "x/y/b");
	strcpy(buf, "link/");
	CHECK_EQ(path_splice(buf, sizeof(buf), 4, "/abs"), 0);
	CHECK_STR(buf, "/abs/");
	strcpy(buf, "link");
	CHECK_EQ(path_splice(buf, sizeof(buf), 4, "t"), 0);
	CHECK_STR(buf, "t");
	strcpy(buf, "l/rest-of-it");
	CHECK_EQ(path_splice(buf, sizeof(buf), 1, "a-target-that-is-too-long-here"),
		 -ENAMETOOLONG);
	CHECK_STR(buf, "l/rest-of-it");         /* unchanged */
}

UNIT_TEST(path_splice_at_path_max)
{
	char *buf = malloc(PATH_MAX_LEN + 1), *target = malloc(PATH_MAX_LEN + 1);

	memset(target, 't', PATH_MAX_LEN - 2);
	target[PATH_MAX_LEN - 2] = 0;
	strcpy(buf, "l/b");
	CHECK_EQ(path_splice(buf, PATH_MAX_LEN + 1, 1, target), 0);   /* 4093 + 2 = 4095 */
	CHECK_EQ(strlen(buf), PATH_MAX_LEN);
	strcpy(buf, "l/bc");
	CHECK_EQ(path_splice(buf, PATH_MAX_LEN + 1, 1, target), -ENAMETOOLONG);
	free(buf);
	free(target);
}

static void random_path(uint64_t *seed, char *out, size_t max)
{
	static const char alphabet[] = "a/./b/";
	size_t len = unit_rand(seed) % max;

	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[unit_rand(seed) % (sizeof(alphabet) - 1)];
	out[len] = 0;
}

UNIT_TEST(path_random_against_model)
{
	uint64_t seed = 0x5eed1234;
	char tmp[80], want[400], got[400];
	static struct comps a, b;

	for (int iter = 0; iter < 20000; iter++) {
		random_path(&seed, tmp, 40);
		char *path = dup_exact(tmp);

		CHECK_EQ(split(path, &a), 0);
		model_split(path, &b);
		CHECK_EQ(a.n, b.n);
		CHECK_EQ(a.trailing, b.trailing);
		for (int i = 0; i < a.n && i < b.n; i++)
			CHECK_STR(a.s[i], b.s[i]);
		resolve(&a, got, true);
		resolve(&b, want, false);
		CHECK_STR(got, want);
		free(path);
	}
}

UNIT_TEST(path_random_splice_against_model)
{
	uint64_t seed = 0xfeedbeef;
	char buf[64], target[40], want[128];

	for (int iter = 0; iter < 20000; iter++) {
		random_path(&seed, buf, 30);
		random_path(&seed, target, 30);
		size_t rest = strlen(buf) ? unit_rand(&seed) % (strlen(buf) + 1) : 0;
		snprintf(want, sizeof(want), "%s%s", target, buf + rest);
		int err = path_splice(buf, sizeof(buf), rest, target);

		if (strlen(want) + 1 > sizeof(buf)) {
			CHECK_EQ(err, -ENAMETOOLONG);
		} else {
			CHECK_EQ(err, 0);
			CHECK_STR(buf, want);
		}
	}
}
