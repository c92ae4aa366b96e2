/*
 * fs/pipe.c - pipes: a ring buffer between a read end and a write end.
 *
 * pipe_files_create() makes one struct pipe and two files on it, the read
 * end and the write end, each with its own ops and its own poll head (so a
 * reader polling for input is not woken by a reader draining it).  Each
 * end counts as one reader or writer for as long as its file lives (dup'd
 * descriptors share the file); the pipe is freed when both are released.
 *
 * Semantics are Linux's: a read returns what is there (up to n) and blocks
 * only while the pipe is empty and a writer exists; with no writer left an
 * empty pipe reads 0 (end of file).  A write of at most PIPE_BUF bytes goes
 * in whole or waits until it can; a larger one goes in piece by piece.
 * Writing with no reader left fails with -EPIPE (and the write system call
 * raises SIGPIPE: see pipe_broken()).  O_NONBLOCK turns every wait into
 * -EAGAIN (or a short count when part was done).  FIONREAD says how many
 * bytes are buffered.
 *
 * Readiness, as Linux reports it: the read end is EPOLLIN with data and
 * EPOLLHUP with no writer; the write end is EPOLLOUT when a PIPE_BUF write
 * would not block and EPOLLERR with no reader.
 *
 * Locking: one mutex per pipe protects everything in it; readers and
 * writers sleep on a condition variable each.  Data is copied to and from
 * the application with the mutex held (a copy may fault and sleep, which a
 * mutex allows).  The buffer is allocated at the first write, so idle
 * pipes cost a few hundred bytes.
 */
#include "fs/fs.h"
#include "libc/abi.h"
#include "core/kernel.h"
#include "core/mm.h"
#include "libc/syscall.h"

#define PIPE_SIZE (64 * 1024)
#define PIPE_ATOMIC 4096                        /* PIPE_BUF */

struct pipe {
	struct mutex lock;
	struct condvar readable, writable;      /* with lock */
	char *buf;                              /* size bytes, or NULL until the first write */
	size_t size, head, len;                 /* ring: len bytes from buf[head] */
	unsigned int readers, writers;          /* live ends */
	struct poll_head rd_poll, wr_poll;
};

static size_t pipe_space(const struct pipe *p)
{
	return p->size - p->len;
}

/* --- moving bytes, lock held --- */

/* Copies up to n buffered bytes out to ubuf; bytes copied or -EFAULT. */
static long ring_take(struct pipe *p, char *ubuf, size_t n)
{
	size_t done = 0;

	n = MIN(n, p->len);
	while (done < n) {
		size_t chunk = MIN(n - done, p->size - p->head);

		if (copy_to_user(ubuf + done, p->buf + p->head, chunk))
			return done ? (long)done : -EFAULT;
		p->head = (p->head + chunk) % p->size;
		p->len -= chunk;
		done += chunk;
	}
	return (long)done;
}

/* Copies up to n bytes in from ubuf, as much as fits; bytes or -EFAULT. */
static long ring_put(struct pipe *p, const char *ubuf, size_t n)
{
	size_t done = 0;

	n = MIN(n, pipe_space(p));
	while (done < n) {
		size_t tail = (p->head + p->len) % p->size;
		size_t chunk = MIN(n - done, p->size - tail);

		if (copy_from_user(p->buf + tail, ubuf + done, chunk))
			return done ? (long)done : -EFAULT;
		p->len += chunk;
		done += chunk;
	}
	return (long)done;
}

/* --- the read end --- */

static long pipe_read(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	struct pipe *p = f->priv;
	long got = 0;

	(void)pos;
	if (n == 0)
		return 0;
	WITH_LOCK(&p->lock) {
		while (p->len == 0) {
			if (p->writers == 0)
				return 0;
			if (f->flags & O_NONBLOCK)
				return -EAGAIN;
			if (cond_wait_interruptible(&p->readable, &p->lock) == -EINTR &&
			    p->len == 0)
				return -ERESTARTSYS;    /* a signal: EINTR, or again */
		}
		got = ring_take(p, ubuf, n);
		if (got > 0)
			cond_broadcast(&p->writable);
	}
	if (got > 0)
		poll_wake(&p->wr_poll, EPOLLOUT | EPOLLWRNORM);
	return got;
}

/* --- the write end --- */

/* The write fails with -EPIPE; the system-call layer raises SIGPIPE for it
 * (libc/sys_file.c), as Linux does for every write that gets EPIPE. */
static long pipe_broken(void)
{
	return -EPIPE;
}

/* Whether a write with `left` bytes to go (of n) must wait; lock held. */
static bool must_wait(const struct pipe *p, size_t n, size_t left)
{
	if (n <= PIPE_ATOMIC)
		return pipe_space(p) < n;
	return pipe_space(p) == 0 && left > 0;
}

/* Writes ubuf[0..n) with the lock held; bytes written or -errno. */
static long pipe_write_locked(struct file *f, struct pipe *p, const char *ubuf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		if (p->readers == 0)
			return done ? (long)done : pipe_broken();
		if (must_wait(p, n, n - done)) {
			if (f->flags & O_NONBLOCK)
				return done ? (long)done : -EAGAIN;
			if (cond_wait_interruptible(&p->writable, &p->lock) == -EINTR)
				return done ? (long)done : -ERESTARTSYS;
			continue;
		}
		long put = ring_put(p, ubuf + done, n - done);
		if (put < 0)
			return done ? (long)done : put;
		done += (size_t)put;
		cond_broadcast(&p->readable);
		if (done < n) {                 /* readers may drain it meanwhile */
			mutex_unlock(&p->lock);
			poll_wake(&p->rd_poll, EPOLLIN | EPOLLRDNORM);
			mutex_lock(&p->lock);
		}
	}
	return (long)done;
}

static long pipe_write(struct file *f, const void *ubuf, size_t n, uint64_t *pos)
{
	struct pipe *p = f->priv;
	long put = 0;

	(void)pos;
	WITH_LOCK(&p->lock) {
		if (!p->buf && p->readers) {
			p->buf = malloc(p->size);
			if (!p->buf)
				return -ENOMEM;
		}
		put = n ? pipe_write_locked(f, p, ubuf, n) : 0;
	}
	if (put > 0)
		poll_wake(&p->rd_poll, EPOLLIN | EPOLLRDNORM);
	return put;
}

/* --- both ends --- */

static long pipe_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct pipe *p = f->priv;
	int len = 0;

	if (cmd != FIONREAD)
		return -ENOTTY;
	WITH_LOCK(&p->lock)
		len = (int)p->len;
	return copy_to_user((void *)arg, &len, sizeof(len));
}

static unsigned int pipe_read_poll(struct file *f)
{
	struct pipe *p = f->priv;
	unsigned int events = 0;

	WITH_LOCK(&p->lock) {
		if (p->len)
			events |= EPOLLIN | EPOLLRDNORM;
		if (!p->writers)
			events |= EPOLLHUP;
	}
	return events;
}

static unsigned int pipe_write_poll(struct file *f)
{
	struct pipe *p = f->priv;
	unsigned int events = 0;

	WITH_LOCK(&p->lock) {
		if (pipe_space(p) >= PIPE_ATOMIC)
			events |= EPOLLOUT | EPOLLWRNORM;
		if (!p->readers)
			events |= EPOLLERR;
	}
	return events;
}

static void pipe_free(struct pipe *p)
{
	free(p->buf);
	free(p);
}

/* One end went; the other end's sleepers and pollers must hear of it. */
static void pipe_release(struct file *f)
{
	struct pipe *p = f->priv;
	bool reader = f->ops->read != NULL, last = false;

	WITH_LOCK(&p->lock) {
		if (reader)
			p->readers--;
		else
			p->writers--;
		last = p->readers == 0 && p->writers == 0;
		cond_broadcast(reader ? &p->writable : &p->readable);
	}
	if (last)
		pipe_free(p);
	else if (reader)
		poll_wake(&p->wr_poll, EPOLLERR);
	else
		poll_wake(&p->rd_poll, EPOLLHUP);
}

static const struct file_ops pipe_read_ops = {
	.read = pipe_read,
	.ioctl = pipe_ioctl,
	.poll = pipe_read_poll,
	.release = pipe_release,
	.name = "pipe",
};

static const struct file_ops pipe_write_ops = {
	.write = pipe_write,
	.ioctl = pipe_ioctl,
	.poll = pipe_write_poll,
	.release = pipe_release,
	.name = "pipe",
};

static struct pipe *pipe_alloc(void)
{
	struct pipe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	mutex_init(&p->lock, false);
	cond_init(&p->readable);
	cond_init(&p->writable);
	poll_head_init(&p->rd_poll);
	poll_head_init(&p->wr_poll);
	p->size = PIPE_SIZE;
	p->readers = p->writers = 1;
	return p;
}

int pipe_files_create(struct file *ends[2], unsigned int flags)
{
	unsigned int nonblock = flags & O_NONBLOCK;
	struct pipe *p = pipe_alloc();

	if (!p)
		return -ENOMEM;
	ends[0] = file_alloc(&pipe_read_ops, O_RDONLY | nonblock, p);
	if (IS_ERR(ends[0]))
		goto out_free_pipe;
	ends[1] = file_alloc(&pipe_write_ops, O_WRONLY | nonblock, p);
	if (IS_ERR(ends[1]))
		goto out_put_reader;
	ends[0]->poll = &p->rd_poll;
	ends[1]->poll = &p->wr_poll;
	return 0;

out_put_reader:
	file_put(ends[0]);                      /* releases the reader; the pipe stays */
	p->writers = 0;
	pipe_free(p);
	return -ENOMEM;
out_free_pipe:
	pipe_free(p);
	return -ENOMEM;
}
