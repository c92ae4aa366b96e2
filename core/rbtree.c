/*
 * core/rbtree.c - the intrusive red-black tree (see core/rbtree.h).
 * Pure C, tested on the host through its users (tests/unit/test_rq.c and
 * tests/unit/test_timerq.c).
 *
 * The classic algorithm (CLRS, chapter 13) with NULL leaves; each mirrored
 * pair of cases is written once, with `dir` naming a side (0 left, 1 right).
 * Invariants: the root is black; a red node has no red child; every path
 * from a node down to a NULL leaf crosses the same number of black nodes;
 * in order, (key, seq) strictly increases.
 */
#include "core/rbtree.h"

static bool is_red(const struct rbtree_node *n)
{
	return n && n->color == RBTREE_RED;
}

static struct rbtree_node *leftmost(struct rbtree_node *n)
{
	while (n->child[0])
		n = n->child[0];
	return n;
}

/* Makes `to` take `from`'s place under from's parent (or as the root). */
static void replace_child(struct rbtree *t, struct rbtree_node *from,
			  struct rbtree_node *to)
{
	struct rbtree_node *p = from->parent;

	if (!p)
		t->root = to;
	else
		p->child[from == p->child[1]] = to;
	if (to)
		to->parent = p;
}

/* Moves x down to side `dir`; its child on the other side takes its place. */
static void rotate(struct rbtree *t, struct rbtree_node *x, int dir)
{
	struct rbtree_node *y = x->child[!dir];

	x->child[!dir] = y->child[dir];
	if (y->child[dir])
		y->child[dir]->parent = x;
	replace_child(t, x, y);
	y->child[dir] = x;
	x->parent = y;
}

void rbtree_init(struct rbtree *t)
{
	t->root = NULL;
	t->first = NULL;
	t->count = 0;
	t->next_seq = 0;
}

/* Restores the invariants after red node n was linked in. */
static void insert_fixup(struct rbtree *t, struct rbtree_node *n)
{
	struct rbtree_node *p, *g, *u;

	while (is_red(p = n->parent)) {
		g = p->parent;                  /* exists: the root is black */
		int dir = p == g->child[1];
		u = g->child[!dir];
		if (is_red(u)) {
			p->color = RBTREE_BLACK;
			u->color = RBTREE_BLACK;
			g->color = RBTREE_RED;
			n = g;
			continue;
		}
		if (n == p->child[!dir]) {
			rotate(t, p, dir);
			p = n;
		}
		p->color = RBTREE_BLACK;
		g->color = RBTREE_RED;
		rotate(t, g, !dir);
		break;                          /* p, now black, tops the subtree */
	}
	t->root->color = RBTREE_BLACK;
}

/*
 * A new node's seq exceeds every queued one, so it goes after every equal
 * key: comparing keys alone, ties going right, is comparing (key, seq).
 */
void rbtree_insert(struct rbtree *t, struct rbtree_node *n, uint64_t key)
{
	struct rbtree_node *p = NULL, **link = &t->root;
	bool is_first = true;

	if (rbtree_queued(n))
		rbtree_remove(t, n);
	while (*link) {
		p = *link;
		int dir = key >= p->key;
		is_first &= !dir;
		link = &p->child[dir];
	}
	n->parent = p;
	n->child[0] = n->child[1] = NULL;
	n->key = key;
	n->seq = t->next_seq++;
	n->color = RBTREE_RED;
	*link = n;
	if (is_first)
		t->first = n;
	t->count++;
	insert_fixup(t, n);
}

/*
 * Restores the black heights after a black node left the place now held
 * by x (perhaps NULL), the child of xp on the side that is one black short.
 * The other side has a black height of at least 1, so its root w exists;
 * and when x is NULL, the short side is the NULL child of xp.
 */
static void remove_fixup(struct rbtree *t, struct rbtree_node *x,
			 struct rbtree_node *xp)
{
	struct rbtree_node *w;

	while (x != t->root && !is_red(x)) {
		int dir = x != xp->child[0];
		w = xp->child[!dir];
		if (is_red(w)) {
			w->color = RBTREE_BLACK;
			xp->color = RBTREE_RED;
			rotate(t, xp, dir);
			w = xp->child[!dir];
		}
		if (!is_red(w->child[0]) && !is_red(w->child[1])) {
			w->color = RBTREE_RED;
			x = xp;
			xp = x->parent;
			continue;
		}
		if (!is_red(w->child[!dir])) {
			w->child[dir]->color = RBTREE_BLACK;
			w->color = RBTREE_RED;
			rotate(t, w, !dir);
			w = xp->child[!dir];
		}
		w->color = xp->color;
		xp->color = RBTREE_BLACK;
		w->child[!dir]->color = RBTREE_BLACK;
		rotate(t, xp, dir);
		x = t->root;
	}
	if (x)
		x->color = RBTREE_BLACK;
}

/* Unlinks z, which has two children, by putting its successor in its place;
 * sets *x, *xp as remove_fixup wants them and returns the color removed. */
static uint8_t unlink_inner(struct rbtree *t, struct rbtree_node *z,
			    struct rbtree_node **x, struct rbtree_node **xp)
{
	struct rbtree_node *y = leftmost(z->child[1]);
	uint8_t removed = y->color;

	*x = y->child[1];
	*xp = y;
	if (y->parent != z) {
		*xp = y->parent;
		replace_child(t, y, y->child[1]);
		y->child[1] = z->child[1];
		y->child[1]->parent = y;
	}
	replace_child(t, z, y);
	y->child[0] = z->child[0];
	y->child[0]->parent = y;
	y->color = z->color;
	return removed;
}

bool rbtree_remove(struct rbtree *t, struct rbtree_node *z)
{
	struct rbtree_node *x, *xp;
	uint8_t removed;

	if (!rbtree_queued(z))
		return false;
	xp = z->parent;
	removed = z->color;
	if (t->first == z)
		t->first = rbtree_next(z);
	if (!z->child[0] || !z->child[1]) {
		x = z->child[0] ? z->child[0] : z->child[1];
		replace_child(t, z, x);
	} else {
		removed = unlink_inner(t, z, &x, &xp);
	}
	if (removed == RBTREE_BLACK)
		remove_fixup(t, x, xp);
	z->parent = z->child[0] = z->child[1] = NULL;
	z->color = RBTREE_OFF;
	t->count--;
	return true;
}

struct rbtree_node *rbtree_next(const struct rbtree_node *n)
{
	if (n->child[1])
		return leftmost(n->child[1]);
	while (n->parent && n == n->parent->child[1])
		n = n->parent;
	return n->parent;
}

#ifdef SKIFF_HOST_TEST
struct check_walk {
	const struct rbtree_node *prev;     /* the last node visited in order */
	const struct rbtree *t;
	unsigned int count;
};

static bool in_order(const struct rbtree_node *a, const struct rbtree_node *b)
{
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

/* The black height of the subtree at n, or -1 with *why set. */
static int check_node(const struct rbtree_node *n, const struct rbtree_node *parent,
		      struct check_walk *w, const char **why)
{
	if (!n)
		return 0;
	if (n->parent != parent)
		return *why = "a node's parent pointer is wrong", -1;
	if (n->color != RBTREE_RED && n->color != RBTREE_BLACK)
		return *why = "a queued node is neither red nor black", -1;
	if (is_red(n) && (is_red(n->child[0]) || is_red(n->child[1])))
		return *why = "a red node has a red child", -1;
	int left = check_node(n->child[0], n, w, why);
	if (left < 0)
		return -1;
	if (w->prev && !in_order(w->prev, n))
		return *why = "(key, seq) does not increase in order", -1;
	if (n->seq >= w->t->next_seq)
		return *why = "a node's seq was never given out", -1;
	if (!w->prev && w->t->first != n)
		return *why = "the cached first node is not the leftmost", -1;
	w->prev = n;
	w->count++;
	int right = check_node(n->child[1], n, w, why);
	if (right < 0)
		return -1;
	if (left != right)
		return *why = "black heights differ", -1;
	return left + (n->color == RBTREE_BLACK);
}

const char *rbtree_check(const struct rbtree *t)
{
	struct check_walk w = { .prev = NULL, .t = t, .count = 0 };
	const char *why = NULL;

	if (is_red(t->root))
		return "the root is red";
	if (check_node(t->root, NULL, &w, &why) < 0)
		return why;
	if (!t->root && t->first)
		return "an empty tree has a first node";
	if (w.count != t->count)
		return "the count is wrong";
	return NULL;
}
#endif
