/*
 * fs/vfs_impl.h - the inside of the virtual filesystem: vnodes, mounts, the
 * path walker, and what a filesystem (ramfs, devfs, procfs) implements.
 * Private to fs/.
 *
 * Vnodes.  One per file, directory, symbolic link or device of a mounted
 * filesystem, with its own lock (v->lock) guarding its attributes and
 * contents: there is no global filesystem lock.  Directories are their
 * own name cache: lookup asks the directory's filesystem with only that
 * directory locked.  Locks are taken parent before child; a rename takes
 * its filesystem's rename_lock first, then the two directories (an
 * ancestor before its descendant, else by address).
 *
 * Lifetimes.  v->refs counts references: each directory entry naming the
 * vnode holds one (so nlink links hold nlink), as do open files, the
 * current directory, a directory's children (through their parent
 * pointer) and walks under way.  The last vnode_put evicts it: the
 * filesystem frees its contents, and the vnode itself a grace period
 * later, so pointers read under rcu_read_lock (the current directory, a
 * parent) may be taken with vnode_tryget.
 *
 * Mounts are made with the initial tree and never undone: the first path
 * operation makes the tree (vfs_root, vfs_cwd_get), so the table is
 * written before any walk and read without a lock.
 */
#ifndef FS_VFS_IMPL_H
#define FS_VFS_IMPL_H

#include "fs/fs.h"
#include "fs/fs_impl.h"
#include "libc/abi.h"                   /* before core/kernel.h: its __unused */
#include "fs/path.h"
#include "core/kernel.h"

struct vnode;
struct mount;
struct linux_dirent64;

/* getdents64's cursor: readdir calls emit for each entry from cookie on
 * until it says no; next_cookie resumes after the entry. */
struct dir_ctx {
	bool (*emit)(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
		     unsigned int type, uint64_t next_cookie);
};

/* A filesystem's operations on its vnodes.  NULL: the call does not apply
 * (the VFS answers -EPERM or -EINVAL).  Directory operations run with the
 * directory locked; file operations with the file locked. */
struct vnode_ops {
	struct vnode *(*lookup)(struct vnode *dir, const char *name, size_t len); /* ref, or ERR_PTR */
	/* A new vnode (mode's S_IFMT: file, directory or link with target),
	 * linked as name: returns it with a reference for the caller. */
	struct vnode *(*create)(struct vnode *dir, const char *name, size_t len,
				unsigned int mode, const char *target);
	int (*link)(struct vnode *dir, const char *name, size_t len, struct vnode *v);
	int (*unlink)(struct vnode *dir, const char *name, size_t len, struct vnode *v);
	/* Removes name (naming v) from dir: -ENOTEMPTY for a directory with
	 * entries.  Rename moves v from odir/oname to ndir/nname, replacing
	 * victim (or NULL); the VFS made the other checks and holds both
	 * directories' locks. */
	int (*rename)(struct vnode *odir, const char *oname, size_t olen, struct vnode *v,
		      struct vnode *ndir, const char *nname, size_t nlen, struct vnode *victim);
	int (*readdir)(struct vnode *dir, uint64_t cookie, struct dir_ctx *ctx);
	long (*read)(struct vnode *v, void *ubuf, size_t n, uint64_t off);
	long (*write)(struct vnode *v, const void *ubuf, size_t n, uint64_t off);
	int (*truncate)(struct vnode *v, uint64_t size);
	/* A link that stands for a vnode itself, as Linux's /proc/self/fd/N
	 * do: following it gives that vnode (a reference) instead of walking
	 * its target text, or an ERR_PTR; NULL from it: an ordinary link. */
	struct vnode *(*jump)(struct vnode *link);
	/* Shared mappings (fs/fs.h: vfs_map_page); NULL: not mappable. */
	int (*map_page)(struct vnode *v, uint64_t index, uint64_t *pa);
	/* Prepares a new file on v (f->vnode is set, v not locked): takes the
	 * reference the file keeps, or fills f->priv. */
	int (*open)(struct vnode *v, struct file *f);
	void (*evict)(struct vnode *v);         /* the last reference went */
};

struct vnode {
	const struct vnode_ops *ops;
	const struct file_ops *fops;            /* what open(2) gives */
	struct mount *mount;                    /* the filesystem it belongs to */
	struct mount *mounted;                  /* a filesystem mounted on it; set with the tree */
	unsigned int refs;                      /* atomic */
	unsigned int maps;                      /* atomic: shared mappings' references */
	uint64_t ino;                           /* constant */
	const char *target;                     /* symbolic links: constant */
	struct mutex lock;
	/* v->lock must be held for these: */
	unsigned int mode;                      /* S_IFMT | permissions */
	unsigned int nlink;
	unsigned int rdev;
	uint64_t size;
	uint64_t blocks;                        /* 512-byte units allocated */
	uint64_t atime, mtime, ctime;           /* ns on arch_clock_ns */
	/* Directories and ramfs regular files: where they sit (the name a file
	 * was created or last renamed with), for "..", getcwd and /proc/self/fd;
	 * a reference on the parent (synthfs links: none, their directory lives
	 * forever).  Changed only by rename, under mount->rename_lock. */
	struct vnode *parent;
	char *name;
	struct rcu_head rcu;
};

struct mount {
	struct vnode *root;
	struct vnode *covered;                  /* the mount point; NULL for / */
	unsigned int dev;
	uint64_t next_ino;                      /* atomic */
	struct mutex rename_lock;               /* renames, and getcwd's walk up */
};

/* --- vnodes (fs/vnode.c) --- */

void vnode_init(struct vnode *v, struct mount *m, const struct vnode_ops *ops,
		unsigned int mode);
void vnode_get(struct vnode *v);
bool vnode_tryget(struct vnode *v);
void vnode_put(struct vnode *v);
void vnode_free_rcu(struct vnode *v, void (*fn)(struct rcu_head *h));
uint64_t vnode_now(void);
void vnode_touch(struct vnode *v, bool modified);   /* v locked: mtime/ctime, or atime */
bool vnode_is_dir(const struct vnode *v);
bool vnode_is_link(const struct vnode *v);
void vnode_stat(struct vnode *v, struct stat *st);
struct mount *mount_new(void);                  /* vfs_tree_build only */
struct mount *mount_add(struct vnode *root, struct vnode *on);

/* Files on vnodes: regular files through ops->read/write, directories. */
extern const struct file_ops vnode_file_ops, vnode_dir_ops;
void vnode_file_release(struct file *f);
struct file *vnode_open_file(struct vnode *v, unsigned int flags);   /* or ERR_PTR */

/* --- the process-wide state: root, current directory, umask --- */

/* The first call of either makes the tree (vfs_tree_build). */
struct vnode *vfs_root(void);                   /* no reference: the root lives forever */
struct vnode *vfs_cwd_get(void);                /* a reference */
void vfs_cwd_set(struct vnode *dir);            /* takes over the caller's reference */
unsigned int vfs_umask(void);

/* --- walking paths (fs/namei.c) --- */

struct walk {
	struct vnode *dir;                      /* a reference */
	const char *p;                          /* in buf: what is left to resolve */
	const char *name;                       /* walk_parent: the last component */
	size_t len;
	enum path_kind kind;                    /* of name; len 0: the path had none */
	bool trailing;                          /* name was followed by a slash */
	int links;                              /* symbolic links followed */
	char buf[PATH_MAX_LEN + 1];
};

/* A walk of path from dirfd (AT_FDCWD: the current directory), started;
 * allocated (walk_free it) unless NULL (with *err set). */
struct walk *walk_at(int dirfd, const char *path, int *err);
void walk_free(struct walk *w);
/* Starts a walk of path from dir (a reference the walk takes over; NULL:
 * the current directory); an absolute path starts at the root. */
int walk_start(struct walk *w, struct vnode *dir, const char *path);
void walk_end(struct walk *w);
/* Resolves all but the last component, leaving its parent in w->dir. */
int walk_parent(struct walk *w);
/* The last component, in w->dir (unlocked): a new reference, or ERR_PTR. */
struct vnode *walk_last(struct walk *w);
/* Continues the walk through the symbolic link v, found as the last component. */
int walk_follow(struct walk *w, struct vnode *v);
struct vnode *walk_jump(struct vnode *link);    /* ops->jump: a reference, NULL, or ERR_PTR */
/* The whole path: walk_parent, then walk_last following links if follow. */
struct vnode *walk_full(struct walk *w, bool follow);
/* A directory's parent, across mount points; a reference, or ERR_PTR. */
struct vnode *vnode_parent(struct vnode *dir);
/* The vnode dir/name, dir locked: a reference (mounts not crossed), or ERR_PTR. */
struct vnode *dir_lookup(struct vnode *dir, const char *name, size_t len);

/* --- fs/vfs.c --- */

struct vnode *vfs_lookup_at(int dirfd, const char *path, bool follow);
int vfs_truncate_vnode(struct vnode *v, uint64_t size);
void vfs_tree_build(void);                      /* once, for fs/vnode.c */

/* --- the filesystems --- */

/* A fixed tree (fs/synthfs.c): parents before children in the table. */
struct synth_entry {
	const char *path;                       /* "devices/system/cpu/online" */
	unsigned int mode;                      /* S_IFMT | permissions */
	const struct file_ops *fops;            /* devices */
	/* Generated files, and links whose target is made when looked up
	 * (target NULL): ksnprintf's contract. */
	size_t (*gen)(char *buf, size_t size);
	unsigned int rdev;                      /* devices */
	const char *target;                     /* symbolic links */
	const struct synth_dir *dir;            /* directories whose entries change */
};

/* A directory of numbered symbolic links made when looked at
 * (/proc/self/fd): next(n) is the first entry >= n, negative when none;
 * link(n) writes entry n's target, ksnprintf's contract, 0 when there is
 * no entry n.  Both are called with the directory locked. */
struct synth_dir {
	int (*next)(int n);
	size_t (*link)(int n, char *buf, size_t size);
	struct vnode *(*open)(int n);   /* optional: what following entry n gives (jump) */
};

struct mount *synth_mount(struct vnode *on, const struct synth_entry *table, size_t n);

struct mount *ramfs_mount(struct vnode *on);
uint64_t ramfs_pages(void);                    /* data pages of every ramfs */
struct mount *devfs_mount(struct vnode *on);
struct mount *procfs_mount(struct vnode *on);   /* /proc */
struct mount *sysfs_mount(struct vnode *on);    /* /sys: devices/system/cpu */

#endif
