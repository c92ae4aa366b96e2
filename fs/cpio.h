/*
 * fs/cpio.h - a parser for cpio "newc" archives (the initramfs format).
 *
 * Interface: cpio_parse(archive, len, fn, arg, walk) walks an archive held
 * in memory and calls fn once per entry, in archive order, up to the
 * "TRAILER!!!" entry.  It reads nothing outside [archive, archive + len),
 * allocates nothing and touches no filesystem: the initramfs unpacker
 * (fs/initramfs.c) turns entries into files, and the same code is compiled
 * on the host for the unit tests and the fuzzer (-DSKIFF_HOST_TEST).
 *
 * Format: a 110-byte header ("070701", or "070702" whose checksum is not
 * checked, then 13 fields of 8 hexadecimal digits), the name (namesize
 * bytes, the last one its NUL), padding to 4 bytes, the data (filesize
 * bytes), padding to 4 bytes; offsets are counted from the archive's start.
 * After the trailer, NUL padding may follow, and then another archive
 * (concatenated archives, as Linux accepts them).
 *
 * Names are normalised: a leading '/' (absolute paths are taken relative
 * to the root), empty components ("a//b"), "." components and a trailing
 * '/' are dropped, so "./etc//x/" is "etc/x" and "." is "" (the root
 * itself).  A name with a ".." component is refused, not resolved: the
 * entry is still passed to fn, with name NULL and refused saying why, and
 * the walk goes on (the unpacker skips it with a note).
 *
 * Errors: 0, or a negative errno when the archive is malformed, with what
 * and where in the walk state: -EINVAL for a bad header (magic, digits,
 * name size, a name not ending in its NUL or holding one inside), a size
 * running past the end, a missing trailer; -EFBIG for a file size over
 * CPIO_FILE_MAX.  Entries before the error have been passed to fn.  A
 * non-zero return from fn stops the walk and is returned (what: "stopped
 * by the caller").
 */
#ifndef FS_CPIO_H
#define FS_CPIO_H

#include <stddef.h>
#include <stdint.h>

#define CPIO_HEADER_SIZE 110
#define CPIO_NAME_MAX    4096              /* namesize limit, the NUL included */
#define CPIO_FILE_MAX    (1u << 30)        /* larger file sizes are absurd: -EFBIG */

/* Mode bits (st_mode), as stored in the header. */
#define CPIO_S_IFMT   0170000
#define CPIO_S_IFSOCK 0140000
#define CPIO_S_IFLNK  0120000
#define CPIO_S_IFREG  0100000
#define CPIO_S_IFBLK  0060000
#define CPIO_S_IFDIR  0040000
#define CPIO_S_IFCHR  0020000
#define CPIO_S_IFIFO  0010000

struct cpio_entry {
	const char *name;          /* normalised (see above), or NULL: refused */
	const char *refused;       /* why name is NULL; NULL otherwise */
	const char *raw_name;      /* as stored, NUL-terminated, in the archive */
	uint32_t mode;             /* file type and permission bits */
	uint32_t mtime;
	uint32_t nlink;
	uint32_t size;             /* of data */
	const uint8_t *data;       /* inside the archive (a symlink's target) */
	uint64_t offset;           /* of the entry's header in the archive */
};

/* One walk's state, owned by the caller (it holds the name buffer, so
 * that the walk needs little stack). */
struct cpio_walk {
	unsigned long entries;     /* entries passed to fn */
	uint64_t offset;           /* where the walk stopped (the error's offset) */
	const char *what;          /* the problem, or NULL after a clean walk */
	char name[CPIO_NAME_MAX];  /* the current entry's normalised name */
};

int cpio_parse(const void *archive, size_t len,
	       int (*fn)(const struct cpio_entry *e, void *arg), void *arg,
	       struct cpio_walk *walk);

#endif
