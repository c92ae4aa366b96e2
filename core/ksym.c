/*
 * core/ksym.c - the kernel's own symbol table, for backtraces.
 *
 * The build links the kernel twice: the second link adds a .ksyms section
 * (scripts/ksyms, from `nm` of the first) holding every function's address,
 * sorted, and its name.  The section comes last in the image, so adding it
 * moves no code.  Interface: ksym_lookup(addr, &off) returns the name of the
 * function containing addr and the offset into it, or NULL.
 */
#include "core/kernel.h"

struct ksym_table {
	uint64_t count;
	uint64_t base;            /* addresses are stored as 32-bit offsets from it */
	uint32_t entries[];       /* count x {offset, name offset}, then the names */
};

extern const struct ksym_table ksym_table;
extern const char __kernel_start[], __text_end[];

const char *ksym_lookup(uintptr_t addr, uintptr_t *offset)
{
	const struct ksym_table *t = &ksym_table;
	const char *names = (const char *)&t->entries[2 * t->count];
	uint64_t lo = 0, hi = t->count;

	if (addr < (uintptr_t)__kernel_start || addr >= (uintptr_t)__text_end || !t->count)
		return NULL;
	while (hi - lo > 1) {               /* invariant: entry[lo] <= addr */
		uint64_t mid = (lo + hi) / 2;
		if (t->base + t->entries[2 * mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (t->base + t->entries[2 * lo] > addr)
		return NULL;
	*offset = addr - (t->base + t->entries[2 * lo]);
	return names + t->entries[2 * lo + 1];
}
