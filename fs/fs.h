/*
 * fs/fs.h - the virtual filesystem: open files, the descriptor table,
 * readiness, and the path-based operations the kernel itself uses.
 *
 * Interface:
 *   Open files.  A struct file is one open file description (what dup()
 *   shares): its operations, status flags (O_NONBLOCK, O_APPEND, the access
 *   mode), position, and the vnode it reads (NULL for pipes, eventfds,
 *   epoll instances and sockets, which carry their state in priv).  Files
 *   are reference counted: file_alloc() returns one reference, file_get()
 *   adds one, file_put() drops one and calls ops->release at the last.
 *
 *   The descriptor table.  One per VM: one application per VM is the
 *   design.  fd_install() puts a file at the lowest free descriptor >= min
 *   and takes over the caller's reference; fd_get() returns a new reference
 *   (file_put it when done) or NULL (the caller returns -EBADF), so a file
 *   stays alive while in use even if another thread closes its descriptor.
 *   Descriptors 0, 1 and 2 start as the console.
 *
 *   File operations take application buffers (copy with copy_to_user /
 *   copy_from_user from libc/syscall.h) and return a count or a negative
 *   errno.  read/write get the position to use and advance it (*pos); the
 *   caller owns the position: f->pos under f->pos_lock for read(2), the
 *   given offset for pread(2).  A NULL operation means the call does not
 *   apply: -EINVAL (or -ESPIPE for seeking, -ENOTTY for ioctl).  Blocking
 *   operations honour O_NONBLOCK (-EAGAIN) and sleep otherwise.
 *
 *   Readiness.  ops->poll(f) returns the file's current events (EPOLLIN,
 *   EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP as in <linux/eventpoll.h>).
 *   A file whose readiness changes has a struct poll_head (f->poll); it
 *   calls poll_wake(head, events) whenever events may have become true.
 *   poll(2), select(2) and epoll register a struct poll_waiter on it; its
 *   fn runs from poll_wake (thread context, the head's lock held: it must
 *   not block or re-enter the head; it typically wakes a thread).  Files
 *   without a head are always ready for what poll returns.
 *
 *   Paths.  vfs_open/vfs_mkdir/vfs_symlink/vfs_unlink take kernel strings
 *   relative to the root (or to a directory file); they are what the
 *   syscalls use after copying the path in, and what the initramfs
 *   unpacker uses at boot.  Errors are Linux's (-ENOENT, -EEXIST, -ENOTDIR,
 *   -EISDIR, -ELOOP, -ENAMETOOLONG, ...).  The tree (the root ramfs, /dev,
 *   /proc, /sys, /tmp) is made by the first path operation, and /dev's,
 *   /proc's and /sys's contents when first looked into: nothing to set up
 *   at boot.
 *
 * Context: thread context; files and the table may be used from any CPU.
 */
#ifndef FS_FS_H
#define FS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"

struct file;
struct vnode;
struct stat;
struct poll_waiter;

struct file_ops {
	long (*read)(struct file *f, void *ubuf, size_t n, uint64_t *pos);
	long (*write)(struct file *f, const void *ubuf, size_t n, uint64_t *pos);
	long (*ioctl)(struct file *f, unsigned int cmd, unsigned long arg);
	unsigned int (*poll)(struct file *f);
	void (*release)(struct file *f);        /* the last reference went */
	/* A file with no vnode: what /proc/self/fd/N names it by, as Linux
	 * does ("/dev/console", "anon_inode:[eventfd]"; "pipe" becomes
	 * "pipe:[N]"). */
	const char *name;
};

struct poll_head {
	struct mutex lock;
	struct poll_waiter *first;
};

#define POLL_HEAD_INIT { MUTEX_INIT, NULL }

struct poll_waiter {
	struct poll_waiter *next, *prev;        /* on the head, under its lock */
	struct poll_head *head;                 /* NULL: not registered */
	void (*fn)(struct poll_waiter *w, unsigned int events);
	void *priv;
};

struct file {
	const struct file_ops *ops;
	unsigned int refs;                      /* atomic */
	unsigned int flags;                     /* O_ACCMODE | O_NONBLOCK | O_APPEND ... */
	struct mutex pos_lock;
	uint64_t pos;
	struct vnode *vnode;                    /* NULL: not a filesystem object */
	struct poll_head *poll;                 /* NULL: readiness never changes */
	void *priv;
	struct rcu_head rcu;                    /* freed a grace period after release */
};

/* --- open files (fs/file.c) --- */

struct file *file_alloc(const struct file_ops *ops, unsigned int flags, void *priv);
void file_get(struct file *f);
void file_put(struct file *f);
unsigned int file_poll(struct file *f);        /* ops->poll, or IN|OUT when NULL */

/* --- the descriptor table (fs/fd.c) --- */

#define FD_MAX 65536                            /* RLIMIT_NOFILE's hard limit */

int fd_install(struct file *f, int min, bool cloexec);   /* fd, or -EMFILE */
int fd_install_at(struct file *f, int fd, bool cloexec); /* dup2: closes what was there */
struct file *fd_get(int fd);                   /* new reference, or NULL */
int fd_close(int fd);                          /* 0 or -EBADF */
int fd_get_cloexec(int fd);                    /* 0/1, or -EBADF */
int fd_next(int min);                          /* lowest open fd >= min, or -EBADF */
int fd_set_cloexec(int fd, bool on);
int fd_limit(void);                            /* RLIMIT_NOFILE soft limit */
int fd_set_limit(int limit);

/* --- readiness (fs/poll.c) --- */

void poll_head_init(struct poll_head *h);
void poll_add(struct poll_head *h, struct poll_waiter *w);
void poll_remove(struct poll_waiter *w);       /* no-op if not registered */
void poll_wake(struct poll_head *h, unsigned int events);

/* A thread waiting on several heads at once (poll, select, epoll_wait):
 * poll_sleeper_add() registers w on h for it (poll_remove(w) when done);
 * poll_sleeper_wait() sleeps until one of them wakes since the last wait
 * (never lost) or the deadline passes: arch_clock_ns() time, 0 = none, a
 * past one = no sleep at all; false when the deadline passed. */
struct poll_sleeper {
	struct thread *thread;
	unsigned int woken;                     /* atomic */
};

void poll_sleeper_init(struct poll_sleeper *s);
void poll_sleeper_add(struct poll_sleeper *s, struct poll_waiter *w, struct poll_head *h);
bool poll_sleeper_wait(struct poll_sleeper *s, uint64_t deadline_ns);

/* --- pipes, eventfds, epoll (fs/pipe.c, fs/eventfd.c, fs/epoll.c) --- */

struct epoll_event;

int pipe_files_create(struct file *ends[2], unsigned int flags);    /* [0] reads; O_NONBLOCK */
struct file *eventfd_file_create(uint64_t count, unsigned int flags);   /* EFD_*, or ERR_PTR */
struct file *epoll_file_create(void);                              /* or ERR_PTR */
/* epoll_ctl(2) on ep for (fd, f); ev is a kernel copy, NULL for DEL.
 * Both take any file as ep: -EINVAL if it is not an epoll instance. */
int epoll_file_ctl(struct file *ep, int op, int fd, struct file *f, const struct epoll_event *ev);
/* timerfd (fs/timerfd.c): times are absolute monotonic ns; 0 disarms. */
struct file *timerfd_file_create(int clock, unsigned int flags);       /* O_NONBLOCK */
int timerfd_file_set(struct file *f, uint64_t expiry, uint64_t interval,
		     uint64_t *old_expiry, uint64_t *old_interval);     /* -EINVAL: not one */
int timerfd_file_get(struct file *f, uint64_t *expiry, uint64_t *interval, int *clock);
/* epoll_wait(2) into application memory, until the deadline (as above). */
long epoll_file_wait(struct file *ep, struct epoll_event *uevents, int max, uint64_t deadline_ns);

/* --- paths (fs/vfs.c) --- */

struct file *vfs_open(const char *path, int flags, unsigned int mode);  /* or ERR_PTR */
int vfs_mkdir(const char *path, unsigned int mode);
int vfs_symlink(const char *target, const char *path);
int vfs_unlink(const char *path);
long vfs_write_all(struct file *f, const void *buf, size_t n);          /* kernel buffer */
long vfs_read_kernel(struct file *f, void *buf, size_t n, uint64_t off); /* pread, kernel buffer */

/* For the system calls (libc/sys_file.c, libc/sys_dir.c): paths and
 * buffers already in the kernel; dirfd as in the *at() calls (AT_FDCWD);
 * at_flags AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH; Linux's errors. */
char *vfs_path_from_user(const char *upath);    /* a new kernel copy (free it), or ERR_PTR */
struct file *vfs_openat(int dirfd, const char *path, int flags, unsigned int mode);
/* mode: S_IFDIR, S_IFREG or S_IFLNK (with target) | permissions (umask applied) */
int vfs_mknodat(int dirfd, const char *path, unsigned int mode, const char *target);
int vfs_unlinkat(int dirfd, const char *path, bool rmdir);
int vfs_renameat(int odirfd, const char *opath, int ndirfd, const char *npath,
		 unsigned int flags);
int vfs_linkat(int odirfd, const char *opath, int ndirfd, const char *npath, bool follow);
long vfs_readlinkat(int dirfd, const char *path, char *buf, size_t size);
int vfs_statat(int dirfd, const char *path, int at_flags, struct stat *st);
int vfs_fstat(struct file *f, struct stat *st);
int vfs_accessat(int dirfd, const char *path, int mode, int at_flags);
int vfs_chmodat(int dirfd, const char *path, unsigned int mode, int at_flags);
int vfs_truncate_at(int dirfd, const char *path, int64_t len);
int vfs_ftruncate(struct file *f, int64_t len);
int vfs_chdir_at(int dirfd, const char *path);  /* "" with a dirfd: fchdir */
long vfs_getcwd(char *buf, size_t size);         /* length with the NUL */
unsigned int vfs_umask_set(unsigned int mask);  /* returns the old one */
int64_t vfs_lseek(struct file *f, int64_t off, int whence);
long vfs_getdents(struct file *f, void *ubuf, size_t n);

/* --- shared file mappings (fs/vnode.c), for the VM layer (core/vm_file.c) --- */

/* f's vnode with a mapping reference, for mmap(MAP_SHARED): ERR_PTR(-ENODEV)
 * if its filesystem cannot map it (only ramfs files can), -EACCES if f is
 * not open for reading. */
struct vnode *vfs_map_get(struct file *f);
void vfs_map_hold(struct vnode *v);             /* one more mapping reference */
void vfs_map_put(struct vnode *v);
/* The frame holding page index of v (made if a hole): 0, -EIO past the end
 * of the file, -ENOMEM.  Called with the VM's lock held; takes only the
 * file's page lock. */
int vfs_map_page(struct vnode *v, uint64_t index, uint64_t *pa);

/* --- the initramfs (fs/initramfs.c) --- */

struct boot_info;
/* Once, at boot: unpacks every boot module (cpio newc), then the archive
 * linked into the image, and frees the modules' memory.  With neither it
 * does nothing (and the tree waits for the application's first path). */
void initramfs_unpack_all(const struct boot_info *bi);

#endif
