/*
 * tests/fuzz/fuzz_bootinfo.c - libFuzzer target for the boot protocol
 * parsers (arch/x86_64/bootinfo.c).
 *
 * The input is "physical memory" starting at address 0; this file's
 * boot_phys_to_virt() returns NULL for address 0 (as the kernel's does) and
 * for any range not wholly inside the memory.  Each input is parsed twice:
 *   - as a Multiboot2 information block at address 8.  Its total_size field
 *     is cut to the bytes that follow it, and the memory handed over is
 *     exactly 8 + total_size bytes, so a read past total_size is an ASan
 *     report, not a silent read of the rest of the input;
 *   - as a PVH start_info at address 8, whose addresses (memory map, module
 *     list, command lines) are offsets into the input.
 * A successful parse must leave a normalized memory map (sorted, no empty
 * range, RAM in whole pages, disjoint from every other range and not touching
 * other RAM), bounded counts and terminated strings, modules wholly inside
 * one RAM range (the malformed ones counted in mod_ignored, with a reason),
 * and normalizing again must change nothing.
 *
 * Built with -DFUZZ_BOOTINFO_SEEDS instead, this file is a program that
 * writes two seed inputs (a Multiboot2 block and a PVH start_info, each with
 * a command line, modules and a memory map with holes) into a directory.
 *
 * Build and run (from the repository root):
 *   clang -std=gnu11 -g -DSKIFF_HOST_TEST -DFUZZ_BOOTINFO_SEEDS -I. \
 *     tests/fuzz/fuzz_bootinfo.c arch/x86_64/bootinfo.c -o /tmp/fuzz_bootinfo_seeds
 *   mkdir -p /tmp/fuzz_bootinfo_corpus && /tmp/fuzz_bootinfo_seeds /tmp/fuzz_bootinfo_corpus
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -DSKIFF_HOST_TEST -I. \
 *     tests/fuzz/fuzz_bootinfo.c arch/x86_64/bootinfo.c -o /tmp/fuzz_bootinfo
 *   /tmp/fuzz_bootinfo -max_total_time=60 -max_len=4096 /tmp/fuzz_bootinfo_corpus
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/boot.h"

#define INFO_PA 8

static const uint8_t *mem;
static size_t mem_len;

const void *boot_phys_to_virt(uint64_t pa, uint64_t len)
{
	if (pa == 0 || pa > mem_len || len > mem_len - pa)
		return NULL;
	return mem + pa;
}

static bool ranges_overlap(const struct boot_mem_range *a, const struct boot_mem_range *b)
{
	return a->base < b->base + b->len && b->base < a->base + a->len;
}

static void check_map(const struct boot_info *bi)
{
	for (unsigned int i = 0; i < bi->nmem; i++) {
		const struct boot_mem_range *r = &bi->mem[i];

		if (!r->len || r->len > UINT64_MAX - r->base)
			abort();
		if (i && r->base < bi->mem[i - 1].base)
			abort();
		if (r->type < BOOT_MEM_RAM || r->type > BOOT_MEM_UNUSABLE)
			abort();
		if (r->type != BOOT_MEM_RAM)
			continue;
		if ((r->base | r->len) & 4095)
			abort();
		for (unsigned int j = 0; j < bi->nmem; j++) {
			const struct boot_mem_range *q = &bi->mem[j];
			if (j != i && ranges_overlap(r, q))
				abort();
			if (j != i && q->type == BOOT_MEM_RAM &&
			    (q->base == r->base + r->len || r->base == q->base + q->len))
				abort();
		}
	}
}

/* Each module kept lies inside one RAM range; a count of the others comes
 * with a reason. */
static void check_modules(const struct boot_info *bi)
{
	if ((bi->mod_ignored == 0) != (bi->mod_problem == NULL))
		abort();
	for (unsigned int i = 0; i < bi->nmod; i++) {
		const struct boot_module *m = &bi->mod[i];
		bool inside = false;

		for (unsigned int j = 0; j < bi->nmem; j++) {
			const struct boot_mem_range *r = &bi->mem[j];
			inside |= r->type == BOOT_MEM_RAM && r->base <= m->start &&
				  m->end <= r->base + r->len;
		}
		if (!inside)
			abort();
	}
}

static void check_info(const struct boot_info *bi, int err, const char *why)
{
	struct boot_info again;

	if (bi->nmem > BOOT_MEM_MAX || bi->nmod > BOOT_MOD_MAX || !bi->protocol)
		abort();
	if (strnlen(bi->cmdline, sizeof(bi->cmdline)) == sizeof(bi->cmdline))
		abort();
	for (unsigned int i = 0; i < bi->nmod; i++) {
		if (strnlen(bi->mod[i].name, sizeof(bi->mod[i].name)) == sizeof(bi->mod[i].name))
			abort();
		if (bi->mod[i].end <= bi->mod[i].start)
			abort();
	}
	if (err) {
		if (!why || !why[0])
			abort();
		return;
	}
	check_map(bi);
	check_modules(bi);
	memcpy(&again, bi, sizeof(again));
	boot_mem_normalize(&again);
	if (again.nmem != bi->nmem ||
	    memcmp(again.mem, bi->mem, bi->nmem * sizeof(bi->mem[0])) != 0)
		abort();
}

static void fuzz_multiboot2(const uint8_t *data, size_t size)
{
	size_t avail = size > INFO_PA ? size - INFO_PA : 0;
	struct boot_info bi;
	const char *why = NULL;
	uint32_t total = 0;
	uint8_t *buf;
	int err;

	if (avail >= 4)
		memcpy(&total, data + INFO_PA, 4);
	if (total > avail)
		total = (uint32_t)avail;
	mem_len = INFO_PA + total;
	buf = calloc(1, mem_len);               /* 16-aligned: the block is 8-aligned */
	if (!buf)
		abort();
	memcpy(buf, data, size < mem_len ? size : mem_len);
	if (total >= 4)
		memcpy(buf + INFO_PA, &total, 4);
	mem = buf;
	err = boot_parse_multiboot2(INFO_PA, &bi, &why);
	check_info(&bi, err, why);
	if (strcmp(bi.protocol, "multiboot2") != 0)
		abort();
	free(buf);
}

static void fuzz_pvh(const uint8_t *data, size_t size)
{
	struct boot_info bi;
	const char *why = NULL;
	uint8_t *buf = malloc(size ? size : 1);
	int err;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	mem = buf;
	mem_len = size;
	err = boot_parse_pvh(INFO_PA, &bi, &why);
	check_info(&bi, err, why);
	if (strcmp(bi.protocol, "pvh") != 0)
		abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_multiboot2(data, size);
	fuzz_pvh(data, size);
	return 0;
}

#ifdef FUZZ_BOOTINFO_SEEDS
#include "tests/fuzz/seed_file.h"

static uint8_t seed[2048];
static size_t seed_len;

static void seed_put(size_t off, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		seed[off + i] = (uint8_t)(v >> (8 * i));
}

/* Appends n bytes at the next 8-aligned offset; returns that offset. */
static size_t seed_add(const void *p, size_t n)
{
	size_t off = (seed_len + 7) & ~(size_t)7;

	memcpy(seed + off, p, n);
	seed_len = off + n;
	return off;
}

static const uint64_t seed_map[][3] = {
	{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0xf0000, 0x10000, 2 },
	{ 0x100000, 0x7ee0000, 1 }, { 0x7fe0000, 0x20000, 3 }, { 0x2000000, 0x1000, 4 },
	{ 0xfeffc000, 0x4000, 2 }, { 0x100000000, 0x40000000, 1 },
};
#define SEED_NMAP (sizeof(seed_map) / sizeof(seed_map[0]))

static void seed_mb2_tag(uint32_t type, const void *body, size_t n)
{
	size_t off = (seed_len + 7) & ~(size_t)7;

	seed_put(off, type, 4);
	seed_put(off + 4, 8 + n, 4);
	if (n)
		memcpy(seed + off + 8, body, n);
	seed_len = off + 8 + n;
}

static void seed_mb2(void)
{
	uint8_t body[8 + 24 * SEED_NMAP] = { 24 }, rsdp[36] = "RSD PTR ";

	memset(seed, 0, sizeof(seed));
	seed_len = INFO_PA + 8;
	seed_mb2_tag(1, "bootlog test=x -- a \"b c\"", 27);
	seed_mb2_tag(3, "\0\0\x40\0\0\x10\x40\0initrd", 15);
	for (size_t i = 0; i < SEED_NMAP; i++) {
		memcpy(body + 8 + 24 * i, &seed_map[i][0], 8);
		memcpy(body + 8 + 24 * i + 8, &seed_map[i][1], 8);
		memcpy(body + 8 + 24 * i + 16, &(uint32_t){ (uint32_t)seed_map[i][2] }, 4);
	}
	seed_mb2_tag(6, body, sizeof(body));
	seed_mb2_tag(15, rsdp, sizeof(rsdp));
	seed_mb2_tag(0, NULL, 0);
	seed_put(INFO_PA, seed_len - INFO_PA, 4);
}

static void seed_pvh(void)
{
	size_t si = INFO_PA, mm, cmd, mods, name;
	uint8_t e[24] = { 0 };

	memset(seed, 0, sizeof(seed));
	seed_len = INFO_PA + 56;
	mm = (seed_len + 7) & ~(size_t)7;
	for (size_t i = 0; i < SEED_NMAP; i++) {
		memcpy(e, &seed_map[i][0], 8);
		memcpy(e + 8, &seed_map[i][1], 8);
		memcpy(e + 16, &(uint32_t){ (uint32_t)seed_map[i][2] }, 4);
		seed_add(e, sizeof(e));
	}
	cmd = seed_add("bootlog -- app", 15);
	name = seed_add("module", 7);
	mods = seed_add("", 1);
	seed_len = mods;
	for (int i = 0; i < 2; i++) {
		size_t m = seed_len;
		seed_len += 32;
		seed_put(m, 0x400000 + 0x10000 * i, 8);
		seed_put(m + 8, 0x1000, 8);
		seed_put(m + 16, i ? 0 : name, 8);
	}
	seed_put(si, 0x336ec578, 4);
	seed_put(si + 4, 1, 4);
	seed_put(si + 12, 2, 4);
	seed_put(si + 16, mods, 8);
	seed_put(si + 24, cmd, 8);
	seed_put(si + 32, 0xf5a40, 8);
	seed_put(si + 40, mm, 8);
	seed_put(si + 48, SEED_NMAP, 4);
}

/* The seed must parse, or it is no use as a seed. */
static bool seed_ok(bool pvh)
{
	struct boot_info bi;
	const char *why;

	mem = seed;
	mem_len = seed_len;
	if ((pvh ? boot_parse_pvh : boot_parse_multiboot2)(INFO_PA, &bi, &why))
		return false;
	return bi.nmem >= 8 && bi.nmod >= 1 && bi.cmdline[0];
}

static int seed_write(const char *dir, const char *name)
{
	return seed_file_write(dir, name, seed, seed_len);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	seed_mb2();
	if (!seed_ok(false) || seed_write(argv[1], "multiboot2") < 0) {
		fprintf(stderr, "%s: the Multiboot2 seed failed\n", argv[0]);
		return 1;
	}
	seed_pvh();
	if (!seed_ok(true) || seed_write(argv[1], "pvh") < 0) {
		fprintf(stderr, "%s: the PVH seed failed\n", argv[0]);
		return 1;
	}
	return 0;
}
#endif
