/*
 * tests/unit/vma_harness.h - the mapping set under test and the hooks it is
 * given, shared by the two vma test binaries: test_vma.c (each operation's
 * exact cases, allocation failures) and test_vma_random.c (random
 * sequences against a per-page model).  Implemented in vma_harness.c.
 *
 * Interface: setup(lo, hi) empties the set s and makes it manage [lo, hi)
 * with the test hooks below; every test starts with it.  The hooks count
 * live records (live: a leak fails check_set) and references on owners:
 * an owner is &files[k], and each record that has one holds a reference
 * in file_refs[k] (a test that sets a record's owner takes it; the split
 * hook takes one for each piece, the free hook drops the record's).
 * fail_nth(n) makes the nth allocation from now fail (0: none does);
 * alloc_calls counts the allocations since, alloc_failures the failures
 * since setup.  check_set() fails the test unless vma_check finds the set
 * sound, no record leaked and every owner reference is accounted for.
 */
#ifndef TESTS_UNIT_VMA_HARNESS_H
#define TESTS_UNIT_VMA_HARNESS_H

#include <stdint.h>

#include "core/vma_impl.h"

#define PG              VMA_PAGE_SIZE
#define P(n)            ((uint64_t)(n) * PG)
#define R               VMA_PROT_READ
#define RW              (VMA_PROT_READ | VMA_PROT_WRITE)
#define ANON            (VMA_MAP_PRIVATE | VMA_MAP_ANONYMOUS)
#define SHANON          (VMA_MAP_SHARED | VMA_MAP_ANONYMOUS)
#define FILEMAP         VMA_MAP_PRIVATE
#define NFILES          8

extern struct vma_set s;
extern long live;               /* records allocated and not freed */
extern int alloc_calls, fail_at, alloc_failures;
extern int file_refs[NFILES];
extern char files[NFILES];      /* owners: &files[k] */

int file_of(const void *owner);         /* k for &files[k]; -1 for none */
void fail_nth(int n);
void setup(uint64_t lo, uint64_t hi);
void check_set_(const char *file, int line);
#define check_set() check_set_(__FILE__, __LINE__)

#endif
