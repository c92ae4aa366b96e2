/*
 * core/malloc_slab.c - the heap's small blocks off the fast path (design:
 * core/malloc_impl.h): refilling a CPU's list for a class, new slabs, frees
 * into slabs other than the current one, remote frees and their return to
 * the owner, empty slabs and the spare slots.
 *
 * A slab of a pool is in one of three states: the current one (objects are
 * carved from it, a page's worth at a time, and its free objects are in the
 * pool's list), partial (on the pool's partial list: it has free objects on
 * its own freelist), or full (on no list; every object is handed out or on
 * a remote stack).  A current slab becomes full when the pool's list and its
 * uncarved space both run out; a full one becomes partial when an object
 * comes back; a partial or full one that becomes empty is given up.
 *
 * Everything on a pool is done by its CPU with interrupts off.  Pages are
 * allocated and freed with interrupts on (the page allocator may sleep):
 * a new slab is obtained first and installed after, on whatever CPU the
 * thread is on by then; empty slabs are handed back after.
 */
#include "core/malloc_impl.h"

BUILD_ASSERT(CONFIG_MAX_CPUS <= 65536);         /* struct slab's owner */
BUILD_ASSERT(sizeof(struct slab) <= 64);        /* objects of 16 start at 64 */

static void slab_init(struct slab *s, unsigned int cls, unsigned int cpu)
{
	uint32_t size = malloc_class_size[cls];

	s->owner = cpu;
	s->cls = cls;
	s->state = SLAB_CUR;
	s->size = size;
	s->first = class_first(size);
	s->nobjs = class_nobjs(size);
	s->recip = (uint32_t)(((1ULL << 32) + size - 1) / size);
	HEAP_STORE(s->carved, 0);
	s->used = 0;
	s->freelist = NULL;
	s->next = s->prev = NULL;
	HEAP_STORE(s->magic, SLAB_MAGIC ^ (uintptr_t)s);
}

/* ---- the partial list ---- */

static void partial_push(struct heap_cpu *h, struct slab *s)
{
	struct slab **head = &h->partial[s->cls];

	s->state = SLAB_PARTIAL;
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static void partial_unlink(struct heap_cpu *h, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		h->partial[s->cls] = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

/* An empty slab leaves its pool; the caller disposes of it (irqs on). */
static struct slab *give_up(struct heap_cpu *h, struct slab *s)
{
	if (s->state == SLAB_PARTIAL)
		partial_unlink(h, s);
	HEAP_STORE(s->magic, 0);
	HEAP_STORE(h->nslabs[s->cls], h->nslabs[s->cls] - 1);
	return s;
}

/* o, of this CPU's slab s that is not its pool's current one, is free: on s's
 * freelist.  Returns s if that emptied it (given up), else NULL. */
struct slab *malloc_free_other(struct slab *s, struct obj *o)
{
	struct heap_cpu *h = &malloc_cpus[s->owner];

	if (unlikely(s->used == 0)) {           /* a double free the marker missed */
		malloc_report_bad("free", o, "slab has nothing allocated");
		return NULL;
	}
	o->next = s->freelist;
	s->freelist = o;
	if (--s->used == 0)
		return give_up(h, s);
	if (s->state == SLAB_FULL)
		partial_push(h, s);
	return NULL;
}

/* ---- remote frees ---- */

void malloc_remote_push(const struct slab *s, struct obj *o)
{
	struct obj **head = &malloc_remote[s->owner].head[s->cls];
	struct obj *old = __atomic_load_n(head, __ATOMIC_RELAXED);

	do
		o->next = old;
	while (!__atomic_compare_exchange_n(head, &old, o, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED));
}

/* Takes back what other CPUs freed into this CPU's slabs of class cls.
 * Slabs that this empties are added to *empty (linked through next). */
static void drain_remote(unsigned int cpu, unsigned int cls, struct slab **empty)
{
	struct obj **head = &malloc_remote[cpu].head[cls];
	struct pool *p = &malloc_cpus[cpu].pool[cls];
	struct obj *o, *next;

	if (!__atomic_load_n(head, __ATOMIC_RELAXED))
		return;
	for (o = __atomic_exchange_n(head, NULL, __ATOMIC_ACQUIRE); o; o = next) {
		struct slab *s = slab_of(o), *e;

		next = o->next;
		if (s == p->cur) {
			o->next = p->free;
			p->free = o;
		} else if ((e = malloc_free_other(s, o))) {
			e->next = *empty;
			*empty = e;
		}
	}
}

/* ---- refilling a pool ---- */

/* Makes up to a page's worth of the current slab's uncarved objects into
 * the pool's (empty) list.  False: nothing left to carve. */
static bool carve(struct pool *p)
{
	struct slab *s = p->cur;
	struct obj *head = NULL;
	uint32_t c, n;
	char *base;

	if (!s || s->carved == s->nobjs)
		return false;
	c = s->carved;
	n = MIN(s->nobjs - c, MAX(1u, (uint32_t)(HEAP_PAGE / s->size)));
	base = (char *)s + s->first + (size_t)c * s->size;
	for (uint32_t i = n; i-- > 0;) {
		struct obj *o = (struct obj *)(base + (size_t)i * s->size);

		o->next = head;
		o->mark = obj_mark(o);
		head = o;
	}
	p->free = head;
	HEAP_STORE(s->carved, c + n);
	return true;
}

/* The pool's list and its current slab are exhausted: every object of the
 * slab is handed out (or on a remote stack). */
static void retire_cur(struct pool *p)
{
	struct slab *s = p->cur;

	s->state = SLAB_FULL;
	s->used = s->nobjs;
	p->cur = NULL;
}

static void make_cur(struct pool *p, struct slab *s)
{
	s->state = SLAB_CUR;
	p->cur = s;
	p->free = s->freelist;
	s->freelist = NULL;
}

/* One object for this CPU's pool of class cls, from anything but a new
 * slab; NULL if there is none.  Interrupts off. */
static struct obj *refill(unsigned int cpu, unsigned int cls, struct slab **empty)
{
	struct heap_cpu *h = &malloc_cpus[cpu];
	struct pool *p = &h->pool[cls];
	struct slab *s;
	struct obj *o;

	if (!p->free)
		drain_remote(cpu, cls, empty);
	if (!p->free && !carve(p)) {
		if (p->cur)
			retire_cur(p);
		if (!(s = h->partial[cls]))
			return NULL;
		partial_unlink(h, s);
		make_cur(p, s);
	}
	o = p->free;
	p->free = o->next;
	o->mark = 0;
	HEAP_INC(p->nmalloc);
	return o;
}

static void install(unsigned int cpu, unsigned int cls, struct slab *s)
{
	struct heap_cpu *h = &malloc_cpus[cpu];

	slab_init(s, cls, cpu);
	HEAP_INC(h->nslabs[cls]);
	make_cur(&h->pool[cls], s);
}

/* ---- slabs from and back to the page allocator ---- */

static bool drain_spares(void)
{
	bool any = false;

	for (unsigned int cpu = 0; cpu < CONFIG_MAX_CPUS; cpu++) {
		struct slab *s = __atomic_exchange_n(&malloc_cpus[cpu].spare, NULL, __ATOMIC_ACQ_REL);

		if (s) {
			malloc_pages_free(s, SLAB_ORDER);
			any = true;
		}
	}
	return any;
}

void *malloc_pages_alloc_retry(unsigned int order)
{
	void *va = malloc_pages_alloc(order);

	if (!va && drain_spares())
		va = malloc_pages_alloc(order);
	return va;
}

void malloc_slab_dispose(struct slab *s)
{
	HEAP_STORE(s->magic, 0);        /* a fresh slab not needed after all */
	s = __atomic_exchange_n(&malloc_cpus[malloc_cpu_id()].spare, s, __ATOMIC_ACQ_REL);
	if (s)
		malloc_pages_free(s, SLAB_ORDER);
}

static void dispose_list(struct slab *s)
{
	while (s) {
		struct slab *next = s->next;

		malloc_slab_dispose(s);
		s = next;
	}
}

static struct slab *new_slab(void)
{
	struct slab *s = __atomic_exchange_n(&malloc_cpus[malloc_cpu_id()].spare, NULL,
					     __ATOMIC_ACQ_REL);

	return s ? s : malloc_pages_alloc_retry(SLAB_ORDER);
}

/* malloc's slow path for a small block of class cls.  A new slab is taken
 * with interrupts on, so by the time it is installed the thread may be on
 * another CPU, or the pool refilled: then it is not needed. */
void *malloc_small_slow(unsigned int cls)
{
	struct slab *fresh = NULL, *empty;
	struct obj *o;

	for (;;) {
		unsigned long flags = malloc_irq_save();
		unsigned int cpu = malloc_cpu_id();

		empty = NULL;
		o = refill(cpu, cls, &empty);
		if (!o && fresh) {
			install(cpu, cls, fresh);
			fresh = NULL;
			o = refill(cpu, cls, &empty);
		}
		malloc_irq_restore(flags);
		dispose_list(empty);
		if (o || !(fresh = new_slab()))
			break;
	}
	if (fresh)
		malloc_slab_dispose(fresh);
	return o;
}
