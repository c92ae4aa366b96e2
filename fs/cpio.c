/*
 * fs/cpio.c - the cpio "newc" parser (interface and format: fs/cpio.h).
 *
 * Every size is checked against what is left of the archive before it is
 * used, in 64-bit arithmetic (header fields are 32-bit, so nothing wraps),
 * and every read is of bytes already known to lie inside the archive.
 * Pure C: host unit tests (tests/unit/test_cpio.c) and a fuzz target
 * (tests/fuzz/fuzz_cpio.c) compile this file unchanged.
 */
#include "fs/cpio.h"
#include "core/kernel.h"

/* Header fields, in order after the 6-byte magic; 8 hex digits each. */
enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_DEVMAJOR,
       F_DEVMINOR, F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK, F_COUNT };

static const char trailer[] = "TRAILER!!!";

struct parse {
	const uint8_t *base;
	uint64_t len;
	struct cpio_walk *walk;
};

static int fail(struct parse *p, uint64_t offset, int err, const char *what)
{
	p->walk->offset = offset;
	p->walk->what = what;
	return err;
}

static int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The 8 hex digits at h; -1 when one is not a hex digit. */
static int64_t hex_field(const uint8_t *h)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		int d = hex_digit(h[i]);
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	return v;
}

/* Reads the header at off (CPIO_HEADER_SIZE bytes known to be there). */
static int read_header(struct parse *p, uint64_t off, uint32_t f[F_COUNT])
{
	const uint8_t *h = p->base + off;

	if (memcmp(h, "070701", 6) != 0 && memcmp(h, "070702", 6) != 0)
		return fail(p, off, -EINVAL, "bad magic (not a newc cpio header)");
	for (int i = 0; i < F_COUNT; i++) {
		int64_t v = hex_field(h + 6 + 8 * i);
		if (v < 0)
			return fail(p, off + 6 + 8 * i, -EINVAL, "a header field is not 8 hex digits");
		f[i] = (uint32_t)v;
	}
	return 0;
}

/* Appends component c (n bytes) to the normalised name. */
static void name_append(char *out, size_t *len, const char *c, size_t n)
{
	if (*len)
		out[(*len)++] = '/';
	memcpy(out + *len, c, n);
	*len += n;
	out[*len] = 0;
}

/* Normalises raw (at most CPIO_NAME_MAX - 1 characters) into out; NULL,
 * or why the name is refused. */
static const char *name_normalise(const char *raw, char *out)
{
	size_t len = 0;

	out[0] = 0;
	while (*raw) {
		const char *end = raw;
		size_t n;

		while (*end && *end != '/')
			end++;
		n = (size_t)(end - raw);
		if (n == 2 && raw[0] == '.' && raw[1] == '.')
			return "the name has a '..' component";
		if (n && !(n == 1 && raw[0] == '.'))
			name_append(out, &len, raw, n);
		raw = *end ? end + 1 : end;
	}
	return NULL;
}

/* Checks one entry's sizes and builds it; *next is the following header. */
static int read_entry(struct parse *p, uint64_t off, struct cpio_entry *e, uint64_t *next)
{
	uint32_t f[F_COUNT];
	uint64_t name_off = off + CPIO_HEADER_SIZE, data_off;
	const char *name;
	int err;

	if ((err = read_header(p, off, f)))
		return err;
	if (f[F_NAMESIZE] == 0)
		return fail(p, off, -EINVAL, "the name size is 0");
	if (f[F_NAMESIZE] > CPIO_NAME_MAX)
		return fail(p, off, -EINVAL, "the name is longer than 4096 bytes");
	if (f[F_NAMESIZE] > p->len - name_off)
		return fail(p, off, -EINVAL, "the name runs past the end of the archive");
	name = (const char *)p->base + name_off;
	if (name[f[F_NAMESIZE] - 1] != 0)
		return fail(p, name_off, -EINVAL, "the name does not end in a NUL byte");
	if (strlen(name) != f[F_NAMESIZE] - 1)
		return fail(p, name_off, -EINVAL, "the name holds a NUL byte");
	if (f[F_FILESIZE] > CPIO_FILE_MAX)
		return fail(p, off, -EFBIG, "the file size is absurdly large (over 1 GiB)");
	data_off = ALIGN_UP(name_off + f[F_NAMESIZE], 4);
	if (data_off > p->len || f[F_FILESIZE] > p->len - data_off)
		return fail(p, off, -EINVAL, "the file data runs past the end of the archive");
	*e = (struct cpio_entry){
		.raw_name = name, .mode = f[F_MODE], .mtime = f[F_MTIME], .nlink = f[F_NLINK],
		.size = f[F_FILESIZE], .data = p->base + data_off, .offset = off,
	};
	*next = ALIGN_UP(data_off + f[F_FILESIZE], 4);
	return 0;
}

/* After a trailer: skips NUL padding; true if something (another archive,
 * which must start at a multiple of 4 bytes) follows. */
static bool next_archive(struct parse *p, uint64_t *off)
{
	while (*off < p->len && p->base[*off] == 0)
		(*off)++;
	return *off < p->len;
}

int cpio_parse(const void *archive, size_t len,
	       int (*fn)(const struct cpio_entry *e, void *arg), void *arg,
	       struct cpio_walk *walk)
{
	struct parse p = { archive, len, walk };
	struct cpio_entry e;
	uint64_t off = 0;
	int err;

	walk->entries = 0;
	walk->offset = 0;
	walk->what = NULL;
	for (;;) {
		if (off >= p.len || p.len - off < CPIO_HEADER_SIZE)
			return fail(&p, MIN(off, p.len), -EINVAL,
				    off < p.len ? "a header runs past the end of the archive"
						: "the archive ends without a TRAILER!!! entry");
		if ((err = read_entry(&p, off, &e, &off)))
			return err;
		if (strcmp(e.raw_name, trailer) == 0) {
			if (!next_archive(&p, &off))
				break;
			if (off & 3)
				return fail(&p, off, -EINVAL, "data after the trailer is not at a multiple of 4");
			continue;
		}
		e.refused = name_normalise(e.raw_name, walk->name);
		e.name = e.refused ? NULL : walk->name;
		if ((err = fn(&e, arg)))
			return fail(&p, e.offset, err, "stopped by the caller");
		walk->entries++;
	}
	walk->offset = p.len;
	return 0;
}
