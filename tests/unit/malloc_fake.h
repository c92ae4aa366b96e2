/*
 * tests/unit/malloc_fake.h - what test_malloc.c uses in place of a kernel:
 * a fake machine, the heap's port to it (the malloc_* hooks of
 * core/malloc_impl.h, printk, assert_fail), and a reference model of the
 * live blocks.  Implemented in tests/unit/malloc_fake.c.
 *
 * The fake machine: RAM is an anonymous mapping aligned to 1 GiB (so a
 * block aligned in "physical" terms is aligned in its address), handed out
 * by a small buddy allocator in 4 KiB pages, orders 0..18, like page_alloc.
 * Free RAM is filled with a poison byte that is checked when it is handed
 * out again: a write by the heap to memory it gave back fails the test.  The
 * CPU id is a thread-local variable, interrupt flags a per-thread depth.
 * The port checks what the heap may not do: allocate or free pages with
 * interrupts off, free pages it does not hold or with another order.  Each
 * broken rule is printed and counted in `violations`; each printk is
 * counted in `printk_count`.
 *
 * Interface: machine_new(bytes) starts every test: a fresh machine of that
 * much RAM and an empty heap (malloc_reset), mapped blocks off, CPU 0,
 * quiet off, both counters 0.  A test may then set cur_cpu (this thread's
 * CPU), maps_on (let large blocks be mappings, emulated with mmap/mremap),
 * quiet (count printk, do not print it) and limit_pages (fewer pages than
 * npages, to run out early), and read used_pages, nmapped and
 * remaps_moved/remaps_in_place.
 *
 * The reference model records each live block (address, size, tag) in
 * lv[0..nlive): every new block (model_add) must be 16-byte aligned (or as
 * asked), usable for at least its size, disjoint from every other, and keep
 * its contents (a pattern of its tag, fill/intact) until freed (model_free);
 * check_accounting: the statistics must agree with the model, and the pages
 * the heap holds with its statistics.  rnd() is the model's deterministic
 * generator; random_size and random_align draw the randomized tests' sizes.
 *
 * Neither this file nor its users include <stdlib.h>, whose attributes for
 * malloc would then apply to kmalloc and make the compiler reject the tests
 * of absurd sizes.
 */
#ifndef TESTS_UNIT_MALLOC_FAKE_H
#define TESTS_UNIT_MALLOC_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kernel.h"
#include "core/mm.h"
#include "core/malloc_impl.h"

#define KIB 1024UL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define PG  (4 * KIB)
#define NCPU 4

/* ---- the fake machine ---- */

extern uint8_t *ram;                 /* [ram, ram + ram_size), 1 GiB aligned */
extern uint64_t ram_size, npages;
extern uint64_t used_pages, limit_pages;  /* pages held by the heap; its cap */
extern __thread unsigned int cur_cpu;     /* malloc_cpu_id() of this thread */
extern int violations;               /* atomic: port rules broken */
extern int printk_count;             /* atomic */
extern bool quiet;                   /* printk: count, do not print */
extern bool maps_on;                 /* malloc_map may succeed */
extern unsigned int nmapped;         /* mapped blocks live */
extern uint64_t remaps_moved, remaps_in_place;

void machine_new(uint64_t size);

/* ---- the model ---- */

struct live {
	uint8_t *p;
	size_t n, usable;
	uint64_t tag;
};

#define MAX_LIVE 4096
extern struct live lv[MAX_LIVE];
extern unsigned int nlive;

uint64_t rnd(void);
uint8_t pat(uint64_t tag, size_t i);        /* the pattern's byte i */
void fill(uint8_t *p, size_t n, uint64_t tag);
bool intact_upto(const uint8_t *p, size_t n, size_t upto, uint64_t tag);
bool intact(const uint8_t *p, size_t n, uint64_t tag);
uint64_t model_bytes(void);                 /* the usable bytes of lv[] */
bool model_add(void *vp, size_t n, size_t align);
void model_free(unsigned int i);            /* checks lv[i], frees it */
void model_forget(void *p);                 /* the test freed p itself */
void model_free_all(void);
void check_accounting(void);
size_t random_size(void);
size_t random_align(void);

#endif
