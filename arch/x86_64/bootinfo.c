/*
 * arch/x86_64/bootinfo.c - the two boot protocols, parsed into struct
 * boot_info (core/boot.h).
 *
 * PVH: struct hvm_start_info (Xen's arch-x86/hvm/start_info.h layout;
 * version 1 adds the memory map).  Multiboot2: a tag list (the Multiboot2
 * specification, section 3.6).  Both are copied out completely, so the
 * loader's memory may be reused afterwards.  Everything the loader says is
 * checked: sizes, counts, alignment, strings that must end inside their tag.
 * Pure C: host unit tests feed it synthetic structures.
 */
#include "core/boot.h"
#include "core/errno.h"
#include "core/kernel.h"

#define PVH_MAGIC       0x336ec578
#define MB2_TAG_END     0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE  3
#define MB2_TAG_MEMINFO 4
#define MB2_TAG_MMAP    6
#define MB2_TAG_ACPI1   14
#define MB2_TAG_ACPI2   15
#define MB2_INFO_MAX    (1u << 20)

struct pvh_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;               /* version >= 1 */
	uint32_t memmap_entries, reserved;
};

struct pvh_module {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct pvh_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

struct mb2_tag {
	uint32_t type, size;
};

/* Copies a NUL-terminated string of at most max_len bytes from pa. */
static bool copy_string(uint64_t pa, char *dst, size_t dst_size, bool *truncated)
{
	const char *s;
	size_t n = 0;

	dst[0] = 0;
	if (!pa)
		return true;
	for (; n + 1 < dst_size; n++) {
		if (!(s = boot_phys_to_virt(pa + n, 1)))
			return false;
		if (!(dst[n] = *s))
			return true;
	}
	dst[n] = 0;
	s = boot_phys_to_virt(pa + n, 1);
	if (truncated && s && *s)
		*truncated = true;
	return true;
}

static void add_mem(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
	if (!len)
		return;
	if (type < BOOT_MEM_RAM || type > BOOT_MEM_UNUSABLE)
		type = BOOT_MEM_RESERVED;
	if (bi->nmem == BOOT_MEM_MAX) {
		bi->mem_truncated = true;
		return;
	}
	bi->mem[bi->nmem++] = (struct boot_mem_range){ base, len, type };
}

static void add_module(struct boot_info *bi, uint64_t start, uint64_t end, uint64_t name_pa)
{
	struct boot_module *m;

	if (bi->nmod == BOOT_MOD_MAX || end <= start)
		return;
	m = &bi->mod[bi->nmod++];
	m->start = start;
	m->end = end;
	if (!copy_string(name_pa, m->name, sizeof(m->name), NULL))
		m->name[0] = 0;
}

static int pvh_modules(const struct pvh_start_info *si, struct boot_info *bi)
{
	const struct pvh_module *mods;

	if (!si->nr_modules)
		return 0;
	if (si->nr_modules > 64)
		return -EINVAL;
	mods = boot_phys_to_virt(si->modlist_paddr, si->nr_modules * sizeof(*mods));
	if (!mods)
		return -EINVAL;
	for (uint32_t i = 0; i < si->nr_modules; i++) {
		if (mods[i].paddr + mods[i].size < mods[i].paddr)
			return -EINVAL;
		add_module(bi, mods[i].paddr, mods[i].paddr + mods[i].size, mods[i].cmdline_paddr);
	}
	return 0;
}

int boot_parse_pvh(uint64_t pa, struct boot_info *bi, const char **why)
{
	const struct pvh_start_info *si = boot_phys_to_virt(pa, sizeof(*si));
	const struct pvh_memmap_entry *mm;

	memset(bi, 0, sizeof(*bi));
	bi->protocol = "pvh";
	if (!si || si->magic != PVH_MAGIC)
		return *why = "PVH start_info missing or with a bad magic number", -EINVAL;
	if (si->version < 1 || !si->memmap_entries || si->memmap_entries > 1024)
		return *why = "the PVH loader passed no memory map", -EINVAL;
	mm = boot_phys_to_virt(si->memmap_paddr, si->memmap_entries * sizeof(*mm));
	if (!mm)
		return *why = "the PVH memory map is unreadable", -EINVAL;
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		add_mem(bi, mm[i].addr, mm[i].size, mm[i].type);
	if (!copy_string(si->cmdline_paddr, bi->cmdline, sizeof(bi->cmdline), &bi->cmdline_truncated))
		return *why = "the PVH command line is unreadable", -EINVAL;
	if (pvh_modules(si, bi))
		return *why = "the PVH module list is malformed", -EINVAL;
	bi->rsdp = si->rsdp_paddr;
	boot_mem_normalize(bi);
	return 0;
}

static void mb2_mmap(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
	uint32_t esize = *(const uint32_t *)(tag + 8);

	if (esize < 24 || size < 16)
		return;
	for (uint32_t off = 16; off + esize <= size; off += esize) {
		const struct pvh_memmap_entry *e = (const void *)(tag + off);  /* same layout */
		add_mem(bi, e->addr, e->size, e->type);
	}
}

/* A string inside a tag: must end before the tag does. */
static void mb2_string(const uint8_t *s, uint32_t avail, char *dst, size_t dst_size, bool *trunc)
{
	size_t n = 0;

	while (n < avail && s[n] && n + 1 < dst_size) {
		dst[n] = (char)s[n];
		n++;
	}
	dst[n] = 0;
	if (trunc && n < avail && s[n])
		*trunc = true;
}

static void mb2_tag(const struct mb2_tag *t, struct boot_info *bi, bool *have_mmap)
{
	const uint8_t *p = (const uint8_t *)t;

	switch (t->type) {
	case MB2_TAG_CMDLINE:
		mb2_string(p + 8, t->size - 8, bi->cmdline, sizeof(bi->cmdline), &bi->cmdline_truncated);
		break;
	case MB2_TAG_MODULE:
		if (t->size >= 16 && bi->nmod < BOOT_MOD_MAX) {
			uint32_t start = *(const uint32_t *)(p + 8), end = *(const uint32_t *)(p + 12);
			if (end > start) {
				struct boot_module *m = &bi->mod[bi->nmod++];
				m->start = start;
				m->end = end;
				mb2_string(p + 16, t->size - 16, m->name, sizeof(m->name), NULL);
			}
		}
		break;
	case MB2_TAG_MMAP:
		mb2_mmap(p, t->size, bi);
		*have_mmap = true;
		break;
	case MB2_TAG_ACPI1:
	case MB2_TAG_ACPI2:
		if (t->size >= 8 + 20 && (t->type == MB2_TAG_ACPI2 || !bi->has_rsdp_copy)) {
			memcpy(bi->rsdp_copy, p + 8, MIN(t->size - 8, sizeof(bi->rsdp_copy)));
			bi->has_rsdp_copy = true;
		}
		break;
	}
}

int boot_parse_multiboot2(uint64_t pa, struct boot_info *bi, const char **why)
{
	const uint32_t *hdr = boot_phys_to_virt(pa, 8);
	const uint8_t *info;
	bool have_mmap = false;
	uint32_t total;

	memset(bi, 0, sizeof(*bi));
	bi->protocol = "multiboot2";
	if (!hdr || (pa & 7))
		return *why = "the Multiboot2 information block is missing", -EINVAL;
	total = hdr[0];
	if (total < 16 || total > MB2_INFO_MAX || !(info = boot_phys_to_virt(pa, total)))
		return *why = "the Multiboot2 information block has a bad size", -EINVAL;
	for (uint32_t off = 8; off + 8 <= total;) {
		const struct mb2_tag *t = (const void *)(info + off);
		if (t->type == MB2_TAG_END)
			break;
		if (t->size < 8 || t->size > total - off)
			return *why = "a Multiboot2 tag runs past the information block", -EINVAL;
		mb2_tag(t, bi, &have_mmap);
		off += ALIGN_UP(t->size, 8);
	}
	if (!have_mmap || !bi->nmem)
		return *why = "the boot loader passed no memory map", -EINVAL;
	boot_mem_normalize(bi);
	return 0;
}

/* RAM is used in whole pages: trim each usable range to page boundaries. */
static void trim_ram(struct boot_info *bi)
{
	for (unsigned int i = 0; i < bi->nmem; i++) {
		struct boot_mem_range *r = &bi->mem[i];
		uint64_t start = ALIGN_UP(r->base, 4096ULL), end = ALIGN_DOWN(r->base + r->len, 4096ULL);
		if (r->type != BOOT_MEM_RAM)
			continue;
		r->base = start;
		r->len = end > start ? end - start : 0;
	}
}

/* Page-trims RAM, sorts by base (the map is short: insertion sort), then
 * merges touching ranges of one type and drops empty ones. */
void boot_mem_normalize(struct boot_info *bi)
{
	struct boot_mem_range *m = bi->mem;
	unsigned int n = 0;

	trim_ram(bi);
	for (unsigned int i = 1; i < bi->nmem; i++) {
		struct boot_mem_range x = m[i];
		unsigned int j = i;
		for (; j > 0 && m[j - 1].base > x.base; j--)
			m[j] = m[j - 1];
		m[j] = x;
	}
	for (unsigned int i = 0; i < bi->nmem; i++) {
		if (!m[i].len)
			continue;
		if (n && m[n - 1].type == m[i].type &&
		    m[n - 1].base + m[n - 1].len >= m[i].base) {
			uint64_t end = MAX(m[n - 1].base + m[n - 1].len, m[i].base + m[i].len);
			m[n - 1].len = end - m[n - 1].base;
		} else {
			m[n++] = m[i];
		}
	}
	bi->nmem = n;
}
