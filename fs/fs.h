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
 *   -EISDIR, -ELOOP, -ENAMETOOLONG, ...).
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
int fd_set_cloexec(int fd, bool on);
int fd_limit(void);                            /* RLIMIT_NOFILE soft limit */
int fd_set_limit(int limit);
void fd_init(void);                            /* 0, 1, 2 = console */

/* --- readiness (fs/poll.c) --- */

void poll_head_init(struct poll_head *h);
void poll_add(struct poll_head *h, struct poll_waiter *w);
void poll_remove(struct poll_waiter *w);       /* no-op if not registered */
void poll_wake(struct poll_head *h, unsigned int events);

/* --- paths (fs/vfs.c) --- */

struct file *vfs_open(const char *path, int flags, unsigned int mode);  /* or ERR_PTR */
int vfs_mkdir(const char *path, unsigned int mode);
int vfs_symlink(const char *target, const char *path);
int vfs_unlink(const char *path);
long vfs_write_all(struct file *f, const void *buf, size_t n);          /* kernel buffer */

void vfs_init(void);                           /* root ramfs, /dev, /proc, /tmp */

#endif
