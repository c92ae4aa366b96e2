/*
 * fs/synthfs.c - filesystems whose tree is fixed when they are mounted:
 * devfs (/dev) and procfs (/proc, /sys).
 *
 * A table of entries ("cpu/online", mode, and either file operations of a
 * device or a generator) becomes a tree of vnodes; parents come before
 * their children in the table.  Mounting makes only the root: the rest is
 * made the first time anyone looks into the root (a lookup or getdents64,
 * under the root's lock, so once), and an application that never opens
 * /proc never pays for it.  Nothing is created or removed afterwards, so
 * the vnodes live forever (they keep their first reference) and their
 * files hold none.  A generated file's text is made when it is opened,
 * ksnprintf-style, and read from that snapshot, so one open file reads one
 * consistent text.
 *
 * What changes is made when looked up, as a link of its own that goes with
 * its last reference: a link whose target is generated (/proc/self/exe),
 * and the numbered links of a directory with a struct synth_dir
 * (/proc/self/fd, which has no children in the table).  Their inode
 * numbers are stable: the table's, or the directory's and the number.
 */
#include "fs/vfs_impl.h"
#include "core/mm.h"
#include "libc/syscall.h"

struct synth_node {
	struct vnode v;
	const struct synth_entry *e;            /* NULL: the root */
	struct synth_node *child, *next;        /* first child, next sibling */
};

/* The root, with the table it makes its tree from on first use. */
struct synth_root {
	struct synth_node node;
	const struct synth_entry *table;
	size_t n;
	bool built;                             /* under node.v.lock */
};

struct snapshot {
	size_t len;
	char text[];
};

/* A link made by a lookup, with the target it had then. */
struct synth_link {
	struct vnode v;
	const struct synth_dir *dir;    /* a numbered directory's entry n: */
	int n;                          /* dir->open(n) is what following gives */
	char target[];
};

static const struct vnode_ops synth_ops, synth_link_ops;

static struct synth_node *synth_of(struct vnode *v)
{
	return container_of(v, struct synth_node, v);
}

static const char *entry_name(const struct synth_entry *e)
{
	const char *slash = e->path;

	for (const char *p = e->path; *p; p++)
		if (*p == '/')
			slash = p + 1;
	return slash;
}

static struct synth_node *find_child(struct synth_node *dir, const char *name, size_t len)
{
	for (struct synth_node *c = dir->child; c; c = c->next) {
		const char *cn = entry_name(c->e);

		if (strlen(cn) == len && memcmp(cn, name, len) == 0)
			return c;
	}
	return NULL;
}

static int tree_build(struct synth_root *r);

/* --- links made when looked up --- */

static void link_free_rcu(struct rcu_head *h)
{
	free(container_of(h, struct synth_link, v.rcu));
}

static void link_evict(struct vnode *v)
{
	vnode_free_rcu(v, link_free_rcu);
}

static struct vnode *link_jump(struct vnode *v)
{
	struct synth_link *l = container_of(v, struct synth_link, v);

	return l->dir && l->dir->open ? l->dir->open(l->n) : NULL;
}

/* A new link in dir with e's generated target: e is the link's own entry,
 * or the directory's for its entry n.  ERR_PTR(-ENOENT) if there is none. */
static struct vnode *link_new(struct synth_node *dir, const struct synth_entry *e, int n,
			      unsigned int mode, uint64_t ino)
{
	size_t size = 64, len;

	for (;;) {
		struct synth_link *l = malloc(sizeof(*l) + size);

		if (!l)
			return ERR_PTR(-ENOMEM);
		len = e->dir ? e->dir->link(n, l->target, size) : e->gen(l->target, size);
		if (len > 0 && len < size) {
			memset(&l->v, 0, sizeof(l->v));
			vnode_init(&l->v, dir->v.mount, &synth_link_ops, mode);
			l->v.ino = ino;
			l->v.target = l->target;
			l->v.size = len;
			l->v.parent = &dir->v;          /* lives forever: no reference */
			l->dir = e->dir;
			l->n = n;
			return &l->v;
		}
		free(l);
		if (len == 0)
			return ERR_PTR(-ENOENT);
		if (len > PATH_MAX_LEN)
			return ERR_PTR(-ENAMETOOLONG);
		size = len + 1;
	}
}

/* Entry n of a numbered directory: "0" to "2147483647", no leading zeros. */
static int entry_number(const char *name, size_t len)
{
	long n = 0;

	if (len == 0 || len > 10 || (name[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		n = n * 10 + (name[i] - '0');
	}
	return n <= 0x7fffffff ? (int)n : -1;
}

static uint64_t entry_ino(const struct synth_node *dir, int n)
{
	return (dir->v.ino << 32) + (uint64_t)n + 1;    /* above the table's */
}

static struct vnode *numbered_lookup(struct synth_node *dir, const char *name, size_t len)
{
	int n = entry_number(name, len);

	if (n < 0)
		return ERR_PTR(-ENOENT);
	return link_new(dir, dir->e, n, S_IFLNK | 0700, entry_ino(dir, n));
}

/* Entries from cookie on (cookie n + 2 is entry n). */
static void numbered_readdir(struct synth_node *dir, uint64_t cookie, struct dir_ctx *ctx)
{
	const struct synth_dir *sd = dir->e->dir;
	char name[12];

	for (int n = sd->next((int)MIN(cookie - 2, 0x7fffffffULL)); n >= 0 && n < 0x7fffffff;
	     n = sd->next(n + 1)) {
		int len = ksnprintf(name, sizeof(name), "%d", n);

		if (!ctx->emit(ctx, name, (size_t)len, entry_ino(dir, n), DT_LNK, (uint64_t)n + 3))
			break;
	}
}

/* --- directories --- */

/* Before dir's children are read: the root makes its tree if it has not
 * yet (dir locked); 0 or -ENOMEM. */
static int children_ready(struct vnode *dir)
{
	struct synth_node *d = synth_of(dir);

	return d->e ? 0 : tree_build(container_of(d, struct synth_root, node));
}

static struct vnode *synth_lookup(struct vnode *dir, const char *name, size_t len)
{
	struct synth_node *d = synth_of(dir), *c;
	int err = children_ready(dir);

	if (err)
		return ERR_PTR(err);
	if (d->e && d->e->dir)
		return numbered_lookup(d, name, len);
	c = find_child(d, name, len);
	if (!c)
		return ERR_PTR(-ENOENT);
	if (S_ISLNK(c->v.mode) && c->e->gen)
		return link_new(d, c->e, 0, c->v.mode, c->v.ino);
	vnode_get(&c->v);
	return &c->v;
}

static int synth_readdir(struct vnode *dir, uint64_t cookie, struct dir_ctx *ctx)
{
	struct vnode *up = dir->parent ? dir->parent : dir;
	uint64_t i = 2;
	int err = children_ready(dir);

	if (err)
		return err;
	if (cookie == 0 && !ctx->emit(ctx, ".", 1, dir->ino, DT_DIR, 1))
		return 0;
	if (cookie <= 1 && !ctx->emit(ctx, "..", 2, up->ino, DT_DIR, 2))
		return 0;
	if (synth_of(dir)->e && synth_of(dir)->e->dir) {
		numbered_readdir(synth_of(dir), MAX(cookie, 2), ctx);
		return 0;
	}
	for (struct synth_node *c = synth_of(dir)->child; c; c = c->next, i++) {
		const char *cn = entry_name(c->e);

		if (i < cookie)
			continue;
		if (!ctx->emit(ctx, cn, strlen(cn), c->v.ino, (c->v.mode & S_IFMT) >> 12, i + 1))
			break;
	}
	return 0;
}

/* --- generated files --- */

/* What changes (/proc/self/maps) may need more the second time. */
static struct snapshot *generate(const struct synth_entry *e)
{
	size_t size = 4096;

	for (;;) {
		struct snapshot *s = malloc(sizeof(*s) + size);
		size_t len;

		if (!s)
			return NULL;
		len = e->gen(s->text, size);
		if (len < size) {
			s->len = len;
			return s;
		}
		free(s);
		size = len + len / 8 + 256;
	}
}

static int synth_open(struct vnode *v, struct file *f)
{
	const struct synth_entry *e = synth_of(v)->e;

	if (!e || !e->gen || !S_ISREG(e->mode))
		return 0;
	f->priv = generate(e);
	return f->priv ? 0 : -ENOMEM;
}

static long snapshot_read(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	struct snapshot *s = f->priv;
	size_t len;

	if (*pos >= s->len)
		return 0;
	len = MIN(n, s->len - *pos);
	if (copy_to_user(ubuf, s->text + *pos, len))
		return -EFAULT;
	*pos += len;
	return (long)len;
}

static void snapshot_release(struct file *f)
{
	free(f->priv);
}

static const struct file_ops snapshot_ops = {
	.read = snapshot_read,
	.release = snapshot_release,
};

static long synth_dir_read(struct file *f, void *ubuf, size_t n, uint64_t *pos)
{
	(void)f, (void)ubuf, (void)n, (void)pos;
	return -EISDIR;
}

/* Directories here hold no reference on their vnode (it lives forever). */
static const struct file_ops synth_dir_ops = {
	.read = synth_dir_read,
};

static const struct vnode_ops synth_ops = {
	.lookup = synth_lookup,
	.readdir = synth_readdir,
	.open = synth_open,
};

static const struct vnode_ops synth_link_ops = {
	.evict = link_evict,
	.jump = link_jump,
};

/* --- building the tree --- */

static void node_init(struct synth_node *n, struct mount *m, const struct synth_entry *e,
		      struct synth_node *parent)
{
	unsigned int mode = e ? e->mode : S_IFDIR | 0555;

	vnode_init(&n->v, m, &synth_ops, mode);
	n->e = e;
	n->v.rdev = e ? e->rdev : 0;
	n->v.target = e ? e->target : NULL;
	n->v.fops = S_ISDIR(mode) ? &synth_dir_ops : e->gen ? &snapshot_ops : e->fops;
	if (S_ISDIR(mode))
		n->v.nlink = 2;
	if (parent) {
		n->v.parent = &parent->v;
		n->v.name = (char *)entry_name(e);
		struct synth_node **tail = &parent->child;
		while (*tail)
			tail = &(*tail)->next;
		*tail = n;                      /* in table order */
	}
}

/* The directory an entry's path puts it in: the one whose path is its
 * prefix up to the last slash. */
static struct synth_node *parent_of(struct synth_node *root, const struct synth_entry *e)
{
	struct synth_node *dir = root;
	const char *p = e->path, *name;
	size_t len;
	int err;

	while (dir && (name = path_next(&p, &len, &err)) && !path_at_end(p))
		dir = find_child(dir, name, len);
	return dir;
}

/* Makes the root's tree from its table, all nodes in one allocation; the
 * root locked.  Inode numbers follow the table, as if made at mount. */
static int tree_build(struct synth_root *r)
{
	struct synth_node *nodes;

	if (r->built)
		return 0;
	nodes = calloc(r->n, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		struct synth_node *dir = parent_of(&r->node, &r->table[i]);

		ASSERT(dir);                    /* the table lists parents first */
		node_init(&nodes[i], r->node.v.mount, &r->table[i], dir);
	}
	r->built = true;
	return 0;
}

struct mount *synth_mount(struct vnode *on, const struct synth_entry *table, size_t n)
{
	struct synth_root *root = calloc(1, sizeof(*root));

	if (!root)
		return NULL;
	node_init(&root->node, mount_new(), NULL, NULL);
	root->table = table;
	root->n = n;
	return mount_add(&root->node.v, on);
}
