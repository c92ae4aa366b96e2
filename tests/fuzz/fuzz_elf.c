/*
 * tests/fuzz/fuzz_elf.c - libFuzzer target for the loader's ELF parser and
 * static-PIE relocator (loader/elf.c).
 *
 * The input is the executable, copied into an exact-size heap block so that
 * a read past its end is an ASan report.  A refused input must come with a
 * reason, an errno the loader maps (-ENOEXEC: 126, -ENOENT: 127) and an
 * empty plan.  An accepted plan must keep every promise of loader/elf.h
 * (segments inside the file and the lower half, non-overlapping, never W+X,
 * the entry point in executable file bytes, the span page-aligned), and a
 * PIE is then loaded into a buffer and relocated at a valid bias, which
 * must succeed or fail with -ENOEXEC without touching anything outside the
 * buffer.  Parsing the same bytes again must give the same result.
 *
 * Built with -DFUZZ_ELF_SEEDS instead, this file is a program that writes
 * two seed images (a static executable and a static PIE with relocations)
 * into a directory; real programs are good seeds too
 * (musl-gcc -static, gcc -static-pie).
 *
 * Build and run (from the repository root):
 *   clang -std=gnu11 -g -DSKIFF_HOST_TEST -DFUZZ_ELF_SEEDS -I. \
 *     tests/fuzz/fuzz_elf.c loader/elf.c -o /tmp/fuzz_elf_seeds
 *   mkdir -p /tmp/fuzz_elf_corpus && /tmp/fuzz_elf_seeds /tmp/fuzz_elf_corpus
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -DSKIFF_HOST_TEST -I. \
 *     tests/fuzz/fuzz_elf.c loader/elf.c -o /tmp/fuzz_elf
 *   /tmp/fuzz_elf -max_total_time=120 -max_len=16384 /tmp/fuzz_elf_corpus
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader/elf.h"

#define SPAN_MAX (64u << 20)          /* larger PIE spans are not loaded here */

static bool segment_ok(const struct elf_plan *p, const struct elf_segment *s, uint64_t len)
{
	return s->memsz && s->filesz <= s->memsz && s->filesz <= len && s->offset <= len - s->filesz &&
	       s->vaddr >= p->lo && s->vaddr <= p->hi && s->memsz <= p->hi - s->vaddr &&
	       (s->offset - s->vaddr) % ELF_PAGE_SIZE == 0 &&
	       !((s->prot & ELF_PROT_W) && (s->prot & ELF_PROT_X));
}

static bool plan_ok(const struct elf_plan *p, uint64_t len)
{
	bool entry = false;

	if (p->nload < 1 || p->nload > ELF_LOAD_MAX || p->lo >= p->hi || p->hi > ELF_USER_END ||
	    (p->lo | p->hi) % ELF_PAGE_SIZE || p->align < ELF_PAGE_SIZE || (p->align & (p->align - 1)) ||
	    (!p->pie && p->lo < ELF_USER_MIN) || p->phdr.entsize != 56)
		return false;
	for (unsigned int i = 0; i < p->nload; i++) {
		const struct elf_segment *s = &p->load[i];
		if (!segment_ok(p, s, len))
			return false;
		for (unsigned int j = 0; j < i; j++)
			if (s->vaddr < p->load[j].vaddr + p->load[j].memsz &&
			    p->load[j].vaddr < s->vaddr + s->memsz)
				return false;
		entry |= (s->prot & ELF_PROT_X) && p->entry >= s->vaddr && p->entry - s->vaddr < s->filesz;
	}
	return entry && (p->rela_count == 0 || p->has_dynamic);
}

static void relocate(const struct elf_plan *p, const uint8_t *image)
{
	uint64_t bias = (ELF_USER_MIN + p->align - 1) & ~(p->align - 1);
	const char *why;
	uint8_t *mem;
	int err;

	if (!p->pie || p->hi - p->lo > SPAN_MAX || !elf_bias_ok(p, bias))
		return;
	mem = calloc(1, p->hi - p->lo);
	if (!mem)
		abort();
	for (unsigned int i = 0; i < p->nload; i++)
		memcpy(mem + (p->load[i].vaddr - p->lo), image + p->load[i].offset, p->load[i].filesz);
	err = elf_relocate(p, mem, bias, &why);
	if ((err != 0 && err != -ENOEXEC) || (err == 0) != (why == NULL))
		abort();
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	static struct elf_plan p1, p2;
	const char *w1, *w2;
	int r1, r2;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	r1 = elf_parse(buf, size, &p1, &w1);
	r2 = elf_parse(buf, size, &p2, &w2);
	if (r1 != r2 || w1 != w2 || memcmp(&p1, &p2, sizeof(p1)) != 0)
		abort();
	if (r1 == 0) {
		if (w1 || !plan_ok(&p1, size))
			abort();
		relocate(&p1, buf);
	} else if ((r1 != -ENOEXEC && r1 != -ENOENT) || !w1 || !w1[0] || p1.nload ||
		   elf_exit_status(r1) != (r1 == -ENOENT ? 127 : 126)) {
		abort();
	}
	free(buf);
	return 0;
}

#ifdef FUZZ_ELF_SEEDS
#include "tests/fuzz/seed_file.h"
#include <elf.h>

static uint8_t seed[0x2080] __attribute__((aligned(8)));

static void seed_ph(unsigned int i, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		    uint64_t filesz, uint64_t memsz, uint64_t align)
{
	Elf64_Phdr *ph = (Elf64_Phdr *)(seed + sizeof(Elf64_Ehdr)) + i;

	*ph = (Elf64_Phdr){ type, flags, off, vaddr, vaddr, filesz, memsz, align };
}

/* The layout of tests/unit/test_elf.c's builder: R headers, R+X code at
 * 0x1000, R+W data at 0x2000 with TLS and (PIE) the dynamic section. */
static void seed_build(bool pie)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)seed;
	Elf64_Dyn *dyn = (Elf64_Dyn *)(seed + 0x2040);
	Elf64_Rela *rela = (Elf64_Rela *)(seed + 0x1c0);
	uint64_t base = pie ? 0 : 0x400000;

	memset(seed, 0, sizeof(seed));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = pie ? ET_DYN : ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = base + 0x1010;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = pie ? 6 : 5;
	seed_ph(0, PT_LOAD, PF_R, 0, base, 0x200, 0x200, 0x1000);
	seed_ph(1, PT_LOAD, PF_R | PF_X, 0x1000, base + 0x1000, 0x100, 0x100, 0x1000);
	seed_ph(2, PT_LOAD, PF_R | PF_W, 0x2000, base + 0x2000, 0x80, 0x1000, 0x1000);
	seed_ph(3, PT_TLS, PF_R, 0x2000, base + 0x2000, 0x10, 0x20, 8);
	seed_ph(4, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 16);
	if (!pie)
		return;
	seed_ph(5, PT_DYNAMIC, PF_R | PF_W, 0x2040, 0x2040, 0x40, 0x40, 8);
	dyn[0] = (Elf64_Dyn){ DT_RELA, { 0x1c0 } };
	dyn[1] = (Elf64_Dyn){ DT_RELASZ, { 2 * sizeof(Elf64_Rela) } };
	dyn[2] = (Elf64_Dyn){ DT_RELAENT, { sizeof(Elf64_Rela) } };
	rela[0] = (Elf64_Rela){ 0x2020, ELF64_R_INFO(0, R_X86_64_RELATIVE), 0x1010 };
	rela[1] = (Elf64_Rela){ 0x2028, ELF64_R_INFO(0, R_X86_64_RELATIVE), 0x2030 };
}

/* The seed must parse, or it is no use as a seed. */
static int seed_write(const char *dir, const char *name)
{
	struct elf_plan plan;
	const char *why;

	if (elf_parse(seed, sizeof(seed), &plan, &why) != 0) {
		fprintf(stderr, "fuzz_elf_seeds: the seed '%s' failed: %s\n", name, why);
		return 1;
	}
	return seed_file_write(dir, name, seed, sizeof(seed)) ? 1 : 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	seed_build(false);
	bad |= seed_write(argv[1], "exec");
	seed_build(true);
	bad |= seed_write(argv[1], "pie");
	return bad;
}
#endif
