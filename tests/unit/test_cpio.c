/*
 * tests/unit/test_cpio.c - host unit tests for the cpio "newc" parser
 * (fs/cpio.c, fs/cpio.h).
 *
 * Archives come from two places: the real `cpio -o -H newc` (Debian's
 * cpio package, run at test time on a temporary tree), and a small builder
 * here that writes headers field by field, so that each malformed case
 * differs from a valid archive in exactly one thing.  Every archive is
 * parsed from its own exact-size heap block, so a read past its end is an
 * ASan report.  A randomized test mutates and truncates a valid archive
 * thousands of times: the parser must never crash, and what it reports
 * must lie inside the archive.
 * Build and run: make build/unit/test_cpio && build/unit/test_cpio
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "fs/cpio.h"
#include "core/errno.h"

/* ---- building archives ---- */

static uint8_t ar[1 << 16];
static size_t ar_len;

static void ar_pad(void)
{
	while (ar_len & 3)
		ar[ar_len++] = 0;
}

/* An entry with every header field given; namesize counts the NUL. */
static void ar_raw(const char *magic, uint32_t mode, uint32_t namesize, const char *name,
		   const void *data, uint32_t size)
{
	char h[CPIO_HEADER_SIZE + 1];

	snprintf(h, sizeof(h), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 magic, 1u, mode, 0u, 0u, 1u, 1700000000u, size, 0u, 0u, 0u, 0u, namesize, 0u);
	memcpy(ar + ar_len, h, CPIO_HEADER_SIZE);
	ar_len += CPIO_HEADER_SIZE;
	memcpy(ar + ar_len, name, namesize);
	ar_len += namesize;
	ar_pad();
	memcpy(ar + ar_len, data, size);
	ar_len += size;
	ar_pad();
}

static void ar_add(uint32_t mode, const char *name, const char *data)
{
	ar_raw("070701", mode, (uint32_t)strlen(name) + 1, name, data, (uint32_t)strlen(data));
}

static void ar_trailer(void)
{
	ar_add(0, "TRAILER!!!", "");
}

/* A small valid archive: a directory, a file, a symlink, a fifo. */
static void ar_sample(void)
{
	ar_len = 0;
	ar_add(CPIO_S_IFDIR | 0755, "etc", "");
	ar_add(CPIO_S_IFREG | 0644, "etc/motd", "hello, world\n");
	ar_add(CPIO_S_IFLNK | 0777, "etc/link", "motd");
	ar_add(CPIO_S_IFIFO | 0600, "fifo", "");
	ar_trailer();
}

/* ---- parsing ---- */

#define SEEN_MAX 64

static struct seen {
	char name[CPIO_NAME_MAX];
	const char *refused;
	uint32_t mode, size, mtime;
	char data[64];
} seen[SEEN_MAX];
static unsigned int nseen;
static int stop_after = -1;              /* return -EINTR at this entry */
static struct cpio_walk walk;

static int record(const struct cpio_entry *e, void *arg)
{
	struct seen *s = &seen[nseen % SEEN_MAX];

	(void)arg;
	if (stop_after >= 0 && (int)nseen == stop_after)
		return -EINTR;
	snprintf(s->name, sizeof(s->name), "%s", e->name ? e->name : "(null)");
	s->refused = e->refused;
	s->mode = e->mode;
	s->size = e->size;
	s->mtime = e->mtime;
	snprintf(s->data, sizeof(s->data), "%.*s", (int)(e->size < 63 ? e->size : 63), e->data);
	nseen++;
	return 0;
}

/* Parses len bytes of buf from an exact-size copy. */
static int parse_copy(const void *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	memcpy(copy, buf, len);
	nseen = 0;
	err = cpio_parse(copy, len, record, NULL, &walk);
	free(copy);
	return err;
}

static int parse(void)
{
	return parse_copy(ar, ar_len);
}

/* ---- valid archives ---- */

UNIT_TEST(cpio_builder_archive)
{
	ar_sample();
	CHECK_EQ(parse(), 0);
	CHECK(walk.what == NULL);
	CHECK_EQ(walk.entries, 4);
	CHECK_EQ(nseen, 4);
	CHECK_STR(seen[0].name, "etc");
	CHECK_EQ(seen[0].mode, CPIO_S_IFDIR | 0755);
	CHECK_STR(seen[1].name, "etc/motd");
	CHECK_EQ(seen[1].size, 13);
	CHECK_STR(seen[1].data, "hello, world\n");
	CHECK_EQ(seen[1].mtime, 1700000000);
	CHECK_STR(seen[2].data, "motd");
	CHECK_EQ(seen[2].mode & CPIO_S_IFMT, CPIO_S_IFLNK);
	CHECK_EQ(seen[3].mode & CPIO_S_IFMT, CPIO_S_IFIFO);
}

UNIT_TEST(cpio_crc_magic_and_lowercase_hex)
{
	char h[CPIO_HEADER_SIZE + 1];

	ar_len = 0;
	ar_raw("070702", CPIO_S_IFREG | 0644, 2, "a", "xy", 2);
	ar_trailer();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nseen, 1);
	/* lower-case digits, as some writers produce */
	ar_len = 0;
	snprintf(h, sizeof(h), "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		 1u, 0100644u, 0u, 0u, 1u, 0xabcdefu, 0u, 0u, 0u, 0u, 0u, 2u, 0u);
	memcpy(ar, h, CPIO_HEADER_SIZE);
	memcpy(ar + CPIO_HEADER_SIZE, "b", 2);
	ar_len = CPIO_HEADER_SIZE + 2;
	ar_pad();
	ar_trailer();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(seen[0].mtime, 0xabcdef);
}

UNIT_TEST(cpio_names_normalised)
{
	static const char *const in[] = { "./etc//x/", "/abs/path", ".", "a/./b", "//", "./." };
	static const char *const out[] = { "etc/x", "abs/path", "", "a/b", "", "" };

	ar_len = 0;
	for (unsigned int i = 0; i < 6; i++)
		ar_add(CPIO_S_IFDIR | 0755, in[i], "");
	ar_add(CPIO_S_IFREG | 0644, "a/../../etc/passwd", "x");
	ar_add(CPIO_S_IFREG | 0644, "..", "x");
	ar_add(CPIO_S_IFREG | 0644, "a..b/..c", "x");       /* not ".." components */
	ar_trailer();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nseen, 9);
	for (unsigned int i = 0; i < 6; i++) {
		CHECK_STR(seen[i].name, out[i]);
		CHECK(seen[i].refused == NULL);
	}
	CHECK_STR(seen[6].name, "(null)");
	CHECK(seen[6].refused && strstr(seen[6].refused, ".."));
	CHECK(seen[7].refused != NULL);
	CHECK_STR(seen[8].name, "a..b/..c");
}

UNIT_TEST(cpio_concatenated_and_padded)
{
	ar_sample();
	memset(ar + ar_len, 0, 512 - ar_len % 512);          /* as cpio -o pads */
	ar_len += 512 - ar_len % 512;
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nseen, 4);
	ar_add(CPIO_S_IFREG | 0600, "second", "2");
	ar_trailer();
	CHECK_EQ(parse(), 0);
	CHECK_EQ(nseen, 5);
	CHECK_STR(seen[4].name, "second");
	/* A second archive at an offset that is not a multiple of 4. */
	ar_sample();
	ar[ar_len++] = 0;
	ar_add(CPIO_S_IFREG | 0600, "second", "2");
	CHECK_EQ(parse(), -EINVAL);
	CHECK_EQ(nseen, 4);
}

UNIT_TEST(cpio_callback_stops_walk)
{
	ar_sample();
	stop_after = 2;
	CHECK_EQ(parse(), -EINTR);
	stop_after = -1;
	CHECK_EQ(nseen, 2);
	CHECK_EQ(walk.entries, 2);
	CHECK_STR(walk.what, "stopped by the caller");
}

/* ---- malformed archives: each differs from a valid one in one thing ---- */

/* Parses, expects err and a message containing `what`, at `offset`. */
static void expect_error(int line, int err, const char *what, uint64_t offset, unsigned int kept)
{
	int got = parse();

	if (got != err || !walk.what || !strstr(walk.what, what) || walk.offset != offset ||
	    nseen != kept || walk.entries != kept)
		unit_fail(__FILE__, line, "got %d \"%s\" at %llu, %u kept; want %d \"%s\" at %llu, %u kept",
			  got, walk.what ? walk.what : "(none)", (unsigned long long)walk.offset,
			  nseen, err, what, (unsigned long long)offset, kept);
}
#define EXPECT_ERROR(err, what, offset, kept) expect_error(__LINE__, err, what, offset, kept)

UNIT_TEST(cpio_bad_magic)
{
	const size_t second = 116;                   /* header + "etc\0", padded */

	ar_sample();
	memcpy(ar, "070707", 6);                     /* the old portable format */
	EXPECT_ERROR(-EINVAL, "bad magic", 0, 0);
	ar_sample();
	memcpy(ar + second, "07070X", 6);
	EXPECT_ERROR(-EINVAL, "bad magic", second, 1);
	ar_sample();
	memcpy(ar + 6 + 8 * 11, "00000005", 8);      /* name size one too large */
	EXPECT_ERROR(-EINVAL, "holds a NUL", CPIO_HEADER_SIZE, 0);
}

UNIT_TEST(cpio_not_hex)
{
	static const char bad[] = { 'g', ' ', '-', 'x', 0, '\n' };

	for (unsigned int i = 0; i < sizeof(bad); i++) {
		for (unsigned int field = 0; field < 13; field++) {
			ar_sample();
			ar[6 + 8 * field + (i + field) % 8] = (uint8_t)bad[i];
			EXPECT_ERROR(-EINVAL, "not 8 hex digits", 6 + 8 * field, 0);
		}
	}
}

UNIT_TEST(cpio_name_size)
{
	static char name[4097];

	ar_len = 0;
	ar_raw("070701", CPIO_S_IFREG | 0644, 0, "", "", 0);
	ar_trailer();
	EXPECT_ERROR(-EINVAL, "name size is 0", 0, 0);
	memset(name, 'n', sizeof(name));
	name[4096] = 0;
	ar_len = 0;
	ar_raw("070701", CPIO_S_IFREG | 0644, 4097, name, "", 0);
	ar_trailer();
	EXPECT_ERROR(-EINVAL, "longer than 4096", 0, 0);
	/* 4096 bytes with the NUL is the longest name. */
	{
		name[4095] = 0;
		for (int i = 100; i < 4095; i += 100)
			name[i] = '/';
		ar_len = 0;
		ar_add(CPIO_S_IFREG | 0644, name, "");
		ar_trailer();
		CHECK_EQ(parse(), 0);
		CHECK_EQ(strlen(seen[0].name), 4095);
	}
}

UNIT_TEST(cpio_name_termination)
{
	ar_len = 0;
	ar_raw("070701", CPIO_S_IFREG | 0644, 3, "abc", "", 0);   /* no NUL at size-1 */
	ar_trailer();
	EXPECT_ERROR(-EINVAL, "does not end in a NUL", CPIO_HEADER_SIZE, 0);
	ar_len = 0;
	ar_raw("070701", CPIO_S_IFREG | 0644, 4, "a\0b", "", 0);  /* a NUL inside */
	ar_trailer();
	EXPECT_ERROR(-EINVAL, "holds a NUL", CPIO_HEADER_SIZE, 0);
}

UNIT_TEST(cpio_runs_past_end)
{
	size_t full;

	ar_sample();
	full = ar_len;
	/* cut inside the second header, its name, its data, the trailer */
	ar_len = 116 + 50;
	EXPECT_ERROR(-EINVAL, "header runs past the end", 116, 1);
	ar_len = 116 + CPIO_HEADER_SIZE + 3;
	EXPECT_ERROR(-EINVAL, "name runs past the end", 116, 1);
	ar_len = 116 + CPIO_HEADER_SIZE + 12 + 5;
	EXPECT_ERROR(-EINVAL, "data runs past the end", 116, 1);
	ar_len = full - 4;
	EXPECT_ERROR(-EINVAL, "name runs past the end", full - 124, 4);
	/* a file size beyond the archive, and a name size beyond it */
	ar_len = 0;
	ar_raw("070701", CPIO_S_IFREG | 0644, 2, "a", "", 0);
	memcpy(ar + 6 + 8 * 6, "00100000", 8);
	ar_trailer();
	EXPECT_ERROR(-EINVAL, "data runs past the end", 0, 0);
	memcpy(ar + 6 + 8 * 6, "00000000", 8);
	memcpy(ar + 6 + 8 * 11, "00001000", 8);
	EXPECT_ERROR(-EINVAL, "name runs past the end", 0, 0);
}

UNIT_TEST(cpio_missing_trailer)
{
	ar_len = 0;
	ar_add(CPIO_S_IFDIR | 0755, "d", "");
	EXPECT_ERROR(-EINVAL, "without a TRAILER!!!", ar_len, 1);
	ar_len = 0;
	EXPECT_ERROR(-EINVAL, "without a TRAILER!!!", 0, 0);
	ar_sample();
	ar_len -= 124;                                /* the trailer, exactly */
	EXPECT_ERROR(-EINVAL, "without a TRAILER!!!", ar_len, 4);
}

UNIT_TEST(cpio_absurd_size)
{
	ar_len = 0;
	ar_raw("070701", CPIO_S_IFREG | 0644, 2, "a", "", 0);
	memcpy(ar + 6 + 8 * 6, "40000001", 8);
	ar_trailer();
	EXPECT_ERROR(-EFBIG, "absurdly large", 0, 0);
	memcpy(ar + 6 + 8 * 6, "FFFFFFFF", 8);
	EXPECT_ERROR(-EFBIG, "absurdly large", 0, 0);
}

/* ---- the real tool ---- */

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		printf("#   command failed (%d): %s\n", rc, cmd);
	return rc;
}

UNIT_TEST(cpio_real_tool)
{
	char dir[] = "/tmp/test_cpio.XXXXXX", cmd[512], path[600];
	FILE *f;
	long n;
	uint8_t *buf;
	unsigned int files = 0, dirs = 0, links = 0;
	bool found_big = false;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mkdir -p tree/etc/deep/er && printf 'hi\\n' > tree/etc/motd && "
		 "head -c 100003 /dev/urandom > tree/big && ln -s ../big tree/etc/big && "
		 "chmod 0640 tree/etc/motd && : > tree/empty && "
		 "cd tree && find . | LC_ALL=C sort | cpio -o -H newc --quiet > ../a.cpio", dir);
	if (sh(cmd) != 0) {
		CHECK(!"cpio -o -H newc failed (is Debian's cpio installed? scripts/deps)");
		return;
	}
	snprintf(path, sizeof(path), "%s/a.cpio", dir);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	CHECK_EQ(n % 512, 0);
	CHECK_EQ(parse_copy(buf, (size_t)n), 0);
	for (unsigned int i = 0; i < nseen && i < SEEN_MAX; i++) {
		uint32_t type = seen[i].mode & CPIO_S_IFMT;
		files += type == CPIO_S_IFREG;
		dirs += type == CPIO_S_IFDIR;
		links += type == CPIO_S_IFLNK;
		if (strcmp(seen[i].name, "etc/motd") == 0) {
			CHECK_STR(seen[i].data, "hi\n");
			CHECK_EQ(seen[i].mode, CPIO_S_IFREG | 0640);
		}
		if (strcmp(seen[i].name, "etc/big") == 0)
			CHECK_STR(seen[i].data, "../big");
		if (strcmp(seen[i].name, "big") == 0)
			found_big = seen[i].size == 100003;
	}
	CHECK_EQ(nseen, 8);              /* 4 directories, 3 files, 1 symlink */
	CHECK_EQ(files, 3);
	CHECK_EQ(dirs, 4);
	CHECK_EQ(links, 1);
	CHECK(found_big);
	CHECK_STR(seen[0].name, "");     /* "." is the root */
	/* Every truncation of the real archive fails cleanly (before the padding). */
	for (long cut = 0; cut < n; cut += cut < 1024 ? 1 : 997) {
		int err = parse_copy(buf, (size_t)cut);
		if (err == 0)
			CHECK(cut > n - 512);     /* only the trailing padding may go */
		else
			CHECK(walk.what && walk.offset <= (uint64_t)cut);
	}
	free(buf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh(cmd);
}

/* ---- random mutation: never a crash or an out-of-bounds read (ASan) ---- */

static const uint8_t *mut_base;
static size_t mut_len;

static int check_inside(const struct cpio_entry *e, void *arg)
{
	(void)arg;
	if (e->data < mut_base || e->size > mut_len ||
	    (size_t)(e->data - mut_base) > mut_len - e->size)
		unit_fail(__FILE__, __LINE__, "entry data outside the archive");
	if (e->offset >= mut_len || (e->name == NULL) == (e->refused == NULL))
		unit_fail(__FILE__, __LINE__, "bad entry at %llu", (unsigned long long)e->offset);
	if (e->name && (e->name[0] == '/' || strlen(e->name) >= CPIO_NAME_MAX))
		unit_fail(__FILE__, __LINE__, "name not normalised");
	return 0;
}

UNIT_TEST(cpio_random_mutation)
{
	static const uint8_t interesting[] = { '0', '7', 'F', 'f', 'g', 0, '/', '.', 0xff };
	uint64_t rng = 0x5eed1234cafeULL;
	uint8_t *copy;
	int ok = 0, bad = 0;

	ar_sample();
	ar_add(CPIO_S_IFREG | 0644, "./a/../b", "data");
	ar_add(CPIO_S_IFREG | 0644, "x", "0123456789abcdef");
	ar_trailer();
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = ar_len;
		int nmut = 1 + (int)(unit_rand(&rng) % 4);
		struct cpio_walk w;

		copy = malloc(len);
		memcpy(copy, ar, len);
		for (int m = 0; m < nmut; m++) {
			size_t pos = unit_rand(&rng) % len;
			uint64_t r = unit_rand(&rng);
			copy[pos] = r & 1 ? interesting[(r >> 1) % sizeof(interesting)] : (uint8_t)(r >> 8);
		}
		if (unit_rand(&rng) % 4 == 0)
			len = unit_rand(&rng) % (len + 1);
		mut_base = copy;
		mut_len = len;
		if (cpio_parse(copy, len, check_inside, NULL, &w) == 0) {
			ok++;
		} else {
			bad++;
			if (!w.what || w.offset > len)
				unit_fail(__FILE__, __LINE__, "error without a message or past the end");
		}
		free(copy);
	}
	CHECK(ok > 0 && bad > 0);
}
