/*
 * tests/fuzz/fuzz_cpio.c - libFuzzer target for the cpio "newc" parser
 * (fs/cpio.c).
 *
 * The input is the archive, copied into an exact-size heap block so that a
 * read past its end is an ASan report.  Every entry passed to the callback
 * must lie inside the archive, with a normalised name (relative, no empty,
 * "." or ".." component, shorter than CPIO_NAME_MAX) or a reason for refusing
 * it; a failed walk must say what failed, at an offset inside the archive;
 * and parsing the same bytes again must give the same result.
 *
 * Built with -DFUZZ_CPIO_SEEDS instead, this file is a program that writes
 * seed archives (files, directories, a symlink, odd names, two concatenated
 * archives) into a directory; an archive made by the real tool is a good
 * seed too (find . | cpio -o -H newc > corpus/real).
 *
 * Build and run (from the repository root):
 *   clang -std=gnu11 -g -DSKIFF_HOST_TEST -DFUZZ_CPIO_SEEDS -I. \
 *     tests/fuzz/fuzz_cpio.c fs/cpio.c -o /tmp/fuzz_cpio_seeds
 *   mkdir -p /tmp/fuzz_cpio_corpus && /tmp/fuzz_cpio_seeds /tmp/fuzz_cpio_corpus
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -DSKIFF_HOST_TEST -I. \
 *     tests/fuzz/fuzz_cpio.c fs/cpio.c -o /tmp/fuzz_cpio
 *   /tmp/fuzz_cpio -max_total_time=60 -max_len=8192 /tmp/fuzz_cpio_corpus
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/cpio.h"

static const uint8_t *base;
static size_t base_len;
static uint64_t digest;                 /* of what the callback saw */

static bool name_ok(const char *n)
{
	size_t len = strnlen(n, CPIO_NAME_MAX);

	if (len == CPIO_NAME_MAX || (len && (n[0] == '/' || n[len - 1] == '/')))
		return false;
	return !strstr(n, "//") && strcmp(n, ".") && strncmp(n, "./", 2) &&
	       !strstr(n, "/./") && !(len >= 2 && strcmp(n + len - 2, "/.") == 0);
}

static int check_entry(const struct cpio_entry *e, void *arg)
{
	(void)arg;
	if (e->data < base || e->size > base_len || (size_t)(e->data - base) > base_len - e->size)
		abort();
	if (e->offset + CPIO_HEADER_SIZE > base_len)
		abort();
	if ((const uint8_t *)e->raw_name != base + e->offset + CPIO_HEADER_SIZE)
		abort();
	if (e->name ? e->refused || !name_ok(e->name) : !e->refused)
		abort();
	if (e->name && (strstr(e->name, "/../") || strncmp(e->name, "../", 3) == 0 ||
			strcmp(e->name, "..") == 0))
		abort();
	digest = digest * 31 + e->offset + e->size + e->mode;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	static struct cpio_walk w1, w2;
	uint64_t d1;
	int r1, r2;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	base = buf;
	base_len = size;
	digest = 0;
	r1 = cpio_parse(buf, size, check_entry, NULL, &w1);
	d1 = digest;
	digest = 0;
	r2 = cpio_parse(buf, size, check_entry, NULL, &w2);
	if (r1 != r2 || d1 != digest || w1.entries != w2.entries || w1.offset != w2.offset)
		abort();
	if (r1 > 0 || (r1 < 0 && (!w1.what || !w1.what[0] || w1.offset > size)))
		abort();
	if (r1 == 0 && w1.what)
		abort();
	free(buf);
	return 0;
}

#ifdef FUZZ_CPIO_SEEDS
#include "tests/fuzz/seed_file.h"

static uint8_t seed[8192];
static size_t seed_len;

static void seed_entry(uint32_t mode, const char *name, const char *data)
{
	size_t nsize = strlen(name) + 1, dsize = strlen(data);

	seed_len += (size_t)snprintf((char *)seed + seed_len, CPIO_HEADER_SIZE + 1,
				     "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X",
				     1u, mode, 0u, 0u, 1u, 0u, (unsigned int)dsize, 0u, 0u, 0u, 0u,
				     nsize, 0u);
	memcpy(seed + seed_len, name, nsize);
	seed_len = (seed_len + nsize + 3) & ~(size_t)3;
	memcpy(seed + seed_len, data, dsize);
	seed_len = (seed_len + dsize + 3) & ~(size_t)3;
}

static int seed_write(const char *dir, const char *name)
{
	return seed_file_write(dir, name, seed, seed_len);
}

static int count(const struct cpio_entry *e, void *arg)
{
	(void)e;
	++*(int *)arg;
	return 0;
}

/* The seed must parse, or it is no use as a seed. */
static int seed_finish(const char *dir, const char *name, int want)
{
	static struct cpio_walk w;
	int n = 0;

	seed_entry(0, "TRAILER!!!", "");
	if (cpio_parse(seed, seed_len, count, &n, &w) != 0 || n != want ||
	    seed_write(dir, name) < 0) {
		fprintf(stderr, "fuzz_cpio_seeds: the seed '%s' failed\n", name);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	seed_len = 0;
	seed_entry(0040755, ".", "");
	seed_entry(0040755, "etc", "");
	seed_entry(0100644, "etc/motd", "hello, world\n");
	seed_entry(0120777, "etc/link", "motd");
	seed_entry(0010600, "fifo", "");
	bad |= seed_finish(argv[1], "tree", 5);
	seed_len = 0;
	seed_entry(0100644, "/abs//./x/", "data");
	seed_entry(0100644, "a/../b", "refused");
	bad |= seed_finish(argv[1], "names", 2);
	seed_len = 0;
	seed_entry(0100600, "one", "1");
	seed_entry(0, "TRAILER!!!", "");
	memset(seed + seed_len, 0, 12);
	seed_len += 12;
	seed_entry(0100600, "two", "2");
	bad |= seed_finish(argv[1], "concatenated", 2);
	return bad;
}
#endif
