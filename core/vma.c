/*
 * core/vma.c - the mapping set (see core/vma_impl.h): records of the
 * application's mappings in a red-black tree keyed by their start.  Pure C,
 * tested on the host (tests/unit/test_vma.c).
 *
 * Every changing call runs in two phases: it checks its arguments and the
 * records it would touch and allocates the new records it will need (at
 * most two: a range cut out of the middle of a record leaves two pieces),
 * returning an error with nothing changed; then it applies the change,
 * which cannot fail, and merges the records the change left side by side.
 *
 * Invariants (vma_check): records are page aligned, non-empty, within
 * [lo, hi), sorted and disjoint; each node's key is its record's start; no
 * two mergeable records touch.  Changing a record's start in place (a trim
 * from the front) keeps the tree ordered, since records are disjoint.
 */
#include "core/vma_impl.h"

#include "core/errno.h"

#define PAGE_MASK       (VMA_PAGE_SIZE - 1)
/* The highest end a set may manage: keeps every rounding below overflow. */
#define ADDR_LIMIT      (1ULL << 63)

/* The new records a call allocated before it changes anything. */
struct spares {
	struct vma *v[2];
	int n;
};

static struct vma *vma_of(const struct rbtree_node *n)
{
	return n ? container_of(n, struct vma, node) : NULL;
}

/* len rounded up to whole pages; 0 for 0 or when rounding overflows. */
static uint64_t page_round(uint64_t len)
{
	return len > UINT64_MAX - PAGE_MASK ? 0 : (len + PAGE_MASK) & ~PAGE_MASK;
}

/* Whether [start, start+len) lies within [s->lo, s->hi). */
static bool in_bounds(const struct vma_set *s, uint64_t start, uint64_t len)
{
	return start >= s->lo && start <= s->hi && len <= s->hi - start;
}

void vma_set_init(struct vma_set *s, uint64_t lo, uint64_t hi)
{
	rbtree_init(&s->tree);
	if (lo < VMA_PAGE_SIZE)
		lo = VMA_PAGE_SIZE;
	if (hi > ADDR_LIMIT)
		hi = ADDR_LIMIT;
	s->lo = page_round(lo);
	s->hi = hi & ~PAGE_MASK;
	if (s->hi < s->lo)
		s->hi = s->lo;
	s->alloc = NULL;
	s->free = NULL;
	s->split = NULL;
	s->nreserve = 0;
}

/* --- lookups --- */

/* The record with the greatest start <= addr, or NULL. */
static struct vma *find_le(const struct vma_set *s, uint64_t addr)
{
	struct rbtree_node *n = s->tree.root, *best = NULL;

	while (n) {
		if (n->key <= addr) {
			best = n;
			n = n->child[1];
		} else {
			n = n->child[0];
		}
	}
	return vma_of(best);
}

struct vma *vma_first(const struct vma_set *s)
{
	return vma_of(rbtree_first(&s->tree));
}

struct vma *vma_next(const struct vma *v)
{
	return vma_of(rbtree_next(&v->node));
}

/* The first record that ends after addr: the first one in [addr, ...). */
static struct vma *first_ending_after(const struct vma_set *s, uint64_t addr)
{
	struct vma *v = find_le(s, addr);

	if (v && v->end > addr)
		return v;
	return v ? vma_next(v) : vma_first(s);
}

struct vma *vma_find(const struct vma_set *s, uint64_t addr)
{
	struct vma *v = find_le(s, addr);

	return v && addr < v->end ? v : NULL;
}

struct vma *vma_find_near(const struct vma_set *s, uint64_t addr)
{
	struct vma *below = find_le(s, addr), *above;

	if (below && addr < below->end)
		return below;
	above = below ? vma_next(below) : vma_first(s);
	if (!below || !above)
		return below ? below : above;
	/* below->end <= addr < above->start; pages make a tie impossible */
	return addr - (below->end - 1) <= above->start - addr ? below : above;
}

/* --- free ranges --- */

static uint64_t align_up(uint64_t x, uint64_t align)
{
	return (x + align - 1) & ~(align - 1);
}

/* The lowest free, aligned [a, a+len) with from <= a and a+len <= hi. */
static bool gap_from(const struct vma_set *s, uint64_t from, uint64_t len,
		     uint64_t align, uint64_t *out)
{
	uint64_t a = align_up(from < s->lo ? s->lo : from, align);
	struct vma *v = first_ending_after(s, a);

	for (;;) {
		uint64_t limit = v ? v->start : s->hi;

		if (a <= limit && limit - a >= len) {
			*out = a;
			return true;
		}
		if (!v || v->end >= s->hi)
			return false;
		a = align_up(a > v->end ? a : v->end, align);
		v = vma_next(v);
	}
}

int vma_find_gap(const struct vma_set *s, uint64_t hint, uint64_t len,
		 uint64_t align, uint64_t *out)
{
	len = page_round(len);
	if (!len || align < VMA_PAGE_SIZE || (align & (align - 1)) ||
	    align > ADDR_LIMIT / 2)
		return -EINVAL;
	if (hint < s->hi && gap_from(s, hint, len, align, out))
		return 0;
	return hint > s->lo && gap_from(s, s->lo, len, align, out) ? 0 : -ENOMEM;
}

/* --- allocation: first, so that nothing changes when it fails --- */

static void vma_reset(struct vma *v)
{
	v->start = v->end = 0;
	v->prot = v->flags = 0;
	v->owner = NULL;
	v->offset = 0;
	v->node = (struct rbtree_node){ 0 };
}

static void spares_put(struct vma_set *s, struct spares *sp)
{
	while (sp->n > 0)
		s->free(sp->v[--sp->n]);
}

int vma_reserve(struct vma_set *s, unsigned int n)
{
	if (n > 2)
		n = 2;
	while (s->nreserve < n) {
		struct vma *v = s->alloc ? s->alloc() : NULL;

		if (!v)
			return -ENOMEM;
		s->reserve[s->nreserve++] = v;
	}
	return 0;
}

static int spares_get(struct vma_set *s, struct spares *sp, int need)
{
	sp->n = 0;
	while (sp->n < need) {
		struct vma *v = s->nreserve ? s->reserve[--s->nreserve] :
			        s->alloc ? s->alloc() : NULL;

		if (!v) {
			spares_put(s, sp);
			return -ENOMEM;
		}
		vma_reset(v);
		sp->v[sp->n++] = v;
	}
	return 0;
}

static struct vma *spare_take(struct spares *sp)
{
	return sp->v[--sp->n];
}

/* --- changing records (cannot fail) --- */

static void drop(struct vma_set *s, struct vma *v)
{
	rbtree_remove(&s->tree, &v->node);
	s->free(v);
}

/* Moves v's start up to addr (within v); the tree stays ordered. */
static void trim_front(struct vma *v, uint64_t addr)
{
	v->offset += addr - v->start;
	v->start = addr;
	v->node.key = addr;
}

/* Cuts v at addr (v->start < addr < v->end) into v and the returned piece. */
static struct vma *split(struct vma_set *s, struct vma *v, uint64_t addr,
			 struct vma *piece)
{
	piece->start = addr;
	piece->end = v->end;
	piece->prot = v->prot;
	piece->flags = v->flags;
	piece->owner = v->owner;
	piece->offset = v->offset + (addr - v->start);
	v->end = addr;
	rbtree_insert(&s->tree, &piece->node, addr);
	if (s->split)
		s->split(piece);
	return piece;
}

static bool mergeable(const struct vma *a, const struct vma *b)
{
	return a->end == b->start && a->prot == b->prot &&
	       a->flags == b->flags && (a->flags & VMA_MAP_ANONYMOUS) &&
	       (a->flags & VMA_MAP_TYPE) == VMA_MAP_PRIVATE &&
	       !a->owner && !b->owner;
}

/* Merges the touching pairs whose boundary is in [start, end]: the only
 * ones a change of [start, end) can have made mergeable. */
static void merge_range(struct vma_set *s, uint64_t start, uint64_t end)
{
	struct vma *p = find_le(s, start - 1), *n;

	if (!p)
		p = vma_first(s);
	while (p && (n = vma_next(p)) && n->start <= end) {
		if (mergeable(p, n)) {
			p->end = n->end;
			drop(s, n);
		} else {
			p = n;
		}
	}
}

/* Whether one record reaches past both ends of [start, end): removing the
 * range from it leaves two pieces, so it needs a new record. */
static bool straddles(const struct vma_set *s, uint64_t start, uint64_t end)
{
	struct vma *v = find_le(s, start);

	return v && v->start < start && v->end > end;
}

/* Removes [start, end) from the records; sp holds one record if straddles(). */
static void punch(struct vma_set *s, uint64_t start, uint64_t end,
		  struct spares *sp)
{
	struct vma *v = first_ending_after(s, start), *next;

	for (; v && v->start < end; v = next) {
		next = vma_next(v);
		if (v->start < start && v->end > end) {
			split(s, v, end, spare_take(sp));
			v->end = start;
			return;
		}
		if (v->start < start)
			v->end = start;
		else if (v->end > end)
			trim_front(v, end);
		else
			drop(s, v);
	}
}

/* Links the spare record as [start, end) and merges it with its neighbors. */
static void insert_new(struct vma_set *s, struct spares *sp, uint64_t start,
		       uint64_t end, uint32_t prot, uint32_t flags)
{
	struct vma *v = spare_take(sp);

	v->start = start;
	v->end = end;
	v->prot = prot;
	v->flags = flags;
	rbtree_insert(&s->tree, &v->node, start);
	merge_range(s, start, end);
}

/* --- the operations --- */

static int map_fixed(struct vma_set *s, uint64_t start, uint64_t len,
		     uint32_t prot, uint32_t flags, bool noreplace)
{
	uint64_t end = start + len;
	struct spares sp;
	struct vma *v;
	int err;

	if ((start & PAGE_MASK) || !in_bounds(s, start, len))
		return -EINVAL;
	v = first_ending_after(s, start);
	if (noreplace && v && v->start < end)
		return -EEXIST;
	err = spares_get(s, &sp, 1 + straddles(s, start, end));
	if (err)
		return err;
	punch(s, start, end, &sp);
	insert_new(s, &sp, start, end, prot, flags);
	return 0;
}

int vma_map(struct vma_set *s, uint64_t start, uint64_t len, uint32_t prot,
	    uint32_t flags, bool fixed, bool noreplace, uint64_t *out_start)
{
	struct spares sp;
	uint64_t at;
	int err;

	if (!len)
		return -EINVAL;
	len = page_round(len);
	if (!len)
		return fixed ? -EINVAL : -ENOMEM;
	if (fixed) {
		err = map_fixed(s, start, len, prot, flags, noreplace);
		if (!err)
			*out_start = start;
		return err;
	}
	err = vma_find_gap(s, start, len, VMA_PAGE_SIZE, &at);
	if (!err)
		err = spares_get(s, &sp, 1);
	if (err)
		return err;
	insert_new(s, &sp, at, at + len, prot, flags);
	*out_start = at;
	return 0;
}

int vma_unmap(struct vma_set *s, uint64_t start, uint64_t len)
{
	struct spares sp;
	uint64_t end;
	int err;

	len = page_round(len);
	if ((start & PAGE_MASK) || !len || !in_bounds(s, start, len))
		return -EINVAL;
	end = start + len;
	err = spares_get(s, &sp, straddles(s, start, end));
	if (err)
		return err;
	punch(s, start, end, &sp);
	return 0;
}

/* Whether [start, end) is mapped throughout: 0, else -ENOMEM. */
static int check_mapped(const struct vma_set *s, uint64_t start, uint64_t end)
{
	struct vma *v = vma_find(s, start), *next;

	for (; v; v = next) {
		if (v->end >= end)
			return 0;
		next = vma_next(v);
		if (next && next->start != v->end)
			return -ENOMEM;
	}
	return -ENOMEM;
}

int vma_protect(struct vma_set *s, uint64_t start, uint64_t len, uint32_t prot)
{
	struct vma *a, *b, *v;
	struct spares sp;
	bool cut_a, cut_b;
	uint64_t end;
	int err;

	if (start & PAGE_MASK)
		return -EINVAL;
	if (!len)
		return 0;
	len = page_round(len);
	if (!len || !in_bounds(s, start, len))
		return -ENOMEM;
	end = start + len;
	err = check_mapped(s, start, end);
	if (err)
		return err;
	a = vma_find(s, start);
	b = vma_find(s, end - 1);
	cut_a = a->start < start && a->prot != prot;
	cut_b = b->end > end && b->prot != prot;
	err = spares_get(s, &sp, cut_a + cut_b);
	if (err)
		return err;
	if (cut_a)
		a = split(s, a, start, spare_take(&sp));
	if (cut_b)      /* b again: if it was a, a's split moved its end */
		split(s, vma_find(s, end - 1), end, spare_take(&sp));
	for (v = a; v && v->start < end; v = vma_next(v))
		v->prot = prot;
	merge_range(s, start, end);
	return 0;
}

/* mremap's growth in place: the record v ends at the range's end. */
static bool grow_in_place(struct vma_set *s, struct vma *v, uint64_t old_start,
			  uint64_t new_len)
{
	struct vma *next = vma_next(v);
	uint64_t new_end;

	if (!in_bounds(s, old_start, new_len))
		return false;
	new_end = old_start + new_len;
	if (next && next->start < new_end)
		return false;
	v->end = new_end;
	merge_range(s, old_start, new_end);
	return true;
}

/* mremap's move: cuts [old_start, old_end) out of v and relinks it at a
 * free range of new_len. */
static int move(struct vma_set *s, struct vma *v, uint64_t old_start,
		uint64_t old_end, uint64_t new_len, uint64_t *new_start)
{
	bool cut_front = v->start < old_start, cut_back = v->end > old_end;
	struct spares sp;
	uint64_t to;
	int err;

	err = vma_find_gap(s, 0, new_len, VMA_PAGE_SIZE, &to);
	if (!err)
		err = spares_get(s, &sp, cut_front + cut_back);
	if (err)
		return err;
	if (cut_front)
		v = split(s, v, old_start, spare_take(&sp));
	if (cut_back)
		split(s, v, old_end, spare_take(&sp));
	rbtree_remove(&s->tree, &v->node);
	v->start = to;
	v->end = to + new_len;
	rbtree_insert(&s->tree, &v->node, to);
	merge_range(s, to, to + new_len);
	*new_start = to;
	return 0;
}

int vma_resize(struct vma_set *s, uint64_t old_start, uint64_t old_len,
	       uint64_t new_len, bool may_move, uint64_t *new_start)
{
	struct vma *v;
	uint64_t old_end;
	int err;

	old_len = page_round(old_len);
	new_len = page_round(new_len);
	if ((old_start & PAGE_MASK) || !old_len || !new_len)
		return -EINVAL;
	v = vma_find(s, old_start);
	if (!v || old_len > v->end - old_start)
		return -EFAULT;
	old_end = old_start + old_len;
	if (new_len <= old_len) {
		err = new_len < old_len ?
		      vma_unmap(s, old_start + new_len, old_len - new_len) : 0;
	} else if (old_end == v->end && grow_in_place(s, v, old_start, new_len)) {
		err = 0;
	} else if (!may_move) {
		return -ENOMEM;
	} else {
		return move(s, v, old_start, old_end, new_len, new_start);
	}
	if (!err)
		*new_start = old_start;
	return err;
}

void vma_set_destroy(struct vma_set *s)
{
	struct vma *v;

	while ((v = vma_first(s)))
		drop(s, v);
	while (s->nreserve) {                   /* zeroed, as unused spares are */
		v = s->reserve[--s->nreserve];
		vma_reset(v);
		s->free(v);
	}
}

#ifdef SKIFF_HOST_TEST
static const char *check_one(const struct vma_set *s, const struct vma *v,
			     const struct vma *prev)
{
	if ((v->start | v->end) & PAGE_MASK)
		return "a record is not page aligned";
	if (v->start >= v->end)
		return "a record is empty";
	if (v->start < s->lo || v->end > s->hi)
		return "a record is outside the set's bounds";
	if (v->node.key != v->start)
		return "a record's key is not its start";
	if (prev && prev->end > v->start)
		return "records overlap or are out of order";
	if (prev && mergeable(prev, v))
		return "two mergeable records touch";
	return NULL;
}

const char *vma_check(const struct vma_set *s)
{
	const struct vma *v, *prev = NULL;
	const char *why = rbtree_check(&s->tree);
	unsigned int count = 0;

	if (why)
		return why;
	if ((s->lo | s->hi) & PAGE_MASK || s->lo < VMA_PAGE_SIZE || s->lo > s->hi)
		return "the set's bounds are wrong";
	for (v = vma_first(s); v; prev = v, v = vma_next(v)) {
		why = check_one(s, v, prev);
		if (why)
			return why;
		count++;
	}
	if (count != vma_count(s))
		return "the count is wrong";
	return NULL;
}
#endif
