/*
 * tests/unit/unit.c - runs the UNIT_TESTs linked into this binary, in the
 * order they were defined.  Argument: an optional name prefix to run.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"

static struct unit_test *head, **tail = &head;
static int current_failures;
static const char *current_name;

void unit_register(struct unit_test *t)
{
	*tail = t;
	tail = &t->next;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("#   %s: %s:%d: check failed: ", current_name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	current_failures++;
}

int main(int argc, char **argv)
{
	const char *prefix = argc > 1 ? argv[1] : "";
	int passed = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (struct unit_test *t = head; t; t = t->next) {
		if (strncmp(t->name, prefix, strlen(prefix)) != 0)
			continue;
		current_name = t->name;
		current_failures = 0;
		t->fn();
		printf("%s - %s\n", current_failures ? "not ok" : "ok", t->name);
		if (current_failures)
			failed++;
		else
			passed++;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
