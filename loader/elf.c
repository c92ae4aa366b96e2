/*
 * loader/elf.c - the ELF parser and static-PIE relocator (interface:
 * loader/elf.h).
 *
 * Headers are copied out of the image with memcpy (the image need not be
 * aligned) after their bytes are known to lie inside it.  Every sum of two
 * file values is checked before it is formed, in 64-bit unsigned
 * arithmetic, so nothing wraps.  Pure C: the host unit tests
 * (tests/unit/test_elf.c) and the fuzz target (tests/fuzz/fuzz_elf.c)
 * compile this file unchanged.
 */
#include "loader/elf.h"
#include "core/kernel.h"

/* The on-disk structures of ELF64 (little-endian, as x86-64 is). */
struct ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct dyn {
	int64_t tag;
	uint64_t val;
};

struct rela {
	uint64_t offset, info;
	int64_t addend;
};

BUILD_ASSERT(sizeof(struct ehdr) == 64);
BUILD_ASSERT(sizeof(struct phdr) == 56);
BUILD_ASSERT(sizeof(struct dyn) == 16);
BUILD_ASSERT(sizeof(struct rela) == 24);

enum { ET_EXEC = 2, ET_DYN = 3, EM_X86_64 = 62 };
enum { PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_TLS = 7,
       PT_GNU_STACK = 0x6474e551 };
enum { DT_NULL = 0, DT_NEEDED = 1, DT_PLTRELSZ = 2, DT_RELA = 7, DT_RELASZ = 8,
       DT_RELAENT = 9, DT_REL = 17, DT_RELSZ = 18, DT_TEXTREL = 22, DT_JMPREL = 23,
       DT_FLAGS = 30, DT_RELRSZ = 35, DT_RELR = 36, DF_TEXTREL = 4 };
enum { R_X86_64_NONE = 0, R_X86_64_RELATIVE = 8 };

#define TLS_MAX (1ull << 30)    /* larger TLS images or alignments are absurd */

static const char dynamic_why[] =
	"dynamically linked (needs PT_INTERP, the dynamic linker): only static executables run in Skiff";

struct parse {
	const uint8_t *img;
	uint64_t len;
	struct elf_plan *plan;
	const char **why;
};

static int fail(const char **why, int err, const char *reason)
{
	*why = reason;
	return err;
}

/* True if [off, off + size) lies inside [0, len). */
static bool in_range(uint64_t off, uint64_t size, uint64_t len)
{
	return size <= len && off <= len - size;
}

static bool pow2_or_zero(uint64_t a)
{
	return (a & (a - 1)) == 0;
}

static void read_phdr(const struct parse *p, const struct ehdr *eh, unsigned int i,
		      struct phdr *ph)
{
	memcpy(ph, p->img + eh->phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* The segment whose file bytes hold [vaddr, vaddr + size); NULL if none. */
static const struct elf_segment *seg_holding(const struct elf_plan *plan, uint64_t vaddr,
					     uint64_t size)
{
	for (unsigned int i = 0; i < plan->nload; i++) {
		const struct elf_segment *s = &plan->load[i];
		if (vaddr >= s->vaddr && in_range(vaddr - s->vaddr, size, s->filesz))
			return s;
	}
	return NULL;
}

static const char *machine_why(uint16_t machine)
{
	switch (machine) {
	case 3:   return "built for i386, not x86-64 (e_machine 3)";
	case 40:  return "built for 32-bit ARM, not x86-64 (e_machine 40)";
	case 183: return "built for AArch64, not x86-64 (e_machine 183)";
	case 243: return "built for RISC-V, not x86-64 (e_machine 243)";
	default:  return "built for another machine, not x86-64 (e_machine)";
	}
}

static int check_ehdr(const struct parse *p, struct ehdr *eh)
{
	const char **why = p->why;

	if (p->len < 4 || memcmp(p->img, "\177ELF", 4) != 0)
		return fail(why, -ENOEXEC, "not an ELF file (bad magic)");
	if (p->len < sizeof(*eh))
		return fail(why, -ENOEXEC, "truncated: the file is shorter than an ELF header");
	memcpy(eh, p->img, sizeof(*eh));
	if (eh->ident[4] != 2)
		return fail(why, -ENOEXEC, eh->ident[4] == 1 ? "32-bit ELF (ELFCLASS32): only 64-bit x86-64 programs run"
							     : "corrupt ELF header: unknown class (EI_CLASS)");
	if (eh->ident[5] != 1)
		return fail(why, -ENOEXEC, eh->ident[5] == 2 ? "big-endian ELF (ELFDATA2MSB): x86-64 is little-endian"
							     : "corrupt ELF header: unknown byte order (EI_DATA)");
	if (eh->machine != EM_X86_64)
		return fail(why, -ENOEXEC, machine_why(eh->machine));
	if (eh->type != ET_EXEC && eh->type != ET_DYN)
		return fail(why, -ENOEXEC, eh->type == 1 ? "a relocatable object (ET_REL), not an executable"
				: eh->type == 4 ? "a core dump (ET_CORE), not an executable"
				: "not an executable (e_type is neither ET_EXEC nor ET_DYN)");
	if (eh->phnum == 0)
		return fail(why, -ENOEXEC, "no program headers: nothing to load");
	if (eh->phnum == 0xffff)
		return fail(why, -ENOEXEC, "too many program headers (extended numbering)");
	if (eh->phentsize != sizeof(struct phdr))
		return fail(why, -ENOEXEC, "corrupt ELF header: e_phentsize is not 56");
	if (!in_range(eh->phoff, (uint64_t)eh->phnum * sizeof(struct phdr), p->len))
		return fail(why, -ENOEXEC, "truncated: the program headers run past the end of the file");
	return 0;
}

/* Checks a PT_LOAD's own fields (not its neighbours) and adds it. */
static int add_load(const struct parse *p, const struct phdr *ph)
{
	struct elf_plan *plan = p->plan;
	const char **why = p->why;

	if (ph->filesz > ph->memsz)
		return fail(why, -ENOEXEC, "a PT_LOAD segment has filesz > memsz");
	if (ph->memsz == 0)
		return 0;                              /* nothing to load */
	if (!in_range(ph->offset, ph->filesz, p->len))
		return fail(why, -ENOEXEC, "truncated: a PT_LOAD segment's data runs past the end of the file");
	if ((!plan->pie && ph->vaddr < ELF_USER_MIN) || ph->vaddr >= ELF_USER_END ||
	    ph->memsz > ELF_USER_END - ph->vaddr)
		return fail(why, -ENOEXEC, "a PT_LOAD segment lies outside [0x10000, 0x800000000000)");
	if ((ph->offset - ph->vaddr) % ELF_PAGE_SIZE)
		return fail(why, -ENOEXEC, "a PT_LOAD segment's p_offset and p_vaddr differ modulo the page size");
	if (!pow2_or_zero(ph->align))
		return fail(why, -ENOEXEC, "a PT_LOAD segment's p_align is not a power of two");
	if ((ph->flags & ELF_PROT_W) && (ph->flags & ELF_PROT_X))
		return fail(why, -ENOEXEC, "a PT_LOAD segment is both writable and executable");
	if (plan->nload == ELF_LOAD_MAX)
		return fail(why, -ENOEXEC, "too many PT_LOAD segments (more than 16)");
	plan->load[plan->nload++] = (struct elf_segment){
		.vaddr = ph->vaddr, .memsz = ph->memsz, .filesz = ph->filesz,
		.offset = ph->offset, .align = ph->align,
		.prot = ph->flags & (ELF_PROT_R | ELF_PROT_W | ELF_PROT_X),
	};
	plan->align = MAX(plan->align, ph->align);
	return 0;
}

/* Byte overlap is corruption; a shared page must not become W+X. */
static int check_neighbours(const struct parse *p)
{
	const struct elf_plan *plan = p->plan;

	for (unsigned int i = 0; i < plan->nload; i++) {
		for (unsigned int j = i + 1; j < plan->nload; j++) {
			const struct elf_segment *a = &plan->load[i], *b = &plan->load[j];
			uint32_t prot = a->prot | b->prot;

			if (a->vaddr < b->vaddr + b->memsz && b->vaddr < a->vaddr + a->memsz)
				return fail(p->why, -ENOEXEC, "two PT_LOAD segments overlap");
			if (ALIGN_DOWN(a->vaddr, ELF_PAGE_SIZE) < ALIGN_UP(b->vaddr + b->memsz, ELF_PAGE_SIZE) &&
			    ALIGN_DOWN(b->vaddr, ELF_PAGE_SIZE) < ALIGN_UP(a->vaddr + a->memsz, ELF_PAGE_SIZE) &&
			    (prot & ELF_PROT_W) && (prot & ELF_PROT_X))
				return fail(p->why, -ENOEXEC,
					    "a writable and an executable PT_LOAD segment share a page");
		}
	}
	return 0;
}

/* The span [lo, hi) of all segments, and for a PIE whether it fits. */
static int set_span(const struct parse *p)
{
	struct elf_plan *plan = p->plan;

	plan->lo = ELF_USER_END;
	plan->hi = 0;
	for (unsigned int i = 0; i < plan->nload; i++) {
		const struct elf_segment *s = &plan->load[i];
		plan->lo = MIN(plan->lo, ALIGN_DOWN(s->vaddr, ELF_PAGE_SIZE));
		plan->hi = MAX(plan->hi, ALIGN_UP(s->vaddr + s->memsz, ELF_PAGE_SIZE));
	}
	if (plan->hi - plan->lo > ELF_USER_END - ELF_USER_MIN)
		return fail(p->why, -ENOEXEC, "the PT_LOAD segments span more than the lower half");
	return 0;
}

static int set_tls(const struct parse *p, const struct phdr *ph)
{
	struct elf_plan *plan = p->plan;

	if (plan->has_tls)
		return fail(p->why, -ENOEXEC, "more than one PT_TLS segment");
	if (ph->filesz > ph->memsz)
		return fail(p->why, -ENOEXEC, "the PT_TLS segment has filesz > memsz");
	if (ph->memsz > TLS_MAX || ph->align > TLS_MAX || !pow2_or_zero(ph->align))
		return fail(p->why, -ENOEXEC, "the PT_TLS segment's size or alignment is absurd");
	plan->has_tls = true;
	plan->tls.vaddr = ph->vaddr;
	plan->tls.filesz = ph->filesz;
	plan->tls.memsz = ph->memsz;
	plan->tls.align = ph->align;
	return 0;
}

/* One program header other than PT_INTERP (already refused). */
static int add_phdr(const struct parse *p, const struct phdr *ph, struct phdr *dynamic)
{
	struct elf_plan *plan = p->plan;

	switch (ph->type) {
	case PT_LOAD:
		return add_load(p, ph);
	case PT_TLS:
		return set_tls(p, ph);
	case PT_GNU_STACK:
		plan->stack_size = ph->memsz;
		plan->exec_stack = ph->flags & ELF_PROT_X;
		return 0;
	case PT_DYNAMIC:
		if (plan->has_dynamic)
			return fail(p->why, -ENOEXEC, "more than one PT_DYNAMIC segment");
		plan->has_dynamic = true;
		*dynamic = *ph;
		return 0;
	default:
		return 0;                 /* PT_PHDR, PT_NOTE, PT_GNU_RELRO ...: not needed */
	}
}

static void set_phdr_location(const struct ehdr *eh, struct elf_plan *plan)
{
	uint64_t size = (uint64_t)eh->phnum * sizeof(struct phdr);

	plan->phdr.offset = eh->phoff;
	plan->phdr.num = eh->phnum;
	plan->phdr.entsize = eh->phentsize;
	for (unsigned int i = 0; i < plan->nload; i++) {
		const struct elf_segment *s = &plan->load[i];
		if (eh->phoff >= s->offset && in_range(eh->phoff - s->offset, size, s->filesz)) {
			plan->phdr.mapped = true;
			plan->phdr.vaddr = s->vaddr + (eh->phoff - s->offset);
			return;
		}
	}
}

/* Reads one dynamic entry's meaning into the plan; d holds the DT_RELA*
 * values until they are checked together. */
static int dyn_entry(const struct parse *p, const struct dyn *e, uint64_t d[3])
{
	switch (e->tag) {
	case DT_NEEDED:
		return fail(p->why, -ENOENT,
			    "dynamically linked (needs shared libraries, DT_NEEDED): only static executables run in Skiff");
	case DT_TEXTREL:
		return fail(p->why, -ENOEXEC, "has text relocations (DT_TEXTREL): code must not be written");
	case DT_FLAGS:
		if (e->val & DF_TEXTREL)
			return fail(p->why, -ENOEXEC, "has text relocations (DF_TEXTREL): code must not be written");
		return 0;
	case DT_RELA:    d[0] = e->val; return 0;
	case DT_RELASZ:  d[1] = e->val; return 0;
	case DT_RELAENT: d[2] = e->val; return 0;
	case DT_JMPREL: case DT_PLTRELSZ: case DT_REL: case DT_RELSZ: case DT_RELR: case DT_RELRSZ:
		p->plan->other_relocs |= e->val != 0;
		return 0;
	default:
		return 0;
	}
}

/* The dynamic section, read as it will be loaded (through its PT_LOAD). */
static int read_dynamic(const struct parse *p, const struct phdr *ph)
{
	struct elf_plan *plan = p->plan;
	const struct elf_segment *s = seg_holding(plan, ph->vaddr, ph->filesz);
	uint64_t d[3] = { 0, 0, 0 }, off, rela_size;
	struct dyn e;
	int err;

	if (ph->filesz > ph->memsz || !s)
		return fail(p->why, -ENOEXEC, "the PT_DYNAMIC segment is not inside a PT_LOAD segment's file data");
	plan->dynamic_vaddr = ph->vaddr;
	plan->dynamic_size = ph->filesz;
	off = s->offset + (ph->vaddr - s->vaddr);
	for (uint64_t i = 0; i < ph->filesz / sizeof(e); i++) {
		memcpy(&e, p->img + off + i * sizeof(e), sizeof(e));
		if (e.tag == DT_NULL)
			break;
		if ((err = dyn_entry(p, &e, d)))
			return err;
	}
	if (d[1] == 0)
		return 0;
	if (d[2] != sizeof(struct rela) || d[1] % sizeof(struct rela))
		return fail(p->why, -ENOEXEC, "corrupt dynamic section: DT_RELAENT is not 24 or DT_RELASZ not a multiple of it");
	rela_size = d[1];
	if (!seg_holding(plan, d[0], rela_size))
		return fail(p->why, -ENOEXEC, "the DT_RELA table is not inside a PT_LOAD segment's file data");
	plan->rela_vaddr = d[0];
	plan->rela_count = rela_size / sizeof(struct rela);
	return 0;
}

/* Checks that need every segment: neighbours, span, TLS, entry, dynamic. */
static int check_plan(const struct parse *p, const struct ehdr *eh, const struct phdr *dynamic)
{
	struct elf_plan *plan = p->plan;
	const struct elf_segment *s;
	int err;

	if (plan->nload == 0)
		return fail(p->why, -ENOEXEC, "no PT_LOAD segments: nothing to load");
	if ((err = check_neighbours(p)) || (err = set_span(p)))
		return err;
	if (plan->has_tls && plan->tls.filesz && !seg_holding(plan, plan->tls.vaddr, plan->tls.filesz))
		return fail(p->why, -ENOEXEC, "the PT_TLS image is not inside a PT_LOAD segment's file data");
	s = seg_holding(plan, eh->entry, 1);
	if (!s || !(s->prot & ELF_PROT_X))
		return fail(p->why, -ENOEXEC, "the entry point is not in an executable segment");
	plan->entry = eh->entry;
	set_phdr_location(eh, plan);
	return plan->has_dynamic ? read_dynamic(p, dynamic) : 0;
}

int elf_parse(const void *image, size_t len, struct elf_plan *plan, const char **why)
{
	struct parse p = { image, len, plan, why };
	struct phdr ph, dynamic = { 0 };
	struct ehdr eh;
	int err;

	memset(plan, 0, sizeof(*plan));
	*why = NULL;
	if ((err = check_ehdr(&p, &eh)))
		goto out_clear;
	for (unsigned int i = 0; i < eh.phnum; i++) {
		read_phdr(&p, &eh, i, &ph);
		if (ph.type == PT_INTERP) {
			err = fail(why, -ENOENT, dynamic_why);
			goto out_clear;
		}
	}
	plan->pie = eh.type == ET_DYN;
	plan->align = ELF_PAGE_SIZE;
	for (unsigned int i = 0; i < eh.phnum; i++) {
		read_phdr(&p, &eh, i, &ph);
		if ((err = add_phdr(&p, &ph, &dynamic)))
			goto out_clear;
	}
	if ((err = check_plan(&p, &eh, &dynamic)))
		goto out_clear;
	return 0;

out_clear:
	memset(plan, 0, sizeof(*plan));      /* a failed parse leaves no half plan */
	return err;
}

bool elf_bias_ok(const struct elf_plan *plan, uint64_t bias)
{
	if (!plan->pie)
		return bias == 0;
	return bias % plan->align == 0 && bias <= ELF_USER_END - plan->hi &&
	       plan->lo + bias >= ELF_USER_MIN;
}

/* The writable segment holding [vaddr, vaddr + 8) in memory; NULL if none. */
static const struct elf_segment *writable_holding(const struct elf_plan *plan, uint64_t vaddr)
{
	for (unsigned int i = 0; i < plan->nload; i++) {
		const struct elf_segment *s = &plan->load[i];
		if ((s->prot & ELF_PROT_W) && vaddr >= s->vaddr && in_range(vaddr - s->vaddr, 8, s->memsz))
			return s;
	}
	return NULL;
}

int elf_relocate(const struct elf_plan *plan, void *mem, uint64_t bias, const char **why)
{
	uint8_t *m = mem;
	uint64_t span = plan->hi - plan->lo, table;
	struct rela r;

	*why = NULL;
	if (!plan->pie || plan->rela_count == 0)
		return 0;
	if (!elf_bias_ok(plan, bias))
		return fail(why, -EINVAL, "the load bias is misaligned or puts the program outside the lower half");
	if (plan->rela_vaddr < plan->lo || plan->rela_count > span / sizeof(r) ||
	    !in_range(plan->rela_vaddr - plan->lo, plan->rela_count * sizeof(r), span))
		return fail(why, -EINVAL, "the plan's relocation table lies outside its span");
	table = plan->rela_vaddr - plan->lo;
	for (uint64_t i = 0; i < plan->rela_count; i++) {
		uint64_t value;

		memcpy(&r, m + table + i * sizeof(r), sizeof(r));
		if ((r.info & 0xffffffff) == R_X86_64_NONE)
			continue;
		if (r.info != R_X86_64_RELATIVE)
			return fail(why, -ENOEXEC, "a relocation other than R_X86_64_RELATIVE (a static PIE needs no other)");
		if (!writable_holding(plan, r.offset))
			return fail(why, -ENOEXEC, "a relocation writes outside the writable segments");
		value = bias + (uint64_t)r.addend;
		memcpy(m + (r.offset - plan->lo), &value, sizeof(value));
	}
	return 0;
}

int elf_exit_status(int err)
{
	if (err == 0)
		return 0;
	return err == -ENOENT ? ELF_EXIT_NOT_FOUND : ELF_EXIT_CANNOT_EXEC;
}
