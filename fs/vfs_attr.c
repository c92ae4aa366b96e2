/*
 * fs/vfs_attr.c - the calls on what a path or a file names, rather than on
 * names: stat, access, chmod, truncate, readlink, chdir, lseek.
 *
 * One user, root: permission bits are kept and reported but only execute
 * permission is ever refused (as Linux does for root).  A file with no
 * vnode (a pipe, eventfd or socket) stats as an anonymous FIFO whose inode
 * number is its object's (both ends of a pipe share it, as /proc/self/fd
 * shows) and cannot seek; the console descriptors 0-2 stat as
 * /dev/console.
 */
#include "fs/vfs_impl.h"

#define X_OK 1                                  /* <unistd.h> */
#define W_OK 2
#define R_OK 4

/* The vnode an fd (or AT_FDCWD) stands for: a reference, or ERR_PTR. */
static struct vnode *fd_vnode(int fd)
{
	struct file *f;
	struct vnode *v;

	if (fd == AT_FDCWD)
		return vfs_cwd_get();
	f = fd_get(fd);
	if (!f)
		return ERR_PTR(-EBADF);
	v = f->vnode;
	if (v)
		vnode_get(v);
	file_put(f);
	return v ? v : ERR_PTR(-ENOTDIR);
}

/* dirfd/path under at_flags: AT_EMPTY_PATH takes dirfd itself. */
static struct vnode *lookup_at_flags(int dirfd, const char *path, int at_flags)
{
	if (path[0] == 0 && (at_flags & AT_EMPTY_PATH))
		return fd_vnode(dirfd);
	return vfs_lookup_at(dirfd, path, !(at_flags & AT_SYMLINK_NOFOLLOW));
}

int vfs_fstat(struct file *f, struct stat *st)
{
	if (f->vnode) {
		vnode_stat(f->vnode, st);
		return 0;
	}
	/* Descriptors 0-2 start as the console before /dev exists: they are
	 * /dev/console (a character device; ttyname(3) compares the two). */
	if (f->ops == &console_file_ops && vfs_statat(AT_FDCWD, "/dev/console", 0, st) == 0)
		return 0;
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFIFO | 0600;
	st->st_nlink = 1;
	st->st_ino = (uintptr_t)(f->priv ? f->priv : (void *)f) >> 4;   /* procfs_self.c's N */
	st->st_blksize = 4096;
	return 0;
}

int vfs_statat(int dirfd, const char *path, int at_flags, struct stat *st)
{
	struct vnode *v;

	if (at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	if (path[0] == 0 && (at_flags & AT_EMPTY_PATH) && dirfd != AT_FDCWD) {
		struct file *f = fd_get(dirfd);
		int err;

		if (!f)
			return -EBADF;
		err = vfs_fstat(f, st);
		file_put(f);
		return err;
	}
	v = lookup_at_flags(dirfd, path, at_flags);
	if (IS_ERR(v))
		return (int)PTR_ERR(v);
	vnode_stat(v, st);
	vnode_put(v);
	return 0;
}

int vfs_accessat(int dirfd, const char *path, int mode, int at_flags)
{
	struct vnode *v;
	int err = 0;

	if ((mode & ~(R_OK | W_OK | X_OK)) ||
	    (at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_EACCESS)))
		return -EINVAL;
	v = lookup_at_flags(dirfd, path, at_flags);
	if (IS_ERR(v))
		return (int)PTR_ERR(v);
	if ((mode & X_OK) && !vnode_is_dir(v) && !(v->mode & 0111))
		err = -EACCES;                  /* root may do all but run a non-program */
	vnode_put(v);
	return err;
}

int vfs_chmodat(int dirfd, const char *path, unsigned int mode, int at_flags)
{
	struct vnode *v;

	if (at_flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	v = lookup_at_flags(dirfd, path, at_flags);
	if (IS_ERR(v))
		return (int)PTR_ERR(v);
	if (vnode_is_link(v)) {
		vnode_put(v);
		return -EOPNOTSUPP;             /* links have no mode of their own */
	}
	WITH_LOCK(&v->lock) {
		v->mode = (v->mode & S_IFMT) | (mode & 07777);
		v->ctime = vnode_now();
	}
	vnode_put(v);
	return 0;
}

int vfs_truncate_at(int dirfd, const char *path, int64_t len)
{
	struct vnode *v = vfs_lookup_at(dirfd, path, true);
	int err;

	if (IS_ERR(v))
		return (int)PTR_ERR(v);
	err = len < 0 ? -EINVAL : vfs_truncate_vnode(v, (uint64_t)len);
	vnode_put(v);
	return err;
}

int vfs_ftruncate(struct file *f, int64_t len)
{
	if (!f->vnode || !S_ISREG(f->vnode->mode) || (f->flags & O_ACCMODE) == O_RDONLY)
		return -EINVAL;
	if (len < 0)
		return -EINVAL;
	return vfs_truncate_vnode(f->vnode, (uint64_t)len);
}

long vfs_readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	struct vnode *v = lookup_at_flags(dirfd, path, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH);
	long len;

	if (IS_ERR(v))
		return PTR_ERR(v);
	if (!vnode_is_link(v)) {
		vnode_put(v);
		return -EINVAL;
	}
	len = (long)MIN(size, strlen(v->target));
	memcpy(buf, v->target, (size_t)len);
	WITH_LOCK(&v->lock)
		vnode_touch(v, false);
	vnode_put(v);
	return len;
}

int vfs_chdir_at(int dirfd, const char *path)
{
	struct vnode *v = lookup_at_flags(dirfd, path, AT_EMPTY_PATH);

	if (IS_ERR(v))
		return (int)PTR_ERR(v);
	if (!vnode_is_dir(v)) {
		vnode_put(v);
		return -ENOTDIR;
	}
	vfs_cwd_set(v);
	return 0;
}

/* --- lseek --- */

/* The position whence and off ask for; f->pos_lock held. */
static int64_t seek_target(struct file *f, int64_t off, int whence)
{
	int64_t base, size;

	WITH_LOCK(&f->vnode->lock)
		size = (int64_t)f->vnode->size;
	switch (whence) {
	case SEEK_SET: base = 0; break;
	case SEEK_CUR: base = (int64_t)f->pos; break;
	case SEEK_END: base = size; break;
	case SEEK_DATA: return off < 0 ? -EINVAL : off >= size ? -ENXIO : off;
	case SEEK_HOLE: return off < 0 ? -EINVAL : off >= size ? -ENXIO : size;
	default: return -EINVAL;
	}
	if (__builtin_add_overflow(base, off, &base))
		return -EOVERFLOW;
	return base < 0 ? -EINVAL : base;
}

int64_t vfs_lseek(struct file *f, int64_t off, int whence)
{
	int64_t pos;

	if (!f->vnode)
		return -ESPIPE;
	WITH_LOCK(&f->pos_lock) {
		pos = seek_target(f, off, whence);
		if (pos >= 0)
			f->pos = (uint64_t)pos;
	}
	return pos;
}
