/*
 * fs/console.c - the serial console as a file: descriptors 0, 1 and 2 and
 * /dev/console.
 *
 * Writes go to the console (core/printk's console_write, busy-waiting on
 * the UART).  Reading returns end of file: the console has no input path
 * yet (the UART's receive interrupt is not wired).  The console is a
 * terminal to the application: TIOCGWINSZ reports 80x24 (musl line-buffers
 * stdout on a terminal) and TCGETS a plain termios.
 */
#include "fs/fs.h"
#include "fs/fs_impl.h"
#include "libc/abi.h"
#include "libc/syscall.h"

static long console_read(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	(void)f, (void)ubuf, (void)n, (void)pos;
	return 0;
}

static long console_file_write(struct file *f, const void *ubuf, size_t n, uint64_t *pos)
{
	char buf[256];
	size_t done = 0;

	(void)f, (void)pos;
	while (done < n) {
		size_t len = MIN(n - done, sizeof(buf));

		if (copy_from_user(buf, (const char *)ubuf + done, len))
			return done ? (long)done : -EFAULT;
		console_write(buf, len);
		done += len;
	}
	return (long)done;
}

struct winsize_abi {
	unsigned short rows, cols, xpixel, ypixel;
};

struct termios_abi {                            /* the kernel's struct termios */
	unsigned int iflag, oflag, cflag, lflag;
	unsigned char line, cc[19];
};

static long console_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	(void)f;
	switch (cmd) {
	case TIOCGWINSZ: {
		struct winsize_abi ws = { .rows = 24, .cols = 80 };
		return copy_to_user((void *)arg, &ws, sizeof(ws));
	}
	case TCGETS: {
		struct termios_abi t = { .oflag = 0x5 /* OPOST|ONLCR */, .cflag = 0xbf /* B38400|CS8|CREAD */ };
		return copy_to_user((void *)arg, &t, sizeof(t));
	}
	case TCSETS: case TCSETSW: case TCSETSF:
		return 0;
	default:
		return -ENOTTY;
	}
}

const struct file_ops console_file_ops = {
	.read = console_read,
	.write = console_file_write,
	.ioctl = console_ioctl,
	.name = "/dev/console",
};
