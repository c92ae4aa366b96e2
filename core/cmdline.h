/*
 * core/cmdline.h - the kernel command line.
 *
 * Syntax: kernel options, then "--", then the application's arguments:
 *     bootlog test=sched -- --port 11211 "a b"
 * A kernel option is `key` or `key=value`.  Words are separated by blanks;
 * double quotes group a word, and inside them \" and \\ stand for " and \.
 * Without "--", every word is a kernel option.
 *
 * An image may have a built-in command line (scripts/mkimage --cmdline,
 * --exec); cmdline_merge() combines it with the boot loader's: the
 * built-in options come first and the boot line's follow (so a boot
 * option overrides a built-in one of the same key: the last one wins),
 * and the boot line's arguments replace the built-in ones when it has a
 * "--" (without one, the built-in arguments stay).
 */
#ifndef CORE_CMDLINE_H
#define CORE_CMDLINE_H

#include "core/boot.h"

#define CMDLINE_MAX_OPTS 32
#define CMDLINE_MAX_ARGS 64

struct cmdline {
	char buf[BOOT_CMDLINE_MAX];             /* the words, NUL-separated */
	const char *key[CMDLINE_MAX_OPTS];
	const char *val[CMDLINE_MAX_OPTS];      /* "" for a bare key */
	unsigned int nopts;
	char *argv[CMDLINE_MAX_ARGS + 2];       /* argv[0] is left for the caller */
	int argc;                               /* application arguments, argv[1..argc] */
	bool dashdash;                          /* "--" was given (argc may be 0) */
};

/* 0, or -EINVAL with *why set (unterminated quote, too many words, ...). */
int cmdline_parse(const char *s, struct cmdline *cl, const char **why);

/* Puts base's options before cl's, and takes base's arguments when cl has
 * no "--"; cl then points into base, which must outlive it.  0, or -EINVAL
 * with *why set (more than CMDLINE_MAX_OPTS options together). */
int cmdline_merge(struct cmdline *cl, const struct cmdline *base, const char **why);

/* The value of kernel option `key`: NULL when absent, "" when bare. */
const char *cmdline_option(const struct cmdline *cl, const char *key);

/* The kernel's own command line, parsed at boot (core/main.c). */
const struct cmdline *kernel_cmdline(void);

#endif
