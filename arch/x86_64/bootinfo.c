/*
 * arch/x86_64/bootinfo.c - the two boot protocols, parsed into struct
 * boot_info (core/boot.h).
 *
 * PVH: struct hvm_start_info (Xen's arch-x86/hvm/start_info.h layout;
 * version 1 adds the memory map).  Multiboot2: a tag list (the Multiboot2
 * specification, section 3.6).  Both are copied out completely, so the
 * loader's memory may be reused afterwards.  Everything the loader says is
 * checked: sizes, counts, alignment, strings that must end inside their tag.
 * PVH structures may sit at any address, so they are copied out with memcpy
 * rather than read in place.  Pure C: host unit tests feed it synthetic
 * structures (tests/unit/test_bootinfo.c), fuzzers random ones
 * (tests/fuzz/fuzz_bootinfo.c).
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
#define PVH_V0_SIZE offsetof(struct pvh_start_info, memmap_paddr)

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

/* The map is full.  Losing RAM is safe, losing a range that RAM overlaps is
 * not: a non-RAM range takes the place of the smallest RAM range. */
static void evict_ram(struct boot_info *bi, struct boot_mem_range r)
{
	struct boot_mem_range *victim = NULL;

	if (r.type == BOOT_MEM_RAM)
		return;
	for (unsigned int i = 0; i < bi->nmem; i++) {
		if (bi->mem[i].type == BOOT_MEM_RAM && (!victim || bi->mem[i].len < victim->len))
			victim = &bi->mem[i];
	}
	if (victim)
		*victim = r;
}

static void add_mem(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
	if (!len)
		return;
	if (type < BOOT_MEM_RAM || type > BOOT_MEM_UNUSABLE)
		type = BOOT_MEM_RESERVED;
	if (bi->nmem == BOOT_MEM_MAX) {
		bi->mem_truncated = true;
		evict_ram(bi, (struct boot_mem_range){ base, len, type });
		return;
	}
	bi->mem[bi->nmem++] = (struct boot_mem_range){ base, len, type };
}

static void mod_ignore(struct boot_info *bi, unsigned int n, const char *why)
{
	bi->mod_ignored += n;
	if (!bi->mod_problem)
		bi->mod_problem = why;
}

/* A module [start, end) with its name, or NULL if it is left out. */
static struct boot_module *add_module(struct boot_info *bi, uint64_t start, uint64_t end)
{
	struct boot_module *m;

	if (end < start)
		return mod_ignore(bi, 1, "a boot module ends before it starts"), NULL;
	if (end == start)
		return mod_ignore(bi, 1, "a boot module is empty"), NULL;
	if (bi->nmod == BOOT_MOD_MAX)
		return mod_ignore(bi, 1, "more than 8 boot modules"), NULL;
	m = &bi->mod[bi->nmod++];
	m->start = start;
	m->end = end;
	m->name[0] = 0;
	return m;
}

#define PVH_MOD_MAX 64

static void pvh_modules(const struct pvh_start_info *si, struct boot_info *bi)
{
	const uint8_t *list;
	struct pvh_module m;
	struct boot_module *bm;

	if (!si->nr_modules)
		return;
	if (si->nr_modules > PVH_MOD_MAX) {
		mod_ignore(bi, si->nr_modules, "the PVH module count is absurd");
		return;
	}
	list = boot_phys_to_virt(si->modlist_paddr, si->nr_modules * sizeof(m));
	if (!list) {
		mod_ignore(bi, si->nr_modules, "the PVH module list is unreadable");
		return;
	}
	for (uint32_t i = 0; i < si->nr_modules; i++) {
		memcpy(&m, list + i * sizeof(m), sizeof(m));
		if (m.paddr + m.size < m.paddr) {
			mod_ignore(bi, 1, "a boot module wraps the address space");
			continue;
		}
		bm = add_module(bi, m.paddr, m.paddr + m.size);
		if (bm && !copy_string(m.cmdline_paddr, bm->name, sizeof(bm->name), NULL))
			bm->name[0] = 0;
	}
}

/* Keeps the modules that lie wholly inside one RAM range of the normalized
 * map (touching RAM ranges are merged by then). */
static void check_modules(struct boot_info *bi)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < bi->nmod; i++) {
		const struct boot_module *m = &bi->mod[i];
		bool in_ram = false;

		for (unsigned int j = 0; j < bi->nmem && !in_ram; j++) {
			const struct boot_mem_range *r = &bi->mem[j];
			in_ram = r->type == BOOT_MEM_RAM && r->base <= m->start &&
				 m->end - r->base <= r->len;
		}
		if (in_ram)
			bi->mod[n++] = *m;
		else
			mod_ignore(bi, 1, "a boot module lies outside usable RAM");
	}
	for (unsigned int i = n; i < bi->nmod; i++)
		memset(&bi->mod[i], 0, sizeof(bi->mod[i]));
	bi->nmod = n;
}

/* Copies start_info out: version 0 ends before the memory map fields. */
static const char *pvh_read_start_info(uint64_t pa, struct pvh_start_info *si)
{
	const void *p = boot_phys_to_virt(pa, PVH_V0_SIZE);

	memset(si, 0, sizeof(*si));
	if (!p)
		return "PVH start_info missing or with a bad magic number";
	memcpy(si, p, PVH_V0_SIZE);
	if (si->magic != PVH_MAGIC)
		return "PVH start_info missing or with a bad magic number";
	if (si->version < 1)
		return "the PVH loader passed no memory map";
	if (!(p = boot_phys_to_virt(pa, sizeof(*si))))
		return "PVH start_info is unreadable";
	memcpy(si, p, sizeof(*si));
	if (!si->memmap_entries || si->memmap_entries > 1024)
		return "the PVH loader passed no memory map";
	return NULL;
}

int boot_parse_pvh(uint64_t pa, struct boot_info *bi, const char **why)
{
	struct pvh_start_info si;
	struct pvh_memmap_entry e;
	const uint8_t *mm;
	const char *bad;

	memset(bi, 0, sizeof(*bi));
	bi->protocol = "pvh";
	if ((bad = pvh_read_start_info(pa, &si)))
		return *why = bad, -EINVAL;
	mm = boot_phys_to_virt(si.memmap_paddr, si.memmap_entries * sizeof(e));
	if (!mm)
		return *why = "the PVH memory map is unreadable", -EINVAL;
	for (uint32_t i = 0; i < si.memmap_entries; i++) {
		memcpy(&e, mm + i * sizeof(e), sizeof(e));
		add_mem(bi, e.addr, e.size, e.type);
	}
	if (!copy_string(si.cmdline_paddr, bi->cmdline, sizeof(bi->cmdline), &bi->cmdline_truncated))
		return *why = "the PVH command line is unreadable", -EINVAL;
	pvh_modules(&si, bi);
	bi->rsdp = si.rsdp_paddr;
	boot_mem_normalize(bi);
	check_modules(bi);
	return 0;
}

/* Entries of entry_size bytes (at least 24, not always a multiple of 8). */
static void mb2_mmap(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
	struct pvh_memmap_entry e;           /* the same first 20 bytes */
	uint32_t esize;

	if (size < 16)
		return;
	esize = *(const uint32_t *)(tag + 8);
	if (esize < 24)
		return;
	for (uint32_t off = 16; esize <= size - off; off += esize) {
		memcpy(&e, tag + off, 20);
		add_mem(bi, e.addr, e.size, e.type);
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

static void mb2_module(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
	struct boot_module *m;

	if (size < 16) {
		mod_ignore(bi, 1, "a Multiboot2 module tag is too short");
		return;
	}
	m = add_module(bi, *(const uint32_t *)(tag + 8), *(const uint32_t *)(tag + 12));
	if (m)
		mb2_string(tag + 16, size - 16, m->name, sizeof(m->name), NULL);
}

static void mb2_tag(const struct mb2_tag *t, struct boot_info *bi, bool *have_mmap)
{
	const uint8_t *p = (const uint8_t *)t;

	switch (t->type) {
	case MB2_TAG_CMDLINE:
		mb2_string(p + 8, t->size - 8, bi->cmdline, sizeof(bi->cmdline), &bi->cmdline_truncated);
		break;
	case MB2_TAG_MODULE:
		mb2_module(p, t->size, bi);
		break;
	case MB2_TAG_MMAP:
		mb2_mmap(p, t->size, bi);
		*have_mmap = true;
		break;
	case MB2_TAG_ACPI1:
	case MB2_TAG_ACPI2:
		if (t->size >= 8 + 20 && (t->type == MB2_TAG_ACPI2 || !bi->has_rsdp_copy)) {
			memset(bi->rsdp_copy, 0, sizeof(bi->rsdp_copy));
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
	check_modules(bi);
	return 0;
}

/* Cuts hole h out of RAM range r.  When h is strictly inside r, the part
 * above h goes to a new entry, or is given up (mem_truncated) if the map is
 * full: losing RAM is safe, handing out reserved memory is not. */
static void clip_one(struct boot_info *bi, struct boot_mem_range *r,
		     const struct boot_mem_range *h)
{
	uint64_t r_end = r->base + r->len, h_end = h->base + h->len;

	if (!h->len || h_end <= r->base || h->base >= r_end)
		return;
	if (h->base > r->base && h_end < r_end) {
		if (bi->nmem < BOOT_MEM_MAX)
			bi->mem[bi->nmem++] = (struct boot_mem_range){ h_end, r_end - h_end, BOOT_MEM_RAM };
		else
			bi->mem_truncated = true;
	}
	if (h->base > r->base) {
		r->len = h->base - r->base;
	} else if (h_end < r_end) {
		r->base = h_end;
		r->len = r_end - h_end;
	} else {
		r->len = 0;
	}
}

/* Removes from RAM whatever any other range claims too.  New entries (the
 * upper parts of split ranges) are appended and clipped in their turn. */
static void clip_ram(struct boot_info *bi)
{
	for (unsigned int i = 0; i < bi->nmem; i++) {
		for (unsigned int j = 0; j < bi->nmem && bi->mem[i].type == BOOT_MEM_RAM; j++) {
			if (bi->mem[j].type != BOOT_MEM_RAM)
				clip_one(bi, &bi->mem[i], &bi->mem[j]);
		}
	}
}

/* Insertion sort by base: the map is short. */
static void sort_mem(struct boot_info *bi)
{
	struct boot_mem_range *m = bi->mem;

	for (unsigned int i = 1; i < bi->nmem; i++) {
		struct boot_mem_range x = m[i];
		unsigned int j = i;
		for (; j > 0 && m[j - 1].base > x.base; j--)
			m[j] = m[j - 1];
		m[j] = x;
	}
}

/* Merges touching or overlapping ranges of one type; drops empty ones. */
static void merge_mem(struct boot_info *bi)
{
	struct boot_mem_range *m = bi->mem;
	unsigned int n = 0;

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

/* RAM is used in whole pages: trims each RAM range to page boundaries and
 * drops those left without a page. */
static void trim_ram(struct boot_info *bi)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < bi->nmem; i++) {
		struct boot_mem_range r = bi->mem[i];
		if (r.type == BOOT_MEM_RAM) {
			uint64_t start = ALIGN_UP(r.base, 4096ULL), end = ALIGN_DOWN(r.base + r.len, 4096ULL);
			if (end <= start || start < r.base)
				continue;
			r.base = start;
			r.len = end - start;
		}
		bi->mem[n++] = r;
	}
	bi->nmem = n;
}

/* Clips RAM out of every other range, sorts by base, merges touching ranges
 * of one type, then page-trims RAM.  Trimming comes last so that RAM split
 * across two touching entries keeps its pages.  Afterwards RAM ranges are
 * disjoint from every other range and from each other; other ranges may
 * still overlap one another. */
void boot_mem_normalize(struct boot_info *bi)
{
	for (unsigned int i = 0; i < bi->nmem; i++)     /* no range wraps 2^64 */
		bi->mem[i].len = MIN(bi->mem[i].len, UINT64_MAX - bi->mem[i].base);
	clip_ram(bi);
	sort_mem(bi);
	merge_mem(bi);
	trim_ram(bi);
}
