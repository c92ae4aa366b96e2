/*
 * fs/namei.c - path resolution: from a string to a vnode, one component at
 * a time, and back (getcwd).
 *
 * A walk copies the path into its own buffer and keeps a reference on the
 * directory it has reached.  Each step locks only the directory it looks
 * in, for as long as the filesystem's lookup takes, so walks on different
 * directories never meet and walks of one directory only briefly.  A
 * symbolic link is followed by splicing its target in front of what is
 * left of the path (fs/path.c); an absolute target restarts at the root;
 * after 40 links the walk fails with -ELOOP.  ".." at the root of a
 * mounted filesystem leaves through the directory it is mounted on, and a
 * directory with a filesystem mounted on it is entered as that
 * filesystem's root.
 *
 * Callers that create or remove names stop one step short (walk_parent)
 * and finish the last component themselves, with the parent locked.
 */
#include "fs/vfs_impl.h"
#include "core/mm.h"

#define LINKS_MAX 40                            /* Linux's MAXSYMLINKS */

static void walk_set_dir(struct walk *w, struct vnode *dir)
{
	if (w->dir)
		vnode_put(w->dir);
	w->dir = dir;
}

int walk_start(struct walk *w, struct vnode *dir, const char *path)
{
	size_t len = strnlen(path, PATH_MAX_LEN + 1);

	w->dir = dir;
	w->links = 0;
	w->name = NULL;
	w->len = 0;
	w->kind = PATH_DOT;
	w->trailing = false;
	if (len > PATH_MAX_LEN)
		return -ENAMETOOLONG;
	if (len == 0)
		return -ENOENT;
	memcpy(w->buf, path, len + 1);
	w->p = w->buf;
	if (path[0] == '/') {
		vnode_get(vfs_root());
		walk_set_dir(w, vfs_root());
	} else if (!dir) {
		w->dir = vfs_cwd_get();
	}
	return 0;
}

void walk_end(struct walk *w)
{
	walk_set_dir(w, NULL);
}

/* Whatever is mounted on v, entered: takes over v's reference. */
static struct vnode *mount_cross(struct vnode *v)
{
	struct mount *m;

	while ((m = __atomic_load_n(&v->mounted, __ATOMIC_ACQUIRE))) {
		vnode_get(m->root);
		vnode_put(v);
		v = m->root;
	}
	return v;
}

struct vnode *dir_lookup(struct vnode *dir, const char *name, size_t len)
{
	ASSERT(mutex_owned(&dir->lock));
	if (!vnode_is_dir(dir))
		return ERR_PTR(-ENOTDIR);
	if (!dir->ops->lookup)
		return ERR_PTR(-ENOENT);
	return dir->ops->lookup(dir, name, len);
}

struct vnode *vnode_parent(struct vnode *dir)
{
	struct vnode *p;
	bool dead;

	while (dir == dir->mount->root && dir->mount->covered)
		dir = dir->mount->covered;
	if (dir == vfs_root()) {
		vnode_get(dir);
		return dir;
	}
	WITH_LOCK(&dir->lock)
		dead = dir->nlink == 0;
	if (dead)
		return ERR_PTR(-ENOENT);
	rcu_read_lock();
	do                                      /* a rename may be moving dir */
		p = __atomic_load_n(&dir->parent, __ATOMIC_ACQUIRE);
	while (!vnode_tryget(p));
	rcu_read_unlock();
	return p;
}

/* The vnode the component name in w->dir stands for (mounts crossed). */
static struct vnode *walk_lookup(struct walk *w, const char *name, size_t len,
				 enum path_kind kind)
{
	struct vnode *v;

	if (!vnode_is_dir(w->dir))
		return ERR_PTR(-ENOTDIR);
	if (kind == PATH_DOT) {
		vnode_get(w->dir);
		return w->dir;
	}
	if (kind == PATH_DOTDOT)
		return vnode_parent(w->dir);
	WITH_LOCK(&w->dir->lock)
		v = dir_lookup(w->dir, name, len);
	return IS_ERR(v) ? v : mount_cross(v);
}

struct vnode *walk_jump(struct vnode *link)
{
	return link->ops->jump ? link->ops->jump(link) : NULL;
}

int walk_follow(struct walk *w, struct vnode *v)
{
	int err;

	if (++w->links > LINKS_MAX)
		return -ELOOP;
	err = path_splice(w->buf, sizeof(w->buf), (size_t)(w->p - w->buf), v->target);
	if (err)
		return err;
	w->p = w->buf;
	if (w->buf[0] == '/') {
		vnode_get(vfs_root());
		walk_set_dir(w, vfs_root());
	}
	return 0;
}

/* One component that is not the last: the walk moves into it. */
static int walk_step(struct walk *w, const char *name, size_t len)
{
	struct vnode *v = walk_lookup(w, name, len, path_kind(name, len));
	int err = 0;

	if (IS_ERR(v))
		return (int)PTR_ERR(v);
	if (vnode_is_link(v)) {
		struct vnode *to = walk_jump(v);

		if (to) {
			vnode_put(v);
			v = to;
			if (IS_ERR(v))
				return (int)PTR_ERR(v);
		}
	}
	if (vnode_is_link(v))
		err = walk_follow(w, v);
	else if (!vnode_is_dir(v))
		err = -ENOTDIR;
	else {
		walk_set_dir(w, v);
		return 0;
	}
	vnode_put(v);
	return err;
}

int walk_parent(struct walk *w)
{
	for (;;) {
		size_t len;
		int err;
		const char *name = path_next(&w->p, &len, &err);

		if (err)
			return err;
		if (!name || path_at_end(w->p)) {
			w->name = name;
			w->len = len;
			w->kind = name ? path_kind(name, len) : PATH_DOT;
			w->trailing = !name || *w->p == '/';
			return vnode_is_dir(w->dir) ? 0 : -ENOTDIR;
		}
		err = walk_step(w, name, len);
		if (err)
			return err;
	}
}

struct vnode *walk_last(struct walk *w)
{
	return walk_lookup(w, w->name, w->len, w->kind);
}

struct vnode *walk_full(struct walk *w, bool follow)
{
	for (;;) {
		int err = walk_parent(w);
		struct vnode *v;

		if (err)
			return ERR_PTR(err);
		v = walk_last(w);
		if (IS_ERR(v))
			return v;
		if (vnode_is_link(v) && (follow || w->trailing)) {
			struct vnode *to = walk_jump(v);

			if (to) {                       /* /proc/self/fd/N: the file itself */
				vnode_put(v);
				if (IS_ERR(to) || !w->trailing || vnode_is_dir(to))
					return to;
				vnode_put(to);
				return ERR_PTR(-ENOTDIR);
			}
			err = walk_follow(w, v);
			vnode_put(v);
			if (err)
				return ERR_PTR(err);
			continue;
		}
		if (w->trailing && !vnode_is_dir(v)) {
			vnode_put(v);
			return ERR_PTR(-ENOTDIR);
		}
		return v;
	}
}

/* A walk of path from dirfd (AT_FDCWD: the current directory), started. */
struct walk *walk_at(int dirfd, const char *path, int *err)
{
	struct walk *w = malloc(sizeof(*w));
	struct vnode *dir = NULL;

	if (!w) {
		*err = -ENOMEM;
		return NULL;
	}
	if (dirfd != AT_FDCWD && path[0] != '/') {
		struct file *f = fd_get(dirfd);

		if (!f || !f->vnode) {
			*err = f ? -ENOTDIR : -EBADF;
			if (f)
				file_put(f);
			free(w);
			return NULL;
		}
		dir = f->vnode;
		vnode_get(dir);
		file_put(f);
	}
	*err = walk_start(w, dir, path);
	return w;
}

void walk_free(struct walk *w)
{
	if (w) {
		walk_end(w);
		free(w);
	}
}

/* --- getcwd: from the current directory up to the root --- */

/* Prepends "/name" of dir to the path ending at *p (buf is its start) and
 * moves to dir's parent; dir's filesystem's rename_lock held. */
static int prepend_name(struct vnode *dir, char *buf, char **p, struct vnode **parent)
{
	size_t len;

	WITH_LOCK(&dir->lock)
		if (dir->nlink == 0)
			return -ENOENT;
	len = strlen(dir->name);
	if ((size_t)(*p - buf) < len + 1)
		return -ERANGE;
	*p -= len;
	memcpy(*p, dir->name, len);
	*--*p = '/';
	*parent = dir->parent;
	vnode_get(*parent);
	return 0;
}

long vfs_getcwd(char *buf, size_t size)
{
	struct vnode *v = vfs_cwd_get(), *up;
	char *end = buf + size, *p = end;
	int err = size ? 0 : -ERANGE;

	if (!err)
		*--p = 0;
	while (!err && v != vfs_root()) {
		if (v == v->mount->root) {
			up = v->mount->covered;
			vnode_get(up);
		} else {
			WITH_LOCK(&v->mount->rename_lock)
				err = prepend_name(v, buf, &p, &up);
			if (err)
				break;
		}
		vnode_put(v);
		v = up;
	}
	vnode_put(v);
	if (err)
		return err;
	if (p == end - 1) {                     /* the root itself */
		if (p == buf)
			return -ERANGE;
		*--p = '/';
	}
	memmove(buf, p, (size_t)(end - p));
	return end - p;
}
