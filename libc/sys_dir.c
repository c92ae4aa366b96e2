/*
 * libc/sys_dir.c - the system calls on names and directories: mkdir,
 * unlink, rmdir, rename, link, symlink, readlink, getdents64, access,
 * chdir, getcwd, umask, chmod, chown, utimensat.
 *
 * As in libc/sys_file.c: check, copy in, call the VFS (fs/fs.h), copy out.
 * The old non-*at calls are their *at forms with AT_FDCWD.
 */
#include "fs/fs.h"
#include "libc/abi.h"
#include "libc/syscall.h"
#include "core/mm.h"


/* Two paths in, for rename, link and symlink; 0 or -errno. */
static long paths_in(const char *ua, const char *ub, char **a, char **b)
{
	*a = vfs_path_from_user(ua);
	if (IS_ERR(*a))
		return PTR_ERR(*a);
	*b = vfs_path_from_user(ub);
	if (IS_ERR(*b)) {
		free(*a);
		return PTR_ERR(*b);
	}
	return 0;
}

/* --- creating and removing --- */

SYSCALL_DEFINE3(mkdirat, int, dirfd, const char *, upath, unsigned int, mode)
{
	char *path = vfs_path_from_user(upath);
	long err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_mknodat(dirfd, path, S_IFDIR | (mode & 07777), NULL);
	free(path);
	return err;
}

SYSCALL_DEFINE2(mkdir, const char *, upath, unsigned int, mode)
{
	return sys_mkdirat(AT_FDCWD, (long)upath, mode);
}

SYSCALL_DEFINE3(unlinkat, int, dirfd, const char *, upath, int, flags)
{
	char *path;
	long err;

	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	path = vfs_path_from_user(upath);
	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_unlinkat(dirfd, path, flags & AT_REMOVEDIR);
	free(path);
	return err;
}

SYSCALL_DEFINE1(unlink, const char *, upath)
{
	return sys_unlinkat(AT_FDCWD, (long)upath, 0);
}

SYSCALL_DEFINE1(rmdir, const char *, upath)
{
	return sys_unlinkat(AT_FDCWD, (long)upath, AT_REMOVEDIR);
}

SYSCALL_DEFINE5(renameat2, int, odirfd, const char *, uold, int, ndirfd, const char *, unew,
		unsigned int, flags)
{
	char *o, *n;
	long err = paths_in(uold, unew, &o, &n);

	if (err)
		return err;
	err = vfs_renameat(odirfd, o, ndirfd, n, flags);
	free(o);
	free(n);
	return err;
}

SYSCALL_DEFINE4(renameat, int, odirfd, const char *, uold, int, ndirfd, const char *, unew)
{
	return sys_renameat2(odirfd, (long)uold, ndirfd, (long)unew, 0);
}

SYSCALL_DEFINE2(rename, const char *, uold, const char *, unew)
{
	return sys_renameat2(AT_FDCWD, (long)uold, AT_FDCWD, (long)unew, 0);
}

SYSCALL_DEFINE5(linkat, int, odirfd, const char *, uold, int, ndirfd, const char *, unew,
		int, flags)
{
	char *o, *n;
	long err;

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	err = paths_in(uold, unew, &o, &n);
	if (err)
		return err;
	err = vfs_linkat(odirfd, o, ndirfd, n, flags & AT_SYMLINK_FOLLOW);
	free(o);
	free(n);
	return err;
}

SYSCALL_DEFINE2(link, const char *, uold, const char *, unew)
{
	return sys_linkat(AT_FDCWD, (long)uold, AT_FDCWD, (long)unew, 0);
}

SYSCALL_DEFINE3(symlinkat, const char *, utarget, int, dirfd, const char *, upath)
{
	char *target, *path;
	long err = paths_in(utarget, upath, &target, &path);

	if (err)
		return err;
	err = target[0] ? vfs_mknodat(dirfd, path, S_IFLNK | 0777, target) : -ENOENT;
	free(target);
	free(path);
	return err;
}

SYSCALL_DEFINE2(symlink, const char *, utarget, const char *, upath)
{
	return sys_symlinkat((long)utarget, AT_FDCWD, (long)upath);
}

SYSCALL_DEFINE4(readlinkat, int, dirfd, const char *, upath, char *, ubuf, int, size)
{
	char *path, *buf;
	long len;

	if (size <= 0)
		return -EINVAL;
	path = vfs_path_from_user(upath);
	if (IS_ERR(path))
		return PTR_ERR(path);
	buf = malloc((size_t)size);
	len = buf ? vfs_readlinkat(dirfd, path, buf, (size_t)size) : -ENOMEM;
	if (len > 0 && copy_to_user(ubuf, buf, (size_t)len))
		len = -EFAULT;
	free(buf);
	free(path);
	return len;
}

SYSCALL_DEFINE3(readlink, const char *, upath, char *, ubuf, int, size)
{
	return sys_readlinkat(AT_FDCWD, (long)upath, (long)ubuf, size);
}

/* --- directories --- */

SYSCALL_DEFINE3(getdents64, int, fd, void *, ubuf, unsigned int, n)
{
	struct file *f = fd_get(fd);
	long r;

	if (!f)
		return -EBADF;
	r = vfs_getdents(f, ubuf, n);
	file_put(f);
	return r;
}

SYSCALL_DEFINE1(chdir, const char *, upath)
{
	char *path = vfs_path_from_user(upath);
	long err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_chdir_at(AT_FDCWD, path);
	free(path);
	return err;
}

SYSCALL_DEFINE1(fchdir, int, fd)
{
	return fd == AT_FDCWD ? -EBADF : vfs_chdir_at(fd, "");
}

SYSCALL_DEFINE2(getcwd, char *, ubuf, size_t, size)
{
	char *buf = malloc(LINUX_PATH_MAX);
	long len;

	if (!buf)
		return -ENOMEM;
	len = vfs_getcwd(buf, MIN(size, (size_t)LINUX_PATH_MAX));
	if (len > 0 && copy_to_user(ubuf, buf, (size_t)len))
		len = -EFAULT;
	free(buf);
	return len;
}

SYSCALL_DEFINE1(umask, unsigned int, mask)
{
	return vfs_umask_set(mask);
}

/* --- access and attributes --- */

SYSCALL_DEFINE4(faccessat2, int, dirfd, const char *, upath, int, mode, int, flags)
{
	char *path = vfs_path_from_user(upath);
	long err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_accessat(dirfd, path, mode, flags);
	free(path);
	return err;
}

SYSCALL_DEFINE3(faccessat, int, dirfd, const char *, upath, int, mode)
{
	return sys_faccessat2(dirfd, (long)upath, mode, 0);
}

SYSCALL_DEFINE2(access, const char *, upath, int, mode)
{
	return sys_faccessat2(AT_FDCWD, (long)upath, mode, 0);
}

static long chmod_at(int dirfd, const char *upath, unsigned int mode, int flags)
{
	char *path = vfs_path_from_user(upath);
	long err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_chmodat(dirfd, path, mode, flags);
	free(path);
	return err;
}

SYSCALL_DEFINE3(fchmodat, int, dirfd, const char *, upath, unsigned int, mode)
{
	return chmod_at(dirfd, upath, mode, 0);
}

SYSCALL_DEFINE2(chmod, const char *, upath, unsigned int, mode)
{
	return chmod_at(AT_FDCWD, upath, mode, 0);
}

SYSCALL_DEFINE2(fchmod, int, fd, unsigned int, mode)
{
	return fd == AT_FDCWD ? -EBADF : vfs_chmodat(fd, "", mode, AT_EMPTY_PATH);
}

/* One user, root: ownership changes to root are accepted and change
 * nothing; others are refused.  The target must exist. */
static long chown_at(int dirfd, const char *upath, int uid, int gid, int flags)
{
	char *path = vfs_path_from_user(upath);
	struct stat st;
	long err;

	if (IS_ERR(path))
		return PTR_ERR(path);
	err = vfs_statat(dirfd, path, flags, &st);
	free(path);
	if (!err && (uid > 0 || gid > 0))
		err = -EPERM;
	return err;
}

SYSCALL_DEFINE5(fchownat, int, dirfd, const char *, upath, int, uid, int, gid, int, flags)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	return chown_at(dirfd, upath, uid, gid, flags);
}

SYSCALL_DEFINE3(chown, const char *, upath, int, uid, int, gid)
{
	return chown_at(AT_FDCWD, upath, uid, gid, 0);
}

SYSCALL_DEFINE3(lchown, const char *, upath, int, uid, int, gid)
{
	return chown_at(AT_FDCWD, upath, uid, gid, AT_SYMLINK_NOFOLLOW);
}

SYSCALL_DEFINE3(fchown, int, fd, int, uid, int, gid)
{
	struct stat st;
	long err = fd == AT_FDCWD ? -EBADF : vfs_statat(fd, "", AT_EMPTY_PATH, &st);

	return !err && (uid > 0 || gid > 0) ? -EPERM : err;
}
