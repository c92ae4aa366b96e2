/*
 * fs/file.c - open file descriptions: allocation and reference counting.
 *
 * The descriptor table looks files up without a lock (fs/fd.c), so a file
 * may be found by a reader at the moment its last reference goes.  Two
 * rules make that safe: the reader takes a reference only if the count is
 * not already zero (file_tryget), and the memory itself is freed one RCU
 * grace period after release, when no reader can still hold the pointer.
 */
#include "fs/fs.h"
#include "fs/fs_impl.h"
#include "core/kernel.h"
#include "core/mm.h"

struct file *file_alloc(const struct file_ops *ops, unsigned int flags, void *priv)
{
	struct file *f = calloc(1, sizeof(*f));

	if (!f)
		return ERR_PTR(-ENOMEM);
	f->ops = ops;
	f->refs = 1;
	f->flags = flags;
	f->priv = priv;
	mutex_init(&f->pos_lock, false);
	return f;
}

void file_get(struct file *f)
{
	__atomic_fetch_add(&f->refs, 1, __ATOMIC_RELAXED);
}

bool file_tryget(struct file *f)
{
	unsigned int r = __atomic_load_n(&f->refs, __ATOMIC_RELAXED);

	do {
		if (r == 0)
			return false;
	} while (!__atomic_compare_exchange_n(&f->refs, &r, r + 1, true, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

static void file_free_rcu(struct rcu_head *h)
{
	free(container_of(h, struct file, rcu));
}

void file_put(struct file *f)
{
	if (__atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	if (f->ops->release)
		f->ops->release(f);
	call_rcu(&f->rcu, file_free_rcu);
}

unsigned int file_poll(struct file *f)
{
	if (f->ops->poll)
		return f->ops->poll(f);
	return 0x001 | 0x004;                   /* EPOLLIN | EPOLLOUT */
}
