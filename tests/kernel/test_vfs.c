/*
 * tests/kernel/test_vfs.c - the filesystem through its system calls, in
 * the booted kernel: files, directories, links, rename, errors (bad
 * pointers included), descriptors, /dev, /proc, large and sparse files,
 * memory freed when the last link and descriptor go, and threads working
 * in one directory and in several at once.
 *
 * Each case works under its own directory in /tmp and removes it.
 */
#include "tests/kernel/fdio.h"
#include "fs/fs.h"
#include "fs/vfs_impl.h"                       /* ramfs_pages */
#include "libc/abi.h"                           /* before core/kernel.h */
#include "core/ktest.h"
#include "core/mm.h"
#include "sched/sched.h"
#include "core/arch.h"

long sys_openat(long, long, long, long);
long sys_mmap(long, long, long, long, long, long);
long sys_mprotect(long, long, long);
long sys_munmap(long, long);
long sys_write(long, long, long);
long sys_pread64(long, long, long, long);
long sys_pwrite64(long, long, long, long);
long sys_writev(long, long, long);
long sys_readv(long, long, long);
long sys_lseek(long, long, long);
long sys_fstat(long, long);
long sys_stat(long, long);
long sys_lstat(long, long);
long sys_newfstatat(long, long, long, long);
long sys_statx(long, long, long, long, long);
long sys_getdents64(long, long, long);
long sys_mkdir(long, long);
long sys_rmdir(long);
long sys_unlink(long);
long sys_unlinkat(long, long, long);
long sys_rename(long, long);
long sys_renameat2(long, long, long, long, long);
long sys_link(long, long);
long sys_symlink(long, long);
long sys_readlink(long, long, long);
long sys_access(long, long);
long sys_ftruncate(long, long);
long sys_truncate(long, long);
long sys_fcntl(long, long, long);
long sys_ioctl(long, long, long);
long sys_dup(long);
long sys_dup2(long, long);
long sys_dup3(long, long, long);
long sys_getcwd(long, long);
long sys_chdir(long);
long sys_fchdir(long);
long sys_umask(long);
long sys_chmod(long, long);
long sys_fsync(long);

#define L(x) ((long)(x))
#define RENAME_NOREPLACE 1
#define BAD  ((long)1)                          /* an address that faults */

static long xopen(const char *path, int flags)
{
	return sys_open(L(path), flags, 0644);
}

static long put_file(const char *path, const char *text)
{
	long fd = xopen(path, O_CREAT | O_WRONLY | O_TRUNC);
	long n;

	if (fd < 0)
		return fd;
	n = sys_write(fd, L(text), (long)strlen(text));
	sys_close(fd);
	return n;
}

static const char *strstr_simple(const char *s, const char *sub)
{
	size_t n = strlen(sub);

	for (; *s; s++)
		if (strncmp(s, sub, n) == 0)
			return s;
	return NULL;
}

KTEST(vfs_file_create_write_read_seek_stat)
{
	char buf[64];
	struct stat st;
	long fd;

	KCHECK_EQ(t, sys_mkdir(L("/tmp/t1"), 0755), 0);
	fd = xopen("/tmp/t1/f", O_CREAT | O_RDWR | O_EXCL);
	KCHECK(t, fd >= 3);
	KCHECK_EQ(t, sys_write(fd, L("hello, world"), 12), 12);
	KCHECK_EQ(t, sys_lseek(fd, 0, SEEK_CUR), 12);
	KCHECK_EQ(t, sys_lseek(fd, 7, SEEK_SET), 7);
	KCHECK_EQ(t, sys_read(fd, L(buf), sizeof(buf)), 5);
	KCHECK(t, memcmp(buf, "world", 5) == 0);
	KCHECK_EQ(t, sys_read(fd, L(buf), sizeof(buf)), 0);
	KCHECK_EQ(t, sys_lseek(fd, -5, SEEK_END), 7);
	KCHECK_EQ(t, sys_lseek(fd, -100, SEEK_CUR), -EINVAL);
	KCHECK_EQ(t, sys_pread64(fd, L(buf), 5, 0), 5);
	KCHECK(t, memcmp(buf, "hello", 5) == 0);
	KCHECK_EQ(t, sys_pwrite64(fd, L("HELLO"), 5, 0), 5);
	KCHECK_EQ(t, sys_lseek(fd, 0, SEEK_CUR), 7);   /* pread/pwrite leave it */
	KCHECK_EQ(t, sys_fstat(fd, L(&st)), 0);
	KCHECK(t, S_ISREG(st.st_mode) && (st.st_mode & 0777) == (0644 & ~022));
	KCHECK_EQ(t, st.st_size, 12);
	KCHECK_EQ(t, st.st_nlink, 1);
	KCHECK_EQ(t, sys_close(fd), 0);
	KCHECK_EQ(t, read_path("/tmp/t1/f", buf, sizeof(buf)), 12);
	KCHECK(t, strcmp(buf, "HELLO, world") == 0);
	fd = xopen("/tmp/t1/f", O_WRONLY | O_APPEND);
	KCHECK_EQ(t, sys_write(fd, L("!"), 1), 1);
	KCHECK_EQ(t, sys_ftruncate(fd, 5), 0);
	KCHECK_EQ(t, sys_read(fd, L(buf), 1), -EBADF);    /* write-only */
	sys_close(fd);
	fd = xopen("/tmp/t1/f", O_RDONLY);
	KCHECK_EQ(t, sys_write(fd, L("x"), 1), -EBADF);   /* read-only */
	sys_close(fd);
	KCHECK_EQ(t, read_path("/tmp/t1/f", buf, sizeof(buf)), 5);
	KCHECK_EQ(t, sys_stat(L("/tmp/t1//f"), L(&st)), 0);
	KCHECK_EQ(t, st.st_size, 5);
	KCHECK_EQ(t, sys_unlink(L("/tmp/t1/f")), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t1")), 0);
}

KTEST(vfs_directories_and_getdents)
{
	char buf[512];
	int seen = 0;
	long fd, n;

	KCHECK_EQ(t, sys_mkdir(L("/tmp/t2"), 0755), 0);
	KCHECK_EQ(t, sys_mkdir(L("/tmp/t2/sub/"), 0755), 0);
	KCHECK_EQ(t, put_file("/tmp/t2/a", "a"), 1);
	KCHECK_EQ(t, put_file("/tmp/t2/./sub/../b", "b"), 1);
	fd = sys_open(L("/tmp/t2"), O_RDONLY | O_DIRECTORY, 0);
	KCHECK(t, fd >= 0);
	KCHECK_EQ(t, sys_read(fd, L(buf), sizeof(buf)), -EISDIR);
	while ((n = sys_getdents64(fd, L(buf), sizeof(buf))) > 0) {
		for (long off = 0; off < n; ) {
			struct linux_dirent64 *d = (void *)(buf + off);
			if (strcmp(d->d_name, ".") == 0) seen |= 1;
			if (strcmp(d->d_name, "..") == 0) seen |= 2;
			if (strcmp(d->d_name, "sub") == 0 && d->d_type == DT_DIR) seen |= 4;
			if (strcmp(d->d_name, "a") == 0 && d->d_type == DT_REG) seen |= 8;
			if (strcmp(d->d_name, "b") == 0) seen |= 16;
			off += d->d_reclen;
		}
	}
	KCHECK_EQ(t, n, 0);
	KCHECK_EQ(t, seen, 31);
	KCHECK_EQ(t, sys_getdents64(fd, L(buf), 8), 0);          /* at the end */
	KCHECK_EQ(t, sys_lseek(fd, 0, SEEK_SET), 0);
	KCHECK_EQ(t, sys_getdents64(fd, L(buf), 8), -EINVAL);    /* too small */
	KCHECK_EQ(t, sys_getdents64(fd, BAD, sizeof(buf)), -EFAULT);
	sys_close(fd);
	KCHECK_EQ(t, sys_getdents64(0, L(buf), sizeof(buf)), -ENOTDIR);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t2")), -ENOTEMPTY);
	KCHECK_EQ(t, sys_unlinkat(AT_FDCWD, L("/tmp/t2/sub"), 0), -EISDIR);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t2/a")), -ENOTDIR);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t2/sub/.")), -EINVAL);
	KCHECK_EQ(t, sys_unlinkat(AT_FDCWD, L("/tmp/t2/sub/"), AT_REMOVEDIR), 0);
	KCHECK_EQ(t, sys_unlink(L("/tmp/t2/a")), 0);
	KCHECK_EQ(t, sys_unlink(L("/tmp/t2/b")), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t2")), 0);
}

KTEST(vfs_errors)
{
	char name[300], *longpath = malloc(5000);
	struct stat st;

	KCHECK_EQ(t, sys_mkdir(L("/tmp/t3"), 0755), 0);
	KCHECK_EQ(t, put_file("/tmp/t3/f", "x"), 1);
	KCHECK_EQ(t, xopen("/tmp/t3/none", O_RDONLY), -ENOENT);
	KCHECK_EQ(t, xopen("/tmp/none/f", O_CREAT | O_RDWR), -ENOENT);
	KCHECK_EQ(t, xopen("", O_RDONLY), -ENOENT);
	KCHECK_EQ(t, xopen("/tmp/t3/f", O_CREAT | O_EXCL | O_RDWR), -EEXIST);
	KCHECK_EQ(t, sys_mkdir(L("/tmp/t3/f"), 0755), -EEXIST);
	KCHECK_EQ(t, sys_mkdir(L("/"), 0755), -EEXIST);
	KCHECK_EQ(t, xopen("/tmp/t3", O_RDWR), -EISDIR);
	KCHECK_EQ(t, xopen("/tmp/t3/f/", O_RDONLY), -ENOTDIR);
	KCHECK_EQ(t, xopen("/tmp/t3/f/x", O_RDONLY), -ENOTDIR);
	KCHECK_EQ(t, xopen("/tmp/t3/f", O_RDONLY | O_DIRECTORY), -ENOTDIR);
	KCHECK_EQ(t, sys_stat(L("/tmp/t3/f/"), L(&st)), -ENOTDIR);
	KCHECK_EQ(t, xopen("/tmp/t3/f", O_TMPFILE | O_RDWR), -EOPNOTSUPP);
	KCHECK_EQ(t, sys_read(12345, L(name), 1), -EBADF);
	KCHECK_EQ(t, sys_close(-1), -EBADF);
	KCHECK_EQ(t, sys_fstat(999, L(&st)), -EBADF);
	KCHECK_EQ(t, sys_open(BAD, O_RDONLY, 0), -EFAULT);
	KCHECK_EQ(t, sys_stat(L("/tmp/t3/f"), BAD), -EFAULT);
	KCHECK_EQ(t, sys_mkdir(BAD, 0755), -EFAULT);
	KCHECK_EQ(t, sys_rename(L("/tmp/t3/f"), BAD), -EFAULT);
	long fd = xopen("/tmp/t3/f", O_RDWR);
	KCHECK_EQ(t, sys_read(fd, BAD, 1), -EFAULT);
	KCHECK_EQ(t, sys_write(fd, BAD, 1), -EFAULT);
	KCHECK_EQ(t, sys_readv(fd, BAD, 1), -EFAULT);
	KCHECK_EQ(t, sys_lseek(fd, 0, 99), -EINVAL);
	KCHECK_EQ(t, sys_ftruncate(fd, -1), -EINVAL);
	sys_close(fd);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	KCHECK_EQ(t, xopen(name, O_CREAT | O_RDWR), -ENAMETOOLONG);
	if (longpath) {
		for (int i = 0; i < 4999; i++)
			longpath[i] = i % 2 ? '/' : 'a';
		longpath[4999] = 0;
		KCHECK_EQ(t, xopen(longpath, O_RDONLY), -ENAMETOOLONG);
		free(longpath);
	}
	KCHECK_EQ(t, sys_symlink(L("loop2"), L("/tmp/t3/loop1")), 0);
	KCHECK_EQ(t, sys_symlink(L("loop1"), L("/tmp/t3/loop2")), 0);
	KCHECK_EQ(t, xopen("/tmp/t3/loop1", O_RDONLY), -ELOOP);
	KCHECK_EQ(t, xopen("/tmp/t3/loop1/x", O_RDONLY), -ELOOP);
	KCHECK_EQ(t, sys_rename(L("/tmp/t3/f"), L("/dev/f")), -EXDEV);
	KCHECK_EQ(t, sys_rmdir(L("/dev")), -EBUSY);
	KCHECK_EQ(t, sys_unlink(L("/tmp/t3/loop1")), 0);
	KCHECK_EQ(t, sys_unlink(L("/tmp/t3/loop2")), 0);
	KCHECK_EQ(t, sys_unlink(L("/tmp/t3/f")), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t3")), 0);
}

KTEST(vfs_symlinks)
{
	char buf[64];
	struct stat st;

	KCHECK_EQ(t, sys_mkdir(L("/tmp/t4"), 0755), 0);
	KCHECK_EQ(t, sys_mkdir(L("/tmp/t4/d"), 0755), 0);
	KCHECK_EQ(t, put_file("/tmp/t4/d/f", "data"), 4);
	KCHECK_EQ(t, sys_symlink(L("d/f"), L("/tmp/t4/rel")), 0);
	KCHECK_EQ(t, sys_symlink(L("/tmp/t4/d"), L("/tmp/t4/abs")), 0);
	KCHECK_EQ(t, sys_symlink(L("../../t4/d/../d"), L("/tmp/t4/d/up")), 0);
	KCHECK_EQ(t, read_path("/tmp/t4/rel", buf, sizeof(buf)), 4);
	KCHECK_EQ(t, read_path("/tmp/t4/abs/f", buf, sizeof(buf)), 4);
	KCHECK_EQ(t, read_path("/tmp/t4/d/up/up/up/f", buf, sizeof(buf)), 4);
	KCHECK_EQ(t, sys_readlink(L("/tmp/t4/rel"), L(buf), sizeof(buf)), 3);
	KCHECK(t, memcmp(buf, "d/f", 3) == 0);
	KCHECK_EQ(t, sys_readlink(L("/tmp/t4/rel"), L(buf), 2), 2);
	KCHECK_EQ(t, sys_readlink(L("/tmp/t4/d/f"), L(buf), sizeof(buf)), -EINVAL);
	KCHECK_EQ(t, sys_lstat(L("/tmp/t4/rel"), L(&st)), 0);
	KCHECK(t, S_ISLNK(st.st_mode) && st.st_size == 3);
	KCHECK_EQ(t, sys_stat(L("/tmp/t4/rel"), L(&st)), 0);
	KCHECK(t, S_ISREG(st.st_mode) && st.st_size == 4);
	KCHECK_EQ(t, sys_newfstatat(AT_FDCWD, L("/tmp/t4/abs/"), L(&st), AT_SYMLINK_NOFOLLOW), 0);
	KCHECK(t, S_ISDIR(st.st_mode));                 /* a trailing slash follows */
	KCHECK_EQ(t, xopen("/tmp/t4/rel", O_RDONLY | O_NOFOLLOW), -ELOOP);
	KCHECK_EQ(t, sys_symlink(L("d/new"), L("/tmp/t4/dangling")), 0);
	long fd = xopen("/tmp/t4/dangling", O_CREAT | O_WRONLY);   /* creates d/new */
	KCHECK(t, fd >= 0);
	sys_close(fd);
	KCHECK_EQ(t, sys_stat(L("/tmp/t4/d/new"), L(&st)), 0);
	KCHECK_EQ(t, sys_symlink(L(""), L("/tmp/t4/empty")), -ENOENT);
	const char *names[] = { "/tmp/t4/d/f", "/tmp/t4/d/new", "/tmp/t4/d/up", "/tmp/t4/rel",
				"/tmp/t4/abs", "/tmp/t4/dangling" };
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		KCHECK_EQ(t, sys_unlink(L(names[i])), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t4/d")), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t4")), 0);
}

KTEST(vfs_rename_and_link)
{
	char buf[64];
	struct stat st;

	KCHECK_EQ(t, sys_mkdir(L("/tmp/t5"), 0755), 0);
	KCHECK_EQ(t, sys_mkdir(L("/tmp/t5/a"), 0755), 0);
	KCHECK_EQ(t, sys_mkdir(L("/tmp/t5/b"), 0755), 0);
	KCHECK_EQ(t, put_file("/tmp/t5/a/x", "xx"), 2);
	KCHECK_EQ(t, put_file("/tmp/t5/b/y", "yyy"), 3);
	KCHECK_EQ(t, sys_renameat2(AT_FDCWD, L("/tmp/t5/a/x"), AT_FDCWD, L("/tmp/t5/b/y"),
				   RENAME_NOREPLACE), -EEXIST);
	KCHECK_EQ(t, sys_rename(L("/tmp/t5/a/x"), L("/tmp/t5/b/y")), 0);
	KCHECK_EQ(t, read_path("/tmp/t5/b/y", buf, sizeof(buf)), 2);
	KCHECK_EQ(t, sys_stat(L("/tmp/t5/a/x"), L(&st)), -ENOENT);
	KCHECK_EQ(t, sys_rename(L("/tmp/t5/a"), L("/tmp/t5/b/y")), -ENOTDIR);
	KCHECK_EQ(t, sys_rename(L("/tmp/t5/b/y"), L("/tmp/t5/a")), -EISDIR);
	KCHECK_EQ(t, sys_rename(L("/tmp/t5/a"), L("/tmp/t5/b")), -ENOTEMPTY);
	KCHECK_EQ(t, sys_rename(L("/tmp/t5/b"), L("/tmp/t5/b/in")), -EINVAL);
	KCHECK_EQ(t, sys_rename(L("/tmp/t5/a"), L("/tmp/t5/b/a2")), 0);     /* a directory moves */
	KCHECK_EQ(t, sys_stat(L("/tmp/t5/b/a2/.."), L(&st)), 0);
	KCHECK_EQ(t, st.st_nlink, 3);                   /* b: ., .., a2's .. */
	KCHECK_EQ(t, sys_chdir(L("/tmp/t5/b/a2")), 0);
	KCHECK_EQ(t, sys_getcwd(L(buf), sizeof(buf)), 13);
	KCHECK(t, strcmp(buf, "/tmp/t5/b/a2") == 0);
	KCHECK_EQ(t, sys_rename(L("/tmp/t5/b"), L("/tmp/t5/c")), 0);
	KCHECK_EQ(t, sys_getcwd(L(buf), sizeof(buf)), 13);
	KCHECK(t, strcmp(buf, "/tmp/t5/c/a2") == 0);
	KCHECK_EQ(t, put_file("../rel", "r"), 1);        /* relative to the new cwd */
	KCHECK_EQ(t, sys_getcwd(L(buf), 5), -ERANGE);
	KCHECK_EQ(t, sys_link(L("/tmp/t5/c/rel"), L("/tmp/t5/c/rel2")), 0);
	KCHECK_EQ(t, sys_stat(L("/tmp/t5/c/rel2"), L(&st)), 0);
	KCHECK_EQ(t, st.st_nlink, 2);
	KCHECK_EQ(t, sys_rename(L("/tmp/t5/c/rel"), L("/tmp/t5/c/rel2")), 0);  /* same file */
	KCHECK_EQ(t, sys_link(L("/tmp/t5/c"), L("/tmp/t5/d")), -EPERM);
	KCHECK_EQ(t, sys_chdir(L("/")), 0);
	const char *names[] = { "/tmp/t5/c/rel", "/tmp/t5/c/rel2", "/tmp/t5/c/y" };
	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++)
		KCHECK_EQ(t, sys_unlink(L(names[i])), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t5/c/a2")), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t5/c")), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/t5")), 0);
}

KTEST(vfs_cwd_and_mounts)
{
	char buf[64];
	struct stat a, b;

	KCHECK_EQ(t, sys_chdir(L("/dev")), 0);
	KCHECK_EQ(t, sys_getcwd(L(buf), sizeof(buf)), 5);
	KCHECK(t, strcmp(buf, "/dev") == 0);
	KCHECK_EQ(t, sys_stat(L(".."), L(&a)), 0);      /* out of the mount */
	KCHECK_EQ(t, sys_stat(L("/"), L(&b)), 0);
	KCHECK(t, a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	KCHECK_EQ(t, sys_stat(L("../proc/../dev/null"), L(&a)), 0);
	KCHECK(t, S_ISCHR(a.st_mode));
	KCHECK_EQ(t, sys_stat(L("/.."), L(&a)), 0);
	KCHECK(t, a.st_ino == b.st_ino);
	long fd = sys_open(L("/proc"), O_RDONLY | O_DIRECTORY, 0);
	KCHECK_EQ(t, sys_fchdir(fd), 0);
	sys_close(fd);
	KCHECK_EQ(t, sys_getcwd(L(buf), sizeof(buf)), 6);
	KCHECK(t, strcmp(buf, "/proc") == 0);
	KCHECK_EQ(t, sys_chdir(L("/dev/null")), -ENOTDIR);
	KCHECK_EQ(t, sys_chdir(L("/")), 0);
	KCHECK_EQ(t, sys_getcwd(L(buf), sizeof(buf)), 2);
	KCHECK_EQ(t, sys_umask(077), 022);
	KCHECK_EQ(t, sys_umask(022), 077);
	KCHECK_EQ(t, sys_access(L("/tmp"), 7), 0);
	KCHECK_EQ(t, sys_access(L("/proc/meminfo"), 1), -EACCES);
	KCHECK_EQ(t, sys_access(L("/nonexistent"), 0), -ENOENT);
	KCHECK_EQ(t, sys_mkdir(L("/proc/x"), 0755), -EACCES);
}

/* The heap's use once what call_rcu frees (vnodes, files) has gone: the
 * same over 10 ms (or want, when it reaches that). */
static size_t heap_steady(size_t want)
{
	size_t now = malloc_in_use_bytes(), before;

	for (int i = 0; i < 100; i++) {
		before = now;
		thread_sleep_ns(10000000);
		now = malloc_in_use_bytes();
		if (now == want || now == before)
			break;
	}
	return now;
}

/* Unlinked while open: still readable; its memory goes with the last close. */
KTEST(vfs_unlink_while_open_frees_memory)
{
	static char block[8192];
	struct mm_stats before, after;
	size_t heap = heap_steady(0);
	long fd;

	mm_stats(&before);
	memset(block, 'q', sizeof(block));
	fd = xopen("/tmp/t6", O_CREAT | O_RDWR);
	for (int i = 0; i < 64; i++)
		KCHECK_EQ(t, sys_write(fd, L(block), sizeof(block)), sizeof(block));
	KCHECK_EQ(t, sys_unlink(L("/tmp/t6")), 0);
	KCHECK_EQ(t, sys_pread64(fd, L(block), 10, 4096 * 100), 10);
	KCHECK_EQ(t, block[9], 'q');
	struct stat st;
	KCHECK_EQ(t, sys_fstat(fd, L(&st)), 0);
	KCHECK_EQ(t, st.st_nlink, 0);
	KCHECK_EQ(t, sys_close(fd), 0);
	mm_stats(&after);
	KCHECK_EQ(t, after.used_bytes, before.used_bytes);
	KCHECK_EQ(t, heap_steady(heap), heap);
}

/* A shared mapping keeps an unlinked, closed file alive; each piece of a
 * split mapping holds it; the last munmap frees its pages. */
KTEST(vfs_mapped_file_freed_with_last_mapping)
{
	static char block[8192];
	uint64_t pages = ramfs_pages();
	long fd, m;
	char *p;

	memset(block, 'm', sizeof(block));
	fd = xopen("/tmp/t6m", O_CREAT | O_RDWR);
	for (int i = 0; i < 8; i++)
		KCHECK_EQ(t, sys_write(fd, L(block), sizeof(block)), sizeof(block));
	m = sys_mmap(0, 16 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	KCHECK(t, m > 0);
	if (m <= 0)
		return;
	p = (char *)m;
	KCHECK_EQ(t, sys_unlink(L("/tmp/t6m")), 0);
	KCHECK_EQ(t, sys_close(fd), 0);
	KCHECK_EQ(t, ramfs_pages(), pages + 16);        /* still there: mapped */
	KCHECK_EQ(t, p[5 * 4096], 'm');
	p[5 * 4096] = 'x';
	KCHECK_EQ(t, sys_mprotect(m + 4 * 4096, 4096, PROT_READ), 0);   /* three pieces */
	KCHECK_EQ(t, p[5 * 4096], 'x');
	KCHECK_EQ(t, sys_munmap(m, 8 * 4096), 0);
	KCHECK_EQ(t, ramfs_pages(), pages + 16);        /* the last piece holds it */
	KCHECK_EQ(t, p[12 * 4096], 'm');
	KCHECK_EQ(t, sys_munmap(m + 8 * 4096, 8 * 4096), 0);
	KCHECK_EQ(t, ramfs_pages(), pages);
}

/* mmap's flags cannot name the VM's own kinds of record (bits Linux uses
 * for MAP_HUGE_*): no reference is dropped twice, no read-only file
 * becomes writable. */
KTEST(vfs_mmap_shared_ignores_kernel_flag_bits)
{
	static char page[4096];
	long fd = xopen("/tmp/t6f", O_CREAT | O_RDWR), ro, m;
	struct file *f;
	unsigned int refs;
	char c = 0;

	memset(page, 'f', sizeof(page));
	KCHECK_EQ(t, sys_write(fd, L(page), sizeof(page)), sizeof(page));
	f = fd_get((int)fd);
	refs = __atomic_load_n(&f->vnode->refs, __ATOMIC_RELAXED);
	m = sys_mmap(0, 2 * 4096, PROT_READ, MAP_SHARED | MAP_POPULATE | 0x40000000, fd, 0);
	if (m > 0)
		KCHECK_EQ(t, sys_munmap(m, 2 * 4096), 0);
	KCHECK_EQ(t, __atomic_load_n(&f->vnode->refs, __ATOMIC_RELAXED), refs);
	KCHECK_EQ(t, __atomic_load_n(&f->vnode->maps, __ATOMIC_RELAXED), 0);
	file_put(f);
	ro = xopen("/tmp/t6f", O_RDONLY);
	m = sys_mmap(0, 4096, PROT_READ, MAP_SHARED | 0x70000000, ro, 0);
	KCHECK(t, m > 0);
	if (m > 0) {
		KCHECK_EQ(t, sys_mprotect(m, 4096, PROT_READ | PROT_WRITE), -EACCES);
		KCHECK_EQ(t, sys_munmap(m, 4096), 0);
	}
	KCHECK_EQ(t, sys_pread64(ro, L(&c), 1, 0), 1);
	KCHECK_EQ(t, c, 'f');
	sys_close(ro);
	sys_close(fd);
	sys_unlink(L("/tmp/t6f"));
}

/* Descriptors 0-2 are /dev/console: a character device, the same file
 * (ttyname(3) compares st_dev and st_ino). */
KTEST(vfs_console_descriptors_are_dev_console)
{
	struct stat a, b;

	KCHECK_EQ(t, sys_fstat(1, L(&a)), 0);
	KCHECK_EQ(t, sys_stat(L("/dev/console"), L(&b)), 0);
	KCHECK(t, S_ISCHR(a.st_mode));
	KCHECK_EQ(t, a.st_ino, b.st_ino);
	KCHECK_EQ(t, a.st_dev, b.st_dev);
	KCHECK_EQ(t, a.st_rdev, b.st_rdev);
}

/* A regular file keeps a reference on the directory of its recorded name:
 * renaming another hard link of it must move that, not the link's. */
KTEST(vfs_rename_hard_link_keeps_parents)
{
	struct stat st;
	long fd;

	KCHECK_EQ(t, sys_mkdir(L("/tmp/hA"), 0755), 0);
	KCHECK_EQ(t, sys_mkdir(L("/tmp/hB"), 0755), 0);
	KCHECK_EQ(t, sys_mkdir(L("/tmp/hC"), 0755), 0);
	fd = xopen("/tmp/hA/f", O_CREAT | O_RDWR);
	KCHECK_EQ(t, sys_link(L("/tmp/hA/f"), L("/tmp/hB/g")), 0);
	KCHECK_EQ(t, sys_rename(L("/tmp/hB/g"), L("/tmp/hC/h")), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/hB")), 0);
	KCHECK_EQ(t, sys_stat(L("/tmp/hC/h"), L(&st)), 0);
	KCHECK_EQ(t, st.st_nlink, 2);
	KCHECK_EQ(t, sys_rename(L("/tmp/hC/h"), L("/tmp/hC/h2")), 0);     /* same directory */
	KCHECK_EQ(t, sys_unlink(L("/tmp/hA/f")), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/hA")), 0);
	KCHECK_EQ(t, sys_close(fd), 0);
	KCHECK_EQ(t, sys_unlink(L("/tmp/hC/h2")), 0);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/hC")), 0);
	KCHECK_EQ(t, sys_stat(L("/tmp/hB"), L(&st)), -ENOENT);
}

KTEST(vfs_descriptors_dup_fcntl)
{
	long fd = xopen("/tmp/t7", O_CREAT | O_RDWR), d, d2;
	char c;

	KCHECK_EQ(t, sys_write(fd, L("abc"), 3), 3);
	d = sys_dup(fd);
	KCHECK(t, d > fd);
	KCHECK_EQ(t, sys_lseek(d, 1, SEEK_SET), 1);     /* the position is shared */
	KCHECK_EQ(t, sys_read(fd, L(&c), 1), 1);
	KCHECK_EQ(t, c, 'b');
	KCHECK_EQ(t, sys_dup2(fd, 100), 100);
	KCHECK_EQ(t, sys_dup2(fd, fd), fd);
	KCHECK_EQ(t, sys_dup2(999, 101), -EBADF);
	KCHECK_EQ(t, sys_dup3(fd, fd, 0), -EINVAL);
	KCHECK_EQ(t, sys_dup3(fd, 101, O_CLOEXEC), 101);
	KCHECK_EQ(t, sys_fcntl(101, F_GETFD, 0), FD_CLOEXEC);
	KCHECK_EQ(t, sys_fcntl(100, F_GETFD, 0), 0);
	KCHECK_EQ(t, sys_fcntl(100, F_SETFD, FD_CLOEXEC), 0);
	KCHECK_EQ(t, sys_fcntl(100, F_GETFD, 0), FD_CLOEXEC);
	d2 = sys_fcntl(fd, F_DUPFD_CLOEXEC, 200);
	KCHECK_EQ(t, d2, 200);
	KCHECK_EQ(t, sys_fcntl(d2, F_GETFD, 0), FD_CLOEXEC);
	KCHECK_EQ(t, sys_fcntl(fd, F_GETFL, 0) & (O_ACCMODE | O_NONBLOCK), O_RDWR);
	KCHECK_EQ(t, sys_fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND), 0);
	KCHECK_EQ(t, sys_fcntl(d, F_GETFL, 0) & (O_NONBLOCK | O_APPEND), O_NONBLOCK | O_APPEND);
	int off = 0;
	KCHECK_EQ(t, sys_ioctl(fd, FIONBIO, L(&off)), 0);
	KCHECK_EQ(t, sys_fcntl(fd, F_GETFL, 0) & O_NONBLOCK, 0);
	KCHECK_EQ(t, sys_ioctl(fd, FIONBIO, BAD), -EFAULT);
	KCHECK_EQ(t, sys_ioctl(fd, TCGETS, 0), -ENOTTY);
	struct flock fl = { .l_type = F_WRLCK };
	KCHECK_EQ(t, sys_fcntl(fd, F_SETLK, L(&fl)), 0);
	KCHECK_EQ(t, sys_fcntl(fd, F_GETLK, L(&fl)), 0);
	KCHECK_EQ(t, fl.l_type, F_UNLCK);
	KCHECK_EQ(t, sys_fcntl(fd, 9999, 0), -EINVAL);
	KCHECK_EQ(t, sys_fsync(fd), 0);
	KCHECK_EQ(t, sys_fsync(-5), -EBADF);
	KCHECK_EQ(t, sys_close(d2), 0);
	KCHECK_EQ(t, sys_close(101), 0);
	KCHECK_EQ(t, sys_close(100), 0);
	KCHECK_EQ(t, sys_close(d), 0);
	KCHECK_EQ(t, sys_close(fd), 0);
	KCHECK_EQ(t, sys_unlink(L("/tmp/t7")), 0);
}

KTEST(vfs_dev_files)
{
	unsigned char buf[256];
	long fd;
	int nonzero = 0;

	fd = xopen("/dev/null", O_RDWR);
	KCHECK_EQ(t, sys_write(fd, L("x"), 1), 1);
	KCHECK_EQ(t, sys_read(fd, L(buf), sizeof(buf)), 0);
	sys_close(fd);
	fd = xopen("/dev/zero", O_RDONLY);
	memset(buf, 1, sizeof(buf));
	KCHECK_EQ(t, sys_read(fd, L(buf), sizeof(buf)), sizeof(buf));
	KCHECK(t, buf[0] == 0 && buf[255] == 0);
	KCHECK_EQ(t, sys_read(fd, BAD, 10), -EFAULT);
	sys_close(fd);
	fd = xopen("/dev/full", O_WRONLY);
	KCHECK_EQ(t, sys_write(fd, L("x"), 1), -ENOSPC);
	sys_close(fd);
	fd = xopen("/dev/urandom", O_RDONLY);
	KCHECK_EQ(t, sys_read(fd, L(buf), sizeof(buf)), sizeof(buf));
	for (unsigned int i = 0; i < sizeof(buf); i++)
		nonzero += buf[i] != 0;
	KCHECK(t, nonzero > 200);
	sys_close(fd);
	struct stat st;
	KCHECK_EQ(t, sys_stat(L("/dev/random"), L(&st)), 0);
	KCHECK(t, S_ISCHR(st.st_mode) && st.st_rdev == ((1 << 8) | 8));
	fd = xopen("/dev/console", O_WRONLY);
	KCHECK(t, fd >= 0);
	KCHECK_EQ(t, sys_write(fd, L("# /dev/console works\n"), 21), 21);
	sys_close(fd);
}

KTEST(vfs_proc_files)
{
	char *buf = malloc(16384);
	char line[32];
	long n;

	KCHECK(t, buf != NULL);
	if (!buf)
		return;
	n = read_path("/proc/meminfo", buf, 16384);
	KCHECK(t, n > 100);
	KCHECK(t, strncmp(buf, "MemTotal:", 9) == 0);
	KCHECK(t, strstr_simple(buf, "\nMemFree:") && strstr_simple(buf, "\nMemAvailable:"));
	KCHECK(t, strstr_simple(buf, "\nHugepagesize:       2048 kB\n"));
	n = read_path("/proc/cpuinfo", buf, 16384);
	KCHECK(t, strncmp(buf, "processor\t: 0\n", 14) == 0);
	ksnprintf(line, sizeof(line), "processor\t: %u\n", ncpus_online - 1);
	KCHECK(t, strstr_simple(buf, line) != NULL);
	KCHECK(t, strstr_simple(buf, "cpu MHz") && strstr_simple(buf, "model name"));
	n = read_path("/sys/devices/system/cpu/online", buf, 64);
	ksnprintf(line, sizeof(line), ncpus_online > 1 ? "0-%u\n" : "0\n", ncpus_online - 1);
	KCHECK(t, strcmp(buf, line) == 0);
	KCHECK_EQ(t, xopen("/proc/meminfo", O_WRONLY), -EACCES);
	KCHECK_EQ(t, xopen("/proc/nonexistent", O_RDONLY), -ENOENT);
	free(buf);
}

KTEST(vfs_large_sparse_file)
{
	static char chunk[65536];
	struct mm_stats before, after;
	struct stat st;
	long fd = xopen("/tmp/t8", O_CREAT | O_RDWR);
	const long mib = 1 << 20;

	mm_stats(&before);
	for (unsigned int i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)(i * 7);
	for (long off = 0; off < 4 * mib; off += sizeof(chunk))
		KCHECK_EQ(t, sys_pwrite64(fd, L(chunk), sizeof(chunk), off), sizeof(chunk));
	KCHECK_EQ(t, sys_pwrite64(fd, L("end"), 3, 40L * 1024 * mib), 3);   /* 40 GiB: a hole */
	KCHECK_EQ(t, sys_fstat(fd, L(&st)), 0);
	KCHECK_EQ(t, st.st_size, 40L * 1024 * mib + 3);
	KCHECK(t, st.st_blocks <= (4 * mib + 3 * 4096) / 512 + 8);
	memset(chunk, 1, sizeof(chunk));
	KCHECK_EQ(t, sys_pread64(fd, L(chunk), sizeof(chunk), 20L * 1024 * mib), sizeof(chunk));
	KCHECK(t, chunk[0] == 0 && chunk[65535] == 0);
	KCHECK_EQ(t, sys_pread64(fd, L(chunk), sizeof(chunk), 3 * mib + 100), sizeof(chunk));
	KCHECK_EQ(t, chunk[0], (char)((3 * mib + 100) % 65536 * 7));
	KCHECK_EQ(t, sys_ftruncate(fd, 1000), 0);
	KCHECK_EQ(t, sys_ftruncate(fd, 8192), 0);        /* the tail reads as zeros */
	KCHECK_EQ(t, sys_pread64(fd, L(chunk), 8192, 0), 8192);
	KCHECK(t, chunk[999] == (char)(999 * 7) && chunk[1000] == 0 && chunk[8191] == 0);
	KCHECK_EQ(t, sys_truncate(L("/tmp/t8"), 0), 0);
	KCHECK_EQ(t, sys_fstat(fd, L(&st)), 0);
	KCHECK_EQ(t, st.st_blocks, 0);
	sys_close(fd);
	KCHECK_EQ(t, sys_unlink(L("/tmp/t8")), 0);
	synchronize_rcu();
	mm_stats(&after);
	KCHECK_EQ(t, after.used_bytes, before.used_bytes);
}

KTEST(vfs_writev_readv)
{
	char a[4], b[8];
	struct iovec w[2] = { { "abcd", 4 }, { "efghijkl", 8 } };
	struct iovec r[2] = { { a, 4 }, { b, 8 } };
	long fd = xopen("/tmp/t9", O_CREAT | O_RDWR);

	KCHECK_EQ(t, sys_writev(fd, L(w), 2), 12);
	KCHECK_EQ(t, sys_lseek(fd, 0, SEEK_SET), 0);
	KCHECK_EQ(t, sys_readv(fd, L(r), 2), 12);
	KCHECK(t, memcmp(a, "abcd", 4) == 0 && memcmp(b, "efghijkl", 8) == 0);
	KCHECK_EQ(t, sys_writev(fd, L(w), -1), -EINVAL);
	sys_close(fd);
	KCHECK_EQ(t, sys_unlink(L("/tmp/t9")), 0);
}

/* --- concurrency --- */

struct worker {
	int id;
	const char *dir;
	int errors;
};

static void worker_fn(void *arg)
{
	struct worker *w = arg;
	char path[64], buf[32], want[32];

	for (int i = 0; i < 100; i++) {
		ksnprintf(path, sizeof(path), "%s/f%d_%d", w->dir, w->id, i);
		ksnprintf(want, sizeof(want), "worker %d file %d", w->id, i);
		if (put_file(path, want) != (long)strlen(want))
			w->errors++;
		if (read_path(path, buf, sizeof(buf)) != (long)strlen(want) || strcmp(buf, want))
			w->errors++;
		if (i % 2 && sys_unlink(L(path)) != 0)
			w->errors++;
	}
	for (int i = 0; i < 100; i += 2) {
		ksnprintf(path, sizeof(path), "%s/f%d_%d", w->dir, w->id, i);
		if (sys_unlink(L(path)) != 0)
			w->errors++;
	}
}

static void run_workers(struct ktest_ctx *t, const char *dirs[4])
{
	struct worker w[4];
	struct thread *th[4];

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ i, dirs[i], 0 };
		th[i] = thread_create(worker_fn, &w[i], &THREAD_ATTR(.name = "vfs-worker"));
		KCHECK(t, !IS_ERR(th[i]));
	}
	for (int i = 0; i < 4; i++) {
		if (!IS_ERR(th[i]))
			thread_join(th[i]);
		KCHECK_EQ(t, w[i].errors, 0);
	}
}

KTEST(vfs_threads_one_directory)
{
	const char *dirs[4] = { "/tmp/c1", "/tmp/c1", "/tmp/c1", "/tmp/c1" };

	KCHECK_EQ(t, sys_mkdir(L("/tmp/c1"), 0755), 0);
	run_workers(t, dirs);
	KCHECK_EQ(t, sys_rmdir(L("/tmp/c1")), 0);
}

KTEST(vfs_threads_many_directories)
{
	const char *dirs[4] = { "/tmp/c2", "/tmp/c3", "/tmp/c4", "/tmp/c5" };

	for (int i = 0; i < 4; i++)
		KCHECK_EQ(t, sys_mkdir(L(dirs[i]), 0755), 0);
	run_workers(t, dirs);
	for (int i = 0; i < 4; i++)
		KCHECK_EQ(t, sys_rmdir(L(dirs[i])), 0);
}
