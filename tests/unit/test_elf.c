/*
 * tests/unit/test_elf.c - host unit tests for the loader's ELF parser and
 * static-PIE relocator (loader/elf.c, loader/elf.h).
 *
 * Images come from two places: a builder here that lays out a small
 * executable (ET_EXEC, or a static PIE with a dynamic section and two
 * RELATIVE relocations) field by field with the host's <elf.h>, so that
 * each malformed case differs from a valid image in exactly one thing; and
 * real programs compiled at test time (musl-gcc -static, gcc -static-pie,
 * a dynamic gcc program, an object file).  Every image is parsed from its
 * own exact-size heap block, so a read past its end is an ASan report.
 * Randomized tests truncate the images at every length and mutate their
 * headers 20,000 times: the parser must never crash, and a plan it accepts
 * must keep every promise of loader/elf.h.
 * Build and run: make build/unit/test_elf && build/unit/test_elf
 */
#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "loader/elf.h"
#include "core/errno.h"

/* ---- building images ---- */

#define IMG_MAX   0x4000
#define CODE_OFF  0x1000              /* R+X segment */
#define DATA_OFF  0x2000              /* R+W segment, with TLS, dynamic and bss */
#define DATA_FILE 0x80
#define RELA_OFF  0x1c0               /* in the first (R) segment */
#define DYN_OFF   (DATA_OFF + 0x40)
#define TARGET0   (DATA_OFF + 0x20)   /* the relocations' targets (link addresses) */
#define TARGET1   (DATA_OFF + 0x28)

static uint8_t img[IMG_MAX] __attribute__((aligned(8)));
static size_t img_len;

static Elf64_Ehdr *eh(void)
{
	return (Elf64_Ehdr *)img;
}

static Elf64_Phdr *ph(unsigned int i)
{
	return (Elf64_Phdr *)(img + sizeof(Elf64_Ehdr)) + i;
}

static Elf64_Dyn *dyn(unsigned int i)
{
	return (Elf64_Dyn *)(img + DYN_OFF) + i;
}

static Elf64_Rela *rela(unsigned int i)
{
	return (Elf64_Rela *)(img + RELA_OFF) + i;
}

static void set_ph(unsigned int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		   uint64_t filesz, uint64_t memsz, uint64_t align)
{
	*ph(i) = (Elf64_Phdr){ .p_type = type, .p_flags = flags, .p_offset = off, .p_vaddr = vaddr,
			       .p_paddr = vaddr, .p_filesz = filesz, .p_memsz = memsz, .p_align = align };
}

/*
 * Program headers 0-2: PT_LOAD R (the headers), R+X (code), R+W (data
 * 0x80 bytes, then bss to 0x1000); 3: PT_TLS (16 + 16 bytes at the start
 * of data); 4: PT_GNU_STACK R+W; a PIE adds 5: PT_DYNAMIC.  Link addresses
 * are file offsets plus base (0x400000, or 0 for a PIE).
 */
static void img_build(bool pie)
{
	uint64_t base = pie ? 0 : 0x400000;

	memset(img, 0, sizeof(img));
	memcpy(eh()->e_ident, ELFMAG, SELFMAG);
	eh()->e_ident[EI_CLASS] = ELFCLASS64;
	eh()->e_ident[EI_DATA] = ELFDATA2LSB;
	eh()->e_ident[EI_VERSION] = EV_CURRENT;
	eh()->e_type = pie ? ET_DYN : ET_EXEC;
	eh()->e_machine = EM_X86_64;
	eh()->e_version = EV_CURRENT;
	eh()->e_entry = base + CODE_OFF + 0x10;
	eh()->e_phoff = sizeof(Elf64_Ehdr);
	eh()->e_ehsize = sizeof(Elf64_Ehdr);
	eh()->e_phentsize = sizeof(Elf64_Phdr);
	eh()->e_phnum = pie ? 6 : 5;
	set_ph(0, PT_LOAD, PF_R, 0, base, 0x200, 0x200, 0x1000);
	set_ph(1, PT_LOAD, PF_R | PF_X, CODE_OFF, base + CODE_OFF, 0x100, 0x100, 0x1000);
	set_ph(2, PT_LOAD, PF_R | PF_W, DATA_OFF, base + DATA_OFF, DATA_FILE, 0x1000, 0x1000);
	set_ph(3, PT_TLS, PF_R, DATA_OFF, base + DATA_OFF, 0x10, 0x20, 8);
	set_ph(4, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);
	memset(img + CODE_OFF, 0xcc, 0x100);
	memset(img + DATA_OFF, 0x5a, DATA_FILE);
	img_len = DATA_OFF + DATA_FILE;
	if (!pie)
		return;
	set_ph(5, PT_DYNAMIC, PF_R | PF_W, DYN_OFF, DYN_OFF, 0x40, 0x40, 8);
	*dyn(0) = (Elf64_Dyn){ DT_RELA, { RELA_OFF } };
	*dyn(1) = (Elf64_Dyn){ DT_RELASZ, { 2 * sizeof(Elf64_Rela) } };
	*dyn(2) = (Elf64_Dyn){ DT_RELAENT, { sizeof(Elf64_Rela) } };
	*dyn(3) = (Elf64_Dyn){ DT_NULL, { 0 } };
	*rela(0) = (Elf64_Rela){ TARGET0, ELF64_R_INFO(0, R_X86_64_RELATIVE), CODE_OFF + 0x10 };
	*rela(1) = (Elf64_Rela){ TARGET1, ELF64_R_INFO(0, R_X86_64_RELATIVE), DATA_OFF + 0x30 };
}

/* ---- parsing ---- */

static struct elf_plan plan;
static const char *why;

/* Parses len bytes of buf from an exact-size copy. */
static int parse_copy(const void *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	memcpy(copy, buf, len);
	err = elf_parse(copy, len, &plan, &why);
	free(copy);
	return err;
}

static int parse(void)
{
	return parse_copy(img, img_len);
}

/* The parse fails with err and a reason holding text, and leaves no plan. */
#define EXPECT_ERROR(err, text)                                             \
	do {                                                                \
		CHECK_EQ(parse(), (err));                                   \
		CHECK(why != NULL && strstr(why, (text)) != NULL);          \
		if (why && !strstr(why, (text)))                            \
			printf("#   why: %s\n", why);                       \
		CHECK_EQ(elf_exit_status(err), (err) == -ENOENT ? 127 : 126); \
		CHECK_EQ(plan.nload, 0);                                    \
	} while (0)

/* Loads the plan's segments from image into a fresh span buffer, as the
 * loader will (file bytes copied, the rest zero). */
static uint8_t *load_span(const struct elf_plan *p, const uint8_t *image)
{
	uint8_t *mem = calloc(1, p->hi - p->lo);

	for (unsigned int i = 0; i < p->nload; i++)
		memcpy(mem + (p->load[i].vaddr - p->lo), image + p->load[i].offset, p->load[i].filesz);
	return mem;
}

static uint64_t mem_u64(const uint8_t *mem, uint64_t offset)
{
	uint64_t v;

	memcpy(&v, mem + offset, sizeof(v));
	return v;
}

/* ---- valid images ---- */

UNIT_TEST(elf_exec_plan)
{
	img_build(false);
	CHECK_EQ(parse(), 0);
	CHECK(why == NULL);
	CHECK(!plan.pie);
	CHECK_EQ(plan.entry, 0x401010);
	CHECK_EQ(plan.lo, 0x400000);
	CHECK_EQ(plan.hi, 0x403000);
	CHECK_EQ(plan.align, 0x1000);
	CHECK_EQ(plan.nload, 3);
	CHECK_EQ(plan.load[0].prot, ELF_PROT_R);
	CHECK_EQ(plan.load[1].prot, ELF_PROT_R | ELF_PROT_X);
	CHECK_EQ(plan.load[1].vaddr, 0x401000);
	CHECK_EQ(plan.load[1].offset, CODE_OFF);
	CHECK_EQ(plan.load[2].prot, ELF_PROT_R | ELF_PROT_W);
	CHECK_EQ(plan.load[2].filesz, DATA_FILE);
	CHECK_EQ(plan.load[2].memsz, 0x1000);
	CHECK_EQ(plan.load[2].align, 0x1000);
	CHECK(plan.has_tls);
	CHECK_EQ(plan.tls.vaddr, 0x402000);
	CHECK_EQ(plan.tls.filesz, 0x10);
	CHECK_EQ(plan.tls.memsz, 0x20);
	CHECK_EQ(plan.tls.align, 8);
	CHECK(!plan.exec_stack);
	CHECK_EQ(plan.stack_size, 0);
	CHECK(plan.phdr.mapped);
	CHECK_EQ(plan.phdr.vaddr, 0x400040);
	CHECK_EQ(plan.phdr.offset, 64);
	CHECK_EQ(plan.phdr.num, 5);
	CHECK_EQ(plan.phdr.entsize, 56);
	CHECK(!plan.has_dynamic);
	CHECK_EQ(plan.rela_count, 0);
	CHECK(elf_bias_ok(&plan, 0));
	CHECK(!elf_bias_ok(&plan, 0x1000));
	CHECK_EQ(elf_exit_status(0), 0);
}

UNIT_TEST(elf_pie_plan)
{
	img_build(true);
	CHECK_EQ(parse(), 0);
	CHECK(plan.pie);
	CHECK_EQ(plan.lo, 0);
	CHECK_EQ(plan.hi, 0x3000);
	CHECK_EQ(plan.entry, CODE_OFF + 0x10);
	CHECK(plan.has_dynamic);
	CHECK_EQ(plan.dynamic_vaddr, DYN_OFF);
	CHECK_EQ(plan.dynamic_size, 0x40);
	CHECK_EQ(plan.rela_vaddr, RELA_OFF);
	CHECK_EQ(plan.rela_count, 2);
	CHECK(!plan.other_relocs);
	CHECK_EQ(plan.phdr.vaddr, 0x40);
	CHECK(!elf_bias_ok(&plan, 0));                     /* page 0 is below 0x10000 */
	CHECK(elf_bias_ok(&plan, 0x10000));
	CHECK(!elf_bias_ok(&plan, 0x10800));               /* misaligned */
	CHECK(elf_bias_ok(&plan, ELF_USER_END - 0x3000));
	CHECK(!elf_bias_ok(&plan, ELF_USER_END - 0x2000)); /* runs past the lower half */
	CHECK(!elf_bias_ok(&plan, UINT64_MAX & ~0xfffull));
	ph(2)->p_align = 0x200000;                         /* a bias must honour it */
	CHECK_EQ(parse(), 0);
	CHECK_EQ(plan.align, 0x200000);
	CHECK(!elf_bias_ok(&plan, 0x10000));
	CHECK(elf_bias_ok(&plan, 0x200000));
}

UNIT_TEST(elf_accepted_variants)
{
	img_build(false);
	ph(4)->p_flags |= PF_X;                            /* exec stack: reported */
	ph(4)->p_memsz = 8 << 20;
	CHECK_EQ(parse(), 0);
	CHECK(plan.exec_stack);
	CHECK_EQ(plan.stack_size, 8 << 20);
	img_build(false);
	ph(0)->p_filesz = ph(0)->p_memsz = 0x40;           /* phdrs not mapped: copy them */
	CHECK_EQ(parse(), 0);
	CHECK(!plan.phdr.mapped);
	CHECK_EQ(plan.phdr.vaddr, 0);
	img_build(false);
	set_ph(0, PT_LOAD, PF_R, 0, 0x400000, 0, 0, 0);    /* empty PT_LOAD: skipped */
	CHECK_EQ(parse(), 0);
	CHECK_EQ(plan.nload, 2);
	img_build(false);
	ph(3)->p_type = PT_NULL;                           /* no TLS, no stack header */
	ph(4)->p_type = PT_NOTE;
	CHECK_EQ(parse(), 0);
	CHECK(!plan.has_tls && !plan.exec_stack);
	img_build(false);                                  /* R and R+X share a page: fine */
	ph(0)->p_memsz = 0x1008;
	set_ph(1, PT_LOAD, PF_R | PF_X, CODE_OFF + 0x10, 0x401010, 0xf0, 0xf0, 0x1000);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(plan.load[0].memsz, 0x1008);
}

/* ---- relocation ---- */

UNIT_TEST(elf_relocate_relative)
{
	const uint64_t bias = 0x7f0000000000ull;
	uint8_t *mem;

	img_build(true);
	CHECK_EQ(parse(), 0);
	mem = load_span(&plan, img);
	CHECK_EQ(elf_relocate(&plan, mem, bias, &why), 0);
	CHECK(why == NULL);
	CHECK_EQ(mem_u64(mem, TARGET0), bias + CODE_OFF + 0x10);
	CHECK_EQ(mem_u64(mem, TARGET1), bias + DATA_OFF + 0x30);
	CHECK_EQ(mem_u64(mem, TARGET1 + 8), 0x5a5a5a5a5a5a5a5aull);   /* nothing else */
	CHECK_EQ(elf_relocate(&plan, mem, bias, &why), 0);             /* idempotent */
	CHECK_EQ(mem_u64(mem, TARGET0), bias + CODE_OFF + 0x10);
	CHECK_EQ(elf_relocate(&plan, mem, bias + 0x800, &why), -EINVAL);
	CHECK(why && strstr(why, "bias"));
	CHECK_EQ(elf_relocate(&plan, mem, 0, &why), -EINVAL);
	free(mem);
}

/* Relocates the PIE after one change to its relocation table. */
static int relocate_changed(uint64_t offset, uint64_t info)
{
	uint8_t *mem;
	int err;

	img_build(true);
	rela(1)->r_offset = offset;
	rela(1)->r_info = info;
	if (parse() != 0)
		return 1;
	mem = load_span(&plan, img);
	err = elf_relocate(&plan, mem, 0x10000, &why);
	free(mem);
	return err;
}

UNIT_TEST(elf_relocate_refuses)
{
	CHECK_EQ(relocate_changed(TARGET1, ELF64_R_INFO(0, R_X86_64_64)), -ENOEXEC);
	CHECK(why && strstr(why, "R_X86_64_RELATIVE"));
	CHECK_EQ(elf_exit_status(-ENOEXEC), 126);
	CHECK_EQ(relocate_changed(TARGET1, ELF64_R_INFO(1, R_X86_64_RELATIVE)), -ENOEXEC);
	CHECK_EQ(relocate_changed(TARGET1, ELF64_R_INFO(0, R_X86_64_IRELATIVE)), -ENOEXEC);
	CHECK_EQ(relocate_changed(CODE_OFF, ELF64_R_INFO(0, R_X86_64_RELATIVE)), -ENOEXEC);
	CHECK(why && strstr(why, "writable"));
	CHECK_EQ(relocate_changed(DATA_OFF + 0x1000 - 4, ELF64_R_INFO(0, R_X86_64_RELATIVE)), -ENOEXEC);
	CHECK_EQ(relocate_changed(UINT64_MAX - 3, ELF64_R_INFO(0, R_X86_64_RELATIVE)), -ENOEXEC);
	CHECK_EQ(relocate_changed(DATA_OFF + 0x1000 - 8, ELF64_R_INFO(0, R_X86_64_RELATIVE)), 0);
	CHECK_EQ(relocate_changed(0, ELF64_R_INFO(0, R_X86_64_NONE)), 0);   /* skipped */
}

UNIT_TEST(elf_relocate_nothing_to_do)
{
	uint8_t byte = 0;

	img_build(false);
	CHECK_EQ(parse(), 0);
	CHECK_EQ(elf_relocate(&plan, &byte, 0, &why), 0);
	img_build(true);
	dyn(1)->d_un.d_val = 0;                            /* DT_RELASZ 0 */
	CHECK_EQ(parse(), 0);
	CHECK_EQ(plan.rela_count, 0);
	CHECK_EQ(elf_relocate(&plan, &byte, 0x10000, &why), 0);
	CHECK_EQ(byte, 0);
}

/* ---- malformed images: one change each ---- */

UNIT_TEST(elf_bad_headers)
{
	img_build(false);
	img[1] = 'F';
	EXPECT_ERROR(-ENOEXEC, "not an ELF file");
	img_build(false);
	img_len = 63;
	EXPECT_ERROR(-ENOEXEC, "shorter than an ELF header");
	img_build(false);
	img[EI_CLASS] = ELFCLASS32;
	EXPECT_ERROR(-ENOEXEC, "32-bit");
	img[EI_CLASS] = 7;
	EXPECT_ERROR(-ENOEXEC, "unknown class");
	img_build(false);
	img[EI_DATA] = ELFDATA2MSB;
	EXPECT_ERROR(-ENOEXEC, "big-endian");
	img[EI_DATA] = 0;
	EXPECT_ERROR(-ENOEXEC, "byte order");
	img_build(false);
	eh()->e_machine = EM_AARCH64;
	EXPECT_ERROR(-ENOEXEC, "AArch64");
	eh()->e_machine = EM_SPARCV9;
	EXPECT_ERROR(-ENOEXEC, "another machine");
	img_build(false);
	eh()->e_type = ET_REL;
	EXPECT_ERROR(-ENOEXEC, "relocatable object");
	eh()->e_type = ET_CORE;
	EXPECT_ERROR(-ENOEXEC, "core dump");
	eh()->e_type = 0xfe00;
	EXPECT_ERROR(-ENOEXEC, "not an executable");
}

UNIT_TEST(elf_bad_program_header_table)
{
	img_build(false);
	eh()->e_phnum = 0;
	EXPECT_ERROR(-ENOEXEC, "no program headers");
	eh()->e_phnum = 0xffff;
	EXPECT_ERROR(-ENOEXEC, "extended numbering");
	img_build(false);
	eh()->e_phentsize = 32;
	EXPECT_ERROR(-ENOEXEC, "e_phentsize");
	img_build(false);
	eh()->e_phoff = img_len - 56 * 5 + 1;
	EXPECT_ERROR(-ENOEXEC, "program headers run past the end");
	eh()->e_phoff = UINT64_MAX - 10;                   /* the sum would wrap */
	EXPECT_ERROR(-ENOEXEC, "program headers run past the end");
	img_build(false);
	for (unsigned int i = 0; i < 5; i++)
		ph(i)->p_type = PT_NULL;
	EXPECT_ERROR(-ENOEXEC, "no PT_LOAD");
}

UNIT_TEST(elf_dynamically_linked)
{
	img_build(false);
	set_ph(3, PT_INTERP, PF_R, 0x180, 0x400180, 28, 28, 1);
	EXPECT_ERROR(-ENOENT, "PT_INTERP");
	CHECK(why && strstr(why, "only static executables run in Skiff"));
	ph(0)->p_vaddr = 5;                                /* 127 wins over 126 */
	EXPECT_ERROR(-ENOENT, "PT_INTERP");
	img_build(true);
	*dyn(2) = (Elf64_Dyn){ DT_NEEDED, { 1 } };
	EXPECT_ERROR(-ENOENT, "DT_NEEDED");
}

UNIT_TEST(elf_bad_segments)
{
	img_build(false);
	ph(2)->p_filesz = ph(2)->p_memsz + 1;
	EXPECT_ERROR(-ENOEXEC, "filesz > memsz");
	img_build(false);
	ph(2)->p_filesz = DATA_FILE + 1;
	EXPECT_ERROR(-ENOEXEC, "past the end of the file");
	ph(2)->p_offset = UINT64_MAX - 0x40 + 1;           /* offset + filesz wraps */
	ph(2)->p_filesz = 0x40;
	EXPECT_ERROR(-ENOEXEC, "past the end of the file");
	img_build(false);
	ph(0)->p_vaddr = 0xf000;
	EXPECT_ERROR(-ENOEXEC, "outside [0x10000");
	img_build(false);
	ph(2)->p_vaddr = ELF_USER_END - 0x1000;
	ph(2)->p_memsz = 0x1001;
	EXPECT_ERROR(-ENOEXEC, "outside [0x10000");
	ph(2)->p_vaddr = UINT64_MAX & ~0xfffull;           /* vaddr + memsz wraps */
	EXPECT_ERROR(-ENOEXEC, "outside [0x10000");
	img_build(true);
	ph(2)->p_vaddr = ELF_USER_END;                     /* a PIE too */
	EXPECT_ERROR(-ENOEXEC, "outside [0x10000");
	img_build(false);
	ph(1)->p_vaddr += 0x10;
	EXPECT_ERROR(-ENOEXEC, "modulo the page size");
	img_build(false);
	ph(1)->p_align = 0x1800;
	EXPECT_ERROR(-ENOEXEC, "power of two");
	img_build(false);
	ph(2)->p_flags |= PF_X;
	EXPECT_ERROR(-ENOEXEC, "both writable and executable");
}

UNIT_TEST(elf_bad_layout)
{
	img_build(false);
	ph(1)->p_memsz = 0x1001;                           /* into the data segment */
	EXPECT_ERROR(-ENOEXEC, "overlap");
	img_build(false);
	set_ph(3, PT_LOAD, PF_R, 0, 0x400000, 0x40, 0x40, 0x1000);   /* the same bytes twice */
	EXPECT_ERROR(-ENOEXEC, "overlap");
	img_build(false);
	set_ph(2, PT_LOAD, PF_R | PF_W, DATA_OFF + 0x40, 0x402040, 0x40, 0x100, 0x1000);
	ph(1)->p_memsz = 0x1020;                           /* code and data share 0x402000 */
	EXPECT_ERROR(-ENOEXEC, "share a page");
	img_build(true);
	ph(2)->p_vaddr = ELF_USER_END - 0x1000;
	EXPECT_ERROR(-ENOEXEC, "span more than the lower half");
	img_build(false);
	eh()->e_entry = 0x402000;                          /* data */
	EXPECT_ERROR(-ENOEXEC, "entry point");
	eh()->e_entry = 0x401100;                          /* just past the code */
	EXPECT_ERROR(-ENOEXEC, "entry point");
	eh()->e_entry = 0;
	EXPECT_ERROR(-ENOEXEC, "entry point");
}

UNIT_TEST(elf_too_many_segments)
{
	img_build(false);
	eh()->e_phnum = ELF_LOAD_MAX + 1;
	for (unsigned int i = 0; i < ELF_LOAD_MAX + 1; i++)
		set_ph(i, PT_LOAD, PF_R, 0x10 * i, 0x400000 + 0x10 * i, 0x10, 0x10, 0x1000);
	EXPECT_ERROR(-ENOEXEC, "too many PT_LOAD");
	eh()->e_phnum = ELF_LOAD_MAX;                      /* 16 is allowed (but no code) */
	EXPECT_ERROR(-ENOEXEC, "entry point");
}

UNIT_TEST(elf_bad_tls)
{
	img_build(false);
	set_ph(4, PT_TLS, PF_R, DATA_OFF, 0x402000, 0x10, 0x20, 8);
	EXPECT_ERROR(-ENOEXEC, "more than one PT_TLS");
	img_build(false);
	ph(3)->p_filesz = 0x21;
	EXPECT_ERROR(-ENOEXEC, "PT_TLS segment has filesz > memsz");
	img_build(false);
	ph(3)->p_align = 24;
	EXPECT_ERROR(-ENOEXEC, "absurd");
	ph(3)->p_align = 8;
	ph(3)->p_memsz = 1ull << 40;
	EXPECT_ERROR(-ENOEXEC, "absurd");
	img_build(false);
	ph(3)->p_vaddr = 0x402000 + DATA_FILE - 8;         /* image runs into bss */
	EXPECT_ERROR(-ENOEXEC, "PT_TLS image");
	ph(3)->p_vaddr = UINT64_MAX - 4;
	EXPECT_ERROR(-ENOEXEC, "PT_TLS image");
}

UNIT_TEST(elf_bad_dynamic)
{
	img_build(true);
	set_ph(4, PT_DYNAMIC, PF_R | PF_W, DYN_OFF, DYN_OFF, 0x40, 0x40, 8);
	EXPECT_ERROR(-ENOEXEC, "more than one PT_DYNAMIC");
	img_build(true);
	ph(5)->p_vaddr = DATA_OFF + DATA_FILE - 0x20;      /* runs into bss */
	EXPECT_ERROR(-ENOEXEC, "PT_DYNAMIC segment is not inside");
	img_build(true);
	*dyn(3) = (Elf64_Dyn){ DT_TEXTREL, { 0 } };
	EXPECT_ERROR(-ENOEXEC, "DT_TEXTREL");
	*dyn(3) = (Elf64_Dyn){ DT_FLAGS, { DF_TEXTREL } };
	EXPECT_ERROR(-ENOEXEC, "DF_TEXTREL");
	img_build(true);
	dyn(2)->d_un.d_val = 16;
	EXPECT_ERROR(-ENOEXEC, "DT_RELAENT");
	img_build(true);
	dyn(1)->d_un.d_val = 40;
	EXPECT_ERROR(-ENOEXEC, "DT_RELASZ");
	img_build(true);
	dyn(0)->d_un.d_ptr = 0x1f0;                        /* runs past the R segment's file data */
	EXPECT_ERROR(-ENOEXEC, "DT_RELA table");
	dyn(0)->d_un.d_ptr = UINT64_MAX - 8;
	EXPECT_ERROR(-ENOEXEC, "DT_RELA table");
	img_build(true);                                   /* entries after DT_NULL are ignored */
	*dyn(0) = (Elf64_Dyn){ DT_NULL, { 0 } };
	*dyn(3) = (Elf64_Dyn){ DT_NEEDED, { 1 } };
	CHECK_EQ(parse(), 0);
	CHECK_EQ(plan.rela_count, 0);
	img_build(true);                                   /* no DT_NULL: read to the end */
	*dyn(3) = (Elf64_Dyn){ DT_NEEDED, { 1 } };
	CHECK_EQ(parse(), -ENOENT);
	img_build(true);
	*dyn(3) = (Elf64_Dyn){ DT_JMPREL, { 0x180 } };
	CHECK_EQ(parse(), 0);
	CHECK(plan.other_relocs);                          /* glibc's IRELATIVE: its own */
}

/* ---- randomized: truncation and mutation ---- */

/* Every promise loader/elf.h makes about an accepted plan, for a file of
 * len bytes. */
static bool plan_sane(const struct elf_plan *p, uint64_t len)
{
	bool entry_ok = false;

	if (p->nload < 1 || p->nload > ELF_LOAD_MAX || p->lo >= p->hi || p->hi > ELF_USER_END ||
	    p->lo % ELF_PAGE_SIZE || p->hi % ELF_PAGE_SIZE || p->align < ELF_PAGE_SIZE ||
	    (p->align & (p->align - 1)) || (!p->pie && p->lo < ELF_USER_MIN))
		return false;
	for (unsigned int i = 0; i < p->nload; i++) {
		const struct elf_segment *s = &p->load[i];
		if (s->memsz == 0 || s->filesz > s->memsz || s->filesz > len || s->offset > len - s->filesz ||
		    s->vaddr < p->lo || s->vaddr + s->memsz > p->hi || (s->offset - s->vaddr) % ELF_PAGE_SIZE ||
		    ((s->prot & ELF_PROT_W) && (s->prot & ELF_PROT_X)))
			return false;
		for (unsigned int j = 0; j < i; j++)
			if (s->vaddr < p->load[j].vaddr + p->load[j].memsz &&
			    p->load[j].vaddr < s->vaddr + s->memsz)
				return false;
		entry_ok |= (s->prot & ELF_PROT_X) && p->entry >= s->vaddr && p->entry < s->vaddr + s->filesz;
	}
	return entry_ok && (p->rela_count == 0 || p->has_dynamic) &&
	       (!p->phdr.mapped || (p->phdr.vaddr >= p->lo && p->phdr.vaddr < p->hi));
}

/* Loads and relocates an accepted PIE plan: what elf_relocate may do with
 * a plan elf_parse made from any input. */
static void try_relocate(const struct elf_plan *p, const uint8_t *image)
{
	uint64_t bias = (ELF_USER_MIN + p->align - 1) & ~(p->align - 1);
	uint8_t *mem;
	const char *w;
	int err;

	if (!p->pie || p->hi - p->lo > (64u << 20) || !elf_bias_ok(p, bias))
		return;
	mem = load_span(p, image);
	err = elf_relocate(p, mem, bias, &w);
	CHECK(err == 0 || err == -ENOEXEC);
	CHECK((err == 0) == (w == NULL));
	free(mem);
}

/* Parses an exact-size copy of len bytes; checks the result either way. */
static void parse_checked(const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	int err;

	memcpy(copy, buf, len);
	err = elf_parse(copy, len, &plan, &why);
	if (err == 0) {
		CHECK(why == NULL);
		CHECK(plan_sane(&plan, len));
		try_relocate(&plan, copy);
	} else {
		CHECK(err == -ENOEXEC || err == -ENOENT);
		CHECK(why != NULL && why[0] != 0);
		CHECK_EQ(plan.nload, 0);
	}
	free(copy);
}

UNIT_TEST(elf_truncated_at_every_length)
{
	for (int pie = 0; pie < 2; pie++) {
		img_build(pie);
		for (size_t n = 0; n < img_len; n++) {
			CHECK(parse_copy(img, n) == -ENOEXEC);
			CHECK(why != NULL);
		}
		CHECK_EQ(parse_copy(img, img_len), 0);
	}
}

/* Mutates a few fields of a valid image: whole header fields set to
 * interesting values, or random bytes in the headers, dynamic section or
 * relocation table. */
static void mutate(uint64_t *rng)
{
	static const uint64_t values[] = {
		0, 1, 8, 24, 56, 0x40, 0xfff, 0x1000, 0x1001, 0x10000, 0x400000,
		ELF_USER_END - 0x1000, ELF_USER_END, UINT32_MAX, INT64_MAX, UINT64_MAX,
		UINT64_MAX - 0xfff, PT_LOAD, PT_TLS, PT_DYNAMIC, PT_INTERP, PT_GNU_STACK,
	};
	unsigned int n = 1 + unit_rand(rng) % 4;

	for (unsigned int k = 0; k < n; k++) {
		uint64_t r = unit_rand(rng), v = values[unit_rand(rng) % (sizeof(values) / 8)];
		size_t at;

		switch (r % 4) {
		case 0:                                    /* an 8-byte phdr field */
			at = 64 + (r >> 8) % (6 * 56 / 8) * 8;
			memcpy(img + at, &v, 8);
			break;
		case 1:                                    /* a 2-byte ehdr field */
			at = 16 + (r >> 8) % 24 * 2;
			memcpy(img + at, &v, 2);
			break;
		case 2:                                    /* a dynamic or rela field */
			at = (r >> 8) % 2 ? DYN_OFF + (r >> 9) % 8 * 8 : RELA_OFF + (r >> 9) % 6 * 8;
			memcpy(img + at, &v, 8);
			break;
		default:                                   /* a random byte */
			img[(r >> 8) % (64 + 6 * 56)] = (uint8_t)(r >> 32);
			break;
		}
	}
}

UNIT_TEST(elf_random_mutation)
{
	uint64_t rng = 0x5eed0e1f;
	unsigned int accepted = 0, refused = 0;

	for (unsigned int i = 0; i < 20000; i++) {
		img_build(i & 1);
		mutate(&rng);
		parse_checked(img, unit_rand(&rng) % 8 ? img_len : unit_rand(&rng) % (img_len + 1));
		accepted += plan.nload != 0;
		refused += plan.nload == 0;
	}
	printf("#   %u accepted, %u refused\n", accepted, refused);
	CHECK(accepted > 1000 && refused > 1000);          /* both paths were exercised */
}

/* ---- real programs, compiled at test time ---- */

static const char program[] =
	"#include <stdio.h>\n"
	"int x = 5; int *p = &x; __thread int t = 3;\n"
	"int main(void) { printf(\"%d %d\\n\", *p, t); return 0; }\n";

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		printf("#   command failed (%d): %s\n", rc, cmd);
	return rc;
}

/* Compiles the program with cc and flags, in a fresh directory that is
 * removed after, into a heap block of *len bytes; NULL if that failed. */
static uint8_t *compile(const char *cc, const char *flags, size_t *len)
{
	char dir[] = "/tmp/test_elf.XXXXXX", cmd[1024], path[512];
	uint8_t *buf = NULL;
	FILE *f;
	long n;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/p.c", dir);
	f = fopen(path, "w");
	CHECK(f && fputs(program, f) >= 0 && fclose(f) == 0);
	snprintf(cmd, sizeof(cmd), "cd %s && %s %s -o out p.c", dir, cc, flags);
	snprintf(path, sizeof(path), "%s/out", dir);
	if (sh(cmd) == 0 && (f = fopen(path, "rb"))) {
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		buf = malloc((size_t)n);
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		fclose(f);
		*len = (size_t)n;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(sh(cmd), 0);
	return buf;
}

/* Checks the plan against the file's own headers, read with <elf.h>. */
static void check_against_file(const uint8_t *buf)
{
	const Elf64_Ehdr *e = (const Elf64_Ehdr *)buf;
	unsigned int loads = 0;

	CHECK_EQ(plan.entry, e->e_entry);
	CHECK_EQ(plan.phdr.num, e->e_phnum);
	for (unsigned int i = 0; i < e->e_phnum; i++) {
		const Elf64_Phdr *p = (const Elf64_Phdr *)(buf + e->e_phoff) + i;
		if (p->p_type == PT_LOAD && loads < plan.nload) {
			CHECK_EQ(plan.load[loads].vaddr, p->p_vaddr);
			CHECK_EQ(plan.load[loads].filesz, p->p_filesz);
			CHECK_EQ(plan.load[loads].prot, p->p_flags & 7);
			loads++;
		}
		if (p->p_type == PT_PHDR)
			CHECK_EQ(plan.phdr.vaddr, p->p_vaddr);
		if (p->p_type == PT_TLS)
			CHECK_EQ(plan.tls.memsz, p->p_memsz);
	}
	CHECK_EQ(loads, plan.nload);
	CHECK(plan_sane(&plan, 1ull << 40));
}

UNIT_TEST(elf_real_musl_static)
{
	size_t len;
	uint8_t *buf = compile("musl-gcc", "-static -O1", &len);

	if (!buf) {
		CHECK(!"musl-gcc -static failed (is Debian's musl-tools installed? scripts/deps)");
		return;
	}
	CHECK_EQ(parse_copy(buf, len), 0);
	CHECK(!plan.pie);
	CHECK(plan.has_tls);
	CHECK_EQ(plan.tls.filesz, 4);
	CHECK(plan.phdr.mapped);
	CHECK(!plan.exec_stack);
	check_against_file(buf);
	free(buf);
	buf = compile("musl-gcc", "-static -Wl,-z,execstack", &len);
	CHECK(buf != NULL);
	CHECK_EQ(parse_copy(buf, len), 0);
	CHECK(plan.exec_stack);
	free(buf);
}

/* Debian's musl-tools ships no rcrt1.o: its "musl-gcc -static-pie" makes
 * a dynamically linked program.  glibc's static PIE is the real one here. */
UNIT_TEST(elf_real_static_pie)
{
	size_t len;
	uint8_t *buf = compile("gcc", "-static-pie -O1", &len), *mem;
	const uint64_t bias = 0x555555554000ull;

	if (!buf) {
		CHECK(!"gcc -static-pie failed");
		return;
	}
	CHECK_EQ(parse_copy(buf, len), 0);
	CHECK(plan.pie);
	CHECK(plan.has_dynamic);
	CHECK(plan.rela_count > 100);
	CHECK(plan.other_relocs);                  /* IRELATIVE in DT_JMPREL */
	CHECK(plan.has_tls);
	check_against_file(buf);
	mem = load_span(&plan, buf);
	CHECK_EQ(elf_relocate(&plan, mem, bias, &why), 0);
	for (uint64_t i = 0; i < plan.rela_count; i++) {
		Elf64_Rela r;
		memcpy(&r, mem + plan.rela_vaddr - plan.lo + i * sizeof(r), sizeof(r));
		CHECK_EQ(mem_u64(mem, r.r_offset - plan.lo), bias + (uint64_t)r.r_addend);
	}
	free(mem);
	free(buf);
}

UNIT_TEST(elf_real_dynamic_and_object)
{
	size_t len;
	uint8_t *buf = compile("gcc", "-O1", &len);

	CHECK(buf != NULL);
	CHECK_EQ(parse_copy(buf, len), -ENOENT);
	CHECK(why && strstr(why, "dynamically linked"));
	CHECK_EQ(elf_exit_status(-ENOENT), 127);
	free(buf);
	buf = compile("musl-gcc", "-static-pie", &len);   /* see above */
	CHECK(buf != NULL);
	CHECK_EQ(parse_copy(buf, len), -ENOENT);
	free(buf);
	buf = compile("gcc", "-c", &len);
	CHECK(buf != NULL);
	CHECK_EQ(parse_copy(buf, len), -ENOEXEC);
	CHECK(why && strstr(why, "relocatable object"));
	free(buf);
}
