/*
 * libc/sys_file.c - the system calls on open files: open, close, read,
 * write and their vector and positioned forms, lseek, stat, fcntl, ioctl,
 * dup, truncate, sync.
 *
 * Each one checks its arguments, copies what the application passed
 * (paths with copy_path_from_user into a heap buffer, structures with
 * copy_from_user), and calls the VFS (fs/fs.h).  read and write on a file
 * with a vnode use and advance f->pos under f->pos_lock, so threads
 * sharing a descriptor never read the same bytes twice; a file without one
 * (a pipe, an eventfd, a socket) has no position and does its own
 * locking, so a blocking read there does not hold up other callers.
 */
#include "fs/fs.h"
#include "libc/abi.h"
#include "libc/libc_impl.h"
#include "core/mm.h"

#define IOV_MAX 1024                            /* Linux's UIO_MAXIOV */
#define RW_MAX  0x7ffff000L                     /* Linux's MAX_RW_COUNT */

/* --- open and close --- */

SYSCALL_DEFINE4(openat, int, dirfd, const char *, upath, int, flags, unsigned int, mode)
{
	char *path = vfs_path_from_user(upath);
	struct file *f;
	long fd;

	if (IS_ERR(path))
		return PTR_ERR(path);
	f = vfs_openat(dirfd, path, flags, mode);
	free(path);
	if (IS_ERR(f))
		return PTR_ERR(f);
	fd = fd_install(f, 0, flags & O_CLOEXEC);
	if (fd < 0)
		file_put(f);
	return fd;
}

SYSCALL_DEFINE3(open, const char *, upath, int, flags, unsigned int, mode)
{
	return sys_openat(AT_FDCWD, (long)upath, flags, mode);
}

SYSCALL_DEFINE2(creat, const char *, upath, unsigned int, mode)
{
	return sys_openat(AT_FDCWD, (long)upath, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

SYSCALL_DEFINE1(close, int, fd)
{
	return fd_close(fd);
}

/* --- read and write --- */

static bool can_read(const struct file *f)
{
	return (f->flags & O_ACCMODE) != O_WRONLY && !(f->flags & O_PATH);
}

static bool can_write(const struct file *f)
{
	return (f->flags & O_ACCMODE) != O_RDONLY && !(f->flags & O_PATH);
}

/* A write that meets a broken pipe also raises SIGPIPE (Linux). */
static long broken_pipe(long r)
{
	if (r == -EPIPE)
		libc_raise(13 /* SIGPIPE */);
	return r;
}

/* One transfer at *pos (NULL: the file's own position, if it has one). */
static long file_rw(struct file *f, bool write, void *ubuf, size_t n, uint64_t *pos)
{
	uint64_t dummy = 0;
	long r;

	if (write ? !can_write(f) : !can_read(f))
		return -EBADF;
	if (write ? !f->ops->write : !f->ops->read)
		return -EINVAL;
	n = MIN(n, (size_t)RW_MAX);
	if (pos || !f->vnode) {
		pos = pos ? pos : &dummy;
		return write ? broken_pipe(f->ops->write(f, ubuf, n, pos)) : f->ops->read(f, ubuf, n, pos);
	}
	WITH_LOCK(&f->pos_lock)
		r = write ? f->ops->write(f, ubuf, n, &f->pos) : f->ops->read(f, ubuf, n, &f->pos);
	return r;
}


static long fd_rw(int fd, bool write, void *ubuf, size_t n, uint64_t *pos)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	if (pos && !f->vnode)
		r = -ESPIPE;
	else if ((int64_t)n < 0)
		r = -EINVAL;
	else
		r = file_rw(f, write, ubuf, n, pos);
	file_put(f);
	return r;
}

SYSCALL_DEFINE3(read, int, fd, void *, ubuf, size_t, n)
{
	return fd_rw(fd, false, ubuf, n, NULL);
}

SYSCALL_DEFINE3(write, int, fd, const void *, ubuf, size_t, n)
{
	return fd_rw(fd, true, (void *)ubuf, n, NULL);
}

SYSCALL_DEFINE4(pread64, int, fd, void *, ubuf, size_t, n, int64_t, off)
{
	uint64_t pos = (uint64_t)off;

	return off < 0 ? -EINVAL : fd_rw(fd, false, ubuf, n, &pos);
}

SYSCALL_DEFINE4(pwrite64, int, fd, const void *, ubuf, size_t, n, int64_t, off)
{
	uint64_t pos = (uint64_t)off;

	return off < 0 ? -EINVAL : fd_rw(fd, true, (void *)ubuf, n, &pos);
}

/* readv/writev and their positioned forms: one transfer per element,
 * stopping at the first short one. */
static long fd_rwv(int fd, bool write, const struct iovec *uiov, int cnt, int64_t off)
{
	struct file *f = fd_get(fd);
	uint64_t pos = (uint64_t)off;
	long done = 0, r = 0;

	if (!f)
		return -EBADF;
	if (cnt < 0 || cnt > IOV_MAX || (off < -1))
		r = -EINVAL;
	else if (off >= 0 && !f->vnode)
		r = -ESPIPE;
	for (int i = 0; !r && i < cnt; i++) {
		struct iovec v;

		if (copy_from_user(&v, &uiov[i], sizeof(v))) {
			r = -EFAULT;
			break;
		}
		r = file_rw(f, write, v.iov_base, v.iov_len, off >= 0 ? &pos : NULL);
		if (r > 0)
			done += r;
		if (r < 0 || (size_t)r < v.iov_len)
			break;
		r = 0;
	}
	file_put(f);
	return done ? done : r;
}

SYSCALL_DEFINE3(readv, int, fd, const struct iovec *, uiov, int, cnt)
{
	return fd_rwv(fd, false, uiov, cnt, -1);
}

SYSCALL_DEFINE3(writev, int, fd, const struct iovec *, uiov, int, cnt)
{
	return fd_rwv(fd, true, uiov, cnt, -1);
}

SYSCALL_DEFINE4(preadv, int, fd, const struct iovec *, uiov, int, cnt, int64_t, off)
{
	return off < 0 ? -EINVAL : fd_rwv(fd, false, uiov, cnt, off);
}

SYSCALL_DEFINE4(pwritev, int, fd, const struct iovec *, uiov, int, cnt, int64_t, off)
{
	return off < 0 ? -EINVAL : fd_rwv(fd, true, uiov, cnt, off);
}

SYSCALL_DEFINE3(lseek, int, fd, int64_t, off, int, whence)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = vfs_lseek(f, off, whence);
	file_put(f);
	return r;
}

/* --- stat --- */

SYSCALL_DEFINE2(fstat, int, fd, struct stat *, ust)
{
	struct file *f = fd_get(fd);
	struct stat st;
	int err;

	if (!f)
		return -EBADF;
	err = vfs_fstat(f, &st);
	file_put(f);
	return err ? err : copy_to_user(ust, &st, sizeof(st));
}

SYSCALL_DEFINE4(newfstatat, int, dirfd, const char *, upath, struct stat *, ust, int, flags)
{
	char *path = vfs_path_from_user(upath);
	struct stat st;
	int err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_statat(dirfd, path, flags, &st);
	free(path);
	return err ? err : copy_to_user(ust, &st, sizeof(st));
}

SYSCALL_DEFINE2(stat, const char *, upath, struct stat *, ust)
{
	return sys_newfstatat(AT_FDCWD, (long)upath, (long)ust, 0);
}

SYSCALL_DEFINE2(lstat, const char *, upath, struct stat *, ust)
{
	return sys_newfstatat(AT_FDCWD, (long)upath, (long)ust, AT_SYMLINK_NOFOLLOW);
}

static void statx_from_stat(struct statx *sx, const struct stat *st)
{
	memset(sx, 0, sizeof(*sx));
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = (uint32_t)st->st_blksize;
	sx->stx_nlink = (uint32_t)st->st_nlink;
	sx->stx_mode = (uint16_t)st->st_mode;
	sx->stx_ino = st->st_ino;
	sx->stx_size = (uint64_t)st->st_size;
	sx->stx_blocks = (uint64_t)st->st_blocks;
	sx->stx_atime = (struct statx_timestamp){ (int64_t)st->st_atime, (uint32_t)st->st_atime_nsec, 0 };
	sx->stx_mtime = (struct statx_timestamp){ (int64_t)st->st_mtime, (uint32_t)st->st_mtime_nsec, 0 };
	sx->stx_ctime = (struct statx_timestamp){ (int64_t)st->st_ctime, (uint32_t)st->st_ctime_nsec, 0 };
	sx->stx_rdev_major = (uint32_t)(st->st_rdev >> 8);
	sx->stx_rdev_minor = (uint32_t)(st->st_rdev & 0xff);
	sx->stx_dev_minor = (uint32_t)st->st_dev;
}

SYSCALL_DEFINE5(statx, int, dirfd, const char *, upath, int, flags, unsigned int, mask,
		struct statx *, usx)
{
	char *path;
	struct statx sx;
	struct stat st;
	int err;

	(void)mask;                             /* everything basic is always there */
	flags &= ~(AT_STATX_SYNC_TYPE);
	path = vfs_path_from_user(upath);
	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_statat(dirfd, path, flags, &st);
	free(path);
	if (err)
		return err;
	statx_from_stat(&sx, &st);
	return copy_to_user(usx, &sx, sizeof(sx));
}

/* --- truncate and sync --- */

SYSCALL_DEFINE2(truncate, const char *, upath, int64_t, len)
{
	char *path = vfs_path_from_user(upath);
	int err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_truncate_at(AT_FDCWD, path, len);
	free(path);
	return err;
}

SYSCALL_DEFINE2(ftruncate, int, fd, int64_t, len)
{
	struct file *f = fd_get(fd);
	int err;

	if (!f)
		return -EBADF;
	err = vfs_ftruncate(f, len);
	file_put(f);
	return err;
}

/* Memory is the storage: there is nothing to write back. */
static long fd_sync(int fd)
{
	struct file *f = fd_get(fd);
	long err;

	if (!f)
		return -EBADF;
	err = f->vnode ? 0 : -EINVAL;
	file_put(f);
	return err;
}

SYSCALL_DEFINE1(fsync, int, fd)
{
	return fd_sync(fd);
}

SYSCALL_DEFINE1(fdatasync, int, fd)
{
	return fd_sync(fd);
}

SYSCALL_DEFINE0(sync)
{
	return 0;
}

/* --- descriptors: dup, fcntl, ioctl --- */

SYSCALL_DEFINE1(dup, int, fd)
{
	struct file *f = fd_get(fd);
	int r;

	if (!f)
		return -EBADF;
	r = fd_install(f, 0, false);
	if (r < 0)
		file_put(f);
	return r;
}

SYSCALL_DEFINE3(dup3, int, oldfd, int, newfd, int, flags)
{
	struct file *f;
	int r;

	if ((flags & ~O_CLOEXEC) || oldfd == newfd)
		return -EINVAL;
	f = fd_get(oldfd);
	if (!f)
		return -EBADF;
	r = fd_install_at(f, newfd, flags & O_CLOEXEC);
	if (r < 0)
		file_put(f);
	return r;
}

SYSCALL_DEFINE2(dup2, int, oldfd, int, newfd)
{
	struct file *f;

	if (oldfd != newfd)
		return sys_dup3(oldfd, newfd, 0);
	f = fd_get(oldfd);
	if (!f)
		return -EBADF;
	file_put(f);
	return newfd;
}

#define SETFL_FLAGS (O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME)

static long fcntl_file(struct file *f, int fd, int cmd, unsigned long arg)
{
	int r;

	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((long)arg < 0 || (long)arg >= fd_limit())
			return -EINVAL;
		file_get(f);
		r = fd_install(f, (int)arg, cmd == F_DUPFD_CLOEXEC);
		if (r < 0)
			file_put(f);
		return r;
	case F_GETFD:
		r = fd_get_cloexec(fd);
		return r < 0 ? r : r ? FD_CLOEXEC : 0;
	case F_SETFD:
		return fd_set_cloexec(fd, arg & FD_CLOEXEC);
	case F_GETFL:
		return __atomic_load_n(&f->flags, __ATOMIC_RELAXED);
	case F_SETFL: {
		unsigned int old = __atomic_load_n(&f->flags, __ATOMIC_RELAXED), new;
		do
			new = (old & ~SETFL_FLAGS) | ((unsigned int)arg & SETFL_FLAGS);
		while (!__atomic_compare_exchange_n(&f->flags, &old, new, true,
						    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* Advisory record locks: one process, so locks never conflict.  F_SETLK
 * succeeds (after checking the structure is readable) and F_GETLK
 * reports the range unlocked. */
static long fcntl_lock(int cmd, struct flock *ufl)
{
	struct flock fl;

	if (copy_from_user(&fl, ufl, sizeof(fl)))
		return -EFAULT;
	if (fl.l_type != F_RDLCK && fl.l_type != F_WRLCK && fl.l_type != F_UNLCK)
		return -EINVAL;
	if (cmd != F_GETLK)
		return 0;
	fl.l_type = F_UNLCK;
	return copy_to_user(ufl, &fl, sizeof(fl));
}

SYSCALL_DEFINE3(fcntl, int, fd, int, cmd, unsigned long, arg)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	if (cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW ||
	    cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW)
		r = fcntl_lock(cmd == F_OFD_GETLK ? F_GETLK : cmd, (struct flock *)arg);
	else
		r = fcntl_file(f, fd, cmd, arg);
	file_put(f);
	return r;
}

static long set_nonblock(struct file *f, const int *uon)
{
	int on;

	if (copy_from_user(&on, uon, sizeof(on)))
		return -EFAULT;
	if (on)
		__atomic_fetch_or(&f->flags, O_NONBLOCK, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&f->flags, ~(unsigned int)O_NONBLOCK, __ATOMIC_RELAXED);
	return 0;
}

SYSCALL_DEFINE3(ioctl, int, fd, unsigned int, cmd, unsigned long, arg)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	if (cmd == FIONBIO)
		r = set_nonblock(f, (const int *)arg);
	else if (cmd == FIOCLEX || cmd == FIONCLEX)
		r = fd_set_cloexec(fd, cmd == FIOCLEX);
	else if (f->ops->ioctl)
		r = f->ops->ioctl(f, cmd, arg);
	else
		r = -ENOTTY;
	file_put(f);
	return r;
}
