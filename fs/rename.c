/*
 * fs/rename.c - renameat2(2): the one operation that changes two
 * directories at once.
 *
 * Both names are walked to their parents; both must lie in one filesystem
 * (else -EXDEV), whose rename_lock is then held for the rest: it keeps
 * every directory's parent still, so "is this directory inside that one"
 * can be answered by following parent pointers.  The two directories are
 * locked ancestor first (or by address when neither contains the other),
 * which is the order every other operation locks a parent and its child
 * in.  Then the checks Linux makes, then the filesystem moves the entry.
 */
#include "fs/vfs_impl.h"
#include "core/mm.h"

#define RENAME_NOREPLACE 1                      /* <linux/fs.h> */

struct rename_op {
	struct walk *from, *to;
	struct vnode *v, *victim;               /* references; victim may be NULL */
	unsigned int flags;
};

/* Whether dir is a or lies inside it; the filesystem's rename_lock held. */
static bool inside(struct vnode *dir, struct vnode *a)
{
	for (; dir; dir = dir->parent)
		if (dir == a)
			return true;
	return false;
}

static void lock_dirs(struct vnode *a, struct vnode *b)
{
	if (a == b) {
		mutex_lock(&a->lock);
		return;
	}
	if (inside(a, b) || (!inside(b, a) && (uintptr_t)b < (uintptr_t)a)) {
		struct vnode *t = a;
		a = b;
		b = t;
	}
	mutex_lock(&a->lock);
	mutex_lock(&b->lock);
}

static void unlock_dirs(struct vnode *a, struct vnode *b)
{
	mutex_unlock(&a->lock);
	if (a != b)
		mutex_unlock(&b->lock);
}

/* The checks on the two names' vnodes, both directories locked. */
static int rename_check(struct rename_op *op)
{
	struct vnode *v = op->v, *victim = op->victim, *ndir = op->to->dir;

	if ((op->from->trailing || op->to->trailing) && !vnode_is_dir(v))
		return -ENOTDIR;
	if (v->mounted || (victim && victim->mounted))
		return -EBUSY;
	if (victim && (op->flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (vnode_is_dir(v) && inside(ndir, v))
		return -EINVAL;                 /* into itself */
	if (!victim)
		return 0;
	if (vnode_is_dir(v) && !vnode_is_dir(victim))
		return -ENOTDIR;
	if (!vnode_is_dir(v) && vnode_is_dir(victim))
		return -EISDIR;
	if (!vnode_is_dir(victim))
		return 0;
	if (inside(op->from->dir, victim))
		return -ENOTEMPTY;              /* it holds v (and must not be locked now) */
	return 0;                               /* the filesystem checks it is empty */
}

/* Looks both names up and renames; both directories locked. */
static int rename_locked(struct rename_op *op)
{
	struct walk *f = op->from, *t = op->to;

	op->v = dir_lookup(f->dir, f->name, f->len);
	if (IS_ERR(op->v)) {
		int err = (int)PTR_ERR(op->v);
		op->v = NULL;
		return err;
	}
	op->victim = dir_lookup(t->dir, t->name, t->len);
	if (IS_ERR(op->victim)) {
		int err = (int)PTR_ERR(op->victim);
		op->victim = NULL;
		if (err != -ENOENT)
			return err;
	}
	if (op->victim == op->v)
		return 0;                       /* two links to one file: nothing to do */
	int err = rename_check(op);
	if (err)
		return err;
	return f->dir->ops->rename(f->dir, f->name, f->len, op->v,
				   t->dir, t->name, t->len, op->victim);
}

/* Walks a name to its parent; the last component must be a plain name. */
static struct walk *rename_walk(int dirfd, const char *path, int *err)
{
	struct walk *w = walk_at(dirfd, path, err);

	if (!*err)
		*err = walk_parent(w);
	if (!*err && w->kind != PATH_NAME)
		*err = -EBUSY;
	return w;
}

int vfs_renameat(int odirfd, const char *opath, int ndirfd, const char *npath,
		 unsigned int flags)
{
	struct rename_op op = { .flags = flags };
	int err = 0;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;                 /* RENAME_EXCHANGE, RENAME_WHITEOUT */
	op.from = rename_walk(odirfd, opath, &err);
	if (!err)
		op.to = rename_walk(ndirfd, npath, &err);
	if (!err && op.from->dir->mount != op.to->dir->mount)
		err = -EXDEV;
	if (!err && !op.from->dir->ops->rename)
		err = -EPERM;
	if (!err) {
		struct mount *m = op.from->dir->mount;

		WITH_LOCK(&m->rename_lock) {
			lock_dirs(op.from->dir, op.to->dir);
			err = rename_locked(&op);
			unlock_dirs(op.from->dir, op.to->dir);
		}
	}
	if (op.v)
		vnode_put(op.v);
	if (op.victim)
		vnode_put(op.victim);
	walk_free(op.from);
	walk_free(op.to);
	return err;
}
