/*
 * tests/fuzz/fuzz_acpi.c - libFuzzer target for the ACPI parser
 * (arch/x86_64/acpi.c).
 *
 * The input is a blob of "physical memory" starting at address 0: an RSDP at
 * offset 0, and every table address inside it an offset into the blob.  This
 * file's acpi_map() returns NULL for any range not wholly inside the blob,
 * which the parser must treat as an absent table.  The blob is also handed to
 * acpi_rsdp_scan().  Bounds are checked by ASan; the counters are checked
 * here.
 *
 * Random bytes almost never have valid checksums, so when the input's last
 * byte is odd that byte is dropped and acpi_map() repairs the checksum of
 * each range it maps (RSDP bytes 8 and 32, SDT byte 9) in a private copy:
 * the fuzzer then reaches the table decoders, while even inputs keep
 * exercising the checksum rejections.
 *
 * Built with -DFUZZ_ACPI_SEEDS instead, this file is a program that writes
 * seed inputs (QEMU-like q35, ACPI 1.0 and microvm machines, each with an even
 * and an odd last byte) into a directory; without seeds the fuzzer rarely
 * finds an RSDP whose tables point at tables.
 *
 * Build and run (from the repository root):
 *   clang -std=gnu11 -g -DSKIFF_HOST_TEST -DFUZZ_ACPI_SEEDS -I. \
 *     tests/fuzz/fuzz_acpi.c arch/x86_64/acpi.c -o /tmp/fuzz_acpi_seeds
 *   mkdir -p /tmp/fuzz_acpi_corpus && /tmp/fuzz_acpi_seeds /tmp/fuzz_acpi_corpus
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -DSKIFF_HOST_TEST -I. \
 *     tests/fuzz/fuzz_acpi.c arch/x86_64/acpi.c -o /tmp/fuzz_acpi
 *   /tmp/fuzz_acpi -max_total_time=60 -max_len=8192 /tmp/fuzz_acpi_corpus
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/acpi_impl.h"

static uint8_t *blob;
static size_t blob_len;
static bool fix_checksums;

/* Sets p[csum] so that the len bytes at p sum to zero. */
static void fix_sum(uint8_t *p, size_t csum, uint64_t len)
{
	uint8_t s = 0;

	p[csum] = 0;
	for (uint64_t i = 0; i < len; i++)
		s += p[i];
	p[csum] = (uint8_t)-s;
}

const void *acpi_map(uint64_t pa, uint64_t len)
{
	if (pa > blob_len || len > blob_len - pa)
		return NULL;
	if (fix_checksums && pa == 0 && len >= 20)
		fix_sum(blob, 8, 20);
	if (fix_checksums && pa == 0 && len >= 36)
		fix_sum(blob, 32, len);
	if (fix_checksums && pa != 0 && len >= 36)
		fix_sum(blob + pa, 9, len);
	return blob + pa;
}

static void check_info(const struct acpi_info *ai)
{
	if (ai->ncpus > ACPI_MAX_CPUS || ai->nioapics > ACPI_MAX_IOAPICS ||
	    ai->niso > ACPI_MAX_ISO || ai->oem_id[6] != '\0')
		abort();
	if (ai->cpus_truncated && ai->ncpus != ACPI_MAX_CPUS)
		abort();
	for (unsigned int i = 0; i < ai->ncpus; i++)
		for (unsigned int j = 0; j < i; j++)
			if (ai->cpu_apic_id[i] == ai->cpu_apic_id[j])
				abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acpi_info ai;
	long off;

	fix_checksums = size > 0 && (data[size - 1] & 1);
	blob_len = fix_checksums ? size - 1 : size;
	blob = malloc(blob_len ? blob_len : 1);
	if (!blob)
		abort();
	memcpy(blob, data, blob_len);
	if (acpi_parse(0, &ai) == 0)
		check_info(&ai);
	else if (ai.valid)
		abort();
	off = acpi_rsdp_scan(blob, blob_len);
	if (off >= 0 && (off % 16 != 0 || (size_t)off >= blob_len ||
			 !acpi_rsdp_valid(blob + off, blob_len - off)))
		abort();
	free(blob);
	return 0;
}

#ifdef FUZZ_ACPI_SEEDS
#include "tests/fuzz/seed_file.h"

static uint8_t seed[4096];
static size_t seed_len, seed_tables[8], seed_ntables;

static void seed_put(size_t off, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		seed[off + i] = (uint8_t)(v >> (8 * i));
}

static void seed_gas(size_t off, uint8_t space, uint64_t addr)
{
	seed[off] = space;
	seed[off + 1] = space ? 16 : 32;
	seed_put(off + 4, addr, 8);
}

/* Reserves a zeroed table of len bytes at the next 8-aligned offset. */
static size_t seed_sdt(const char *sig, size_t len)
{
	size_t off = (seed_len + 7) & ~(size_t)7;

	memcpy(seed + off, sig, 4);
	seed_put(off + 4, len, 4);
	seed[off + 8] = 1;
	memcpy(seed + off + 10, "BOCHS BXPC    ", 14);
	seed_len = off + len;
	seed_tables[seed_ntables++] = off;
	return off;
}

static size_t seed_copy(const char *sig, const uint8_t *body, size_t n)
{
	size_t off = seed_sdt(sig, 36 + n);

	memcpy(seed + off + 36, body, n);
	return off;
}

static const uint8_t seed_aml[] = {
	0x10, 0x0c, '\\', '_', 'S', 'B', '_', 0xa4, '\\', '_', 'S', '5', '_', 0,
	0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00,
	0x08, '\\', '_', 'S', '4', '_', 0x12, 0x45, 0x00, 0x02, 0x0b, 0x04, 0x00, 0x01,
};

static const uint8_t seed_madt[] = {
	0x00, 0x00, 0xe0, 0xfe, 1, 0, 0, 0,
	0, 8, 0, 0, 1, 0, 0, 0,   0, 8, 1, 1, 1, 0, 0, 0,   0, 8, 2, 2, 2, 0, 0, 0,
	9, 16, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0,
	1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0,
	2, 10, 0, 0, 2, 0, 0, 0, 0, 0,   2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0,
	5, 12, 0, 0, 0x00, 0x00, 0xe0, 0xfe, 0, 0, 0, 0,   4, 6, 0xff, 5, 0, 1,
};

static void seed_fadt(size_t f, size_t dsdt, size_t len, bool hw_reduced)
{
	seed_put(f + 40, dsdt, 4);
	seed_put(f + 64, 0x604, 4);
	seed_put(f + 76, 0x608, 4);
	seed_put(f + 112, 1u << 10 | 1u << 8 | (hw_reduced ? 1u << 20 : 0), 4);
	if (len < 244)
		return;
	seed_gas(f + 116, 1, 0xcf9);
	seed[f + 128] = 6;
	seed_put(f + 140, dsdt, 8);
	seed_gas(f + 172, 1, 0x604);
	seed_gas(f + 208, 1, 0x608);
	if (len >= 276)
		seed_gas(f + 244, 0, 0xfea00000);
}

/* RSDP revision rev (XSDT when >= 2, else RSDT) -> FADT, MADT, HPET. */
static void seed_build(uint8_t rev, bool hw_reduced)
{
	size_t flen = hw_reduced ? 276 : rev >= 2 ? 244 : 116, dsdt, t[3], root;
	unsigned int esize = rev >= 2 ? 8 : 4;

	memset(seed, 0, sizeof(seed));
	seed_len = 36;
	seed_ntables = 0;
	dsdt = seed_copy("DSDT", seed_aml, sizeof(seed_aml));
	t[0] = seed_sdt("FACP", flen);
	seed_fadt(t[0], dsdt, flen, hw_reduced);
	t[1] = seed_copy("APIC", seed_madt, sizeof(seed_madt));
	t[2] = seed_sdt("HPET", 56);
	seed_gas(t[2] + 40, 0, 0xfed00000);
	root = seed_sdt(rev >= 2 ? "XSDT" : "RSDT", 36 + 3 * esize);
	for (int i = 0; i < 3; i++)
		seed_put(root + 36 + esize * i, t[i], esize);
	for (size_t i = 0; i < seed_ntables; i++)
		fix_sum(seed + seed_tables[i], 9, seed[seed_tables[i] + 4] | seed[seed_tables[i] + 5] << 8);
	memcpy(seed, "RSD PTR \0BOCHS ", 15);
	seed[15] = rev;
	seed_put(rev >= 2 ? 24 : 16, root, esize);
	seed_put(20, rev >= 2 ? 36 : 0, 4);
	fix_sum(seed, 8, 20);
	fix_sum(seed, 32, 36);
}

/* Writes the seed with an even and with an odd last byte. */
static int seed_write(const char *dir, const char *name)
{
	char file[256];

	for (int odd = 0; odd < 2; odd++) {
		snprintf(file, sizeof(file), "%s_%s", name, odd ? "odd" : "even");
		seed[seed_len] = (uint8_t)odd;
		if (seed_file_write(dir, file, seed, seed_len + 1))
			return -1;
	}
	return 0;
}

/* The seed must reach every decoder, or it is no use as a seed. */
static bool seed_ok(void)
{
	struct acpi_info ai;

	blob = seed;
	blob_len = seed_len;
	fix_checksums = false;
	return acpi_parse(0, &ai) == 0 && ai.ncpus == 3 && ai.ncpus_hotplug == 1 && ai.nioapics == 1 &&
	       ai.niso == 2 && ai.s5_valid && ai.s5_slp_typa == 5 &&
	       ai.hpet_addr == 0xfed00000 && ai.lapic_addr == 0xfee00000;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; uint8_t rev; bool hw_reduced; } v[] = {
		{ "q35", 2, false }, { "acpi1", 0, false }, { "microvm", 2, true },
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		seed_build(v[i].rev, v[i].hw_reduced);
		if (!seed_ok() || seed_write(argv[1], v[i].name) < 0) {
			fprintf(stderr, "%s: seed %s failed\n", argv[0], v[i].name);
			return 1;
		}
	}
	return 0;
}
#endif
