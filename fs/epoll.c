/*
 * fs/epoll.c - epoll instances: a set of (descriptor, file) items and the
 * list of those that may be ready.
 *
 * Each item registers a waiter on its file's poll head.  The waiter's
 * callback only appends the item to the instance's ready list (if the
 * event is one the item wants) and wakes the instance's own poll head,
 * where epoll_wait sleepers and outer epoll instances wait.  epoll_wait
 * then takes the ready items in turn and asks each file what it really
 * reports (file_poll): an item not ready any more is dropped from the
 * list, a ready one is reported and, if level-triggered, put back at the
 * end of the list (so it is reported again while it stays ready, and
 * items take turns); an edge-triggered one stays off the list until its
 * file's next wake; an EPOLLONESHOT one is disarmed until EPOLL_CTL_MOD.
 * Files without a poll head never wake anything and are always ready:
 * they stay on the list (level) or are reported once (edge).
 *
 * Locks, in the order they may nest:
 *   epoll_nest_lock  serializes adding epoll instances to epoll instances,
 *                    so that no loop can form (-ELOOP);
 *   ep->lock         the item tree, and every scan of the ready list (one
 *                    epoll_wait at a time per instance); held while calling
 *                    file_poll, and so taken outer instance first;
 *   poll head locks  held by poll_wake while it runs item callbacks;
 *   ep->ready_lock   the ready list only; held for a few stores, never
 *                    while taking any other lock.
 * A callback never takes an ep->lock, so a poll_wake from anywhere (even a
 * file release under some ep->lock) cannot deadlock with a scan.
 *
 * Closed descriptors.  An item holds a reference to its file, so the file
 * stays valid for the callback and for file_poll without further care.
 * The cost: closing a descriptor does not remove its item (Linux removes
 * it when the file's last reference goes).  An item whose descriptor no
 * longer refers to its file is dropped, with its reference, when a scan
 * meets it on the ready list or when its descriptor is added again; until
 * then the file stays open.  Applications that EPOLL_CTL_DEL before close
 * (or whose files report EPOLLHUP/EPOLLERR on the way out) see no
 * difference.
 *
 * Not done: EPOLLEXCLUSIVE is accepted but every sleeper is woken;
 * nesting depth is limited only below the added instance.
 */
#include "fs/fs.h"
#include "libc/abi.h"
#include "core/kernel.h"
#include "core/mm.h"
#include "core/rbtree.h"
#include "libc/syscall.h"

#define EP_PRIVATE   (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_EXCLUSIVE_OK (EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM | EPOLLRDBAND | \
			 EPOLLWRBAND | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
#define EP_MAX_NESTS 4
#define EP_MAX_EVENTS (0x7fffffff / (int)sizeof(struct epoll_event))

struct epoll {
	struct mutex lock;
	struct rbtree items;                    /* epitem by fd; under lock */
	struct mutex ready_lock;
	struct epitem *ready_first, *ready_last;        /* under ready_lock */
	unsigned int nready;                    /* under ready_lock */
	struct poll_head poll;                  /* epoll_wait sleepers, outer instances */
};

struct epitem {
	struct epoll *ep;
	int fd;
	struct file *file;                      /* a reference */
	unsigned int events;                    /* wanted | ERR | HUP | EP_PRIVATE flags; atomic */
	uint64_t data;                          /* under ep->lock */
	struct rbtree_node node;                /* in ep->items; under ep->lock */
	struct poll_waiter waiter;              /* on file->poll, if it has one */
	struct epitem *rnext, *rprev;           /* the ready list; under ep->ready_lock */
	bool ready;                             /* on the ready list; under ep->ready_lock */
};

static struct mutex epoll_nest_lock = MUTEX_INIT;
static const struct file_ops epoll_ops;

/* --- the ready list --- */

static void ready_unlink(struct epoll *ep, struct epitem *it)
{
	if (it->rprev)
		it->rprev->rnext = it->rnext;
	else
		ep->ready_first = it->rnext;
	if (it->rnext)
		it->rnext->rprev = it->rprev;
	else
		ep->ready_last = it->rprev;
	it->ready = false;
	ep->nready--;
}

/* Appends it unless it is already listed; true if it was appended. */
static bool ready_push(struct epoll *ep, struct epitem *it)
{
	WITH_LOCK(&ep->ready_lock) {
		if (it->ready)
			return false;
		it->ready = true;
		it->rnext = NULL;
		it->rprev = ep->ready_last;
		if (ep->ready_last)
			ep->ready_last->rnext = it;
		else
			ep->ready_first = it;
		ep->ready_last = it;
		ep->nready++;
	}
	return true;
}

static struct epitem *ready_pop(struct epoll *ep)
{
	struct epitem *it = NULL;

	WITH_LOCK(&ep->ready_lock) {
		it = ep->ready_first;
		if (it)
			ready_unlink(ep, it);
	}
	return it;
}

static unsigned int ready_count(struct epoll *ep)
{
	WITH_LOCK(&ep->ready_lock)
		return ep->nready;
	return 0;                               /* not reached */
}

/* --- items --- */

/* The waiter's callback: the file's head lock is held. */
static void item_wake(struct poll_waiter *w, unsigned int events)
{
	struct epitem *it = w->priv;
	unsigned int want = __atomic_load_n(&it->events, __ATOMIC_RELAXED) & ~EP_PRIVATE;

	if (!want || (events && !(events & want)))
		return;
	if (ready_push(it->ep, it))
		poll_wake(&it->ep->poll, EPOLLIN | EPOLLRDNORM);
}

/* The events it wants that its file reports now. */
static unsigned int item_events(struct epitem *it)
{
	unsigned int want = __atomic_load_n(&it->events, __ATOMIC_RELAXED) & ~EP_PRIVATE;

	return want ? file_poll(it->file) & want : 0;
}

/* Lists it (and wakes the instance's sleepers) if it is ready; ep->lock held. */
static void item_queue_if_ready(struct epoll *ep, struct epitem *it)
{
	if (item_events(it) && ready_push(ep, it))
		poll_wake(&ep->poll, EPOLLIN | EPOLLRDNORM);
}

static struct epitem *item_find(struct epoll *ep, int fd)
{
	struct rbtree_node *n = ep->items.root;

	while (n && n->key != (uint64_t)fd)
		n = n->child[(uint64_t)fd > n->key];
	return n ? container_of(n, struct epitem, node) : NULL;
}

/* Whether its descriptor was closed (or now names another file). */
static bool item_stale(struct epitem *it)
{
	struct file *now = fd_get(it->fd);

	if (now)
		file_put(now);
	return now != it->file;
}

/* Unregisters, unlists and frees it; ep->lock held. */
static void item_remove(struct epoll *ep, struct epitem *it)
{
	poll_remove(&it->waiter);               /* no callback runs after this */
	WITH_LOCK(&ep->ready_lock) {
		if (it->ready)
			ready_unlink(ep, it);
	}
	rbtree_remove(&ep->items, &it->node);
	file_put(it->file);
	free(it);
}

/* --- scanning the ready list, ep->lock held --- */

/* Reports one item taken off the ready list: into *uev, or with uev NULL
 * only finds it ready (and lists it again, consuming nothing).  1 if it
 * was ready, 0 if not (or gone), -EFAULT (it is listed again). */
static int item_report(struct epoll *ep, struct epitem *it, struct epoll_event *uev)
{
	unsigned int flags = __atomic_load_n(&it->events, __ATOMIC_RELAXED);
	struct epoll_event ev;

	if (item_stale(it)) {
		item_remove(ep, it);
		return 0;
	}
	ev.events = item_events(it);
	ev.data = it->data;
	if (!ev.events)
		return 0;
	if (!uev || copy_to_user(uev, &ev, sizeof(ev))) {
		ready_push(ep, it);
		return uev ? -EFAULT : 1;
	}
	if (flags & EPOLLONESHOT)
		__atomic_store_n(&it->events, flags & EP_PRIVATE, __ATOMIC_RELAXED);
	else if (!(flags & EPOLLET))
		ready_push(ep, it);
	return 1;
}

/* Takes the items listed when it starts, each once, until max are
 * reported (into uev; uev NULL: until one is found ready).  Returns the
 * number reported, or -EFAULT if the first could not be stored. */
static int ep_scan(struct epoll *ep, struct epoll_event *uev, int max)
{
	int count = 0;

	for (unsigned int todo = ready_count(ep); todo && count < max; todo--) {
		struct epitem *it = ready_pop(ep);
		int r;

		if (!it)
			break;
		r = item_report(ep, it, uev ? uev + count : NULL);
		if (r < 0)
			return count ? count : r;
		count += r;
	}
	return count;
}

/* --- the instance as a file --- */

static unsigned int epoll_poll(struct file *f)
{
	struct epoll *ep = f->priv;
	int ready = 0;

	WITH_LOCK(&ep->lock)
		ready = ep_scan(ep, NULL, 1);
	return ready > 0 ? EPOLLIN | EPOLLRDNORM : 0;
}

static void epoll_release(struct file *f)
{
	struct epoll *ep = f->priv;
	struct rbtree_node *n;

	WITH_LOCK(&ep->lock) {
		while ((n = rbtree_first(&ep->items)))
			item_remove(ep, container_of(n, struct epitem, node));
	}
	free(ep);
}

static const struct file_ops epoll_ops = {
	.poll = epoll_poll,
	.release = epoll_release,
	.name = "anon_inode:[eventpoll]",
};

struct file *epoll_file_create(void)
{
	struct epoll *ep = calloc(1, sizeof(*ep));
	struct file *f;

	if (!ep)
		return ERR_PTR(-ENOMEM);
	mutex_init(&ep->lock, false);
	mutex_init(&ep->ready_lock, false);
	rbtree_init(&ep->items);
	poll_head_init(&ep->poll);
	f = file_alloc(&epoll_ops, O_RDWR, ep);
	if (IS_ERR(f)) {
		free(ep);
		return f;
	}
	f->poll = &ep->poll;
	return f;
}

/* --- epoll_ctl --- */

static int ep_add(struct epoll *ep, int fd, struct file *f, const struct epoll_event *ev)
{
	struct epitem *it = calloc(1, sizeof(*it));

	if (!it)
		return -ENOMEM;
	it->ep = ep;
	it->fd = fd;
	it->file = f;
	it->events = ev->events | EPOLLERR | EPOLLHUP;
	it->data = ev->data;
	it->waiter.fn = item_wake;
	it->waiter.priv = it;
	WITH_LOCK(&ep->lock) {
		struct epitem *old = item_find(ep, fd);

		if (old && old->file == f) {
			free(it);
			return -EEXIST;
		}
		if (old)
			item_remove(ep, old);           /* stale: fd was closed and reused */
		file_get(f);
		rbtree_insert(&ep->items, &it->node, (uint64_t)fd);
		if (f->poll)
			poll_add(f->poll, &it->waiter);
		item_queue_if_ready(ep, it);
	}
	return 0;
}

static int ep_mod(struct epoll *ep, int fd, struct file *f, const struct epoll_event *ev)
{
	WITH_LOCK(&ep->lock) {
		struct epitem *it = item_find(ep, fd);

		if (!it || it->file != f)
			return -ENOENT;
		if (it->events & EPOLLEXCLUSIVE)
			return -EINVAL;
		it->data = ev->data;
		__atomic_store_n(&it->events, ev->events | EPOLLERR | EPOLLHUP, __ATOMIC_RELAXED);
		item_queue_if_ready(ep, it);
	}
	return 0;
}

static int ep_del(struct epoll *ep, int fd, struct file *f)
{
	WITH_LOCK(&ep->lock) {
		struct epitem *it = item_find(ep, fd);

		if (!it || it->file != f)
			return -ENOENT;
		item_remove(ep, it);
	}
	return 0;
}

/* Whether `to` is reachable from `from` through items that are epoll
 * instances, or the nesting below `from` is too deep; epoll_nest_lock held. */
static bool ep_reaches(struct epoll *from, struct epoll *to, int depth)
{
	bool found = from == to || depth > EP_MAX_NESTS;

	WITH_LOCK(&from->lock) {
		for (struct rbtree_node *n = rbtree_first(&from->items); n && !found;
		     n = rbtree_next(n)) {
			struct file *f = container_of(n, struct epitem, node)->file;

			if (f->ops == &epoll_ops)
				found = ep_reaches(f->priv, to, depth + 1);
		}
	}
	return found;
}

static int ep_add_nested(struct epoll *ep, int fd, struct file *f, const struct epoll_event *ev)
{
	WITH_LOCK(&epoll_nest_lock) {
		if (ep_reaches(f->priv, ep, 1))
			return -ELOOP;
		return ep_add(ep, fd, f, ev);
	}
	return 0;                               /* not reached */
}

/* The checks Linux makes before looking at the items. */
static int ctl_check(struct file *epf, int op, struct file *f, const struct epoll_event *ev)
{
	if (epf->ops != &epoll_ops || f == epf)
		return -EINVAL;
	if (!f->ops->poll && f->vnode)
		return -EPERM;                  /* regular files and directories */
	if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
		return -EINVAL;
	if (op != EPOLL_CTL_DEL && (ev->events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD || f->ops == &epoll_ops || (ev->events & ~EP_EXCLUSIVE_OK))
			return -EINVAL;
	}
	return 0;
}

int epoll_file_ctl(struct file *epf, int op, int fd, struct file *f, const struct epoll_event *ev)
{
	struct epoll *ep = epf->priv;
	int err = ctl_check(epf, op, f, ev);

	if (err)
		return err;
	switch (op) {
	case EPOLL_CTL_ADD:
		if (f->ops == &epoll_ops)
			return ep_add_nested(ep, fd, f, ev);
		return ep_add(ep, fd, f, ev);
	case EPOLL_CTL_MOD:
		return ep_mod(ep, fd, f, ev);
	default:
		return ep_del(ep, fd, f);
	}
}

/* --- epoll_wait --- */

long epoll_file_wait(struct file *epf, struct epoll_event *uevents, int max, uint64_t deadline_ns)
{
	struct epoll *ep = epf->priv;
	struct poll_sleeper s;
	struct poll_waiter w;
	bool timed_out = false;
	int n = 0;

	if (epf->ops != &epoll_ops || max <= 0 || max > EP_MAX_EVENTS)
		return -EINVAL;
	poll_sleeper_init(&s);
	poll_sleeper_add(&s, &w, &ep->poll);
	for (;;) {
		WITH_LOCK(&ep->lock)
			n = ep_scan(ep, uevents, max);
		if (n || timed_out)
			break;
		if (thread_signal_pending()) {
			n = -EINTR;
			break;
		}
		timed_out = !poll_sleeper_wait(&s, deadline_ns);
	}
	poll_remove(&w);
	return n;
}
