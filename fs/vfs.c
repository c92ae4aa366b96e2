/*
 * fs/vfs.c - the operations on paths: open, create, remove, rename, link;
 * and the initial tree (root ramfs, /dev, /proc, /sys, /tmp).
 *
 * Each operation walks to the parent of its last component (fs/namei.c),
 * locks that directory, looks the name up and checks what Linux checks
 * before it asks the filesystem to change anything; the filesystem's
 * operation then cannot fail for a reason the VFS could have seen.  A
 * rename also holds its filesystem's rename_lock, so the tree's shape
 * (which directory lies inside which) cannot change while it decides.
 *
 * The system calls (libc/sys_file.c, libc/sys_dir.c) copy paths in and
 * call these; the kernel calls vfs_open and friends with its own strings.
 */
#include "fs/vfs_impl.h"
#include "core/mm.h"
#include "libc/syscall.h"

struct vnode *vfs_lookup_at(int dirfd, const char *path, bool follow)
{
	struct vnode *v;
	int err;
	struct walk *w = walk_at(dirfd, path, &err);

	v = err ? ERR_PTR(err) : walk_full(w, follow);
	walk_free(w);
	return v;
}

/* --- open --- */

/* O_CREAT: the last component is looked up and, if missing, created. */
static struct vnode *open_create(struct walk *w, int flags, unsigned int mode)
{
	for (;;) {
		struct vnode *v, *dir;
		int err = walk_parent(w);
		bool created = false;

		if (err)
			return ERR_PTR(err);
		if (w->kind != PATH_NAME || w->trailing)
			return ERR_PTR(w->kind != PATH_NAME && (flags & O_EXCL) ? -EEXIST : -EISDIR);
		dir = w->dir;
		WITH_LOCK(&dir->lock) {
			v = dir_lookup(dir, w->name, w->len);
			if (v == ERR_PTR(-ENOENT) && dir->ops->create) {
				v = dir->ops->create(dir, w->name, w->len,
						     S_IFREG | (mode & 07777 & ~vfs_umask()), NULL);
				created = true;
			} else if (v == ERR_PTR(-ENOENT)) {
				v = ERR_PTR(-EACCES);
			}
		}
		if (IS_ERR(v) || created)
			return v;
		if (flags & O_EXCL) {
			vnode_put(v);
			return ERR_PTR(-EEXIST);
		}
		if (vnode_is_link(v) && !(flags & O_NOFOLLOW)) {
			struct vnode *to = walk_jump(v);        /* /proc/self/fd/N */

			if (to) {
				vnode_put(v);
				return to;
			}
		}
		if (!vnode_is_link(v) || (flags & O_NOFOLLOW)) {
			struct mount *m = __atomic_load_n(&v->mounted, __ATOMIC_ACQUIRE);
			if (m) {
				vnode_get(m->root);
				vnode_put(v);
				v = m->root;
			}
			return v;
		}
		err = walk_follow(w, v);
		vnode_put(v);
		if (err)
			return ERR_PTR(err);
	}
}

/* What open(2) refuses once it found v. */
static int open_check(struct vnode *v, int flags)
{
	int acc = flags & O_ACCMODE;

	if (vnode_is_link(v))
		return -ELOOP;                  /* O_NOFOLLOW met a link */
	if ((flags & O_DIRECTORY) && !vnode_is_dir(v))
		return -ENOTDIR;
	if (vnode_is_dir(v) && (acc != O_RDONLY || (flags & O_CREAT)))
		return -EISDIR;
	if (acc == O_ACCMODE)
		return -EINVAL;
	if (acc != O_RDONLY && !v->fops->write)
		return -EACCES;                 /* generated and read-only files */
	if ((flags & O_TRUNC) && S_ISREG(v->mode) && acc != O_RDONLY)
		return vfs_truncate_vnode(v, 0);
	return 0;
}

#define OPEN_KEPT_FLAGS (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | \
			 O_DSYNC | O_SYNC)

struct file *vfs_openat(int dirfd, const char *path, int flags, unsigned int mode)
{
	struct file *f;
	struct vnode *v;
	struct walk *w;
	int err;

	if ((flags & O_TMPFILE) == O_TMPFILE)
		return ERR_PTR(-EOPNOTSUPP);
	w = walk_at(dirfd, path, &err);
	if (err)
		v = ERR_PTR(err);
	else if (flags & O_CREAT)
		v = open_create(w, flags, mode);
	else
		v = walk_full(w, !(flags & O_NOFOLLOW));
	walk_free(w);
	if (IS_ERR(v))
		return (struct file *)v;
	err = open_check(v, flags);
	f = err ? ERR_PTR(err) : vnode_open_file(v, (flags & OPEN_KEPT_FLAGS) | O_LARGEFILE);
	vnode_put(v);
	return f;
}

/* --- creating and removing names --- */

/* Creates dir/name unless it exists; dir unlocked. */
static int create_name(struct vnode *dir, const char *name, size_t len, unsigned int mode,
		       const char *target)
{
	struct vnode *v;

	WITH_LOCK(&dir->lock) {
		v = dir_lookup(dir, name, len);
		if (!IS_ERR(v)) {
			vnode_put(v);
			return -EEXIST;
		}
		if (v != ERR_PTR(-ENOENT))
			return (int)PTR_ERR(v);
		if (!dir->ops->create)
			return -EACCES;
		v = dir->ops->create(dir, name, len, mode, target);
	}
	if (IS_ERR(v))
		return (int)PTR_ERR(v);
	vnode_put(v);
	return 0;
}

int vfs_mknodat(int dirfd, const char *path, unsigned int mode, const char *target)
{
	int err;
	struct walk *w = walk_at(dirfd, path, &err);

	if (!err)
		err = walk_parent(w);
	if (!err && w->kind != PATH_NAME)
		err = -EEXIST;
	if (!err && w->trailing && !S_ISDIR(mode))
		err = -ENOENT;
	if (!S_ISLNK(mode))
		mode &= S_IFMT | (07777 & ~vfs_umask());
	if (!err)
		err = create_name(w->dir, w->name, w->len, mode, target);
	walk_free(w);
	return err;
}

/* What unlink/rmdir refuse for v, found as dir/name. */
static int unlink_check(struct walk *w, struct vnode *v, bool rmdir)
{
	if (__atomic_load_n(&v->mounted, __ATOMIC_ACQUIRE))
		return -EBUSY;
	if (rmdir && !vnode_is_dir(v))
		return -ENOTDIR;
	if (!rmdir && vnode_is_dir(v))
		return -EISDIR;
	if (!rmdir && w->trailing)
		return -ENOTDIR;
	if (!w->dir->ops->unlink)
		return -EACCES;
	return 0;
}

static int unlink_kind_error(enum path_kind kind, bool rmdir, size_t len)
{
	if (!rmdir)
		return -EISDIR;
	if (len == 0)
		return -EBUSY;                  /* "/" */
	return kind == PATH_DOT ? -EINVAL : -ENOTEMPTY;
}

int vfs_unlinkat(int dirfd, const char *path, bool rmdir)
{
	int err;
	struct walk *w = walk_at(dirfd, path, &err);

	if (!err)
		err = walk_parent(w);
	if (!err && w->kind != PATH_NAME)
		err = unlink_kind_error(w->kind, rmdir, w->len);
	if (!err) {
		WITH_LOCK(&w->dir->lock) {
			struct vnode *v = dir_lookup(w->dir, w->name, w->len);

			if (IS_ERR(v)) {
				err = (int)PTR_ERR(v);
				break;
			}
			err = unlink_check(w, v, rmdir);
			if (!err)
				err = w->dir->ops->unlink(w->dir, w->name, w->len, v);
			vnode_put(v);
		}
	}
	walk_free(w);
	return err;
}

int vfs_linkat(int odirfd, const char *opath, int ndirfd, const char *npath, bool follow)
{
	struct vnode *v = vfs_lookup_at(odirfd, opath, follow), *old;
	struct walk *w;
	int err;

	if (IS_ERR(v))
		return (int)PTR_ERR(v);
	w = walk_at(ndirfd, npath, &err);
	if (!err)
		err = walk_parent(w);
	if (!err && vnode_is_dir(v))
		err = -EPERM;
	else if (!err && (w->kind != PATH_NAME || w->trailing))
		err = -EEXIST;
	else if (!err && w->dir->mount != v->mount)
		err = -EXDEV;
	else if (!err && !w->dir->ops->link)
		err = -EPERM;
	if (!err) {
		WITH_LOCK(&w->dir->lock) {
			old = dir_lookup(w->dir, w->name, w->len);
			if (!IS_ERR(old)) {
				vnode_put(old);
				err = -EEXIST;
			} else if (old != ERR_PTR(-ENOENT)) {
				err = (int)PTR_ERR(old);
			} else {
				err = w->dir->ops->link(w->dir, w->name, w->len, v);
			}
		}
	}
	walk_free(w);
	vnode_put(v);
	return err;
}

/* --- attributes --- */

int vfs_truncate_vnode(struct vnode *v, uint64_t size)
{
	int err;

	if (vnode_is_dir(v))
		return -EISDIR;
	if (!S_ISREG(v->mode))
		return -EINVAL;
	if ((int64_t)size < 0)
		return -EINVAL;
	if (!v->ops->truncate)
		return -EPERM;
	WITH_LOCK(&v->lock) {
		err = v->ops->truncate(v, size);
		if (!err)
			vnode_touch(v, true);
	}
	return err;
}

/* --- the kernel's own calls (fs/fs.h) --- */

char *vfs_path_from_user(const char *upath)
{
	char *p = malloc(LINUX_PATH_MAX);
	long r;

	if (!p)
		return ERR_PTR(-ENOMEM);
	r = copy_path_from_user(p, upath, LINUX_PATH_MAX);
	if (r < 0) {
		free(p);
		return ERR_PTR(r);
	}
	return p;
}

struct file *vfs_open(const char *path, int flags, unsigned int mode)
{
	return vfs_openat(AT_FDCWD, path, flags, mode);
}

int vfs_mkdir(const char *path, unsigned int mode)
{
	return vfs_mknodat(AT_FDCWD, path, S_IFDIR | (mode & 07777), NULL);
}

int vfs_symlink(const char *target, const char *path)
{
	if (target[0] == 0)
		return -ENOENT;
	if (strnlen(target, PATH_MAX_LEN + 1) > PATH_MAX_LEN)
		return -ENAMETOOLONG;
	return vfs_mknodat(AT_FDCWD, path, S_IFLNK | 0777, target);
}

int vfs_unlink(const char *path)
{
	return vfs_unlinkat(AT_FDCWD, path, false);
}

long vfs_write_all(struct file *f, const void *buf, size_t n)
{
	size_t done = 0;
	long r = 0;

	if (!f->ops->write)
		return -EINVAL;
	WITH_LOCK(&f->pos_lock) {
		while (done < n) {
			r = f->ops->write(f, (const char *)buf + done, n - done, &f->pos);
			if (r <= 0)
				break;
			done += (size_t)r;
		}
	}
	return r < 0 ? r : (long)done;
}

long vfs_read_kernel(struct file *f, void *buf, size_t n, uint64_t off)
{
	if (!f->ops->read)
		return -EINVAL;
	return f->ops->read(f, buf, n, &off);
}

/* --- the tree: made by the first path operation --- */

/* The directory /name of the root filesystem, with fs mounted on it (NULL:
 * none); root locked here, as a directory operation needs. */
static void make_top_dir(struct vnode *root, const char *name, unsigned int mode,
			 struct mount *(*mount_fs)(struct vnode *on))
{
	struct vnode *v;

	WITH_LOCK(&root->lock)
		v = root->ops->create(root, name, strlen(name), S_IFDIR | mode, NULL);
	if (IS_ERR(v))
		panic("vfs: cannot make /%s: %ld", name, PTR_ERR(v));
	if (!mount_fs)
		vnode_put(v);
	else if (!mount_fs(v))                  /* takes over v's reference */
		panic("vfs: cannot mount /%s", name);
}

/* The root ramfs, /dev, /proc, /sys and /tmp, and the current directory:
 * called once, by the first caller of vfs_root() or vfs_cwd_get() (fs/vnode.c),
 * so it goes straight to the filesystems rather than through paths.  Boot
 * does not need the tree, so it is not made then; but every path needs it,
 * so no memory for these few nodes is as fatal as at boot. */
void vfs_tree_build(void)
{
	struct mount *m = ramfs_mount(NULL);

	if (!m)
		panic("vfs: no memory for the root filesystem");
	vnode_get(m->root);
	vfs_cwd_set(m->root);
	make_top_dir(m->root, "dev", 0755, devfs_mount);
	make_top_dir(m->root, "proc", 0755, procfs_mount);
	make_top_dir(m->root, "sys", 0755, sysfs_mount);
	make_top_dir(m->root, "tmp", 01777, NULL);     /* sticky and world-writable, as on Linux */
}
