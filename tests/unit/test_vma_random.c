/*
 * tests/unit/test_vma_random.c - host unit tests for the mapping set
 * (core/vma.c over core/rbtree.c): random sequences of every operation,
 * with allocation failures injected now and then, checked after each one
 * against a reference model (one entry per page of a 4096-page area), by
 * vma_check and by the hooks' counts of live records and owner references
 * (tests/unit/vma_harness.c).  The exact tests are test_vma.c.
 *
 * Each test is one seed; a wrong result prints the seed and the number of
 * the operation (with VMA_DEBUG set in the environment, the set too).
 * Build and run: make build/unit/test_vma_random && build/unit/test_vma_random
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "core/errno.h"
#include "tests/unit/vma_harness.h"

/* --- random operations against a per-page model --- */

#define NPAGES  4096
#define BASE    P(256)

struct mpage {
	uint32_t id;            /* the record: equal ids, one record; 0 free */
	uint32_t flags;
	uint8_t prot;
	int8_t file;            /* owner: files[file], or -1 */
	uint64_t offset;        /* file offset, if file >= 0 */
};

static struct model {
	struct mpage pg[NPAGES];
	uint32_t next_id;
} cur, nxt;                     /* nxt: cur's copy, when it may be undone */

static uint32_t *seen;          /* by id: the pass that saw its run end */
static uint32_t seen_cap, pass;

static uint64_t rng;

static uint64_t rand64(void)
{
	return unit_rand(&rng);
}

static uint32_t fresh_id(struct model *m)
{
	return ++m->next_id;
}

static bool m_mergeable(const struct mpage *a, const struct mpage *b)
{
	return a->id && b->id && a->prot == b->prot && a->flags == b->flags &&
	       (a->flags & VMA_MAP_ANONYMOUS) &&
	       (a->flags & VMA_MAP_TYPE) == VMA_MAP_PRIVATE &&
	       a->file < 0 && b->file < 0;
}

static void relabel_run(struct model *m, int i, uint32_t id)
{
	uint32_t old = m->pg[i].id;

	for (; i < NPAGES && m->pg[i].id == old; i++)
		m->pg[i].id = id;
}

/* What the set's records must be: a record cut in two is two records,
 * touching mergeable records are one. */
static void m_normalize(struct model *m)
{
	if (m->next_id + NPAGES + 1 > seen_cap) {   /* a pass adds < NPAGES */
		seen_cap = 2 * (m->next_id + NPAGES + 1);
		seen = realloc(seen, seen_cap * sizeof(*seen));
		memset(seen, 0, seen_cap * sizeof(*seen));
		pass = 0;
	}
	pass++;
	for (int i = 0; i < NPAGES; i++) {
		struct mpage *p = &m->pg[i];
		if (!p->id || (i > 0 && m->pg[i - 1].id == p->id))
			continue;
		if (seen[p->id] == pass)
			relabel_run(m, i, fresh_id(m));
		seen[p->id] = pass;
	}
	for (int i = 1; i < NPAGES; i++)
		if (m->pg[i].id != m->pg[i - 1].id &&
		    m_mergeable(&m->pg[i - 1], &m->pg[i]))
			relabel_run(m, i, m->pg[i - 1].id);
}

static int page_of(uint64_t addr)
{
	return (int)((addr - BASE) / PG);
}

/* The lowest run of n free pages at or after page from, or -1. */
static int m_gap(const struct model *m, int from, int n)
{
	int run = 0;

	for (int i = from; i < NPAGES; i++) {
		run = m->pg[i].id ? 0 : run + 1;
		if (run == n)
			return i - n + 1;
	}
	return -1;
}

static void m_set(struct model *m, int first, int n, uint32_t id,
		  uint8_t prot, uint32_t flags)
{
	for (int i = first; i < first + n; i++)
		m->pg[i] = (struct mpage){ id, flags, prot, -1, 0 };
}

static bool m_in_bounds(uint64_t start, uint64_t len)
{
	return start >= BASE && start <= BASE + P(NPAGES) &&
	       len <= BASE + P(NPAGES) - start;
}

static uint64_t pages_of(uint64_t len)
{
	return len > UINT64_MAX - PG + 1 ? 0 : (len + PG - 1) / PG;
}

static int m_map(struct model *m, uint64_t start, uint64_t len, uint8_t prot,
		 uint32_t flags, bool fixed, bool noreplace, uint64_t *at)
{
	uint64_t n = pages_of(len);
	int first;

	if (!len)
		return -EINVAL;
	if (fixed) {
		if ((start % PG) || !n || !m_in_bounds(start, n * PG))
			return -EINVAL;
		first = page_of(start);
		for (uint64_t i = 0; noreplace && i < n; i++)
			if (m->pg[first + i].id)
				return -EEXIST;
	} else {
		uint64_t hint = (start + PG - 1) / PG * PG;
		first = -1;
		if (!n || n > NPAGES)
			return -ENOMEM;
		if (start < BASE + P(NPAGES))
			first = m_gap(m, hint < BASE ? 0 : page_of(hint), (int)n);
		if (first < 0 && start > BASE)
			first = m_gap(m, 0, (int)n);
		if (first < 0)
			return -ENOMEM;
	}
	m_set(m, first, (int)n, fresh_id(m), prot, flags);
	*at = BASE + P(first);
	return 0;
}

static int m_unmap(struct model *m, uint64_t start, uint64_t len)
{
	uint64_t n = pages_of(len);

	if ((start % PG) || !n || !m_in_bounds(start, n * PG))
		return -EINVAL;
	m_set(m, page_of(start), (int)n, 0, 0, 0);
	return 0;
}

static int m_protect(struct model *m, uint64_t start, uint64_t len, uint8_t prot)
{
	uint64_t n = pages_of(len);
	uint32_t old = 0, id = 0;

	if (start % PG)
		return -EINVAL;
	if (!len)
		return 0;
	if (!n || !m_in_bounds(start, n * PG))
		return -ENOMEM;
	for (int i = page_of(start); i < page_of(start) + (int)n; i++)
		if (!m->pg[i].id)
			return -ENOMEM;
	for (int i = page_of(start); i < page_of(start) + (int)n; i++) {
		struct mpage *p = &m->pg[i];
		if (p->prot == prot)
			continue;
		if (p->id != old) {
			old = p->id;
			id = fresh_id(m);
		}
		p->id = id;
		p->prot = prot;
	}
	return 0;
}

/* Pages [first, first+n) take the attributes of page src, continued. */
static void m_extend(struct model *m, int first, int n, const struct mpage *src,
		     uint64_t offset)
{
	for (int i = 0; i < n; i++) {
		m->pg[first + i] = *src;
		m->pg[first + i].offset = offset + P(i);
	}
}

static int m_resize(struct model *m, uint64_t old_start, uint64_t old_len,
		    uint64_t new_len, bool may_move, uint64_t *to)
{
	uint64_t on = pages_of(old_len), nn = pages_of(new_len);
	int first = page_of(old_start), end, dest;
	struct mpage head;

	if ((old_start % PG) || !on || !nn)
		return -EINVAL;
	if (!m_in_bounds(old_start, PG) || !m->pg[first].id ||
	    on > (uint64_t)(NPAGES - first))
		return -EFAULT;
	for (uint64_t i = 0; i < on; i++)
		if (m->pg[first + i].id != m->pg[first].id)
			return -EFAULT;
	end = first + (int)on;
	*to = old_start;
	if (nn <= on)
		return nn < on ? m_unmap(m, old_start + P(nn), P(on - nn)) : 0;
	if ((end == NPAGES || m->pg[end].id != m->pg[first].id) &&
	    nn <= (uint64_t)(NPAGES - first) && m_gap(m, end, (int)(nn - on)) == end) {
		m_extend(m, end, (int)(nn - on), &m->pg[end - 1],
			 m->pg[end - 1].offset + PG);
		return 0;
	}
	if (!may_move || nn > NPAGES || (dest = m_gap(m, 0, (int)nn)) < 0)
		return -ENOMEM;
	head = m->pg[first];
	head.id = fresh_id(m);
	m_extend(m, dest, (int)nn, &head, head.offset);
	m_set(m, first, (int)on, 0, 0, 0);
	*to = BASE + P(dest);
	return 0;
}

/* The set's records are exactly the model's runs of equal ids. */
static void compare_(int line, const struct model *m)
{
	int next = 0;
	const char *why = NULL;

	for (struct vma *v = vma_first(&s); v && !why; v = vma_next(v)) {
		int a = page_of(v->start), b = page_of(v->end);
		const struct mpage *h = &m->pg[a];
		while (next < a && !why)
			if (m->pg[next++].id)
				why = "a mapped page has no record";
		if (a > 0 && m->pg[a - 1].id == h->id && h->id)
			why = "a record starts inside a model run";
		for (int i = a; i < b && !why; i++) {
			const struct mpage *p = &m->pg[i];
			if (!p->id || p->id != h->id)
				why = "a record covers pages of several runs";
			else if (p->prot != v->prot || p->flags != v->flags)
				why = "prot or flags differ";
			else if (p->file != file_of(v->owner))
				why = "owner differs";
			else if (p->file >= 0 &&
				 p->offset != v->offset + P(i - a))
				why = "file offset differs";
		}
		next = b;
	}
	while (next < NPAGES && !why)
		if (m->pg[next++].id)
			why = "a mapped page past the last record";
	if (why)
		unit_fail(__FILE__, line, "the set differs from the model: %s", why);
}

static uint64_t rand_addr(void)
{
	uint64_t r = rand64() % 64;

	if (r == 0)
		return rand64() % BASE;                         /* below lo */
	if (r == 1)
		return BASE + P(NPAGES) + P(rand64() % 8);      /* past hi */
	if (r == 2)
		return BASE + rand64() % P(NPAGES);             /* misaligned */
	return BASE + P(rand64() % NPAGES);
}

static uint64_t rand_len(void)
{
	uint64_t r = rand64() % 100;

	if (r < 2)
		return r ? UINT64_MAX - rand64() % P(2) : 0;
	if (r < 70)
		return P(1 + rand64() % 8) - (r < 10 ? rand64() % PG : 0);
	if (r < 97)
		return P(1 + rand64() % 64);
	return P(1 + rand64() % 1024);
}

static void spot_checks(const struct model *m)
{
	for (int k = 0; k < 4; k++) {
		uint64_t addr = BASE + rand64() % P(NPAGES);
		int i = page_of(addr), lo = i, hi = i;
		struct vma *v = vma_find(&s, addr), *near;
		CHECK((v != NULL) == (m->pg[i].id != 0));
		CHECK(!v || (v->start <= addr && addr < v->end));
		if (v)
			continue;
		while (lo >= 0 && !m->pg[lo].id)
			lo--;
		while (hi < NPAGES && !m->pg[hi].id)
			hi++;
		near = vma_find_near(&s, addr);
		if (lo < 0 && hi == NPAGES)
			CHECK(near == NULL);
		else if (hi == NPAGES || (lo >= 0 &&
			 addr - (BASE + P(lo + 1) - 1) <= BASE + P(hi) - addr))
			CHECK(near == vma_find(&s, BASE + P(lo)));
		else
			CHECK(near == vma_find(&s, BASE + P(hi)));
	}
}

static uint32_t flags_at(uint64_t at)
{
	struct vma *v = vma_find(&s, at);

	return v ? v->flags : VMA_MAP_ANONYMOUS;
}

static const uint32_t flag_choices[] = { ANON, ANON, ANON, SHANON, FILEMAP,
					 ANON | VMA_MAP_STACK };
static const uint8_t prot_choices[] = { R, RW, RW, 0 };

struct outcome {
	int kind, ret, mret;
	uint64_t at, mat;       /* the set's and the model's new address */
	uint64_t a, len;
};

/* One random operation, on the set and on the model m. */
static struct outcome random_op(struct model *m)
{
	uint64_t a = rand_addr(), len = rand_len();
	uint8_t prot = prot_choices[rand64() % 4];
	uint32_t flags = flag_choices[rand64() % 6];
	struct outcome o = { .kind = (int)(rand64() % 10) };

	switch (o.kind) {
	case 0: case 1: case 2: {
		bool fixed = o.kind != 0, noreplace = o.kind == 2 && rand64() % 2;
		if (!fixed && rand64() % 3 == 0)
			a = 0;
		o.ret = vma_map(&s, a, len, prot, flags, fixed, noreplace, &o.at);
		o.mret = m_map(m, a, len, prot, flags, fixed, noreplace, &o.mat);
		break;
	}
	case 3: case 4:
		o.ret = vma_unmap(&s, a, len);
		o.mret = m_unmap(m, a, len);
		break;
	case 5: case 6: case 7:
		o.ret = vma_protect(&s, a, len, prot);
		o.mret = m_protect(m, a, len, prot);
		break;
	default: {
		bool may_move = rand64() % 2;
		uint64_t nlen = rand_len();
		if (rand64() % 2) {     /* often a range that is mapped */
			struct vma *v = vma_find_near(&s, a);
			if (v) {
				a = v->start + P(rand64() % ((v->end - v->start) / PG));
				len = P(1 + rand64() % ((v->end - a) / PG));
			}
		}
		o.ret = vma_resize(&s, a, len, nlen, may_move, &o.at);
		o.mret = m_resize(m, a, len, nlen, may_move, &o.mat);
		break;
	}
	}
	o.a = a;
	o.len = len;
	return o;
}

/* After a successful map of a file: the caller sets owner and offset. */
static void set_owner(struct model *m, uint64_t at)
{
	struct vma *v = vma_find(&s, at);
	int f = (int)(rand64() % NFILES), first = page_of(at);
	uint64_t off = P(rand64() % 1000);

	CHECK(v && v->start == at);
	if (!v)
		return;
	v->owner = &files[f];
	v->offset = off;
	file_refs[f]++;
	for (int i = first; i < page_of(v->end); i++) {
		m->pg[i].file = (int8_t)f;
		m->pg[i].offset = off + P(i - first);
	}
}

static void debug_dump(const struct outcome *o)
{
	printf("# a %#llx len %#llx at %#llx mat %#llx\n", (unsigned long long)o->a,
	       (unsigned long long)o->len, (unsigned long long)o->at,
	       (unsigned long long)o->mat);
	for (struct vma *v = vma_first(&s); v; v = vma_next(v))
		printf("#   [%d, %d)\n", page_of(v->start), page_of(v->end));
}

static void run_random(uint64_t seed, int ops)
{
	int mismatches = 0, injected_total = 0, ok_total = 0;

	setup(BASE, BASE + P(NPAGES));
	memset(&cur, 0, sizeof(cur));
	rng = seed;
	for (int n = 0; n < ops && mismatches < 5; n++) {
		int failures = alloc_failures, armed = rand64() % 8 == 0;
		struct model *m = armed ? &nxt : &cur;

		if (armed)
			nxt = cur;      /* the model's side of an undo */
		fail_nth(armed ? 1 + (int)(rand64() % 2) : 0);
		struct outcome o = random_op(m);
		bool injected = alloc_failures != failures;
		fail_nth(0);
		if (injected ? o.ret != -ENOMEM || o.mret != 0 : o.ret != o.mret) {
			if (getenv("VMA_DEBUG"))
				debug_dump(&o);
			unit_fail(__FILE__, __LINE__,
				  "seed %llu op %d kind %d: ret %d, model %d%s",
				  (unsigned long long)seed, n, o.kind, o.ret, o.mret,
				  injected ? " (allocation failed)" : "");
			mismatches++;
		} else if (!injected && !o.ret && (o.kind <= 2 || o.kind >= 8) &&
			   o.at != o.mat) {
			unit_fail(__FILE__, __LINE__,
				  "seed %llu op %d kind %d: at page %lld, model %lld",
				  (unsigned long long)seed, n, o.kind,
				  (long long)page_of(o.at), (long long)page_of(o.mat));
			mismatches++;
		}
		injected_total += injected;
		if (!injected && !o.ret) {
			ok_total++;
			if (o.kind <= 2 && !(flags_at(o.at) & VMA_MAP_ANONYMOUS))
				set_owner(m, o.at);
			m_normalize(m);
			if (armed)
				cur = nxt;
		}
		compare_(__LINE__, &cur);
		check_set();
		spot_checks(&cur);
	}
	CHECK(injected_total > ops / 50);       /* the injection did happen */
	CHECK(ok_total > ops / 3);
	vma_set_destroy(&s);
	CHECK_EQ(live, 0);
	for (int f = 0; f < NFILES; f++)
		CHECK_EQ(file_refs[f], 0);
}

UNIT_TEST(vma_random_1) { run_random(1, 20000); }
UNIT_TEST(vma_random_2) { run_random(0x9e3779b97f4a7c15ULL, 20000); }
UNIT_TEST(vma_random_3) { run_random(12345, 20000); }
UNIT_TEST(vma_random_4) { run_random(777, 20000); }
