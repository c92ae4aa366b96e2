/*
 * core/cmdline.c - splits the kernel command line (see core/cmdline.h).
 * Pure C, tested on the host (tests/unit/test_cmdline.c).
 */
#include "core/cmdline.h"
#include "core/kernel.h"

/* Reads one word starting at *sp into *dp, ending before dend: NULL, or why
 * not.  Only input longer than BOOT_CMDLINE_MAX - 1 bytes can fill buf. */
static const char *read_word(const char **sp, char **dp, const char *dend)
{
	const char *s = *sp;
	char *d = *dp;
	bool quoted = false;

	for (; *s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n')); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (quoted && *s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		if (d + 1 >= dend)
			return "a command line longer than 1023 bytes";
		*d++ = *s;
	}
	if (quoted)
		return "an unterminated quote";
	if (d >= dend)
		return "a command line longer than 1023 bytes";
	*d++ = 0;
	*sp = s;
	*dp = d;
	return NULL;
}

static int add_option(struct cmdline *cl, char *word, const char **why)
{
	char *eq = strchr(word, '=');

	if (word[0] == 0 || word == eq)
		return *why = "an empty kernel option name", -EINVAL;
	if (cl->nopts == CMDLINE_MAX_OPTS)
		return *why = "more than 32 kernel options", -EINVAL;
	cl->key[cl->nopts] = word;
	cl->val[cl->nopts] = "";
	if (eq) {
		*eq = 0;
		cl->val[cl->nopts] = eq + 1;
	}
	cl->nopts++;
	return 0;
}

int cmdline_parse(const char *s, struct cmdline *cl, const char **why)
{
	char *d = cl->buf;
	bool app = false;

	memset(cl, 0, sizeof(*cl));
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (!*s)
			break;
		char *word = d;
		bool was_quoted = *s == '"';
		const char *bad = read_word(&s, &d, cl->buf + sizeof(cl->buf));
		if (bad)
			return *why = bad, -EINVAL;
		if (!app && !was_quoted && strcmp(word, "--") == 0) {
			app = cl->dashdash = true;
		} else if (app) {
			if (cl->argc == CMDLINE_MAX_ARGS)
				return *why = "more than 64 application arguments", -EINVAL;
			cl->argv[++cl->argc] = word;
		} else if (add_option(cl, word, why)) {
			return -EINVAL;
		}
	}
	return 0;
}

int cmdline_merge(struct cmdline *cl, const struct cmdline *base, const char **why)
{
	unsigned int n = base->nopts;

	if (cl->nopts + n > CMDLINE_MAX_OPTS)
		return *why = "more than 32 kernel options with the built-in ones", -EINVAL;
	memmove(&cl->key[n], &cl->key[0], cl->nopts * sizeof(cl->key[0]));
	memmove(&cl->val[n], &cl->val[0], cl->nopts * sizeof(cl->val[0]));
	memcpy(cl->key, base->key, n * sizeof(cl->key[0]));
	memcpy(cl->val, base->val, n * sizeof(cl->val[0]));
	cl->nopts += n;
	if (!cl->dashdash) {
		memcpy(cl->argv, base->argv, sizeof(cl->argv));
		cl->argc = base->argc;
		cl->dashdash = base->dashdash;
	}
	return 0;
}

const char *cmdline_option(const struct cmdline *cl, const char *key)
{
	const char *found = NULL;

	for (unsigned int i = 0; i < cl->nopts; i++) {
		if (strcmp(cl->key[i], key) == 0)
			found = cl->val[i];              /* the last one wins */
	}
	return found;
}
