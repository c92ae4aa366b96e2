/*
 * tests/unit/vma_harness.c - the mapping set under test, its allocation,
 * split and free hooks, and the set's checks, for test_vma.c and
 * test_vma_random.c.  Interface: tests/unit/vma_harness.h.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "tests/unit/vma_harness.h"

struct vma_set s;
long live;                      /* records allocated and not freed */
int alloc_calls, fail_at, alloc_failures;
int file_refs[NFILES];
char files[NFILES];             /* owners: &files[k] */

int file_of(const void *owner)
{
	return owner ? (int)((const char *)owner - files) : -1;
}

static struct vma *t_alloc(void)
{
	if (++alloc_calls == fail_at) {
		alloc_failures++;
		return NULL;
	}
	live++;
	return malloc(sizeof(struct vma));
}

static void t_free(struct vma *v)
{
	if (v->owner)
		file_refs[file_of(v->owner)]--;
	live--;
	memset(v, 0x5a, sizeof(*v));    /* a use after free shows */
	free(v);
}

static void t_split(struct vma *piece)
{
	if (piece->owner)
		file_refs[file_of(piece->owner)]++;
}

/* Injection: the nth allocation from now fails (0: none does). */
void fail_nth(int n)
{
	alloc_calls = 0;
	fail_at = n;
}

void setup(uint64_t lo, uint64_t hi)
{
	vma_set_destroy(&s);
	vma_set_init(&s, lo, hi);
	s.alloc = t_alloc;
	s.free = t_free;
	s.split = t_split;
	fail_nth(0);
	alloc_failures = 0;
	memset(file_refs, 0, sizeof(file_refs));
}

/* Invariants, no leaked records, every owner reference accounted for
 * (failures are reported at the caller's file and line). */
void check_set_(const char *file, int line)
{
	const char *why = vma_check(&s);
	int refs[NFILES] = { 0 };

	if (why)
		unit_fail(file, line, "vma_check: %s", why);
	if (live != (long)(vma_count(&s) + s.nreserve))
		unit_fail(file, line, "%ld records live, %u in the set, %u reserved",
			  live, vma_count(&s), s.nreserve);
	for (struct vma *v = vma_first(&s); v; v = vma_next(v))
		if (v->owner)
			refs[file_of(v->owner)]++;
	if (memcmp(refs, file_refs, sizeof(refs)))
		unit_fail(file, line, "owner references do not add up");
}
