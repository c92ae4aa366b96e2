/*
 * fs/eventfd.c - eventfd(2): a 64-bit counter as a file.
 *
 * A write of an 8-byte value adds it to the counter; a read returns the
 * counter and resets it to zero, or, with EFD_SEMAPHORE, returns 1 and
 * decrements it.  A read of a zero counter waits; a write that would take
 * the counter past 0xfffffffffffffffe waits for a read (the value
 * 0xffffffffffffffff itself is refused with -EINVAL).  Buffers shorter
 * than 8 bytes are -EINVAL; longer ones move 8 bytes, as Linux does.
 * O_NONBLOCK (EFD_NONBLOCK) turns the waits into -EAGAIN.
 *
 * Readiness: EPOLLIN while the counter is not zero, EPOLLOUT while a write
 * of 1 would not wait.  One mutex protects the counter; readers and writers
 * wait on one condition variable (a change wakes both: it is rare that
 * both are waiting).
 */
#include "fs/fs.h"
#include "libc/abi.h"
#include "core/kernel.h"
#include "core/mm.h"
#include "libc/syscall.h"

#define EVENTFD_MAX 0xfffffffffffffffeULL

struct eventfd {
	struct mutex lock;
	struct condvar changed;                 /* with lock */
	uint64_t count;                         /* under lock */
	bool semaphore;
	struct poll_head poll;
};

static long eventfd_read(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	struct eventfd *e = f->priv;
	uint64_t value;

	(void)pos;
	if (n < sizeof(value))
		return -EINVAL;
	WITH_LOCK(&e->lock) {
		while (e->count == 0) {
			if (f->flags & O_NONBLOCK)
				return -EAGAIN;
			if (cond_wait_interruptible(&e->changed, &e->lock) == -EINTR &&
			    e->count == 0)
				return -ERESTARTSYS;    /* a signal: EINTR, or again */
		}
		value = e->semaphore ? 1 : e->count;
		if (copy_to_user(ubuf, &value, sizeof(value)))
			return -EFAULT;
		e->count -= value;
		cond_broadcast(&e->changed);
	}
	poll_wake(&e->poll, EPOLLOUT);
	return sizeof(value);
}

static long eventfd_write(struct file *f, const void *ubuf, size_t n, uint64_t *pos)
{
	struct eventfd *e = f->priv;
	uint64_t value;

	(void)pos;
	if (n < sizeof(value))
		return -EINVAL;
	if (copy_from_user(&value, ubuf, sizeof(value)))
		return -EFAULT;
	if (value == ~0ULL)
		return -EINVAL;
	WITH_LOCK(&e->lock) {
		while (EVENTFD_MAX - e->count < value) {
			if (f->flags & O_NONBLOCK)
				return -EAGAIN;
			if (cond_wait_interruptible(&e->changed, &e->lock) == -EINTR &&
			    EVENTFD_MAX - e->count < value)
				return -ERESTARTSYS;
		}
		e->count += value;
		cond_broadcast(&e->changed);
	}
	if (value)
		poll_wake(&e->poll, EPOLLIN);
	return sizeof(value);
}

static unsigned int eventfd_poll(struct file *f)
{
	struct eventfd *e = f->priv;
	unsigned int events = 0;

	WITH_LOCK(&e->lock) {
		if (e->count)
			events |= EPOLLIN;
		if (e->count < EVENTFD_MAX)
			events |= EPOLLOUT;
	}
	return events;
}

static void eventfd_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops eventfd_ops = {
	.read = eventfd_read,
	.write = eventfd_write,
	.poll = eventfd_poll,
	.release = eventfd_release,
	.name = "anon_inode:[eventfd]",
};

struct file *eventfd_file_create(uint64_t count, unsigned int flags)
{
	struct eventfd *e;
	struct file *f;

	if (flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC))
		return ERR_PTR(-EINVAL);
	e = calloc(1, sizeof(*e));
	if (!e)
		return ERR_PTR(-ENOMEM);
	mutex_init(&e->lock, false);
	cond_init(&e->changed);
	poll_head_init(&e->poll);
	e->count = count;
	e->semaphore = flags & EFD_SEMAPHORE;
	f = file_alloc(&eventfd_ops, O_RDWR | (flags & EFD_NONBLOCK), e);
	if (IS_ERR(f)) {
		free(e);
		return f;
	}
	f->poll = &e->poll;
	return f;
}
