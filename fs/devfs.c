/*
 * fs/devfs.c - /dev: null, zero, full, random, urandom, console and tty.
 *
 * Character devices whose files carry no state: reads and writes go
 * straight to the device's functions here (random ones to random_bytes,
 * core/random.c), the console to fs/console.c.  random and urandom are
 * the same, as they are in Linux since 5.6 once the pool is seeded.
 */
#include "fs/vfs_impl.h"
#include "libc/syscall.h"

#define DEV(major, minor) (((major) << 8) | (minor))    /* Linux's encoding */
#define CHUNK 256

/* Copies n bytes made by fill (a chunk at a time) to the application. */
static long fill_user(void *ubuf, size_t n, void (*fill)(char *buf, size_t len))
{
	char buf[CHUNK];
	size_t done = 0;

	while (done < n) {
		size_t len = MIN(n - done, sizeof(buf));

		fill(buf, len);
		if (copy_to_user((char *)ubuf + done, buf, len))
			return done ? (long)done : -EFAULT;
		done += len;
	}
	return (long)done;
}

static void fill_zero(char *buf, size_t len)
{
	memset(buf, 0, len);
}

static void fill_random(char *buf, size_t len)
{
	random_bytes(buf, len);
}

static long read_eof(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	(void)f, (void)ubuf, (void)n, (void)pos;
	return 0;
}

static long read_zero(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	(void)f, (void)pos;
	return fill_user(ubuf, n, fill_zero);
}

static long read_random(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	(void)f, (void)pos;
	return fill_user(ubuf, n, fill_random);
}

static long write_sink(struct file *f, const void *ubuf, size_t n, uint64_t *pos)
{
	(void)f, (void)ubuf, (void)pos;
	return (long)n;
}

static long write_full(struct file *f, const void *ubuf, size_t n, uint64_t *pos)
{
	(void)f, (void)ubuf, (void)n, (void)pos;
	return -ENOSPC;
}

static const struct file_ops null_ops = { .read = read_eof, .write = write_sink };
static const struct file_ops zero_ops = { .read = read_zero, .write = write_sink };
static const struct file_ops full_ops = { .read = read_zero, .write = write_full };
static const struct file_ops random_ops = { .read = read_random, .write = write_sink };

#define CHR (S_IFCHR | 0666)

static const struct synth_entry devices[] = {
	{ "null", CHR, &null_ops, NULL, DEV(1, 3), NULL, NULL },
	{ "zero", CHR, &zero_ops, NULL, DEV(1, 5), NULL, NULL },
	{ "full", CHR, &full_ops, NULL, DEV(1, 7), NULL, NULL },
	{ "random", CHR, &random_ops, NULL, DEV(1, 8), NULL, NULL },
	{ "urandom", CHR, &random_ops, NULL, DEV(1, 9), NULL, NULL },
	{ "tty", CHR, &console_file_ops, NULL, DEV(5, 0), NULL, NULL },
	{ "console", S_IFCHR | 0600, &console_file_ops, NULL, DEV(5, 1), NULL, NULL },
};

struct mount *devfs_mount(struct vnode *on)
{
	return synth_mount(on, devices, ARRAY_SIZE(devices));
}
