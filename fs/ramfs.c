/*
 * fs/ramfs.c - the root filesystem: files, directories and symbolic links
 * in memory.
 *
 * A regular file's data lives in 4 KiB pages from page_alloc_va, found
 * through a three-level radix tree of page-sized tables (512 entries each:
 * files up to 512 GiB).  Pages are allocated when first written, so holes
 * cost nothing and read as zeros; truncation frees the pages past the new
 * end and zeroes the tail of the last one, so a later extension reads
 * zeros there too.  A shared mapping maps these very pages (ramfs_map_page),
 * so truncation first has the VM take down those past the new end.
 *
 * A directory is its own name cache: a hash table of entries for lookup,
 * and the same entries on a list in creation order for getdents64, whose
 * cookie is the entry's sequence number (0 and 1 are "." and "..").
 *
 * Each entry holds a reference on its vnode (fs/vfs_impl.h), so a file's
 * memory goes when its last link and its last open file both have.
 * Directories and regular files keep a name and a parent (a reference):
 * the name they were created or last renamed with, which /proc/self/fd
 * shows (a hard link's other names are not kept).
 * Operations run with the vnode layer's locks held (the directory's, or
 * the file's for data); they lock a child only after its parent.
 */
#include "fs/vfs_impl.h"
#include "core/mm.h"
#include "libc/syscall.h"

#define RADIX_SHIFT   9
#define RADIX_FAN     (1 << RADIX_SHIFT)               /* entries per table */
#define RADIX_LEVELS  3
#define MAX_PAGES     (1ULL << (RADIX_SHIFT * RADIX_LEVELS))
#define MAX_FILE_SIZE (MAX_PAGES * PAGE_SIZE)
#define HASH_MIN      16

struct ramfs_dirent {
	struct ramfs_dirent *hnext;             /* hash chain */
	struct ramfs_dirent *next, *prev;       /* creation order */
	uint64_t cookie;
	struct vnode *v;                        /* a reference */
	size_t len;
	char name[];
};

struct ramfs_node {
	struct vnode v;
	/* Regular files: the radix tree and v.size change under both v.lock and
	 * pages (the page lock; read and write hold v.lock and take pages
	 * around each lookup); ramfs_map_page, called by the VM with its lock
	 * held, takes only pages, so it never waits for a read(2) whose copy
	 * faults (core/vm.c's lock order). */
	struct mutex pages;
	void **radix;                           /* regular files: the top table */
	/* under v.lock: */
	struct ramfs_dirent **hash;             /* directories: */
	unsigned int nbuckets, count;
	struct ramfs_dirent *first, *last;
	uint64_t next_cookie;
};

static const struct vnode_ops ramfs_ops;
static const char zero_page[PAGE_SIZE];
static uint64_t data_pages;                     /* atomic: for /proc/meminfo */

uint64_t ramfs_pages(void)
{
	return __atomic_load_n(&data_pages, __ATOMIC_RELAXED);
}

static struct ramfs_node *node_of(struct vnode *v)
{
	return container_of(v, struct ramfs_node, v);
}

/* --- file data --- */

static void *table_alloc(void)
{
	void *p = page_alloc_va(PAGE_ORDER_4K);

	if (p)
		memset(p, 0, PAGE_SIZE);
	return p;
}

/* The page holding page index idx of the file: NULL for a hole, unless
 * create (then NULL only when memory ran out). */
static char *data_page(struct ramfs_node *n, uint64_t idx, bool create)
{
	void ***slot = (void ***)&n->radix;

	for (int level = RADIX_LEVELS; level >= 0; level--) {
		if (!*slot) {
			if (!create || !(*slot = table_alloc()))
				return NULL;
			if (level == 0) {
				n->v.blocks += PAGE_SIZE / 512;
				__atomic_fetch_add(&data_pages, 1, __ATOMIC_RELAXED);
			}
		}
		if (level == 0)
			break;
		slot = (void ***)&(*slot)[(idx >> (RADIX_SHIFT * (level - 1))) % RADIX_FAN];
	}
	return (char *)*slot;
}

/* Frees every page from index first on below table, a table at level
 * (1: its entries are data pages) whose first entry is page base. */
static void free_from(struct ramfs_node *n, void **table, int level, uint64_t base,
		      uint64_t first)
{
	uint64_t span = 1ULL << (RADIX_SHIFT * (level - 1));

	for (unsigned int i = 0; i < RADIX_FAN; i++) {
		uint64_t start = base + i * span;

		if (!table[i] || start + span <= first)
			continue;
		if (level > 1)
			free_from(n, table[i], level - 1, start, first);
		if (start < first)
			continue;
		if (level == 1) {
			n->v.blocks -= PAGE_SIZE / 512;
			__atomic_fetch_sub(&data_pages, 1, __ATOMIC_RELAXED);
		}
		page_free_va(table[i], PAGE_ORDER_4K);
		table[i] = NULL;
	}
}

static void data_truncate_pages(struct ramfs_node *n, uint64_t first)
{
	if (!n->radix)
		return;
	free_from(n, n->radix, RADIX_LEVELS, 0, first);
	if (first == 0) {
		page_free_va(n->radix, PAGE_ORDER_4K);
		n->radix = NULL;
	}
}

static long ramfs_read(struct vnode *v, void *ubuf, size_t count, uint64_t off)
{
	struct ramfs_node *n = node_of(v);
	size_t done = 0;

	if (off >= v->size)
		return 0;
	count = MIN(count, v->size - off);
	while (done < count) {
		uint64_t pos = off + done;
		size_t in = pos % PAGE_SIZE, len = MIN(count - done, PAGE_SIZE - in);
		const char *page;

		WITH_LOCK(&n->pages)
			page = data_page(n, pos / PAGE_SIZE, false);
		if (copy_to_user((char *)ubuf + done, (page ? page : zero_page) + in, len))
			return done ? (long)done : -EFAULT;
		done += len;
	}
	return (long)done;
}

static long ramfs_write(struct vnode *v, const void *ubuf, size_t count, uint64_t off)
{
	struct ramfs_node *n = node_of(v);
	size_t done = 0;
	long err = 0;

	if (off >= MAX_FILE_SIZE || count > MAX_FILE_SIZE - off)
		return -EFBIG;
	while (done < count) {
		uint64_t pos = off + done;
		size_t in = pos % PAGE_SIZE, len = MIN(count - done, PAGE_SIZE - in);
		char *page;

		WITH_LOCK(&n->pages)
			page = data_page(n, pos / PAGE_SIZE, true);
		if (!page)
			err = -ENOSPC;
		else if (copy_from_user(page + in, (const char *)ubuf + done, len))
			err = -EFAULT;
		if (err)
			break;
		done += len;
	}
	WITH_LOCK(&n->pages)
		v->size = MAX(v->size, off + done);
	return done ? (long)done : err;
}

static int ramfs_truncate(struct vnode *v, uint64_t size)
{
	struct ramfs_node *n = node_of(v);

	uint64_t old = v->size;

	if (size > MAX_FILE_SIZE)
		return -EFBIG;
	WITH_LOCK(&n->pages)
		v->size = size;                 /* from now on, faults past it fail */
	if (size >= old)
		return 0;
	/* Mappings drop the pages past the end before they are freed. */
	if (__atomic_load_n(&v->maps, __ATOMIC_ACQUIRE))
		vm_file_truncated(v, size);
	WITH_LOCK(&n->pages) {
		char *tail = data_page(n, size / PAGE_SIZE, false);

		if (tail)
			memset(tail + size % PAGE_SIZE, 0, PAGE_SIZE - size % PAGE_SIZE);
		data_truncate_pages(n, ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE);
	}
	return 0;
}

/* The frame of page index of the file, made if it is a hole; -EIO past the
 * end of the file (the mapping raises SIGBUS). */
static int ramfs_map_page(struct vnode *v, uint64_t index, uint64_t *pa)
{
	struct ramfs_node *n = node_of(v);
	char *page = NULL;
	int err = 0;

	WITH_LOCK(&n->pages) {
		if (index >= ALIGN_UP(v->size, PAGE_SIZE) / PAGE_SIZE)
			err = -EIO;
		else if (!(page = data_page(n, index, true)))
			err = -ENOMEM;
	}
	if (!err)
		*pa = arch_virt_to_phys(page);
	return err;
}

/* --- directory entries --- */

static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;               /* FNV-1a */

	while (len--)
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h;
}

static struct ramfs_dirent **bucket(struct ramfs_node *d, const char *name, size_t len)
{
	return &d->hash[name_hash(name, len) & (d->nbuckets - 1)];
}

static struct ramfs_dirent **find_slot(struct ramfs_node *d, const char *name, size_t len)
{
	struct ramfs_dirent **p;

	if (!d->hash)
		return NULL;
	for (p = bucket(d, name, len); *p; p = &(*p)->hnext)
		if ((*p)->len == len && memcmp((*p)->name, name, len) == 0)
			return p;
	return NULL;
}

/* Doubles the table when entries outnumber buckets twice over; an
 * allocation failure just leaves the chains longer. */
static void hash_grow(struct ramfs_node *d)
{
	unsigned int old = d->nbuckets, size = old ? old * 2 : HASH_MIN;
	struct ramfs_dirent **h;

	if (d->hash && d->count < 2 * old)
		return;
	h = calloc(size, sizeof(*h));
	if (!h)
		return;
	free(d->hash);
	d->hash = h;
	d->nbuckets = size;
	for (struct ramfs_dirent *e = d->first; e; e = e->next) {
		struct ramfs_dirent **b = bucket(d, e->name, e->len);
		e->hnext = *b;
		*b = e;
	}
}

static struct ramfs_dirent *dirent_new(const char *name, size_t len, struct vnode *v)
{
	struct ramfs_dirent *e = malloc(sizeof(*e) + len + 1);

	if (!e)
		return NULL;
	memcpy(e->name, name, len);
	e->name[len] = 0;
	e->len = len;
	e->v = v;
	return e;
}

/* Puts e (which holds a reference on e->v) into d. */
static int dirent_insert(struct ramfs_node *d, struct ramfs_dirent *e)
{
	struct ramfs_dirent **b;

	hash_grow(d);
	if (!d->hash)
		return -ENOMEM;
	b = bucket(d, e->name, e->len);
	e->hnext = *b;
	*b = e;
	e->cookie = d->next_cookie++;
	e->next = NULL;
	e->prev = d->last;
	if (d->last)
		d->last->next = e;
	else
		d->first = e;
	d->last = e;
	d->count++;
	vnode_touch(&d->v, true);
	return 0;
}

/* Takes the entry name out of d; returns it (with its reference). */
static struct ramfs_dirent *dirent_remove(struct ramfs_node *d, const char *name, size_t len)
{
	struct ramfs_dirent **p = find_slot(d, name, len), *e;

	ASSERT(p);
	e = *p;
	*p = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		d->first = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		d->last = e->prev;
	d->count--;
	vnode_touch(&d->v, true);
	return e;
}

/* --- directory operations --- */

static struct vnode *ramfs_lookup(struct vnode *dir, const char *name, size_t len)
{
	struct ramfs_dirent **p = find_slot(node_of(dir), name, len);

	if (!p)
		return ERR_PTR(-ENOENT);
	vnode_get((*p)->v);
	return (*p)->v;
}

static struct ramfs_node *node_new(struct mount *m, unsigned int mode)
{
	struct ramfs_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	vnode_init(&n->v, m, &ramfs_ops, mode);
	mutex_init(&n->pages, false);
	n->v.fops = S_ISDIR(mode) ? &vnode_dir_ops : &vnode_file_ops;
	n->next_cookie = 2;
	return n;
}

/* Gives a new vnode what its kind needs; 0 or -ENOMEM. */
static int node_set_up(struct ramfs_node *n, struct vnode *dir, const char *name, size_t len,
		       const char *target)
{
	if (S_ISLNK(n->v.mode)) {
		size_t tlen = strlen(target);
		char *t = malloc(tlen + 1);

		if (!t)
			return -ENOMEM;
		memcpy(t, target, tlen + 1);
		n->v.target = t;
		n->v.size = tlen;
	} else if (S_ISDIR(n->v.mode) || S_ISREG(n->v.mode)) {
		n->v.name = malloc(len + 1);
		if (!n->v.name)
			return -ENOMEM;
		memcpy(n->v.name, name, len);
		n->v.name[len] = 0;
		n->v.nlink = S_ISDIR(n->v.mode) ? 2 : n->v.nlink;
		n->v.parent = dir;
	}
	return 0;
}

static void node_free(struct ramfs_node *n)
{
	free((void *)n->v.target);
	free(n->v.name);
	free(n);
}

static struct vnode *ramfs_create(struct vnode *dir, const char *name, size_t len,
				  unsigned int mode, const char *target)
{
	struct ramfs_node *n;
	struct ramfs_dirent *e;

	if (dir->nlink == 0)
		return ERR_PTR(-ENOENT);        /* a removed directory */
	n = node_new(dir->mount, mode);
	if (!n)
		return ERR_PTR(-ENOMEM);
	e = dirent_new(name, len, &n->v);
	if (!e || node_set_up(n, dir, name, len, target) || dirent_insert(node_of(dir), e)) {
		free(e);
		node_free(n);
		return ERR_PTR(-ENOMEM);
	}
	vnode_get(&n->v);                       /* the entry's; the caller has the first */
	if (n->v.parent)
		vnode_get(dir);                 /* the child's parent pointer */
	if (S_ISDIR(mode))
		dir->nlink++;
	return &n->v;
}

static int ramfs_link(struct vnode *dir, const char *name, size_t len, struct vnode *v)
{
	struct ramfs_dirent *e;
	int err = 0;

	if (dir->nlink == 0)
		return -ENOENT;
	e = dirent_new(name, len, v);
	if (!e)
		return -ENOMEM;
	WITH_LOCK(&v->lock) {
		if (v->nlink == 0)
			err = -ENOENT;          /* unlinked: no way back */
		else if (!(err = dirent_insert(node_of(dir), e))) {
			v->nlink++;
			v->ctime = vnode_now();
		}
	}
	if (err) {
		free(e);
		return err;
	}
	vnode_get(v);
	return 0;
}

static bool dir_empty(struct vnode *dir)
{
	return node_of(dir)->count == 0;
}

/* Removes the entry name of dir, which names v: v loses a link (a
 * directory all, and only when empty).  dir locked. */
static int ramfs_unlink(struct vnode *dir, const char *name, size_t len, struct vnode *v)
{
	WITH_LOCK(&v->lock) {
		if (vnode_is_dir(v) && !dir_empty(v))
			return -ENOTEMPTY;
		if (vnode_is_dir(v)) {
			v->nlink = 0;
			dir->nlink--;
		} else {
			v->nlink--;
		}
		v->ctime = vnode_now();
	}
	free(dirent_remove(node_of(dir), name, len));
	vnode_put(v);                           /* the entry's reference */
	return 0;
}

/* v (a directory, or a regular file) moves from odir to ndir: its name
 * and parent (a directory's "..", and its link counts). */
static void move_named(struct vnode *v, struct vnode *odir, struct vnode *ndir, char *name)
{
	struct vnode *old_parent = v->parent;   /* a hard link's may not be odir */
	char *old_name = v->name;

	v->name = name;
	free(old_name);
	if (vnode_is_dir(v) && odir != ndir) {
		odir->nlink--;
		ndir->nlink++;
	}
	if (old_parent == ndir)
		return;
	vnode_get(ndir);
	__atomic_store_n(&v->parent, ndir, __ATOMIC_RELEASE);
	vnode_put(old_parent);                  /* a removed directory may go with it */
}

static int ramfs_rename(struct vnode *odir, const char *oname, size_t olen, struct vnode *v,
			struct vnode *ndir, const char *nname, size_t nlen, struct vnode *victim)
{
	struct ramfs_dirent *e = dirent_new(nname, nlen, v);
	char *dir_name = v->name ? malloc(nlen + 1) : NULL;        /* a named vnode's new name */
	int err = 0;

	if (!node_of(ndir)->hash)
		hash_grow(node_of(ndir));
	if (!e || (v->name && !dir_name) || !node_of(ndir)->hash)
		err = -ENOMEM;
	if (!err && victim)
		err = ramfs_unlink(ndir, nname, nlen, victim);
	if (err) {
		free(e);
		free(dir_name);
		return err;
	}
	free(dirent_remove(node_of(odir), oname, olen));   /* its reference moves to e */
	dirent_insert(node_of(ndir), e);
	if (dir_name) {
		memcpy(dir_name, nname, nlen);
		dir_name[nlen] = 0;
		move_named(v, odir, ndir, dir_name);
	}
	WITH_LOCK(&v->lock)
		v->ctime = vnode_now();
	return 0;
}

static unsigned int dtype(unsigned int mode)
{
	return (mode & S_IFMT) >> 12;           /* Linux's IFTODT */
}

static int ramfs_readdir(struct vnode *dir, uint64_t cookie, struct dir_ctx *ctx)
{
	struct vnode *up = dir->parent ? dir->parent : dir;

	if (cookie == 0 && !ctx->emit(ctx, ".", 1, dir->ino, DT_DIR, 1))
		return 0;
	if (cookie <= 1 && !ctx->emit(ctx, "..", 2, up->ino, DT_DIR, 2))
		return 0;
	for (struct ramfs_dirent *e = node_of(dir)->first; e; e = e->next) {
		if (e->cookie < cookie)
			continue;
		if (!ctx->emit(ctx, e->name, e->len, e->v->ino, dtype(e->v->mode), e->cookie + 1))
			break;
	}
	return 0;
}

/* --- lifetime --- */

static int ramfs_open(struct vnode *v, struct file *f)
{
	(void)f;
	vnode_get(v);                           /* vnode_file_release drops it */
	return 0;
}

static void ramfs_free_rcu(struct rcu_head *h)
{
	node_free(node_of(container_of(h, struct vnode, rcu)));
}

static void ramfs_evict(struct vnode *v)
{
	struct ramfs_node *n = node_of(v);

	data_truncate_pages(n, 0);
	ASSERT(n->count == 0);
	free(n->hash);
	if (v->parent)
		vnode_put(v->parent);
	vnode_free_rcu(v, ramfs_free_rcu);
}

static const struct vnode_ops ramfs_ops = {
	.lookup = ramfs_lookup,
	.create = ramfs_create,
	.link = ramfs_link,
	.unlink = ramfs_unlink,
	.rename = ramfs_rename,
	.readdir = ramfs_readdir,
	.read = ramfs_read,
	.write = ramfs_write,
	.truncate = ramfs_truncate,
	.map_page = ramfs_map_page,
	.open = ramfs_open,
	.evict = ramfs_evict,
};

/* A new ramfs mounted on on (NULL: as the root), taking over on's reference. */
struct mount *ramfs_mount(struct vnode *on)
{
	struct mount *m = mount_new();
	struct ramfs_node *root = node_new(m, S_IFDIR | 0755);

	if (!root)
		return NULL;
	root->v.nlink = 2;
	return mount_add(&root->v, on);
}
