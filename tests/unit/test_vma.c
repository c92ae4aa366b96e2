/*
 * tests/unit/test_vma.c - host unit tests for the mapping set (core/vma.c
 * over core/rbtree.c): exact tests of each operation and its edge cases,
 * and allocation failures injected at every allocation an operation makes
 * (the set must come out unchanged and valid).
 *
 * The set under test and its hooks are in tests/unit/vma_harness.c (the
 * allocation hooks count live records, so a leak fails; the split and free
 * hooks count references on owners: each record with an owner holds one).
 * Random sequences of every operation checked against a reference model
 * are test_vma_random.c.
 * Build and run: make build/unit/test_vma && build/unit/test_vma
 */
#include <string.h>

#include "tests/unit/unit.h"
#include "core/errno.h"
#include "tests/unit/vma_harness.h"

/* --- the exact layout of the set, in pages --- */

struct rec {
	uint64_t start, end;            /* pages */
	uint32_t prot;
};

static void expect_(int line, const struct rec *r, unsigned int n)
{
	struct vma *v = vma_first(&s);
	unsigned int i;

	check_set_(__FILE__, line);
	for (i = 0; i < n && v; i++, v = vma_next(v))
		if (v->start != P(r[i].start) || v->end != P(r[i].end) ||
		    v->prot != r[i].prot)
			break;
	if (i == n && !v)
		return;
	unit_fail(__FILE__, line, "layout differs at record %u; the set has:", i);
	for (v = vma_first(&s); v; v = vma_next(v))
		printf("#     [%llu, %llu) prot %u flags %#x\n",
		       (unsigned long long)(v->start / PG),
		       (unsigned long long)(v->end / PG), v->prot, v->flags);
}
#define EXPECT(...) expect_(__LINE__, (const struct rec[]){ __VA_ARGS__ },   \
	sizeof((const struct rec[]){ __VA_ARGS__ }) / sizeof(struct rec))

static uint64_t map_at(uint64_t page, uint64_t pages, uint32_t prot,
		       uint32_t flags)
{
	uint64_t at = 0;

	CHECK_EQ(vma_map(&s, P(page), P(pages), prot, flags, true, false, &at), 0);
	return at;
}

/* A file mapping whose owner and offset are set, as the mmap layer will. */
static struct vma *map_file(uint64_t page, uint64_t pages, int file,
			    uint64_t offset)
{
	struct vma *v;

	map_at(page, pages, R, FILEMAP);
	v = vma_find(&s, P(page));
	CHECK(v && v->start == P(page) && v->end == P(page + pages));
	v->owner = &files[file];
	v->offset = offset;
	file_refs[file]++;
	return v;
}

/* --- exact tests --- */

UNIT_TEST(vma_init_and_empty)
{
	setup(0, P(100) + 123);
	CHECK_EQ(s.lo, PG);                     /* page 0 is never managed */
	CHECK_EQ(s.hi, P(100));
	setup(P(3) + 1, UINT64_MAX);
	CHECK_EQ(s.lo, P(4));
	CHECK_EQ(s.hi, 1ULL << 63);
	CHECK(vma_first(&s) == NULL);
	CHECK(vma_find(&s, P(5)) == NULL);
	CHECK(vma_find_near(&s, P(5)) == NULL);
	CHECK_EQ(vma_count(&s), 0);
	check_set();
}

UNIT_TEST(vma_map_anywhere_and_merge)
{
	uint64_t at;

	setup(P(1), P(1024));
	CHECK_EQ(vma_map(&s, 0, 100, RW, ANON, false, false, &at), 0);
	CHECK_EQ(at, P(1));                     /* len rounded to one page */
	CHECK_EQ(vma_map(&s, 0, P(2), RW, ANON, false, false, &at), 0);
	CHECK_EQ(at, P(2));
	EXPECT({ 1, 4, RW });                   /* merged: same prot and flags */
	CHECK_EQ(vma_map(&s, 0, P(1), R, ANON, false, false, &at), 0);
	CHECK_EQ(vma_map(&s, 0, P(1), R, ANON | VMA_MAP_STACK, false, false, &at), 0);
	CHECK_EQ(vma_map(&s, 0, P(1), R, SHANON, false, false, &at), 0);
	CHECK_EQ(vma_map(&s, 0, P(1), R, SHANON, false, false, &at), 0);
	CHECK_EQ(vma_map(&s, 0, P(1), R, FILEMAP, false, false, &at), 0);
	CHECK_EQ(vma_map(&s, 0, P(1), R, FILEMAP, false, false, &at), 0);
	/* Another prot or flags, shared or file-backed: never merged. */
	EXPECT({ 1, 4, RW }, { 4, 5, R }, { 5, 6, R }, { 6, 7, R }, { 7, 8, R },
	       { 8, 9, R }, { 9, 10, R });
	CHECK_EQ(vma_find(&s, P(9))->flags, FILEMAP);
}

UNIT_TEST(vma_map_hints_and_exact_gaps)
{
	uint64_t at;

	setup(P(1), P(20));
	map_at(3, 2, R, ANON);                  /* [3,5) */
	map_at(8, 3, RW, ANON);                 /* [8,11) */
	CHECK_EQ(vma_map(&s, P(6), P(2), R, FILEMAP, false, false, &at), 0);
	CHECK_EQ(at, P(6));                     /* the hint itself: free */
	CHECK_EQ(vma_map(&s, P(3) + 5, P(1), R, FILEMAP, false, false, &at), 0);
	CHECK_EQ(at, P(5));                     /* inside a mapping: next gap up */
	CHECK_EQ(vma_map(&s, 0, P(2), R, FILEMAP, false, false, &at), 0);
	CHECK_EQ(at, P(1));                     /* [1,3): exactly fits */
	CHECK_EQ(vma_map(&s, P(1), P(10), R, FILEMAP, false, false, &at), -ENOMEM);
	CHECK_EQ(vma_map(&s, P(15), P(9), R, FILEMAP, false, false, &at), 0);
	CHECK_EQ(at, P(11));                    /* no room at 15: the lowest */
	EXPECT({ 1, 3, R }, { 3, 5, R }, { 5, 6, R }, { 6, 8, R }, { 8, 11, RW },
	       { 11, 20, R });
	CHECK_EQ(vma_map(&s, 0, 1, R, ANON, false, false, &at), -ENOMEM);
	vma_unmap(&s, P(11), P(9));
	CHECK_EQ(vma_map(&s, P(100), P(9), R, ANON, false, false, &at), 0);
	CHECK_EQ(at, P(11));                    /* hint past hi: anywhere */
	CHECK_EQ(vma_map(&s, 0, P(1), R, ANON, false, false, &at), -ENOMEM);
	CHECK_EQ(vma_find_gap(&s, 0, PG, PG, &at), -ENOMEM);
	vma_unmap(&s, P(1), P(1));
	CHECK_EQ(vma_map(&s, P(1) + 1, P(1), RW, ANON, false, false, &at), 0);
	CHECK_EQ(at, P(1));                     /* hint rounds to 2: falls back */
	check_set();
}

UNIT_TEST(vma_map_bounds_and_arguments)
{
	uint64_t at = 77;

	setup(P(1), P(64));
	CHECK_EQ(vma_map(&s, P(2), 0, R, ANON, true, false, &at), -EINVAL);
	CHECK_EQ(vma_map(&s, 0, 0, R, ANON, false, false, &at), -EINVAL);
	CHECK_EQ(vma_map(&s, P(2) + 1, PG, R, ANON, true, false, &at), -EINVAL);
	CHECK_EQ(vma_map(&s, 0, PG, R, ANON, true, false, &at), -EINVAL);
	CHECK_EQ(vma_map(&s, P(63), P(2), R, ANON, true, false, &at), -EINVAL);
	CHECK_EQ(vma_map(&s, P(64), PG, R, ANON, true, false, &at), -EINVAL);
	CHECK_EQ(vma_map(&s, UINT64_MAX & ~(PG - 1), P(2), R, ANON, true, false,
			 &at), -EINVAL);
	CHECK_EQ(vma_map(&s, P(2), UINT64_MAX, R, ANON, true, false, &at), -EINVAL);
	CHECK_EQ(vma_map(&s, 0, UINT64_MAX, R, ANON, false, false, &at), -ENOMEM);
	CHECK_EQ(vma_map(&s, 0, P(64), R, ANON, false, false, &at), -ENOMEM);
	CHECK_EQ(at, 77);                       /* untouched on failure */
	CHECK_EQ(vma_count(&s), 0);
	CHECK_EQ(vma_map(&s, P(1), P(63), R, ANON, true, false, &at), 0);
	EXPECT({ 1, 64, R });                   /* all of [lo, hi) */
}

UNIT_TEST(vma_map_fixed_replaces)
{
	setup(P(1), P(64));
	map_at(2, 3, R, ANON);                  /* [2,5) */
	map_at(6, 2, RW, ANON);                 /* [6,8) */
	map_at(9, 3, R, SHANON);                /* [9,12) */
	map_at(3, 7, VMA_PROT_EXEC, ANON);      /* over all three */
	EXPECT({ 2, 3, R }, { 3, 10, VMA_PROT_EXEC }, { 10, 12, R });
	CHECK_EQ(vma_find(&s, P(10))->flags, SHANON);
	map_at(20, 10, R, ANON);
	map_at(24, 2, RW, ANON);                /* the middle of one: 3 pieces */
	EXPECT({ 2, 3, R }, { 3, 10, VMA_PROT_EXEC }, { 10, 12, R },
	       { 20, 24, R }, { 24, 26, RW }, { 26, 30, R });
	map_at(24, 2, R, ANON);                 /* the same as around: merges */
	EXPECT({ 2, 3, R }, { 3, 10, VMA_PROT_EXEC }, { 10, 12, R }, { 20, 30, R });
	map_at(12, 8, R, SHANON);               /* fills the hole exactly */
	EXPECT({ 2, 3, R }, { 3, 10, VMA_PROT_EXEC }, { 10, 12, R },
	       { 12, 20, R }, { 20, 30, R });
	map_at(1, 63, RW, ANON);                /* everything */
	EXPECT({ 1, 64, RW });
}

UNIT_TEST(vma_map_noreplace)
{
	uint64_t at = 0;

	setup(P(1), P(64));
	map_at(10, 4, R, ANON);
	CHECK_EQ(vma_map(&s, P(8), P(3), RW, ANON, true, true, &at), -EEXIST);
	CHECK_EQ(vma_map(&s, P(13), P(1), RW, ANON, true, true, &at), -EEXIST);
	CHECK_EQ(vma_map(&s, P(5), P(20), RW, ANON, true, true, &at), -EEXIST);
	EXPECT({ 10, 14, R });
	CHECK_EQ(vma_map(&s, P(6), P(4), R, ANON, true, true, &at), 0);
	CHECK_EQ(vma_map(&s, P(14), P(2), RW, ANON, true, true, &at), 0);
	CHECK_EQ(at, P(14));
	EXPECT({ 6, 14, R }, { 14, 16, RW });   /* touching is no conflict */
}

UNIT_TEST(vma_unmap_cases)
{
	setup(P(1), P(64));
	map_at(10, 10, R, ANON);
	CHECK_EQ(vma_unmap(&s, P(14), P(2)), 0);        /* the middle */
	EXPECT({ 10, 14, R }, { 16, 20, R });
	CHECK_EQ(vma_unmap(&s, P(10), 1), 0);           /* front; len rounds up */
	CHECK_EQ(vma_unmap(&s, P(19), P(30)), 0);       /* back, and beyond */
	EXPECT({ 11, 14, R }, { 16, 19, R });
	CHECK_EQ(vma_unmap(&s, P(30), P(5)), 0);        /* nothing there */
	CHECK_EQ(vma_unmap(&s, P(12), P(6)), 0);        /* across the hole */
	EXPECT({ 11, 12, R }, { 18, 19, R });
	CHECK_EQ(vma_unmap(&s, P(12) + 8, PG), -EINVAL);
	CHECK_EQ(vma_unmap(&s, P(12), 0), -EINVAL);
	CHECK_EQ(vma_unmap(&s, 0, P(2)), -EINVAL);      /* below lo */
	CHECK_EQ(vma_unmap(&s, P(60), P(5)), -EINVAL);  /* past hi */
	CHECK_EQ(vma_unmap(&s, P(60), UINT64_MAX), -EINVAL);
	EXPECT({ 11, 12, R }, { 18, 19, R });
	CHECK_EQ(vma_unmap(&s, P(1), P(63)), 0);
	CHECK_EQ(vma_count(&s), 0);
	check_set();
}

UNIT_TEST(vma_protect_cases)
{
	setup(P(1), P(64));
	map_at(10, 10, RW, ANON);
	CHECK_EQ(vma_protect(&s, P(14), PG, R), 0);     /* one page: 3 pieces */
	EXPECT({ 10, 14, RW }, { 14, 15, R }, { 15, 20, RW });
	CHECK_EQ(vma_protect(&s, P(14), PG, RW), 0);    /* back: one again */
	EXPECT({ 10, 20, RW });
	CHECK_EQ(vma_protect(&s, P(10), P(3), R), 0);   /* front */
	CHECK_EQ(vma_protect(&s, P(18), P(2), R), 0);   /* back */
	EXPECT({ 10, 13, R }, { 13, 18, RW }, { 18, 20, R });
	CHECK_EQ(vma_protect(&s, P(10), P(10), R), 0);  /* across three: one */
	EXPECT({ 10, 20, R });
	map_at(20, 2, R, SHANON);
	CHECK_EQ(vma_protect(&s, P(19), P(2), RW), 0);  /* across two records */
	EXPECT({ 10, 19, R }, { 19, 20, RW }, { 20, 21, RW }, { 21, 22, R });
	/* Holes: -ENOMEM and nothing changed. */
	CHECK_EQ(vma_protect(&s, P(21), P(2), 0), -ENOMEM);
	CHECK_EQ(vma_protect(&s, P(8), P(3), 0), -ENOMEM);
	CHECK_EQ(vma_protect(&s, P(30), P(1), 0), -ENOMEM);
	CHECK_EQ(vma_protect(&s, P(60), P(10), 0), -ENOMEM);
	CHECK_EQ(vma_protect(&s, P(10), UINT64_MAX, 0), -ENOMEM);
	CHECK_EQ(vma_protect(&s, P(10) + 1, PG, 0), -EINVAL);
	CHECK_EQ(vma_protect(&s, P(10), 0, 0), 0);
	EXPECT({ 10, 19, R }, { 19, 20, RW }, { 20, 21, RW }, { 21, 22, R });
	/* Already so: succeeds without allocating anything. */
	fail_nth(1);
	CHECK_EQ(vma_protect(&s, P(12), P(2), R), 0);
	CHECK_EQ(alloc_calls, 0);
	fail_nth(0);
	/* A file mapping is split but never merged back. */
	map_file(40, 6, 2, P(100));
	CHECK_EQ(vma_protect(&s, P(42), P(2), RW), 0);
	CHECK_EQ(vma_protect(&s, P(42), P(2), R), 0);
	EXPECT({ 10, 19, R }, { 19, 20, RW }, { 20, 21, RW }, { 21, 22, R },
	       { 40, 42, R }, { 42, 44, R }, { 44, 46, R });
	CHECK_EQ(vma_find(&s, P(42))->offset, P(102));
	CHECK_EQ(vma_find(&s, P(45))->offset, P(104));
	CHECK_EQ(file_refs[2], 3);
}

/* vma_reserve: records set aside first, so that a munmap whose pages are
 * already gone cannot fail to change its records. */
UNIT_TEST(vma_reserve_then_unmap_cannot_fail)
{
	setup(P(1), P(1000));
	CHECK_EQ(vma_map(&s, P(10), P(10), RW, ANON, true, false, &(uint64_t){ 0 }), 0);
	fail_nth(1);
	CHECK_EQ(vma_reserve(&s, 2), -ENOMEM);         /* nothing changed */
	CHECK_EQ(vma_count(&s), 1);
	fail_nth(0);
	CHECK_EQ(vma_reserve(&s, 2), 0);
	CHECK_EQ(s.nreserve, 2);
	CHECK_EQ(vma_reserve(&s, 5), 0);               /* at most two */
	fail_nth(1);                                    /* every later allocation fails */
	CHECK_EQ(vma_unmap(&s, P(14), P(2)), 0);       /* a hole: one reserved record */
	CHECK_EQ(alloc_calls, 0);
	CHECK_EQ(s.nreserve, 1);
	EXPECT({ 10, 14, RW }, { 16, 20, RW });
	fail_nth(0);
	check_set();
	vma_set_destroy(&s);
	CHECK_EQ(s.nreserve, 0);
	CHECK_EQ(live, 0);
}

UNIT_TEST(vma_offsets_follow_splits_and_trims)
{
	setup(P(1), P(64));
	map_file(10, 10, 1, P(1000));
	CHECK_EQ(vma_unmap(&s, P(12), P(2)), 0);        /* split */
	CHECK_EQ(vma_unmap(&s, P(10), P(1)), 0);        /* front trim */
	EXPECT({ 11, 12, R }, { 14, 20, R });
	CHECK_EQ(vma_find(&s, P(11))->offset, P(1001));
	CHECK_EQ(vma_find(&s, P(14))->offset, P(1004));
	CHECK(vma_find(&s, P(14))->owner == &files[1]);
	CHECK_EQ(file_refs[1], 2);
	map_at(15, 1, RW, ANON);                        /* fixed, in the middle */
	CHECK_EQ(vma_find(&s, P(16))->offset, P(1006));
	CHECK(vma_find(&s, P(15))->owner == NULL);
	CHECK_EQ(file_refs[1], 3);
	check_set();
	CHECK_EQ(vma_unmap(&s, P(1), P(63)), 0);
	CHECK_EQ(file_refs[1], 0);
}

UNIT_TEST(vma_resize_cases)
{
	uint64_t to = 0;

	setup(P(1), P(64));
	map_at(10, 4, RW, ANON);
	map_at(20, 4, R, ANON);
	CHECK_EQ(vma_resize(&s, P(10), P(4), P(6), false, &to), 0);    /* grow */
	CHECK_EQ(to, P(10));
	EXPECT({ 10, 16, RW }, { 20, 24, R });
	CHECK_EQ(vma_resize(&s, P(10), P(6), P(10), false, &to), 0);   /* exactly */
	EXPECT({ 10, 20, RW }, { 20, 24, R });
	CHECK_EQ(vma_resize(&s, P(10), P(10), P(11), false, &to), -ENOMEM);
	CHECK_EQ(vma_resize(&s, P(10), P(2), P(3), false, &to), -ENOMEM);
	CHECK_EQ(vma_resize(&s, P(10), P(10), P(7), false, &to), 0);    /* shrink */
	EXPECT({ 10, 17, RW }, { 20, 24, R });
	CHECK_EQ(vma_resize(&s, P(10), P(2), P(1), false, &to), 0);     /* middle */
	EXPECT({ 10, 11, RW }, { 12, 17, RW }, { 20, 24, R });
	CHECK_EQ(vma_resize(&s, P(12), P(5), P(5), false, &to), 0);     /* same */
	CHECK_EQ(to, P(12));
	/* Errors: not within one record, not mapped, arguments. */
	CHECK_EQ(vma_resize(&s, P(10), P(3), P(4), true, &to), -EFAULT);
	CHECK_EQ(vma_resize(&s, P(13), P(5), P(6), true, &to), -EFAULT);
	CHECK_EQ(vma_resize(&s, P(30), P(1), P(2), true, &to), -EFAULT);
	CHECK_EQ(vma_resize(&s, P(12), UINT64_MAX - PG, P(2), true, &to), -EFAULT);
	CHECK_EQ(vma_resize(&s, P(12) + 1, P(1), P(2), true, &to), -EINVAL);
	CHECK_EQ(vma_resize(&s, P(12), 0, P(2), true, &to), -EINVAL);
	CHECK_EQ(vma_resize(&s, P(12), P(1), 0, true, &to), -EINVAL);
	EXPECT({ 10, 11, RW }, { 12, 17, RW }, { 20, 24, R });
	/* Moves: the whole record, then a piece from the middle of one. */
	map_at(24, 1, RW, ANON);                /* blocks growth in place */
	CHECK_EQ(vma_resize(&s, P(20), P(4), P(8), true, &to), 0);
	CHECK_EQ(to, P(1));                     /* the lowest gap of 8 pages */
	EXPECT({ 1, 9, R }, { 10, 11, RW }, { 12, 17, RW }, { 24, 25, RW });
	CHECK_EQ(vma_resize(&s, P(13), P(2), P(3), true, &to), 0);
	CHECK_EQ(to, P(17));                    /* merges with [15,17) */
	EXPECT({ 1, 9, R }, { 10, 11, RW }, { 12, 13, RW }, { 15, 20, RW },
	       { 24, 25, RW });
	/* No growth at hi; the move lands against a record it merges with. */
	map_at(60, 4, RW, ANON);
	CHECK_EQ(vma_resize(&s, P(60), P(4), P(5), false, &to), -ENOMEM);
	CHECK_EQ(vma_resize(&s, P(60), P(4), P(5), true, &to), 0);
	CHECK_EQ(to, P(25));
	EXPECT({ 1, 9, R }, { 10, 11, RW }, { 12, 13, RW }, { 15, 20, RW },
	       { 24, 30, RW });
	CHECK_EQ(vma_resize(&s, P(15), P(5), P(50), true, &to), -ENOMEM);
	CHECK_EQ(vma_resize(&s, P(15), P(5), P(50), false, &to), -ENOMEM);
	EXPECT({ 1, 9, R }, { 10, 11, RW }, { 12, 13, RW }, { 15, 20, RW },
	       { 24, 30, RW });
}

UNIT_TEST(vma_resize_keeps_file_offsets)
{
	uint64_t to = 0;

	setup(P(1), P(64));
	map_at(1, 8, R, ANON);
	map_file(10, 8, 3, P(50));
	CHECK_EQ(vma_resize(&s, P(12), P(3), P(6), true, &to), 0);
	CHECK_EQ(to, P(18));
	EXPECT({ 1, 9, R }, { 10, 12, R }, { 15, 18, R }, { 18, 24, R });
	CHECK_EQ(vma_find(&s, P(15))->offset, P(55));
	CHECK_EQ(vma_find(&s, P(18))->offset, P(52));
	CHECK(vma_find(&s, P(23))->owner == &files[3]);
	CHECK_EQ(file_refs[3], 3);
	CHECK_EQ(vma_resize(&s, P(18), P(6), P(8), false, &to), 0);
	EXPECT({ 1, 9, R }, { 10, 12, R }, { 15, 18, R }, { 18, 26, R });
	check_set();
}

UNIT_TEST(vma_find_near_and_iterate)
{
	setup(P(1), P(1024));
	map_at(10, 2, R, ANON);                 /* [10,12) */
	map_at(20, 2, RW, ANON);                /* [20,22) */
	struct vma *a = vma_find(&s, P(10)), *b = vma_find(&s, P(20));
	CHECK(a && b && a != b);
	CHECK(vma_find(&s, P(12) - 1) == a);
	CHECK(vma_find(&s, P(12)) == NULL);
	CHECK(vma_find(&s, P(10) - 1) == NULL);
	CHECK(vma_find_near(&s, P(11) + 5) == a);
	CHECK(vma_find_near(&s, 0) == a);
	CHECK(vma_find_near(&s, P(12)) == a);
	CHECK(vma_find_near(&s, P(16) - 1) == a);       /* 4 pages past a */
	CHECK(vma_find_near(&s, P(16)) == b);           /* 4 pages below b */
	CHECK(vma_find_near(&s, UINT64_MAX) == b);
	CHECK(vma_first(&s) == a && vma_next(a) == b && vma_next(b) == NULL);
}

UNIT_TEST(vma_find_gap_aligned)
{
	uint64_t at;

	setup(P(1), 64ULL << 21);
	map_at(1, 600, R, ANON);
	CHECK_EQ(vma_find_gap(&s, 0, 2 << 20, 2 << 20, &at), 0);
	CHECK_EQ(at, 4ULL << 20);               /* 600 pages end past 2 MiB */
	CHECK_EQ(vma_find_gap(&s, 0, PG, 3 * PG, &at), -EINVAL);
	CHECK_EQ(vma_find_gap(&s, 0, PG, PG / 2, &at), -EINVAL);
	CHECK_EQ(vma_find_gap(&s, 0, 0, PG, &at), -EINVAL);
	CHECK_EQ(vma_find_gap(&s, 0, 64ULL << 21, PG, &at), -ENOMEM);
}

UNIT_TEST(vma_many_records)
{
	setup(P(1), P(1 << 20));
	for (int i = 0; i < 20000; i++)
		map_at(1 + 2 * (uint64_t)((i * 7919) % 20000), 1, i % 3, ANON);
	check_set();
	CHECK_EQ(vma_count(&s), 20000);
	for (int i = 0; i < 20000; i++) {
		struct vma *v = vma_find(&s, P(1 + 2 * i) + 17);
		CHECK(v && v->start == P(1 + 2 * i));
		CHECK(vma_find(&s, P(2 + 2 * i)) == NULL);
	}
	CHECK_EQ(vma_unmap(&s, P(1), P(20000)), 0);
	CHECK_EQ(vma_count(&s), 10000);
	check_set();
}

/* The checker itself must be able to fail. */
UNIT_TEST(vma_check_finds_damage)
{
	setup(P(1), P(64));
	map_at(10, 2, R, ANON);
	map_at(20, 2, R, SHANON);
	struct vma *a = vma_find(&s, P(10)), *b = vma_find(&s, P(20));
	CHECK(vma_check(&s) == NULL);
	a->end = P(21);
	CHECK(vma_check(&s) != NULL);           /* overlap */
	a->end = P(12) + 1;
	CHECK(vma_check(&s) != NULL);           /* alignment */
	a->end = P(12);
	b->start = b->node.key = P(22);
	CHECK(vma_check(&s) != NULL);           /* empty */
	b->start = b->node.key = P(20);
	b->end = P(65);
	CHECK(vma_check(&s) != NULL);           /* bounds */
	b->end = P(22);
	b->start = P(21);
	CHECK(vma_check(&s) != NULL);           /* key */
	b->start = P(20);
	b->flags = ANON;
	a->end = P(20);
	CHECK(vma_check(&s) != NULL);           /* unmerged */
	a->end = P(12);
	b->flags = SHANON;
	CHECK(vma_check(&s) == NULL);
}

/* --- allocation failures: nothing changes --- */

struct snap {
	unsigned int n;
	struct vma v[32];
};

static void take_snap(struct snap *sn)
{
	sn->n = 0;
	for (struct vma *v = vma_first(&s); v && sn->n < 32; v = vma_next(v)) {
		sn->v[sn->n] = *v;
		sn->v[sn->n++].node = (struct rbtree_node){ 0 };
	}
}

static bool same_snap(const struct snap *a, const struct snap *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned int i = 0; i < a->n; i++)
		if (memcmp(&a->v[i], &b->v[i], sizeof(a->v[i])))
			return false;
	return true;
}

/* A fixed layout: [10,20) RW anon, [20,24) R anon, [30,40) file. */
static void layout(void)
{
	setup(P(1), P(64));
	map_at(10, 10, RW, ANON);
	map_at(20, 4, R, ANON);
	map_file(30, 10, 0, P(7));
}

static int op(int which)
{
	uint64_t at;

	switch (which) {
	case 0: return vma_unmap(&s, P(12), P(2));
	case 1: return vma_protect(&s, P(12), P(2), R);
	case 2: return vma_protect(&s, P(18), P(4), 0);
	case 3: return vma_map(&s, P(12), P(2), R, ANON, true, false, &at);
	case 4: return vma_map(&s, P(15), P(20), R, ANON, true, false, &at);
	case 5: return vma_map(&s, 0, P(2), R, ANON, false, false, &at);
	case 6: return vma_resize(&s, P(32), P(2), P(3), true, &at);
	case 7: return vma_resize(&s, P(12), P(2), P(1), true, &at);
	case 8: return vma_resize(&s, P(30), P(10), P(12), true, &at);
	case 9: return vma_protect(&s, P(32), P(2), RW);
	}
	return -1;
}

UNIT_TEST(vma_enomem_changes_nothing)
{
	/* How many records each op allocates. */
	static const int needs[] = { 1, 2, 2, 2, 1, 1, 2, 1, 0, 2 };

	for (int which = 0; which < 10; which++) {
		struct snap before, after;
		int n;

		for (n = 1;; n++) {
			layout();
			take_snap(&before);
			fail_nth(n);
			int err = op(which);
			if (!alloc_failures) {
				CHECK_EQ(err, 0);
				break;
			}
			CHECK_EQ(err, -ENOMEM);
			take_snap(&after);
			if (!same_snap(&before, &after))
				unit_fail(__FILE__, __LINE__, "op %d changed the set", which);
			check_set();
		}
		CHECK_EQ(n - 1, needs[which]);
		check_set();
	}
	setup(P(1), P(64));
}
