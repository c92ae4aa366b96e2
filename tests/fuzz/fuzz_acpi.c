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
 * Build and run (from the repository root):
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -DSKIFF_HOST_TEST -I. \
 *     tests/fuzz/fuzz_acpi.c arch/x86_64/acpi.c -o /tmp/fuzz_acpi
 *   mkdir -p /tmp/fuzz_acpi_corpus
 *   /tmp/fuzz_acpi -max_total_time=60 -max_len=8192 /tmp/fuzz_acpi_corpus
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
