/*
 * tests/kernel/fdio.h - what the tests of files and descriptors (the VFS,
 * procfs, pipes, eventfds, poll and epoll) share: the system calls they
 * call (sys_* take longs), read/write on a descriptor through its file_ops
 * (read(2) and write(2) are the VFS's), and reading a whole file by path.
 */
#ifndef TESTS_KERNEL_FDIO_H
#define TESTS_KERNEL_FDIO_H

#include "fs/fs.h"
#include "libc/abi.h"
#include "core/ktest.h"
#include "core/arch.h"
#include "core/mm.h"

long sys_open(long upath, long flags, long mode);
long sys_close(long fd);
long sys_read(long fd, long ubuf, long n);
long sys_pipe2(long ufds, long flags);
long sys_eventfd2(long count, long flags);
long sys_poll(long ufds, long nfds, long timeout_ms);
long sys_ppoll(long ufds, long nfds, long uts, long sigmask, long sigsetsize);
long sys_select(long nfds, long uin, long uout, long uex, long utv);
long sys_pselect6(long nfds, long uin, long uout, long uex, long uts, long usig);
long sys_epoll_create1(long flags);
long sys_epoll_ctl(long epfd, long op, long fd, long uev);
long sys_epoll_wait(long epfd, long uev, long max, long timeout_ms);

static inline long fd_read(int fd, void *buf, size_t n)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = f->ops->read ? f->ops->read(f, buf, n, &f->pos) : -EINVAL;
	file_put(f);
	return r;
}

static inline long fd_write(int fd, const void *buf, size_t n)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = f->ops->write ? f->ops->write(f, buf, n, &f->pos) : -EINVAL;
	file_put(f);
	return r;
}

static inline long fd_ioctl(int fd, unsigned int cmd, unsigned long arg)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
	file_put(f);
	return r;
}

/* Reads up to size-1 bytes of path into buf, NUL-terminated: the length,
 * or -errno. */
static inline long read_path(const char *path, char *buf, size_t size)
{
	long fd = sys_open((long)path, O_RDONLY, 0), n, total = 0;

	if (fd < 0)
		return fd;
	while ((n = sys_read(fd, (long)(buf + total), (long)(size - 1 - total))) > 0)
		total += n;
	buf[total] = 0;
	sys_close(fd);
	return n < 0 ? n : total;
}

static inline int epoll_add(int epfd, int fd, unsigned int events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data = data };

	return (int)sys_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, (long)&ev);
}

/* Waits (a second at most) until the heap is back to `before` bytes:
 * files are freed a grace period after release, by the RCU worker. */
static inline size_t heap_settled(size_t before)
{
	size_t now = malloc_in_use_bytes();

	for (int i = 0; i < 1000 && now > before; i++) {
		thread_sleep_ns(1000000);
		now = malloc_in_use_bytes();
	}
	return now;
}

#endif
