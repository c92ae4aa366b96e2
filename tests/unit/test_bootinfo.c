/*
 * tests/unit/test_bootinfo.c - host unit tests for the boot protocol parsers
 * and the memory map normalizer (arch/x86_64/bootinfo.c, core/boot.h).
 *
 * Host pointers are the "physical addresses": this file's
 * boot_phys_to_virt() returns (const void *)pa, but only for ranges wholly
 * inside a block the test registered (NULL otherwise, and for 0), so a
 * parser that asks for more than the loader gave is caught here, and one that
 * reads past what it asked for is caught by ASan (every block is its own
 * exact-size heap allocation).
 * Build and run: make build/unit/test_bootinfo && build/unit/test_bootinfo
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "core/boot.h"
#include "core/errno.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* ---- loader memory ---- */

#define BLK_MAX 64

static struct { uint8_t *p; size_t len; } blk[BLK_MAX];
static unsigned int nblk;
static struct boot_info bi;
static const char *why;

/* A zeroed block of exactly len bytes (malloc's alignment: 16). */
static void *blk_alloc(size_t len)
{
	uint8_t *p = calloc(1, len ? len : 1);

	if (!p || nblk == BLK_MAX || ((uintptr_t)p & 7))
		abort();
	blk[nblk].p = p;
	blk[nblk++].len = len;
	return p;
}

static char *blk_str(const char *s)
{
	return strcpy(blk_alloc(strlen(s) + 1), s);
}

static void blk_free_all(void)
{
	while (nblk)
		free(blk[--nblk].p);
}

static uint64_t pa(const void *p)
{
	return (uintptr_t)p;
}

const void *boot_phys_to_virt(uint64_t addr, uint64_t len)
{
	for (unsigned int i = 0; i < nblk && addr; i++) {
		uint64_t start = pa(blk[i].p);

		if (addr >= start && addr - start <= blk[i].len && len <= blk[i].len - (addr - start))
			return (const void *)(uintptr_t)addr;
	}
	return NULL;
}

/* ---- checks on a parsed map ---- */

/* What boot_mem_normalize promises: sorted, no empty ranges, RAM in whole
 * pages, RAM neither touching other RAM nor overlapping anything else. */
static void check_normal(int line)
{
	for (unsigned int i = 0; i < bi.nmem; i++) {
		const struct boot_mem_range *r = &bi.mem[i];

		if (!r->len || (i && r->base < bi.mem[i - 1].base))
			unit_fail(__FILE__, line, "range %u empty or unsorted", i);
		if (r->type == BOOT_MEM_RAM && ((r->base | r->len) & 4095))
			unit_fail(__FILE__, line, "RAM range %u not in pages", i);
		for (unsigned int j = 0; j < bi.nmem; j++) {
			const struct boot_mem_range *q = &bi.mem[j];
			if (j == i || r->type != BOOT_MEM_RAM)
				continue;
			if (q->base < r->base + r->len && r->base < q->base + q->len)
				unit_fail(__FILE__, line, "RAM range %u overlaps range %u", i, j);
			if (q->type == BOOT_MEM_RAM &&
			    (q->base == r->base + r->len || r->base == q->base + q->len))
				unit_fail(__FILE__, line, "RAM ranges %u and %u touch", i, j);
		}
	}
	if (bi.nmem > BOOT_MEM_MAX || bi.nmod > BOOT_MOD_MAX)
		unit_fail(__FILE__, line, "counts past their arrays");
}

#define CHECK_NORMAL() check_normal(__LINE__)

static void check_range(int line, unsigned int i, uint64_t base, uint64_t len, uint32_t type)
{
	if (i >= bi.nmem || bi.mem[i].base != base || bi.mem[i].len != len ||
	    bi.mem[i].type != type)
		unit_fail(__FILE__, line, "mem[%u] is not {%#llx, %#llx, %u}", i,
			  (unsigned long long)base, (unsigned long long)len, type);
}

#define CHECK_RANGE(i, base, len, type) check_range(__LINE__, i, base, len, type)

/* ---- PVH start_info (Xen's layout) ---- */

struct t_pvh {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;                  /* version >= 1 */
	uint32_t memmap_entries, reserved;
};
#define T_PVH_V0_SIZE 40

struct t_pvh_mod {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct t_pvh_mem {
	uint64_t addr, size;
	uint32_t type, reserved;
};

static struct t_pvh *pvh_new(unsigned int nmem)
{
	struct t_pvh *si = blk_alloc(sizeof(*si));
	struct t_pvh_mem *mm = blk_alloc(nmem * sizeof(*mm));

	si->magic = 0x336ec578;
	si->version = 1;
	si->memmap_paddr = pa(mm);
	si->memmap_entries = nmem;
	for (unsigned int i = 0; i < nmem; i++)
		mm[i] = (struct t_pvh_mem){ 0x100000ull * (2 * i + 1), 0x100000, 1, 0 };
	return si;
}

static struct t_pvh_mem *pvh_mem(struct t_pvh *si)
{
	return (struct t_pvh_mem *)(uintptr_t)si->memmap_paddr;
}

static struct t_pvh_mod *pvh_mods(struct t_pvh *si, unsigned int n)
{
	struct t_pvh_mod *m = blk_alloc(n * sizeof(*m));

	si->nr_modules = n;
	si->modlist_paddr = pa(m);
	return m;
}

UNIT_TEST(bootinfo_pvh_normal)
{
	struct t_pvh *si = pvh_new(4);
	struct t_pvh_mem *mm = pvh_mem(si);
	struct t_pvh_mod *mod = pvh_mods(si, 2);

	mm[0] = (struct t_pvh_mem){ 0, 0x9fc00, 1, 0 };
	mm[1] = (struct t_pvh_mem){ 0xf0000, 0x10000, 2, 0 };
	mm[2] = (struct t_pvh_mem){ 0x100000, 0x7f00000, 1, 0 };
	mm[3] = (struct t_pvh_mem){ 0xfeffc000, 0x4000, 2, 0 };
	si->cmdline_paddr = pa(blk_str("bootlog -- app \"x y\""));
	si->rsdp_paddr = 0xf5a40;
	mod[0] = (struct t_pvh_mod){ 0x200000, 0x1000, pa(blk_str("initrd")), 0 };
	mod[1] = (struct t_pvh_mod){ 0x300000, 0x2345, 0, 0 };
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_STR(bi.protocol, "pvh");
	CHECK_STR(bi.cmdline, "bootlog -- app \"x y\"");
	CHECK(!bi.cmdline_truncated && !bi.mem_truncated && !bi.has_rsdp_copy);
	CHECK_EQ(bi.rsdp, 0xf5a40);
	CHECK_EQ(bi.nmem, 4);
	CHECK_RANGE(0, 0, 0x9f000, BOOT_MEM_RAM);
	CHECK_RANGE(1, 0xf0000, 0x10000, BOOT_MEM_RESERVED);
	CHECK_RANGE(2, 0x100000, 0x7f00000, BOOT_MEM_RAM);
	CHECK_RANGE(3, 0xfeffc000, 0x4000, BOOT_MEM_RESERVED);
	CHECK_EQ(bi.nmod, 2);
	CHECK_EQ(bi.mod[0].start, 0x200000);
	CHECK_EQ(bi.mod[0].end, 0x201000);
	CHECK_STR(bi.mod[0].name, "initrd");
	CHECK_EQ(bi.mod[1].end, 0x302345);
	CHECK_STR(bi.mod[1].name, "");
	CHECK_NORMAL();
	blk_free_all();
}

UNIT_TEST(bootinfo_pvh_bad_magic)
{
	struct t_pvh *si = pvh_new(1);

	si->magic = 0x336ec579;
	why = NULL;
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), -EINVAL);
	CHECK(why && strstr(why, "magic"));
	CHECK_EQ(boot_parse_pvh(0, &bi, &why), -EINVAL);
	CHECK_EQ(boot_parse_pvh(pa(si) + 8, &bi, &why), -EINVAL);   /* runs past */
	blk_free_all();
}

UNIT_TEST(bootinfo_pvh_version0)
{
	/* A version 0 start_info ends before the memory map fields. */
	struct t_pvh *si = blk_alloc(T_PVH_V0_SIZE);

	si->magic = 0x336ec578;
	si->version = 0;
	why = NULL;
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), -EINVAL);
	CHECK(why && strstr(why, "no memory map"));
	blk_free_all();
}

UNIT_TEST(bootinfo_pvh_bad_memmap)
{
	struct t_pvh *si = pvh_new(2);

	si->memmap_entries = 0;
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), -EINVAL);
	CHECK(strstr(why, "memory map"));
	si->memmap_entries = 3;                 /* more than the block holds */
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), -EINVAL);
	CHECK(strstr(why, "memory map"));
	si->memmap_entries = 0x10000001;        /* the byte count wraps 32 bits */
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), -EINVAL);
	si->memmap_entries = 2;
	si->memmap_paddr = 0;
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), -EINVAL);
	blk_free_all();
}

UNIT_TEST(bootinfo_pvh_cmdline)
{
	struct t_pvh *si = pvh_new(1);
	char *s = blk_alloc(BOOT_CMDLINE_MAX + 100);

	memset(s, 'c', BOOT_CMDLINE_MAX - 1);
	si->cmdline_paddr = pa(s);
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(!bi.cmdline_truncated);
	memset(s, 'c', BOOT_CMDLINE_MAX + 50);
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(bi.cmdline_truncated);
	/* A string that runs off the end of the loader's memory. */
	s = blk_alloc(5);
	memcpy(s, "abcde", 5);
	si->cmdline_paddr = pa(s);
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), -EINVAL);
	CHECK(strstr(why, "command line"));
	/* No command line at all. */
	si->cmdline_paddr = 0;
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_STR(bi.cmdline, "");
	blk_free_all();
}

UNIT_TEST(bootinfo_pvh_modules)
{
	struct t_pvh *si = pvh_new(1);
	struct t_pvh_mod *mod = pvh_mods(si, BOOT_MOD_MAX + 4);
	char *longname = blk_alloc(200);

	pvh_mem(si)[0] = (struct t_pvh_mem){ 0x100000, 0x3000000, 1, 0 };
	memset(longname, 'n', 199);
	for (unsigned int i = 0; i < BOOT_MOD_MAX + 4; i++)
		mod[i] = (struct t_pvh_mod){ 0x1000000 + i * 0x10000, 0x100, pa(longname), 0 };
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_EQ(bi.nmod, BOOT_MOD_MAX);
	CHECK_EQ(bi.mod[BOOT_MOD_MAX - 1].start, 0x1000000 + (BOOT_MOD_MAX - 1) * 0x10000);
	CHECK_EQ(strlen(bi.mod[0].name), sizeof(bi.mod[0].name) - 1);
	CHECK_EQ(bi.mod_ignored, 4);
	CHECK_STR(bi.mod_problem, "more than 8 boot modules");
	/* Empty modules are left out. */
	mod[0].size = 0;
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_EQ(bi.nmod, BOOT_MOD_MAX);
	CHECK_EQ(bi.mod[0].start, 0x1010000);
	CHECK_STR(bi.mod_problem, "a boot module is empty");
	/* A module that wraps the address space is left out; the boot goes on. */
	mod[1].paddr = UINT64_MAX - 10;
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_EQ(bi.nmod, BOOT_MOD_MAX);
	CHECK_EQ(bi.mod[0].start, 0x1020000);
	CHECK_EQ(bi.mod_ignored, 2 + 2);
	mod[1].paddr = 0x1000;
	/* An unreadable module list, and an absurd count: no modules at all. */
	si->nr_modules = BOOT_MOD_MAX + 5;
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_EQ(bi.nmod, 0);
	CHECK_EQ(bi.mod_ignored, BOOT_MOD_MAX + 5);
	CHECK_STR(bi.mod_problem, "the PVH module list is unreadable");
	CHECK_EQ(bi.nmem, 1);
	si->nr_modules = 0x8000001;
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_EQ(bi.nmod, 0);
	CHECK_STR(bi.mod_problem, "the PVH module count is absurd");
	CHECK_EQ(bi.nmem, 1);
	blk_free_all();
}

/* A module must lie wholly inside usable RAM: not beyond it, not across a
 * hole or a reserved range, not in the part of a page that RAM trimming cut. */
UNIT_TEST(bootinfo_pvh_modules_outside_ram)
{
	struct t_pvh *si = pvh_new(3);
	struct t_pvh_mem *mm = pvh_mem(si);
	struct t_pvh_mod *mod = pvh_mods(si, 7);

	mm[0] = (struct t_pvh_mem){ 0, 0x9fc00, 1, 0 };
	mm[1] = (struct t_pvh_mem){ 0x100000, 0x3f00000, 1, 0 };       /* to 64 MiB */
	mm[2] = (struct t_pvh_mem){ 0x2000000, 0x1000, 2, 0 };         /* a hole at 32 MiB */
	mod[0] = (struct t_pvh_mod){ 0x3f00000, 0x100000, pa(blk_str("last MiB")), 0 };
	mod[1] = (struct t_pvh_mod){ 0x3f80000, 0x100000, pa(blk_str("past the end")), 0 };
	mod[2] = (struct t_pvh_mod){ 0x100000000ull, 0x1000, pa(blk_str("beyond RAM")), 0 };
	mod[3] = (struct t_pvh_mod){ 0x1fff000, 0x2000, pa(blk_str("over the hole")), 0 };
	mod[4] = (struct t_pvh_mod){ 0x9f800, 0x100, pa(blk_str("trimmed page")), 0 };
	mod[5] = (struct t_pvh_mod){ 0xa0000, 0x60000, pa(blk_str("VGA hole")), 0 };
	mod[6] = (struct t_pvh_mod){ 0x2001000, 0x1000, pa(blk_str("after the hole")), 0 };
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_EQ(bi.nmod, 2);
	CHECK_STR(bi.mod[0].name, "last MiB");
	CHECK_EQ(bi.mod[0].end, 0x4000000);
	CHECK_STR(bi.mod[1].name, "after the hole");
	CHECK_EQ(bi.mod_ignored, 5);
	CHECK_STR(bi.mod_problem, "a boot module lies outside usable RAM");
	CHECK_NORMAL();
	blk_free_all();
}

UNIT_TEST(bootinfo_pvh_too_many_ranges)
{
	struct t_pvh *si = pvh_new(BOOT_MEM_MAX + 6);

	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK_EQ(bi.nmem, BOOT_MEM_MAX);
	CHECK(bi.mem_truncated);
	CHECK_NORMAL();
	blk_free_all();
}

UNIT_TEST(bootinfo_pvh_full_map_keeps_holes)
{
	/* A reserved range after the map is full must still be honoured:
	 * it replaces a RAM range instead of being dropped. */
	struct t_pvh *si = pvh_new(BOOT_MEM_MAX + 2);
	struct t_pvh_mem *mm = pvh_mem(si);

	mm[5].size = 0x80000;                   /* the smallest RAM range */
	mm[BOOT_MEM_MAX] = (struct t_pvh_mem){ 0x100000 * 21 + 0x1000, 0x1000, 2, 0 };
	mm[BOOT_MEM_MAX + 1] = (struct t_pvh_mem){ 0x100000 * 41, 0x100000, 3, 0 };
	CHECK_EQ(boot_parse_pvh(pa(si), &bi, &why), 0);
	CHECK(bi.mem_truncated);
	CHECK_NORMAL();
	CHECK_RANGE(0, 0x300000, 0x100000, BOOT_MEM_RAM);         /* 1M: evicted */
	for (unsigned int i = 0; i < bi.nmem; i++) {
		CHECK(bi.mem[i].base != 0x100000 * 11);                  /* evicted */
		if (bi.mem[i].base == 0x100000 * 21) {
			CHECK_RANGE(i, 0x100000 * 21, 0x1000, BOOT_MEM_RAM);
			CHECK_RANGE(i + 1, 0x100000 * 21 + 0x1000, 0x1000, BOOT_MEM_RESERVED);
			/* No room to split: RAM above the hole is given up. */
			CHECK_RANGE(i + 2, 0x100000 * 23, 0x100000, BOOT_MEM_RAM);
		}
		if (bi.mem[i].base == 0x100000 * 41)
			CHECK_RANGE(i, 0x100000 * 41, 0x100000, BOOT_MEM_ACPI);
	}
	blk_free_all();
}

UNIT_TEST(bootinfo_pvh_unaligned)
{
	/* Nothing says the loader's structures are aligned: they must be read
	 * without assuming it (UBSan checks). */
	uint8_t *b = blk_alloc(sizeof(struct t_pvh) + 3 + 2 * sizeof(struct t_pvh_mem) + 3 +
			       sizeof(struct t_pvh_mod));
	struct t_pvh si = { 0x336ec578, 1, 0, 1, 0, 0, 0, 0, 2, 0 };
	struct t_pvh_mem mm[2] = { { 0, 0x80000, 1, 0 }, { 0x100000, 0x100000, 1, 0 } };
	struct t_pvh_mod mod = { 0x180000, 0x1000, 0, 0 };
	uint8_t *mmp = b + 3 + sizeof(si), *modp = mmp + sizeof(mm) + 3;

	si.memmap_paddr = pa(mmp);
	si.modlist_paddr = pa(modp);
	memcpy(b + 3, &si, sizeof(si));
	memcpy(mmp, mm, sizeof(mm));
	memcpy(modp, &mod, sizeof(mod));
	CHECK_EQ(boot_parse_pvh(pa(b + 3), &bi, &why), 0);
	CHECK_EQ(bi.nmem, 2);
	CHECK_EQ(bi.nmod, 1);
	blk_free_all();
}

/* ---- Multiboot2 information blocks ---- */

static uint8_t mb[16384];
static size_t mb_len;

static void mb_begin(void)
{
	memset(mb, 0, sizeof(mb));
	mb_len = 8;
}

/* Appends a tag of 8 + n bytes; the padding after it is 0xee, never read. */
static void mb_tag(uint32_t type, const void *payload, size_t n)
{
	uint32_t hdr[2] = { type, (uint32_t)(8 + n) };

	memcpy(mb + mb_len, hdr, 8);
	if (n)
		memcpy(mb + mb_len + 8, payload, n);
	mb_len += 8 + n;
	while (mb_len & 7)
		mb[mb_len++] = 0xee;
}

static void mb_string(uint32_t type, const char *s)
{
	mb_tag(type, s, strlen(s) + 1);
}

/* An mmap tag of n 24-byte entries from {base, len, type} triples. */
static void mb_mmap(const uint64_t (*e)[3], unsigned int n)
{
	uint8_t body[8 + 24 * 128] = { 24, 0, 0, 0, 0, 0, 0, 0 };

	for (unsigned int i = 0; i < n; i++) {
		uint32_t type = (uint32_t)e[i][2];
		memcpy(body + 8 + 24 * i, &e[i][0], 8);
		memcpy(body + 8 + 24 * i + 8, &e[i][1], 8);
		memcpy(body + 8 + 24 * i + 16, &type, 4);
	}
	mb_tag(6, body, 8 + 24 * n);
}

static void mb_module(uint32_t start, uint32_t end, const char *name)
{
	uint8_t body[256];

	memcpy(body, &start, 4);
	memcpy(body + 4, &end, 4);
	strcpy((char *)body + 8, name);
	mb_tag(3, body, 8 + strlen(name) + 1);
}

static const uint64_t simple_map[][3] = {
	{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0x100000, 0x3ff00000, 1 },
};

/* The block as the loader passes it: exactly `size` bytes with total_size
 * `total`, optionally after an end tag. */
static uint64_t mb_finish_as(bool end_tag, size_t size, uint32_t total)
{
	uint8_t *b;

	if (end_tag) {
		memset(mb + mb_len, 0, 8);
		mb_len += 8;
	}
	if (!size)
		size = mb_len;
	if (!total)
		total = (uint32_t)mb_len;
	memcpy(mb, &total, 4);
	b = blk_alloc(size);
	memcpy(b, mb, MIN(size, sizeof(mb)));
	return pa(b);
}

static uint64_t mb_finish(void)
{
	return mb_finish_as(true, 0, 0);
}

UNIT_TEST(bootinfo_mb2_normal)
{
	uint8_t rsdp[20] = "RSD PTR ";

	mb_begin();
	mb_string(1, "bootlog test=x -- a");
	mb_module(0x400000, 0x401000, "mod one");
	mb_tag(4, "\x80\x02\0\0\0\xfc\x0f\0", 8);              /* meminfo: ignored */
	mb_mmap(simple_map, 3);
	mb_module(0x500000, 0x500800, "");
	mb_tag(14, rsdp, sizeof(rsdp));
	mb_tag(99, "unknown tag", 11);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_STR(bi.protocol, "multiboot2");
	CHECK_STR(bi.cmdline, "bootlog test=x -- a");
	CHECK(!bi.cmdline_truncated && !bi.mem_truncated);
	CHECK_EQ(bi.nmem, 3);
	CHECK_RANGE(0, 0, 0x9f000, BOOT_MEM_RAM);
	CHECK_RANGE(1, 0x9fc00, 0x400, BOOT_MEM_RESERVED);
	CHECK_RANGE(2, 0x100000, 0x3ff00000, BOOT_MEM_RAM);
	CHECK_EQ(bi.nmod, 2);
	CHECK_EQ(bi.mod[0].start, 0x400000);
	CHECK_EQ(bi.mod[0].end, 0x401000);
	CHECK_STR(bi.mod[0].name, "mod one");
	CHECK_STR(bi.mod[1].name, "");
	CHECK(bi.has_rsdp_copy);
	CHECK(memcmp(bi.rsdp_copy, "RSD PTR ", 8) == 0);
	CHECK_EQ(bi.rsdp, 0);
	CHECK_NORMAL();
	/* Without an end tag, the block ends at total_size. */
	mb_begin();
	mb_mmap(simple_map, 3);
	CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, 0, 0), &bi, &why), 0);
	CHECK_EQ(bi.nmem, 3);
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_no_mmap)
{
	mb_begin();
	mb_string(1, "x");
	why = NULL;
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), -EINVAL);
	CHECK(why && strstr(why, "memory map"));
	/* An mmap tag with no entries is no map either. */
	mb_begin();
	mb_mmap(simple_map, 0);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), -EINVAL);
	/* Nor is one after the end tag. */
	mb_begin();
	mb_tag(0, NULL, 0);
	mb_mmap(simple_map, 3);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), -EINVAL);
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_bad_block)
{
	uint64_t p;

	mb_begin();
	mb_mmap(simple_map, 3);
	p = mb_finish();
	CHECK_EQ(boot_parse_multiboot2(0, &bi, &why), -EINVAL);
	CHECK_EQ(boot_parse_multiboot2(p + 4, &bi, &why), -EINVAL);   /* misaligned */
	/* total_size past the loader's memory, too small, too large. */
	CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, 0, (uint32_t)mb_len + 8), &bi, &why), -EINVAL);
	CHECK(strstr(why, "size"));
	CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, 0, 8), &bi, &why), -EINVAL);
	CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, 0, 0x7fffffff), &bi, &why), -EINVAL);
	/* An 8-byte block: the header only. */
	CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, 8, 8), &bi, &why), -EINVAL);
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_tag_past_end)
{
	uint32_t tag[2] = { 1, 100 };

	/* A tag claiming more bytes than the block has: the block is exactly
	 * total_size bytes, so reading the claimed size would be caught. */
	mb_begin();
	mb_mmap(simple_map, 3);
	memcpy(mb + mb_len, tag, 8);
	memcpy(mb + mb_len + 8, "abcdefgh", 8);
	mb_len += 16;
	why = NULL;
	CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, 0, 0), &bi, &why), -EINVAL);
	CHECK(why && strstr(why, "runs past"));
	/* total_size cuts the last tag short (the block itself goes on). */
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_string(1, "a long enough command line");
	CHECK_EQ(boot_parse_multiboot2(mb_finish_as(true, 0, (uint32_t)mb_len - 16), &bi, &why),
		 -EINVAL);
	/* A tag size that would wrap 32 bits. */
	mb_begin();
	mb_mmap(simple_map, 3);
	tag[1] = 0xfffffff8;
	memcpy(mb + mb_len, tag, 8);
	mb_len += 8;
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), -EINVAL);
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_tag_too_small)
{
	for (uint32_t size = 0; size < 8; size++) {
		uint32_t tag[2] = { 1, size };

		mb_begin();
		mb_mmap(simple_map, 3);
		memcpy(mb + mb_len, tag, 8);
		mb_len += 8;
		CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), -EINVAL);
	}
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_short_tags)
{
	/* Well-formed tags too short for what their type carries, each the
	 * last thing in an exact-size block. */
	static const uint32_t types[] = { 1, 3, 6, 14, 15 };

	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (uint32_t size = 8; size < 40; size += 4) {
			uint32_t tag[2] = { types[t], size };

			mb_begin();
			mb_mmap(simple_map, 3);
			memcpy(mb + mb_len, tag, 8);
			memset(mb + mb_len + 8, 0x41, size - 8);
			mb_len += size;
			CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, 0, 0), &bi, &why), 0);
			CHECK_EQ(bi.nmem, 3);
			CHECK(strlen(bi.cmdline) < sizeof(bi.cmdline));
		}
	}
	/* An mmap tag of 8 or 12 bytes at the very end of the block. */
	for (uint32_t size = 8; size <= 12; size += 4) {
		uint32_t tag[3] = { 6, size, 24 };

		mb_begin();
		memcpy(mb + mb_len, tag, size);
		mb_len += size;
		CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, 0, 0), &bi, &why), -EINVAL);
	}
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_cmdline_unterminated)
{
	/* The command line tag is last, has no NUL, and the block ends with
	 * it: the parser must stop at the tag's end. */
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_tag(1, "hello", 5);
	CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, mb_len - 3, (uint32_t)mb_len - 3),
				       &bi, &why), 0);
	CHECK_STR(bi.cmdline, "hello");
	/* Same inside the block: the 0xee padding is not part of it. */
	mb_begin();
	mb_tag(1, "hello", 5);
	mb_mmap(simple_map, 3);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_STR(bi.cmdline, "hello");
	/* A module name without a NUL. */
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_tag(3, "\0\0\x10\0\0\0\x11\0name", 12);
	CHECK_EQ(boot_parse_multiboot2(mb_finish_as(false, mb_len - 4, (uint32_t)mb_len - 4),
				       &bi, &why), 0);
	CHECK_EQ(bi.nmod, 1);
	CHECK_STR(bi.mod[0].name, "name");
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_cmdline_long)
{
	static char s[BOOT_CMDLINE_MAX + 64];

	memset(s, 'x', BOOT_CMDLINE_MAX - 1);
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_string(1, s);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(!bi.cmdline_truncated);
	memset(s, 'x', BOOT_CMDLINE_MAX + 10);
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_string(1, s);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	CHECK(bi.cmdline_truncated);
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_modules)
{
	mb_begin();
	mb_mmap(simple_map, 3);
	for (unsigned int i = 0; i < BOOT_MOD_MAX + 5; i++)
		mb_module(0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800,
			  "a module name longer than the sixty-four bytes kept of it, by far");
	mb_module(0x2000, 0x1000, "backwards");
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_EQ(bi.nmod, BOOT_MOD_MAX);
	CHECK_EQ(bi.mod[BOOT_MOD_MAX - 1].start, 0x1000000 + (BOOT_MOD_MAX - 1) * 0x1000);
	CHECK_EQ(strlen(bi.mod[0].name), sizeof(bi.mod[0].name) - 1);
	CHECK_EQ(bi.mod_ignored, 6);
	CHECK_STR(bi.mod_problem, "more than 8 boot modules");
	/* An empty, backwards, short or out-of-RAM module is left out and
	 * reported; the boot goes on with the rest. */
	mb_begin();
	mb_module(0x2000, 0x1000, "backwards");
	mb_mmap(simple_map, 3);
	mb_module(0x2000, 0x2000, "empty");
	mb_module(0x3000, 0x4000, "ok");
	mb_tag(3, "\0\0\x10\0", 4);                          /* no end address */
	mb_module(0x9f000, 0xa0000, "in the EBDA's page");
	mb_module(0x40000000, 0x40001000, "just past RAM");
	mb_module(0xfffff000, 0xffffffff, "at 4 GiB");
	mb_module(0x3ffff000, 0x40000000, "last page");
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_EQ(bi.nmod, 2);
	CHECK_STR(bi.mod[0].name, "ok");
	CHECK_STR(bi.mod[1].name, "last page");
	CHECK_EQ(bi.mod_ignored, 6);
	CHECK_STR(bi.mod_problem, "a boot module ends before it starts");
	CHECK_EQ(bi.nmem, 3);
	CHECK_NORMAL();
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_too_many_ranges)
{
	uint64_t map[BOOT_MEM_MAX + 10][3];

	for (unsigned int i = 0; i < BOOT_MEM_MAX + 10; i++) {
		map[i][0] = 0x200000ull * (BOOT_MEM_MAX + 10 - i);
		map[i][1] = 0x100000;
		map[i][2] = 1 + i % 2;
	}
	mb_begin();
	mb_mmap(map, BOOT_MEM_MAX + 10);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK(bi.mem_truncated);
	CHECK_EQ(bi.nmem, BOOT_MEM_MAX);
	CHECK_NORMAL();
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_mmap_entry_size)
{
	/* Entries larger than 24 bytes are stepped over by entry_size, even
	 * an entry_size that leaves them unaligned; smaller ones are refused. */
	for (uint32_t esize = 16; esize <= 40; esize += 4) {
		uint8_t body[8 + 3 * 40] = { 0 };

		memcpy(body, &esize, 4);
		for (unsigned int i = 0; i < 3; i++) {
			uint64_t base = simple_map[i][0], len = simple_map[i][1];
			uint32_t type = (uint32_t)simple_map[i][2];
			memcpy(body + 8 + esize * i, &base, 8);
			memcpy(body + 8 + esize * i + 8, &len, 8);
			memcpy(body + 8 + esize * i + 16, &type, 4);
		}
		mb_begin();
		mb_tag(6, body, 8 + 3 * esize);
		if (esize < 24) {
			CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), -EINVAL);
			continue;
		}
		CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
		CHECK_EQ(bi.nmem, 3);
		CHECK_RANGE(2, 0x100000, 0x3ff00000, BOOT_MEM_RAM);
	}
	blk_free_all();
}

UNIT_TEST(bootinfo_mb2_acpi)
{
	uint8_t v1[20], v2[36];

	memset(v1, 0x11, sizeof(v1));
	memset(v2, 0x22, sizeof(v2));
	/* ACPI 1 only: 20 bytes copied, the rest zero. */
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_tag(14, v1, sizeof(v1));
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK(bi.has_rsdp_copy);
	CHECK_EQ(bi.rsdp_copy[19], 0x11);
	CHECK_EQ(bi.rsdp_copy[20], 0);
	/* ACPI 2 wins whichever comes first. */
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_tag(14, v1, sizeof(v1));
	mb_tag(15, v2, sizeof(v2));
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_EQ(bi.rsdp_copy[0], 0x22);
	CHECK_EQ(bi.rsdp_copy[35], 0x22);
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_tag(15, v2, sizeof(v2));
	mb_tag(14, v1, sizeof(v1));
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_EQ(bi.rsdp_copy[0], 0x22);
	CHECK_EQ(bi.rsdp_copy[35], 0x22);
	/* A short ACPI 2 tag replaces an ACPI 1 copy whole, no stale bytes. */
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_tag(14, v1, sizeof(v1));
	mb_tag(15, v2, 24);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_EQ(bi.rsdp_copy[0], 0x22);
	CHECK_EQ(bi.rsdp_copy[23], 0x22);
	CHECK_EQ(bi.rsdp_copy[24], 0);
	/* A second ACPI 2 tag replaces the first whole. */
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_tag(15, v2, sizeof(v2));
	memset(v2, 0x44, sizeof(v2));
	mb_tag(15, v2, 20);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK_EQ(bi.rsdp_copy[19], 0x44);
	CHECK_EQ(bi.rsdp_copy[20], 0);
	/* A tag too short for any RSDP is ignored; a longer one is cut. */
	mb_begin();
	mb_mmap(simple_map, 3);
	mb_tag(14, v1, 19);
	CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
	CHECK(!bi.has_rsdp_copy);
	{
		uint8_t big[64];
		memset(big, 0x33, sizeof(big));
		mb_begin();
		mb_mmap(simple_map, 3);
		mb_tag(15, big, sizeof(big));
		CHECK_EQ(boot_parse_multiboot2(mb_finish(), &bi, &why), 0);
		CHECK(bi.has_rsdp_copy);
		CHECK_EQ(bi.rsdp_copy[35], 0x33);
	}
	blk_free_all();
}

/* ---- boot_mem_normalize ---- */

static void map_set(const uint64_t (*e)[3], unsigned int n)
{
	memset(&bi, 0, sizeof(bi));
	for (unsigned int i = 0; i < n; i++)
		bi.mem[i] = (struct boot_mem_range){ e[i][0], e[i][1], (uint32_t)e[i][2] };
	bi.nmem = n;
}

#define MAP_SET(m) map_set(m, sizeof(m) / sizeof(m[0]))

UNIT_TEST(bootinfo_normalize_sort_merge)
{
	static const uint64_t m[][3] = {
		{ 0x300000, 0x100000, 1 }, { 0x100000, 0x100000, 1 }, { 0x200000, 0x100000, 1 },
		{ 0xe0000, 0x10000, 2 }, { 0xf0000, 0x10000, 2 }, { 0, 0x80000, 1 },
		{ 0x500000, 0, 1 }, { 0x600000, 0, 2 }, { 0x700000, 0x1000, 3 },
		{ 0x701000, 0x1000, 4 }, { 0x380000, 0x100000, 1 },      /* overlaps */
	};

	MAP_SET(m);
	boot_mem_normalize(&bi);
	CHECK_EQ(bi.nmem, 5);
	CHECK_RANGE(0, 0, 0x80000, BOOT_MEM_RAM);
	CHECK_RANGE(1, 0xe0000, 0x20000, BOOT_MEM_RESERVED);
	CHECK_RANGE(2, 0x100000, 0x380000, BOOT_MEM_RAM);
	CHECK_RANGE(3, 0x700000, 0x1000, BOOT_MEM_ACPI);
	CHECK_RANGE(4, 0x701000, 0x1000, BOOT_MEM_NVS);
	CHECK_NORMAL();
	/* Idempotent. */
	boot_mem_normalize(&bi);
	CHECK_EQ(bi.nmem, 5);
	CHECK_RANGE(2, 0x100000, 0x380000, BOOT_MEM_RAM);
}

UNIT_TEST(bootinfo_normalize_trim)
{
	static const uint64_t m[][3] = {
		{ 0x1234, 0x5678, 1 },          /* -> [0x2000, 0x6000) */
		{ 0x10001, 0xffe, 1 },          /* no whole page: dropped */
		{ 0x20800, 0x1000, 1 },         /* these two touch mid-page: */
		{ 0x21800, 0x1000, 1 },         /* together one whole page */
		{ 0x30010, 0x20, 2 },           /* reserved keeps its bytes */
	};

	MAP_SET(m);
	boot_mem_normalize(&bi);
	CHECK_EQ(bi.nmem, 3);
	CHECK_RANGE(0, 0x2000, 0x4000, BOOT_MEM_RAM);
	CHECK_RANGE(1, 0x21000, 0x1000, BOOT_MEM_RAM);
	CHECK_RANGE(2, 0x30010, 0x20, BOOT_MEM_RESERVED);
	CHECK_NORMAL();
}

UNIT_TEST(bootinfo_normalize_clip)
{
	static const uint64_t m[][3] = {
		{ 0, 0xa0000, 1 }, { 0x9f000, 0x61000, 2 },               /* top cut */
		{ 0x100000, 0x7f00000, 1 },
		{ 0x2000000, 0x1000, 2 }, { 0x3000800, 0x10, 4 },            /* two holes */
		{ 0xff000, 0x2000, 3 },                                      /* bottom cut */
		{ 0x10000000, 0x1000000, 1 }, { 0xf000000, 0x3000000, 2 },   /* swallowed */
	};

	MAP_SET(m);
	boot_mem_normalize(&bi);
	CHECK(!bi.mem_truncated);
	CHECK_NORMAL();
	CHECK_EQ(bi.nmem, 9);
	CHECK_RANGE(0, 0, 0x9f000, BOOT_MEM_RAM);
	CHECK_RANGE(1, 0x9f000, 0x61000, BOOT_MEM_RESERVED);
	CHECK_RANGE(2, 0xff000, 0x2000, BOOT_MEM_ACPI);
	CHECK_RANGE(3, 0x101000, 0x1eff000, BOOT_MEM_RAM);
	CHECK_RANGE(4, 0x2000000, 0x1000, BOOT_MEM_RESERVED);
	CHECK_RANGE(5, 0x2001000, 0xfff000, BOOT_MEM_RAM);
	CHECK_RANGE(6, 0x3000800, 0x10, BOOT_MEM_NVS);
	CHECK_RANGE(7, 0x3001000, 0x4fff000, BOOT_MEM_RAM);
	CHECK_RANGE(8, 0xf000000, 0x3000000, BOOT_MEM_RESERVED);
}

UNIT_TEST(bootinfo_normalize_clip_full)
{
	/* A full map where holes would need more entries than there are:
	 * RAM is lost (never reserved memory used), and that is reported. */
	uint64_t m[BOOT_MEM_MAX][3];

	m[0][0] = 0;
	m[0][1] = 0x10000000;
	m[0][2] = 1;
	for (unsigned int i = 1; i < BOOT_MEM_MAX; i++) {
		m[i][0] = 0x100000ull * i;
		m[i][1] = 0x1000;
		m[i][2] = 2;
	}
	map_set(m, BOOT_MEM_MAX);
	boot_mem_normalize(&bi);
	CHECK(bi.mem_truncated);
	CHECK_NORMAL();
	CHECK_EQ(bi.nmem, BOOT_MEM_MAX);
	/* With room to spare, every hole is cut and nothing is lost. */
	map_set(m, BOOT_MEM_MAX / 2);
	boot_mem_normalize(&bi);
	CHECK(!bi.mem_truncated);
	CHECK_NORMAL();
	CHECK_EQ(bi.nmem, BOOT_MEM_MAX - 1);
	CHECK_RANGE(BOOT_MEM_MAX - 2, 0x100000ull * (BOOT_MEM_MAX / 2 - 1) + 0x1000,
		    0x10000000 - 0x100000ull * (BOOT_MEM_MAX / 2 - 1) - 0x1000, BOOT_MEM_RAM);
	/* One hole more than fits. */
	map_set(m, BOOT_MEM_MAX / 2 + 1);
	boot_mem_normalize(&bi);
	CHECK(bi.mem_truncated);
	CHECK_NORMAL();
}

UNIT_TEST(bootinfo_normalize_edges)
{
	static const uint64_t m[][3] = {
		{ 0xfffffffffffff000ull, 0x1000, 1 },           /* ends at 2^64 */
		{ 0xffffffffffff0000ull, 0x20000, 1 },          /* wraps */
		{ 0xfffffffffff00000ull, 0x100, 2 },
		{ 0, 0x1000, 1 },
	};

	MAP_SET(m);
	boot_mem_normalize(&bi);
	CHECK_NORMAL();
	CHECK_RANGE(0, 0, 0x1000, BOOT_MEM_RAM);
	CHECK_RANGE(1, 0xfffffffffff00000ull, 0x100, BOOT_MEM_RESERVED);
	CHECK_RANGE(2, 0xffffffffffff0000ull, 0xf000, BOOT_MEM_RAM);
	CHECK_EQ(bi.nmem, 3);
	for (unsigned int i = 0; i < bi.nmem; i++)
		CHECK(bi.mem[i].len <= UINT64_MAX - bi.mem[i].base);
	/* Nothing at all. */
	memset(&bi, 0, sizeof(bi));
	boot_mem_normalize(&bi);
	CHECK_EQ(bi.nmem, 0);
}

/* Random maps on a 2 KiB grid against a brute-force model: a page is RAM
 * afterwards iff all of it was RAM and none of it anything else. */
#define GRID     0x800u
#define NGRID    128u

static uint32_t rng = 12345;

static uint32_t rnd(uint32_t n)
{
	rng = rng * 1103515245 + 12345;
	return (rng >> 8) % n;
}

static bool page_is_ram(uint64_t addr)
{
	for (unsigned int i = 0; i < bi.nmem; i++)
		if (bi.mem[i].type == BOOT_MEM_RAM && addr >= bi.mem[i].base &&
		    addr - bi.mem[i].base < bi.mem[i].len)
			return true;
	return false;
}

UNIT_TEST(bootinfo_normalize_random)
{
	unsigned int checked = 0;

	for (int iter = 0; iter < 20000; iter++) {
		uint8_t ram[NGRID] = { 0 }, other[NGRID] = { 0 };
		unsigned int n = 1 + rnd(12);

		memset(&bi, 0, sizeof(bi));
		for (unsigned int i = 0; i < n; i++) {
			uint32_t start = rnd(NGRID), len = rnd(NGRID / 4), type = 1 + rnd(iter % 2 ? 2 : 5);
			len = MIN(len, NGRID - start);
			bi.mem[i] = (struct boot_mem_range){ start * GRID, len * GRID, type };
			for (uint32_t g = start; g < start + len; g++)
				(type == BOOT_MEM_RAM ? ram : other)[g] = 1;
		}
		bi.nmem = n;
		boot_mem_normalize(&bi);
		CHECK_NORMAL();
		if (bi.mem_truncated)
			continue;
		for (unsigned int g = 0; g < NGRID; g += 2) {
			bool want = ram[g] && ram[g + 1] && !other[g] && !other[g + 1];
			if (want != page_is_ram(g * GRID) || want != page_is_ram(g * GRID + GRID)) {
				unit_fail(__FILE__, __LINE__, "iteration %d: page %#x", iter, g * GRID);
				break;
			}
		}
		checked++;
	}
	CHECK(checked > 10000);
}
