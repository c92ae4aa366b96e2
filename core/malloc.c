/*
 * core/malloc.c - the heap: malloc, free, calloc, realloc, aligned_alloc,
 * posix_memalign, malloc_usable_size (interface: core/mm.h; design:
 * core/malloc_impl.h), and their fast paths.
 *
 * Names.  The functions have their standard names: the kernel and the
 * application share one heap, and the application's libc is built without
 * an allocator of its own.  The host unit test compiles the heap with
 * -Dmalloc=kmalloc -Dfree=kfree ... (UNIT_DEFS_malloc in the Makefile), as
 * it does printk's formatter, so that its own process keeps the host's.
 *
 * The fast paths: malloc of a small block pops the calling CPU's list for
 * its class, free of a block of the CPU's current slab pushes onto it; both
 * with interrupts off and no atomic instruction.  Everything else is in
 * malloc_slab.c (small blocks) and malloc_large.c (large blocks).
 *
 * Where the standards leave a choice, musl's: malloc(0) returns a unique
 * pointer, and realloc(p, 0) returns a block of the smallest class, not NULL
 * (glibc frees p and returns NULL).  realloc keeps a block in place when the
 * new size fits and is not much smaller (small blocks: down to the next
 * class below, as musl; large: down to half); otherwise it allocates,
 * copies and frees.
 *
 * A mapped block (malloc_impl.h) that realloc must resize, to a size that
 * is still a mapped block's, is remapped instead: its pages move, its bytes
 * are not copied.
 */
#include "core/malloc_impl.h"

struct heap_cpu malloc_cpus[CONFIG_MAX_CPUS];
struct heap_remote malloc_remote[CONFIG_MAX_CPUS];
uint64_t malloc_alloc_failures, malloc_bad_frees;

/* Object sizes: 16-byte steps up to 128, then four steps per doubling
 * (at most 25% lost to rounding) up to 8 KiB.  size_class() computes the
 * index. */
const uint32_t malloc_class_size[NCLASS] = {
	16, 32, 48, 64, 80, 96, 112, 128,
	160, 192, 224, 256,
	320, 384, 448, 512,
	640, 768, 896, 1024,
	1280, 1536, 1792, 2048,
	2560, 3072, 3584, 4096,
	5120, 6144, 7168, 8192,
};

void malloc_report_bad(const char *fn, const void *p, const char *why)
{
	__atomic_fetch_add(&malloc_bad_frees, 1, __ATOMIC_RELAXED);
	printk("malloc: %s(%p): %s; ignored\n", fn, p, why);
}

static void *no_memory(bool set_errno)
{
	__atomic_fetch_add(&malloc_alloc_failures, 1, __ATOMIC_RELAXED);
	if (set_errno)
		malloc_set_errno(ENOMEM);
	return NULL;
}

HEAP_INLINE void *small_alloc(unsigned int cls)
{
	unsigned long flags = malloc_irq_save();
	struct pool *p = &malloc_cpus[malloc_cpu_id()].pool[cls];
	struct obj *o = p->free;

	if (likely(o)) {
		p->free = o->next;
		o->mark = 0;
		HEAP_INC(p->nmalloc);
		malloc_irq_restore(flags);
		return o;
	}
	malloc_irq_restore(flags);
	return malloc_small_slow(cls);
}

HEAP_INLINE void small_free(struct slab *s, struct obj *o, const char *fn)
{
	struct slab *empty = NULL;
	unsigned long flags;
	unsigned int cpu;
	struct pool *p;

	if (unlikely(!slab_object_ok(s, o))) {
		malloc_report_bad(fn, o, "not the start of a block");
		return;
	}
	if (unlikely(o->mark == obj_mark(o))) {
		malloc_report_bad(fn, o, "already free (double free?)");
		return;
	}
	o->mark = obj_mark(o);
	flags = malloc_irq_save();
	cpu = malloc_cpu_id();
	p = &malloc_cpus[cpu].pool[s->cls];
	HEAP_INC(p->nfree);
	if (likely(s == p->cur)) {              /* so it is this CPU's */
		o->next = p->free;
		p->free = o;
	} else if (s->owner == cpu) {
		empty = malloc_free_other(s, o);
	} else {
		malloc_remote_push(s, o);
	}
	malloc_irq_restore(flags);
	if (empty)
		malloc_slab_dispose(empty);
}

/* The slab holding p, if p is in one that serves a CPU. */
HEAP_INLINE struct slab *live_slab_of(const void *p)
{
	struct slab *s = slab_of(p);

	return (void *)s != p && malloc_va_ok(s) && slab_live(s) ? s : NULL;
}

HEAP_INLINE void *heap_alloc(size_t n)
{
	if (likely(n <= SMALL_MAX))
		return small_alloc(size_class(n));
	return malloc_large_alloc(n, 0);
}

/* align: a power of two. */
static void *heap_alloc_aligned(size_t align, size_t n)
{
	unsigned int c;

	if (align <= 16)
		return heap_alloc(n);
	if (align > SMALL_MAX || n > SMALL_MAX)
		return malloc_large_alloc(n, align);
	for (c = size_class(n); malloc_class_size[c] & (align - 1); c++)
		;                       /* the class of 8 KiB ends it */
	return small_alloc(c);
}

/* The usable size of a live block; 0 (reported) if p is not one. */
static size_t block_size(void *p, const char *fn)
{
	struct slab *s;
	size_t n;

	if (!((uintptr_t)p & (HEAP_PAGE - 1)) && (n = malloc_large_size(p)))
		return n;
	if ((s = live_slab_of(p)) && slab_object_ok(s, p) && ((struct obj *)p)->mark != obj_mark(p))
		return s->size;
	malloc_report_bad(fn, p, "not an allocated block");
	return 0;
}

static bool fits_in_place(size_t old, size_t n)
{
	if (n > old)
		return false;
	if (old <= SMALL_MAX)
		return size_class(n) + 1 >= size_class(old);
	return n >= old / 2;
}

/* ---- the interface ---- */

void *malloc(size_t n)
{
	void *p = heap_alloc(n);

	return likely(p) ? p : no_memory(true);
}

void free(void *p)
{
	struct slab *s;

	if (unlikely(!((uintptr_t)p & (HEAP_PAGE - 1))) && (!p || malloc_large_free(p)))
		return;
	if (likely(s = live_slab_of(p)))
		small_free(s, p, "free");
	else
		malloc_report_bad("free", p, "not an allocated block");
}

void *calloc(size_t nmemb, size_t size)
{
	size_t n;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &n))
		return no_memory(true);
	if ((p = malloc(n)))
		memset(p, 0, n);
	return p;
}

void *realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	if (!(old = block_size(p, "realloc"))) {
		malloc_set_errno(EINVAL);
		return NULL;
	}
	if (fits_in_place(old, n))
		return p;
	if (!((uintptr_t)p & (HEAP_PAGE - 1)) && (q = malloc_large_remap(p, old, n)))
		return q;
	if (!(q = malloc(n)))
		return NULL;            /* p stays as it was */
	memcpy(q, p, MIN(old, n));
	free(p);
	return q;
}

void *aligned_alloc(size_t align, size_t n)
{
	void *p;

	if (align & (align - 1)) {
		malloc_set_errno(EINVAL);
		return NULL;
	}
	p = heap_alloc_aligned(align, n);
	return likely(p) ? p : no_memory(true);
}

int posix_memalign(void **memptr, size_t align, size_t n)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	if (!(p = heap_alloc_aligned(align, n))) {
		no_memory(false);
		return ENOMEM;
	}
	*memptr = p;
	return 0;
}

size_t malloc_usable_size(void *p)
{
	return p ? block_size(p, "malloc_usable_size") : 0;
}
