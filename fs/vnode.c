/*
 * fs/vnode.c - vnodes: reference counts, attributes, the mount table, the
 * files opened on vnodes, and the process-wide root, current directory and
 * umask (one application per VM: one of each).
 *
 * A regular file's read and write lock the vnode and call its filesystem;
 * the caller (libc/sys_file.c) owns the position.  A directory file reads
 * as -EISDIR; getdents64 walks it with f->pos as the filesystem's cookie.
 * The current directory is read without a lock: a pointer published with
 * release, taken with vnode_tryget under rcu_read_lock (vnodes are freed a
 * grace period after their last reference).
 */
#include "fs/vfs_impl.h"
#include "core/arch.h"
#include "core/mm.h"
#include "libc/syscall.h"

#define MOUNT_MAX 8

static struct mount mounts[MOUNT_MAX];
static unsigned int nmounts;
static struct vnode *cwd;                       /* a reference; published with release */
static struct mutex cwd_lock = MUTEX_INIT;      /* serializes changes of cwd */
static unsigned int umask_bits = 022;           /* atomic */
static bool tree_made;                          /* atomic: set with release once made */
static struct mutex tree_lock = MUTEX_INIT;     /* whoever makes it holds this */

void vnode_init(struct vnode *v, struct mount *m, const struct vnode_ops *ops,
		unsigned int mode)
{
	v->ops = ops;
	v->mount = m;
	v->refs = 1;
	v->ino = __atomic_fetch_add(&m->next_ino, 1, __ATOMIC_RELAXED);
	mutex_init(&v->lock, false);
	v->mode = mode;
	v->nlink = 1;
	v->atime = v->mtime = v->ctime = vnode_now();
}

void vnode_get(struct vnode *v)
{
	__atomic_fetch_add(&v->refs, 1, __ATOMIC_RELAXED);
}

bool vnode_tryget(struct vnode *v)
{
	unsigned int r = __atomic_load_n(&v->refs, __ATOMIC_RELAXED);

	do {
		if (r == 0)
			return false;
	} while (!__atomic_compare_exchange_n(&v->refs, &r, r + 1, true, __ATOMIC_ACQUIRE,
					      __ATOMIC_RELAXED));
	return true;
}

void vnode_put(struct vnode *v)
{
	if (__atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	ASSERT(v->ops->evict);
	v->ops->evict(v);
}

/* For evict: frees the memory holding v (fn's argument is &v->rcu) once no
 * lock-free reader can still hold a pointer to it. */
void vnode_free_rcu(struct vnode *v, void (*fn)(struct rcu_head *h))
{
	call_rcu(&v->rcu, fn);
}

uint64_t vnode_now(void)
{
	return arch_clock_ns();
}

void vnode_touch(struct vnode *v, bool modified)
{
	uint64_t now = vnode_now();

	if (modified)
		v->mtime = v->ctime = now;
	else
		v->atime = now;
}

bool vnode_is_dir(const struct vnode *v)
{
	return S_ISDIR(v->mode);
}

bool vnode_is_link(const struct vnode *v)
{
	return S_ISLNK(v->mode);
}

static void ns_to_stat(uint64_t ns, unsigned long *sec, unsigned long *nsec)
{
	*sec = ns / 1000000000;
	*nsec = ns % 1000000000;
}

void vnode_stat(struct vnode *v, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = v->mount->dev;
	st->st_ino = v->ino;
	st->st_blksize = 4096;
	WITH_LOCK(&v->lock) {
		st->st_mode = v->mode;
		st->st_nlink = v->nlink;
		st->st_rdev = v->rdev;
		st->st_size = (long)v->size;
		st->st_blocks = (long)v->blocks;
		ns_to_stat(v->atime, &st->st_atime, &st->st_atime_nsec);
		ns_to_stat(v->mtime, &st->st_mtime, &st->st_mtime_nsec);
		ns_to_stat(v->ctime, &st->st_ctime, &st->st_ctime_nsec);
	}
}

/* Mounts root on the directory on (NULL: as /). */
struct mount *mount_add(struct vnode *root, struct vnode *on)
{
	struct mount *m = root->mount;

	m->root = root;
	m->covered = on;
	if (on)
		__atomic_store_n(&on->mounted, m, __ATOMIC_RELEASE);
	return m;
}

/* A filesystem's mount record, before its root exists. */
struct mount *mount_new(void)
{
	struct mount *m;

	if (nmounts == MOUNT_MAX)
		panic("vfs: more than %d mounts", MOUNT_MAX);
	m = &mounts[nmounts++];
	m->dev = nmounts;
	m->next_ino = 1;
	mutex_init(&m->rename_lock, false);
	return m;
}

/* --- files on vnodes --- */

static long vnode_file_read(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	struct vnode *v = f->vnode;
	long r;

	if (!v->ops->read)
		return -EINVAL;
	WITH_LOCK(&v->lock) {
		r = v->ops->read(v, ubuf, n, *pos);
		if (r >= 0)
			vnode_touch(v, false);
	}
	if (r > 0)
		*pos += (uint64_t)r;
	return r;
}

static long vnode_file_write(struct file *f, const void *ubuf, size_t n, uint64_t *pos)
{
	struct vnode *v = f->vnode;
	long r;

	if (!v->ops->write)
		return -EINVAL;
	WITH_LOCK(&v->lock) {
		if (f->flags & O_APPEND)
			*pos = v->size;
		r = v->ops->write(v, ubuf, n, *pos);
		if (r > 0)
			vnode_touch(v, true);
	}
	if (r > 0)
		*pos += (uint64_t)r;
	return r;
}

static long vnode_dir_read(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	(void)f, (void)ubuf, (void)n, (void)pos;
	return -EISDIR;
}

void vnode_file_release(struct file *f)
{
	vnode_put(f->vnode);
}

const struct file_ops vnode_file_ops = {
	.read = vnode_file_read,
	.write = vnode_file_write,
	.release = vnode_file_release,
};

const struct file_ops vnode_dir_ops = {
	.read = vnode_dir_read,
	.release = vnode_file_release,
};

/* The file gets its operations (and their release) once open succeeded. */
static const struct file_ops opening_ops;

struct file *vnode_open_file(struct vnode *v, unsigned int flags)
{
	struct file *f = file_alloc(&opening_ops, flags, NULL);
	int err;

	if (IS_ERR(f))
		return f;
	f->vnode = v;
	err = v->ops->open ? v->ops->open(v, f) : 0;
	if (err) {
		file_put(f);
		return ERR_PTR(err);
	}
	f->ops = v->fops;
	return f;
}

/* getdents64: records into the application's buffer, as many as fit. */
struct dents {
	struct dir_ctx ctx;
	char *ubuf;
	size_t size, used;
	uint64_t *pos;
	int err;
};

static bool dents_emit(struct dir_ctx *ctx, const char *name, size_t len, uint64_t ino,
		       unsigned int type, uint64_t next_cookie)
{
	struct dents *d = container_of(ctx, struct dents, ctx);
	size_t reclen = ALIGN_UP(offsetof(struct linux_dirent64, d_name) + len + 1, 8);
	char rec[ALIGN_UP(sizeof(struct linux_dirent64) + NAME_MAX_LEN + 1, 8)] = { 0 };
	struct linux_dirent64 *de = (struct linux_dirent64 *)rec;

	if (d->used + reclen > d->size) {
		if (d->used == 0)
			d->err = -EINVAL;
		return false;
	}
	de->d_ino = ino;
	de->d_off = (int64_t)next_cookie;
	de->d_reclen = (unsigned short)reclen;
	de->d_type = (unsigned char)type;
	memcpy(de->d_name, name, len);
	if (copy_to_user(d->ubuf + d->used, rec, reclen)) {
		d->err = -EFAULT;
		return false;
	}
	d->used += reclen;
	*d->pos = next_cookie;
	return true;
}

long vfs_getdents(struct file *f, void *ubuf, size_t n)
{
	struct vnode *v = f->vnode;
	struct dents d = { { dents_emit }, ubuf, n, 0, NULL, 0 };
	int err = 0;

	if (!v || !vnode_is_dir(v) || !v->ops->readdir)
		return -ENOTDIR;
	WITH_LOCK(&f->pos_lock) {
		d.pos = &f->pos;
		WITH_LOCK(&v->lock) {
			err = v->ops->readdir(v, f->pos, &d.ctx);
			vnode_touch(v, false);
		}
	}
	if (err)
		return err;
	return d.used ? (long)d.used : d.err;
}

/* --- root, current directory, umask --- */

/* The tree is made on first use, once: racers wait for the maker, and
 * the release/acquire pair shows them all of it. */
static void tree_ready(void)
{
	if (__atomic_load_n(&tree_made, __ATOMIC_ACQUIRE))
		return;
	WITH_LOCK(&tree_lock) {
		if (!tree_made) {
			vfs_tree_build();
			__atomic_store_n(&tree_made, true, __ATOMIC_RELEASE);
		}
	}
}

struct vnode *vfs_root(void)
{
	tree_ready();
	return mounts[0].root;
}

struct vnode *vfs_cwd_get(void)
{
	struct vnode *v;

	tree_ready();
	rcu_read_lock();
	do
		v = __atomic_load_n(&cwd, __ATOMIC_ACQUIRE);
	while (!vnode_tryget(v));
	rcu_read_unlock();
	return v;
}

void vfs_cwd_set(struct vnode *dir)
{
	struct vnode *old;

	WITH_LOCK(&cwd_lock) {
		old = cwd;
		__atomic_store_n(&cwd, dir, __ATOMIC_RELEASE);
	}
	if (old)
		vnode_put(old);
}

unsigned int vfs_umask(void)
{
	return __atomic_load_n(&umask_bits, __ATOMIC_RELAXED);
}

unsigned int vfs_umask_set(unsigned int mask)
{
	return __atomic_exchange_n(&umask_bits, mask & 0777, __ATOMIC_RELAXED);
}

/* --- shared file mappings (fs/fs.h) --- */

struct vnode *vfs_map_get(struct file *f)
{
	struct vnode *v = f->vnode;

	if (!v || !S_ISREG(v->mode) || !v->ops->map_page)
		return ERR_PTR(-ENODEV);
	if ((f->flags & O_ACCMODE) == O_WRONLY)
		return ERR_PTR(-EACCES);
	vfs_map_hold(v);
	return v;
}

void vfs_map_hold(struct vnode *v)
{
	vnode_get(v);
	__atomic_fetch_add(&v->maps, 1, __ATOMIC_ACQ_REL);
}

void vfs_map_put(struct vnode *v)
{
	__atomic_fetch_sub(&v->maps, 1, __ATOMIC_ACQ_REL);
	vnode_put(v);
}

int vfs_map_page(struct vnode *v, uint64_t index, uint64_t *pa)
{
	return v->ops->map_page(v, index, pa);
}
