/*
 * loader/elf.h - the ELF parser of the loader: it checks a static x86-64
 * Linux executable held in memory and says how to load it.
 *
 * Interface: elf_parse(image, len, &plan, &why) validates the whole file
 * before anything is mapped and fills a load plan: where each PT_LOAD
 * segment goes, with what permissions, the TLS image, the stack request,
 * the entry point, where the program headers are (for AT_PHDR) and, for a
 * static PIE, the span to place and its relocation table.  It reads
 * nothing outside [image, image + len), allocates nothing and maps
 * nothing; the same code is compiled on the host for the unit tests and
 * the fuzzer (-DSKIFF_HOST_TEST).  elf_relocate() then applies a static
 * PIE's R_X86_64_RELATIVE relocations in the loaded memory, and
 * elf_exit_status() turns any error into the status a shell would give.
 *
 * Addresses in the plan are link-time addresses.  An ET_EXEC plan
 * (pie false) is loaded at them.  An ET_DYN plan (pie true: a static PIE)
 * is loaded at any bias that is a multiple of plan->align and puts
 * [lo + bias, hi + bias) inside [ELF_USER_MIN, ELF_USER_END): every vaddr
 * and the entry point move by that bias (elf_bias_ok() checks one).
 *
 * Loading a segment: map [ALIGN_DOWN(vaddr), ALIGN_UP(vaddr + memsz)) in
 * pages, copy filesz bytes from image + offset to vaddr, zero the rest of
 * those pages, then give the pages prot.  Segments never overlap, but two
 * may share a page (the end of one and the start of the next): such a page
 * gets both segments' permissions, which elf_parse() has checked are not
 * writable and executable together.
 *
 * Static PIEs relocate themselves (glibc's static-pie start code and musl's
 * rcrt1.o both apply their own relocations, found through AT_PHDR and
 * PT_DYNAMIC, before main), so the loader need not call elf_relocate().
 * It is there for code that wants an image relocated before it runs; RELA
 * relocations store bias + addend, so applying them again at start-up
 * changes nothing.
 *
 * Errors: 0, or a negative errno with a one-line reason in *why (a static
 * string; NULL on success): -ENOEXEC when the file cannot be executed
 * (truncated or corrupt headers, not 64-bit, not little-endian, not x86-64,
 * not an executable, overlapping or too many or no PT_LOAD segments, a
 * writable and executable segment, addresses outside the lower half,
 * filesz > memsz, data past the end of the file, p_offset and p_vaddr
 * disagreeing modulo the page size, an entry point outside executable
 * code, text relocations, an unsupported relocation), -ENOENT when it is
 * dynamically linked (PT_INTERP or DT_NEEDED: it would need an
 * interpreter or libraries that Skiff does not have, as execve() reports
 * a missing interpreter), -EINVAL for a caller's mistake (a bad bias).
 */
#ifndef LOADER_ELF_H
#define LOADER_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_PAGE_SIZE  4096ull
#define ELF_USER_MIN   0x10000ull               /* lowest address a program may use */
#define ELF_USER_END   0x0000800000000000ull    /* end of the lower half */
#define ELF_LOAD_MAX   16                       /* PT_LOAD segments in a plan */

/* Segment permissions (prot), as in p_flags. */
#define ELF_PROT_X 1u
#define ELF_PROT_W 2u
#define ELF_PROT_R 4u

/* Exit statuses for a program that could not be started (as a shell
 * reports them). */
#define ELF_EXIT_CANNOT_EXEC 126
#define ELF_EXIT_NOT_FOUND   127

struct elf_segment {               /* one PT_LOAD */
	uint64_t vaddr;            /* link-time address of its first byte */
	uint64_t memsz;            /* bytes in memory, >= filesz, > 0 */
	uint64_t filesz;           /* bytes from the file; the rest are zero */
	uint64_t offset;           /* of those bytes in the file */
	uint64_t align;            /* p_align: 0, 1 or a power of two */
	uint32_t prot;             /* ELF_PROT_*; never both W and X */
};

struct elf_plan {
	bool pie;                  /* ET_DYN: choose a bias (see above) */
	uint64_t entry;            /* link-time entry point, in an X segment */
	uint64_t lo, hi;           /* page-aligned span of all PT_LOADs */
	uint64_t align;            /* a bias must be a multiple of this (>= page) */

	unsigned int nload;        /* 1..ELF_LOAD_MAX, in program-header order */
	struct elf_segment load[ELF_LOAD_MAX];

	bool has_tls;              /* PT_TLS: the initial TLS image */
	struct {
		uint64_t vaddr, filesz, memsz, align;   /* inside a PT_LOAD */
	} tls;

	uint64_t stack_size;       /* PT_GNU_STACK's p_memsz; 0: the default */
	bool exec_stack;           /* PT_GNU_STACK asked for PF_X (absent: no,
				    * as Linux has it for x86-64 since 5.8) */

	struct {
		uint64_t offset;   /* e_phoff */
		uint16_t num;      /* e_phnum */
		uint16_t entsize;  /* e_phentsize (always 56) */
		bool mapped;       /* the table lies in a PT_LOAD's file bytes */
		uint64_t vaddr;    /* where it is then (AT_PHDR); else 0: copy it */
	} phdr;

	bool has_dynamic;          /* PT_DYNAMIC: a static PIE's relocation info */
	uint64_t dynamic_vaddr, dynamic_size;
	uint64_t rela_vaddr;       /* DT_RELA, in a PT_LOAD's file bytes */
	uint64_t rela_count;       /* DT_RELASZ / DT_RELAENT; 0: nothing to do */
	bool other_relocs;         /* DT_JMPREL (glibc's IRELATIVE), DT_REL or
				    * DT_RELR: left to the program's start code */
};

int elf_parse(const void *image, size_t len, struct elf_plan *plan, const char **why);

/* True if a PIE plan may be loaded at bias (ET_EXEC: only at bias 0). */
bool elf_bias_ok(const struct elf_plan *plan, uint64_t bias);

/*
 * Applies the plan's DT_RELA relocations to a loaded image: mem is where
 * the span [plan->lo, plan->hi) can be written now (link address a is at
 * mem + (a - plan->lo)), with every segment already loaded; bias is what
 * was added to link addresses.  In the kernel's one address space that is
 * mem == (void *)(plan->lo + bias); on the host, any buffer.  Every entry
 * must be R_X86_64_RELATIVE with no symbol, storing 8 bytes inside a
 * writable segment; anything else is -ENOEXEC, with the entries before it
 * applied.  An ET_EXEC plan or one without DT_RELA has nothing to do.
 */
int elf_relocate(const struct elf_plan *plan, void *mem, uint64_t bias, const char **why);

/* The exit status for elf_parse()'s or elf_relocate()'s result: 0 for 0,
 * ELF_EXIT_NOT_FOUND for -ENOENT, ELF_EXIT_CANNOT_EXEC for anything else. */
int elf_exit_status(int err);

#endif
