/*
 * fs/timerfd.c - timers as files: timerfd_create(2) and friends.
 *
 * A timerfd counts expirations; read() returns the count (8 bytes) and
 * resets it, blocking while it is zero, and poll says EPOLLIN when it is
 * not.  Times here are absolute on the monotonic clock (the system-call
 * layer converts CLOCK_REALTIME and relative times).
 *
 * One kernel thread, "timerfd", serves every armed timer: they wait in a
 * red-black tree by expiry, and it sleeps until the earliest, then adds
 * the expirations that passed (one, or for a periodic timer every
 * interval that elapsed) and wakes the timer's readers and pollers.  Arming
 * a timer that becomes the earliest wakes the thread.  One lock covers the
 * tree and every timer's state: a timerfd operation is short, and timers
 * are few.  The thread starts with the first timerfd.
 */
#include "fs/fs.h"
#include "fs/fs_impl.h"
#include "libc/abi.h"
#include "core/kernel.h"
#include "core/mm.h"
#include "core/rbtree.h"
#include "libc/syscall.h"

struct timerfd {
	struct rbtree_node node;        /* in `armed`, by expiry; svc.lock */
	uint64_t expiry;                /* absolute monotonic ns; 0: disarmed */
	uint64_t interval;              /* ns; 0: one-shot */
	uint64_t count;                 /* expirations not yet read */
	int clock;                      /* as created: the syscall layer's business */
	struct poll_head poll;
};

static struct {
	struct mutex lock;
	struct rbtree armed;
	struct condvar changed;         /* the earliest expiry may be sooner */
	struct thread *thread;
} svc = { .lock = MUTEX_INIT, .changed = CONDVAR_INIT };

/* Expirations that passed by now; svc.lock held. */
static void expire(struct timerfd *t, uint64_t now)
{
	uint64_t n = 1;

	rbtree_remove(&svc.armed, &t->node);
	if (t->interval) {
		n += (now - t->expiry) / t->interval;
		t->expiry += n * t->interval;
		rbtree_insert(&svc.armed, &t->node, t->expiry);
	} else {
		t->expiry = 0;
	}
	t->count += n;
}

static void service(void *unused)
{
	(void)unused;
	mutex_lock(&svc.lock);
	for (;;) {
		struct rbtree_node *first = rbtree_first(&svc.armed);
		uint64_t now = arch_clock_ns();

		if (!first) {
			cond_wait(&svc.changed, &svc.lock);
			continue;
		}
		struct timerfd *t = container_of(first, struct timerfd, node);
		if (t->expiry > now) {
			cond_wait_until(&svc.changed, &svc.lock, t->expiry);
			continue;
		}
		expire(t, now);
		poll_wake(&t->poll, EPOLLIN | EPOLLRDNORM);
	}
}

/* --- the file --- */

static long timerfd_read(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	struct timerfd *t = f->priv;
	struct poll_sleeper sleeper;
	struct poll_waiter w;
	uint64_t count = 0;
	long ret = 0;

	(void)pos;
	if (n < sizeof(count))
		return -EINVAL;
	poll_sleeper_init(&sleeper);
	poll_sleeper_add(&sleeper, &w, &t->poll);
	for (;;) {
		WITH_LOCK(&svc.lock) {
			count = t->count;
			t->count = 0;
		}
		if (count)
			break;
		if (f->flags & O_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		if (thread_signal_pending()) {
			ret = -ERESTARTSYS;     /* a signal: EINTR, or again */
			break;
		}
		poll_sleeper_wait(&sleeper, 0);
	}
	poll_remove(&w);
	if (ret)
		return ret;
	if (copy_to_user(ubuf, &count, sizeof(count))) {
		WITH_LOCK(&svc.lock)
			t->count += count;      /* not consumed after all */
		return -EFAULT;
	}
	return sizeof(count);
}

static unsigned int timerfd_poll(struct file *f)
{
	struct timerfd *t = f->priv;
	uint64_t count;

	WITH_LOCK(&svc.lock)
		count = t->count;
	return count ? EPOLLIN | EPOLLRDNORM : 0;
}

static void timerfd_release(struct file *f)
{
	struct timerfd *t = f->priv;

	WITH_LOCK(&svc.lock)
		rbtree_remove(&svc.armed, &t->node);
	free(t);
}

static const struct file_ops timerfd_ops = {
	.read = timerfd_read,
	.poll = timerfd_poll,
	.release = timerfd_release,
	.name = "anon_inode:[timerfd]",
};

struct file *timerfd_file_create(int clock, unsigned int flags)
{
	struct timerfd *t;
	struct file *f;

	WITH_LOCK(&svc.lock) {
		if (!svc.thread) {
			struct thread *th = thread_create(service, NULL,
							  &THREAD_ATTR(.name = "timerfd", .detached = true));
			if (IS_ERR(th))
				return ERR_PTR(-ENOMEM);
			svc.thread = th;
		}
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return ERR_PTR(-ENOMEM);
	poll_head_init(&t->poll);
	t->clock = clock;
	f = file_alloc(&timerfd_ops, O_RDWR | (flags & O_NONBLOCK), t);
	if (IS_ERR(f)) {
		free(t);
		return f;
	}
	f->poll = &t->poll;
	return f;
}

int timerfd_file_set(struct file *f, uint64_t expiry, uint64_t interval,
		     uint64_t *old_expiry, uint64_t *old_interval)
{
	struct timerfd *t = f->priv;

	if (f->ops != &timerfd_ops)
		return -EINVAL;
	WITH_LOCK(&svc.lock) {
		*old_expiry = t->expiry;
		*old_interval = t->interval;
		rbtree_remove(&svc.armed, &t->node);
		t->count = 0;
		t->expiry = expiry;
		t->interval = interval;
		if (expiry) {
			rbtree_insert(&svc.armed, &t->node, expiry);
			if (rbtree_first(&svc.armed) == &t->node)
				cond_signal(&svc.changed);
		}
	}
	return 0;
}

int timerfd_file_get(struct file *f, uint64_t *expiry, uint64_t *interval, int *clock)
{
	struct timerfd *t = f->priv;

	if (f->ops != &timerfd_ops)
		return -EINVAL;
	WITH_LOCK(&svc.lock) {
		*expiry = t->expiry;
		*interval = t->interval;
	}
	*clock = t->clock;
	return 0;
}
