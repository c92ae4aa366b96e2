/*
 * tests/unit/test_acpi.c - host unit tests for the ACPI parser
 * (arch/x86_64/acpi.c).
 *
 * Tables are built in the test with helpers that fill in lengths and
 * checksums.  Each table is its own exact-size heap block, so ASan reports
 * any read past a table's end.  The blocks get fake "physical" addresses
 * below 4 GiB (an RSDT holds 32-bit addresses, host pointers do not fit), and
 * this file's acpi_map() translates them back, returning NULL for any range
 * that is not wholly inside one block: the parser must treat that as absent.
 * Build: gcc -std=gnu11 -Wall -Wextra -Werror -DSKIFF_HOST_TEST -I. \
 *   -fsanitize=address,undefined -g tests/unit/unit.c tests/unit/test_acpi.c \
 *   arch/x86_64/acpi.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/unit.h"
#include "arch/x86_64/acpi_impl.h"
#include "core/errno.h"

/* ---- fake physical memory ---- */

#define FX_MAX     64
#define FX_BASE    0x01000000u
#define FX_STRIDE  0x00100000u          /* also the largest block */

struct fx_block {
	uint8_t *p;
	size_t len;
	uint64_t pa;
};

static struct fx_block fx[FX_MAX];
static unsigned int fx_n;

static uint8_t *fx_alloc(size_t len)
{
	uint8_t *p = calloc(1, len ? len : 1);

	if (!p || fx_n == FX_MAX || len > FX_STRIDE)
		abort();
	fx[fx_n].p = p;
	fx[fx_n].len = len;
	fx[fx_n].pa = FX_BASE + (uint64_t)fx_n * FX_STRIDE;
	fx_n++;
	return p;
}

static void fx_free_all(void)
{
	while (fx_n)
		free(fx[--fx_n].p);
}

static uint64_t pa_of(const void *p)
{
	for (unsigned int i = 0; i < fx_n; i++)
		if (fx[i].p == p)
			return fx[i].pa;
	abort();
}

const void *acpi_map(uint64_t pa, uint64_t len)
{
	for (unsigned int i = 0; i < fx_n; i++) {
		uint64_t off = pa - fx[i].pa;

		if (pa >= fx[i].pa && off <= fx[i].len && len <= fx[i].len - off)
			return fx[i].p + off;
	}
	return NULL;
}

/* ---- table builders ---- */

static void put(uint8_t *p, size_t off, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void seal(uint8_t *p, size_t csum_off, size_t len)
{
	uint8_t s = 0;

	p[csum_off] = 0;
	for (size_t i = 0; i < len; i++)
		s += p[i];
	p[csum_off] = (uint8_t)-s;
}

static void sdt_seal(uint8_t *t)
{
	seal(t, 9, get32(t + 4));
}

static uint8_t *sdt_new(const char *sig, uint32_t len)
{
	uint8_t *t = fx_alloc(len);

	memcpy(t, sig, 4);
	put(t, 4, len, 4);
	t[8] = 1;
	memcpy(t + 10, "SKIFFT", 6);
	memcpy(t + 16, "SKIFFTBL", 8);
	return t;
}

/* A growing table body (everything after the 36-byte header). */
struct body {
	uint8_t b[8192];
	uint32_t len;
};

static void body_put(struct body *bd, uint64_t v, int n)
{
	if (bd->len + n > sizeof(bd->b))
		abort();
	put(bd->b, bd->len, v, n);
	bd->len += n;
}

static void body_bytes(struct body *bd, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		body_put(bd, p[i], 1);
}

static uint8_t *sdt_from_body(const char *sig, const struct body *bd)
{
	uint8_t *t = sdt_new(sig, 36 + bd->len);

	memcpy(t + 36, bd->b, bd->len);
	sdt_seal(t);
	return t;
}

static void rsdp_seal(uint8_t *r)
{
	seal(r, 8, 20);
	if (r[15] >= 2)                 /* the block is 36 bytes long */
		seal(r, 32, get32(r + 20) < 36 ? get32(r + 20) : 36);
}

static uint8_t *rsdp_new(uint8_t rev, uint64_t rsdt, uint64_t xsdt)
{
	uint8_t *r = fx_alloc(rev >= 2 ? 36 : 20);

	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "BOCHS ", 6);
	r[15] = rev;
	put(r, 16, rsdt, 4);
	if (rev >= 2) {
		put(r, 20, 36, 4);
		put(r, 24, xsdt, 8);
	}
	rsdp_seal(r);
	return r;
}

/* An XSDT (esize 8) or RSDT (esize 4) listing the tables. */
static uint8_t *root_new(int esize, uint8_t *const *tables, int n)
{
	uint8_t *t = sdt_new(esize == 8 ? "XSDT" : "RSDT", 36 + esize * n);

	for (int i = 0; i < n; i++)
		put(t, 36 + esize * i, tables[i] ? pa_of(tables[i]) : 0, esize);
	sdt_seal(t);
	return t;
}

/* RSDP v2 -> XSDT, or RSDP v1 -> RSDT when rev < 2; returns the RSDP pa. */
static uint64_t layout(uint8_t rev, uint8_t *const *tables, int n)
{
	uint8_t *root = root_new(rev >= 2 ? 8 : 4, tables, n);

	if (rev >= 2)
		return pa_of(rsdp_new(rev, 0, pa_of(root)));
	return pa_of(rsdp_new(rev, pa_of(root), 0));
}

static void gas_put(uint8_t *t, size_t off, uint8_t space, uint8_t width, uint64_t addr)
{
	t[off] = space;
	t[off + 1] = width;
	put(t, off + 4, addr, 8);
}

/* A FADT of the given length, with flags and DSDT filled in where they fit. */
static uint8_t *fadt_new(uint32_t len, uint32_t flags, const uint8_t *dsdt)
{
	uint8_t *t = sdt_new("FACP", len);

	if (len >= 116)
		put(t, 112, flags, 4);
	if (dsdt)
		put(t, 40, pa_of(dsdt), 4);
	if (dsdt && len >= 148)
		put(t, 140, pa_of(dsdt), 8);
	return t;
}

static void madt_begin(struct body *bd, uint32_t lapic, uint32_t flags)
{
	bd->len = 0;
	body_put(bd, lapic, 4);
	body_put(bd, flags, 4);
}

static void madt_lapic(struct body *bd, uint8_t id, uint32_t flags)
{
	body_put(bd, 0, 1);
	body_put(bd, 8, 1);
	body_put(bd, id, 1);            /* processor uid */
	body_put(bd, id, 1);
	body_put(bd, flags, 4);
}

static void madt_x2apic(struct body *bd, uint32_t id, uint32_t flags)
{
	body_put(bd, 9, 1);
	body_put(bd, 16, 1);
	body_put(bd, 0, 2);
	body_put(bd, id, 4);
	body_put(bd, flags, 4);
	body_put(bd, id, 4);            /* processor uid */
}

static void madt_ioapic(struct body *bd, uint8_t id, uint32_t addr, uint32_t gsi)
{
	body_put(bd, 1, 1);
	body_put(bd, 12, 1);
	body_put(bd, id, 1);
	body_put(bd, 0, 1);
	body_put(bd, addr, 4);
	body_put(bd, gsi, 4);
}

static void madt_iso(struct body *bd, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	body_put(bd, 2, 1);
	body_put(bd, 10, 1);
	body_put(bd, 0, 1);             /* bus: ISA */
	body_put(bd, irq, 1);
	body_put(bd, gsi, 4);
	body_put(bd, flags, 2);
}

/* Parses RSDP v2 -> XSDT -> MADT built from bd. */
static int parse_madt(const struct body *bd, struct acpi_info *ai)
{
	uint8_t *madt = sdt_from_body("APIC", bd);

	return acpi_parse(layout(2, &madt, 1), ai);
}

/* Parses RSDP v2 -> XSDT -> FADT -> DSDT holding the given AML. */
static int parse_aml(const uint8_t *aml, size_t n, struct acpi_info *ai)
{
	struct body bd = { .len = 0 };
	uint8_t *fadt;

	body_bytes(&bd, aml, n);
	fadt = fadt_new(244, 0, sdt_from_body("DSDT", &bd));
	sdt_seal(fadt);
	return acpi_parse(layout(2, &fadt, 1), ai);
}

/* ---- a QEMU q35-like machine ---- */

static const uint8_t q35_aml[] = {
	0x10, 0x0c, 0x5c, '_', 'S', 'B', '_',           /* Scope (\_SB) ... */
	0xa4, 0x5c, '_', 'S', '5', '_', 0x00,           /* decoy: Return (\_S5_) */
	0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04,     /* Name (_S5, Package (4) */
	0x0a, 0x05, 0x00, 0x00, 0x00,                   /*   { 5, 0, 0, 0 }) */
	0x5b, 0x80, 'P', 'C', 'F', 'G',                 /* OperationRegion ... */
};

struct q35 {
	uint8_t *madt, *fadt, *hpet, *dsdt;
	uint64_t rsdp;
};

static void q35_madt(struct body *bd, int ncpus)
{
	madt_begin(bd, 0xfee00000, 1);
	for (int i = 0; i < ncpus; i++)
		madt_lapic(bd, (uint8_t)i, 1);
	madt_ioapic(bd, 0, 0xfec00000, 0);
	madt_iso(bd, 0, 2, 0);
	madt_iso(bd, 9, 9, 0x0d);
	body_bytes(bd, (const uint8_t[]){ 4, 6, 0xff, 5, 0, 1 }, 6); /* LAPIC NMI */
}

static void q35_build(struct q35 *q)
{
	struct body bd = { .len = 0 };
	uint8_t *tables[3];

	body_bytes(&bd, q35_aml, sizeof(q35_aml));
	q->dsdt = sdt_from_body("DSDT", &bd);
	q->fadt = fadt_new(244, 1u << 10 | 1u << 8 | 1u << 5, q->dsdt);
	put(q->fadt, 64, 0x604, 4);
	put(q->fadt, 76, 0x608, 4);
	gas_put(q->fadt, 116, 1, 8, 0xcf9);
	q->fadt[128] = 0x0f;
	gas_put(q->fadt, 172, 1, 16, 0x604);
	gas_put(q->fadt, 208, 1, 32, 0x608);
	sdt_seal(q->fadt);
	q35_madt(&bd, 4);
	q->madt = sdt_from_body("APIC", &bd);
	q->hpet = sdt_new("HPET", 56);
	gas_put(q->hpet, 40, 0, 64, 0xfed00000);
	sdt_seal(q->hpet);
	tables[0] = q->fadt;
	tables[1] = q->madt;
	tables[2] = q->hpet;
	q->rsdp = layout(2, tables, 3);
}

UNIT_TEST(acpi_q35_layout)
{
	struct q35 q;
	struct acpi_info ai;

	q35_build(&q);
	CHECK_EQ(acpi_parse(q.rsdp, &ai), 0);
	CHECK(ai.valid);
	CHECK_EQ(ai.revision, 2);
	CHECK_STR(ai.oem_id, "BOCHS ");
	CHECK_EQ(ai.lapic_addr, 0xfee00000);
	CHECK_EQ(ai.ncpus, 4);
	for (unsigned int i = 0; i < 4; i++)
		CHECK_EQ(ai.cpu_apic_id[i], i);
	CHECK(!ai.cpus_truncated);
	CHECK(ai.has_8259);
	CHECK_EQ(ai.nioapics, 1);
	CHECK_EQ(ai.ioapic[0].addr, 0xfec00000);
	CHECK_EQ(ai.niso, 2);
	CHECK_EQ(ai.iso[0].irq, 0);
	CHECK_EQ(ai.iso[0].gsi, 2);
	CHECK_EQ(ai.iso[1].irq, 9);
	CHECK_EQ(ai.iso[1].flags, 0x0d);
	CHECK(!ai.hw_reduced);
	CHECK_EQ(ai.pm_timer_port, 0x608);
	CHECK(ai.pm_timer_32bit);
	CHECK_EQ(ai.pm1a_cnt_port, 0x604);
	CHECK_EQ(ai.pm1b_cnt_port, 0);
	CHECK_EQ(ai.reset_reg.space, 1);
	CHECK_EQ(ai.reset_reg.addr, 0xcf9);
	CHECK_EQ(ai.reset_value, 0x0f);
	CHECK_EQ(ai.sleep_control.space, 0xff);
	CHECK(ai.s5_valid);
	CHECK_EQ(ai.s5_slp_typa, 5);
	CHECK_EQ(ai.s5_slp_typb, 0);
	CHECK_EQ(ai.hpet_addr, 0xfed00000);
	fx_free_all();
}

UNIT_TEST(acpi_rsdp_v1_rsdt)
{
	struct body bd = { .len = 0 };
	struct acpi_info ai;
	uint8_t *tables[2];
	const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x07, 0x0a, 0x03 };

	body_bytes(&bd, aml, sizeof(aml));
	tables[0] = fadt_new(116, 0, sdt_from_body("DSDT", &bd));  /* ACPI 1.0 size */
	put(tables[0], 76, 0xb008, 4);
	put(tables[0], 64, 0xb004, 4);
	put(tables[0], 68, 0xb104, 4);
	sdt_seal(tables[0]);
	madt_begin(&bd, 0xfee00000, 0);
	madt_lapic(&bd, 0, 1);
	madt_lapic(&bd, 2, 1);
	tables[1] = sdt_from_body("APIC", &bd);
	CHECK_EQ(acpi_parse(layout(0, tables, 2), &ai), 0);
	CHECK(ai.valid);
	CHECK_EQ(ai.revision, 0);
	CHECK_EQ(ai.ncpus, 2);
	CHECK_EQ(ai.cpu_apic_id[1], 2);
	CHECK(!ai.has_8259);
	CHECK_EQ(ai.pm_timer_port, 0xb008);
	CHECK(!ai.pm_timer_32bit);
	CHECK_EQ(ai.pm1a_cnt_port, 0xb004);
	CHECK_EQ(ai.pm1b_cnt_port, 0xb104);
	CHECK_EQ(ai.reset_reg.space, 0xff);
	CHECK(ai.s5_valid);
	CHECK_EQ(ai.s5_slp_typa, 7);
	CHECK_EQ(ai.s5_slp_typb, 3);
	CHECK_EQ(ai.hpet_addr, 0);
	fx_free_all();
}

/* Both roots present: the XSDT wins, unless it is broken. */
UNIT_TEST(acpi_root_table_choice)
{
	struct body bd;
	struct acpi_info ai;
	uint8_t *m1, *m3, *rsdt, *xsdt, *r;

	madt_begin(&bd, 0xfee00000, 0);
	madt_lapic(&bd, 0, 1);
	m1 = sdt_from_body("APIC", &bd);
	madt_lapic(&bd, 1, 1);
	madt_lapic(&bd, 2, 1);
	m3 = sdt_from_body("APIC", &bd);
	rsdt = root_new(4, &m1, 1);
	xsdt = root_new(8, &m3, 1);
	r = rsdp_new(2, pa_of(rsdt), pa_of(xsdt));
	CHECK_EQ(acpi_parse(pa_of(r), &ai), 0);
	CHECK_EQ(ai.ncpus, 3);
	xsdt[40] ^= 1;                  /* broken XSDT: fall back to the RSDT */
	CHECK_EQ(acpi_parse(pa_of(r), &ai), 0);
	CHECK_EQ(ai.ncpus, 1);
	r = rsdp_new(2, pa_of(rsdt), 0);        /* v2 without an XSDT */
	CHECK_EQ(acpi_parse(pa_of(r), &ai), 0);
	CHECK_EQ(ai.ncpus, 1);
	fx_free_all();
}

/* X_ fields are preferred only when system-I/O, non-zero and inside the table. */
UNIT_TEST(acpi_fadt_x_fields)
{
	struct body bd = { .len = 0 };
	struct acpi_info ai;
	uint8_t *d1, *d2, *f;
	const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x00 };

	body_bytes(&bd, aml, sizeof(aml));
	d1 = sdt_from_body("DSDT", &bd);
	bd.b[8] = 0x00;
	bd.b[9] = 0x01;                 /* { 0, 1 } */
	d2 = sdt_from_body("DSDT", &bd);
	f = fadt_new(244, 0, d1);
	put(f, 140, pa_of(d2), 8);      /* X_DSDT wins over DSDT */
	put(f, 76, 0x408, 4);
	gas_put(f, 208, 1, 32, 0x608);
	put(f, 64, 0x404, 4);
	gas_put(f, 172, 0, 16, 0x604);  /* memory space: use the legacy field */
	put(f, 68, 0x504, 4);
	gas_put(f, 184, 1, 16, 0);      /* zero address: use the legacy field */
	gas_put(f, 116, 1, 8, 0xcf9);   /* but RESET_REG_SUP is clear */
	sdt_seal(f);
	CHECK_EQ(acpi_parse(layout(2, &f, 1), &ai), 0);
	CHECK_EQ(ai.pm_timer_port, 0x608);
	CHECK_EQ(ai.pm1a_cnt_port, 0x404);
	CHECK_EQ(ai.pm1b_cnt_port, 0x504);
	CHECK_EQ(ai.reset_reg.space, 0xff);
	CHECK(ai.s5_valid);
	CHECK_EQ(ai.s5_slp_typa, 0);
	CHECK_EQ(ai.s5_slp_typb, 1);
	fx_free_all();
}

/* A FADT too short to hold X_PM_TMR_BLK or X_DSDT: those bytes are not read. */
UNIT_TEST(acpi_fadt_short)
{
	struct body bd = { .len = 0 };
	struct acpi_info ai;
	uint8_t *f, *tables[2];
	const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01 };

	body_bytes(&bd, aml, sizeof(aml));
	f = fadt_new(140, 1u << 10, sdt_from_body("DSDT", &bd));
	put(f, 76, 0x408, 4);
	gas_put(f, 116, 1, 8, 0xcf9);
	f[128] = 6;
	sdt_seal(f);
	tables[0] = f;
	CHECK_EQ(acpi_parse(layout(2, tables, 1), &ai), 0);
	CHECK_EQ(ai.pm_timer_port, 0x408);
	CHECK_EQ(ai.reset_reg.addr, 0xcf9);
	CHECK_EQ(ai.reset_value, 6);
	CHECK(ai.s5_valid);
	CHECK_EQ(ai.s5_slp_typa, 1);
	tables[1] = fadt_new(72, 0, NULL);      /* ends after PM1b_CNT_BLK */
	put(tables[1], 64, 0x404, 4);
	sdt_seal(tables[1]);
	CHECK_EQ(acpi_parse(layout(2, tables + 1, 1), &ai), 0);
	CHECK_EQ(ai.pm1a_cnt_port, 0x404);
	CHECK_EQ(ai.pm_timer_port, 0);
	CHECK(!ai.hw_reduced);
	CHECK(!ai.s5_valid);
	fx_free_all();
}

UNIT_TEST(acpi_hw_reduced_microvm)
{
	struct body bd = { .len = 0 };
	struct acpi_info ai;
	uint8_t *f;
	const uint8_t aml[] = { 0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00 };

	body_bytes(&bd, aml, sizeof(aml));
	f = fadt_new(276, 1u << 20 | 1u << 10, sdt_from_body("DSDT", &bd));
	f[8] = 5;
	put(f, 76, 0x608, 4);           /* fixed hardware: ignored when HW-reduced */
	gas_put(f, 116, 0, 8, 0xfea00002);
	f[128] = 0x42;
	gas_put(f, 244, 0, 8, 0xfea00000);
	gas_put(f, 256, 0, 8, 0xfea00001);
	sdt_seal(f);
	CHECK_EQ(acpi_parse(layout(2, &f, 1), &ai), 0);
	CHECK(ai.hw_reduced);
	CHECK_EQ(ai.pm_timer_port, 0);
	CHECK_EQ(ai.pm1a_cnt_port, 0);
	CHECK_EQ(ai.sleep_control.space, 0);
	CHECK_EQ(ai.sleep_control.bit_width, 8);
	CHECK_EQ(ai.sleep_control.addr, 0xfea00000);
	CHECK_EQ(ai.reset_reg.space, 0);
	CHECK_EQ(ai.reset_reg.addr, 0xfea00002);
	CHECK_EQ(ai.reset_value, 0x42);
	CHECK(ai.s5_valid);
	CHECK_EQ(ai.s5_slp_typa, 5);
	CHECK_EQ(ai.lapic_addr, 0);     /* no MADT */
	CHECK_EQ(ai.hpet_addr, 0);
	fx_free_all();
}

UNIT_TEST(acpi_bad_rsdp)
{
	struct acpi_info ai;
	uint8_t *r;

	r = rsdp_new(0, 0, 0);
	CHECK_EQ(acpi_parse(pa_of(r), &ai), 0);
	r[8]++;                                 /* v1 checksum */
	memset(&ai, 0xaa, sizeof(ai));
	CHECK_EQ(acpi_parse(pa_of(r), &ai), -ENOENT);
	CHECK(!ai.valid);
	CHECK_EQ(ai.ncpus, 0);
	CHECK_EQ(ai.reset_reg.space, 0xff);
	r = rsdp_new(2, 0, 0);
	CHECK_EQ(acpi_parse(pa_of(r), &ai), 0);
	r[32]++;                                /* extended checksum */
	CHECK_EQ(acpi_parse(pa_of(r), &ai), -ENOENT);
	r[32]--;
	r[0] = 'r';                             /* signature */
	rsdp_seal(r);
	CHECK_EQ(acpi_parse(pa_of(r), &ai), -ENOENT);
	r[0] = 'R';
	put(r, 20, 40, 4);                      /* length past the mapping */
	rsdp_seal(r);
	CHECK_EQ(acpi_parse(pa_of(r), &ai), -ENOENT);
	put(r, 20, 20, 4);                      /* length below 36 */
	rsdp_seal(r);
	CHECK_EQ(acpi_parse(pa_of(r), &ai), -ENOENT);
	CHECK_EQ(acpi_parse(0x1234, &ai), -ENOENT);     /* unmapped */
	CHECK_EQ(acpi_parse(pa_of(r), NULL), -EINVAL);
	fx_free_all();
}

UNIT_TEST(acpi_bad_madt_checksum_skipped)
{
	struct q35 q;
	struct acpi_info ai;

	q35_build(&q);
	q.madt[36 + 8 + 3]++;           /* first CPU's APIC id, not resealed */
	CHECK_EQ(acpi_parse(q.rsdp, &ai), 0);
	CHECK(ai.valid);
	CHECK_EQ(ai.ncpus, 0);
	CHECK_EQ(ai.lapic_addr, 0);
	CHECK_EQ(ai.nioapics, 0);
	CHECK_EQ(ai.hpet_addr, 0xfed00000);     /* the other tables still count */
	CHECK_EQ(ai.pm_timer_port, 0x608);
	CHECK(ai.s5_valid);
	fx_free_all();
}

/* Tables that cannot be mapped whole, or have silly lengths, are absent. */
UNIT_TEST(acpi_bad_table_lengths)
{
	struct q35 q;
	struct acpi_info ai;

	q35_build(&q);
	put(q.hpet, 4, 100, 4);         /* longer than its block: acpi_map fails */
	put(q.madt, 4, 20, 4);          /* shorter than a header */
	sdt_seal(q.madt);
	put(q.dsdt, 4, 2u << 20, 4);    /* over 1 MiB */
	CHECK_EQ(acpi_parse(q.rsdp, &ai), 0);
	CHECK_EQ(ai.hpet_addr, 0);
	CHECK_EQ(ai.ncpus, 0);
	CHECK(!ai.s5_valid);
	CHECK_EQ(ai.pm_timer_port, 0x608);
	fx_free_all();
}

UNIT_TEST(acpi_madt_bad_entry_lengths)
{
	struct body bd;
	struct acpi_info ai;

	madt_begin(&bd, 0xfee00000, 0);
	madt_lapic(&bd, 0, 1);
	madt_lapic(&bd, 1, 1);
	body_put(&bd, 0, 1);            /* type 0, length 0 */
	body_put(&bd, 0, 1);
	madt_lapic(&bd, 2, 1);
	CHECK_EQ(parse_madt(&bd, &ai), 0);
	CHECK_EQ(ai.ncpus, 2);
	CHECK_EQ(ai.lapic_addr, 0xfee00000);

	madt_begin(&bd, 0xfee00000, 0);
	madt_lapic(&bd, 0, 1);
	madt_ioapic(&bd, 1, 0xfec00000, 0);
	madt_lapic(&bd, 3, 1);
	bd.len -= 4;                    /* the last entry runs past the end */
	CHECK_EQ(parse_madt(&bd, &ai), 0);
	CHECK_EQ(ai.ncpus, 1);
	CHECK_EQ(ai.nioapics, 1);

	madt_begin(&bd, 0xfee00000, 0);
	madt_lapic(&bd, 0, 1);
	body_bytes(&bd, (const uint8_t[]){ 1, 6, 0, 0, 0, 0 }, 6);  /* short IOAPIC */
	madt_lapic(&bd, 1, 1);
	CHECK_EQ(parse_madt(&bd, &ai), 0);
	CHECK_EQ(ai.ncpus, 1);
	CHECK_EQ(ai.nioapics, 0);
	fx_free_all();
}

UNIT_TEST(acpi_madt_duplicates_and_flags)
{
	struct body bd;
	struct acpi_info ai;

	madt_begin(&bd, 0xfee00000, 0);
	madt_lapic(&bd, 0, 1);
	madt_lapic(&bd, 1, 1);
	madt_lapic(&bd, 1, 1);
	madt_lapic(&bd, 0, 1);
	madt_x2apic(&bd, 1, 1);
	madt_lapic(&bd, 5, 0);          /* disabled, not online capable */
	madt_lapic(&bd, 6, 2);          /* online capable */
	madt_lapic(&bd, 0xff, 1);       /* "no CPU" */
	madt_x2apic(&bd, 0x100, 1);
	madt_x2apic(&bd, 0xffffffff, 1);
	CHECK_EQ(parse_madt(&bd, &ai), 0);
	CHECK_EQ(ai.ncpus, 3);                  /* online capable = absent until hot-plugged */
	CHECK_EQ(ai.ncpus_hotplug, 1);
	CHECK_EQ(ai.cpu_apic_id[0], 0);
	CHECK_EQ(ai.cpu_apic_id[1], 1);
	CHECK_EQ(ai.cpu_apic_id[2], 0x100);
	CHECK(!ai.cpus_truncated);
	fx_free_all();
}

UNIT_TEST(acpi_madt_limits)
{
	struct body bd;
	struct acpi_info ai;

	madt_begin(&bd, 0xfee00000, 0);
	for (uint32_t i = 0; i < ACPI_MAX_CPUS; i++)
		madt_x2apic(&bd, i, 1);
	madt_x2apic(&bd, 7, 1);         /* a duplicate is not an overflow */
	CHECK_EQ(parse_madt(&bd, &ai), 0);
	CHECK_EQ(ai.ncpus, ACPI_MAX_CPUS);
	CHECK(!ai.cpus_truncated);
	for (uint32_t i = ACPI_MAX_CPUS; i < 300; i++)
		madt_x2apic(&bd, i, 1);
	for (int i = 0; i < ACPI_MAX_IOAPICS + 2; i++)
		madt_ioapic(&bd, (uint8_t)i, 0xfec00000 + 0x1000 * i, 24 * i);
	for (int i = 0; i < ACPI_MAX_ISO + 4; i++)
		madt_iso(&bd, (uint8_t)i, i, 0);
	body_bytes(&bd, (const uint8_t[]){ 5, 12, 0, 0, 0, 0, 0xe0, 0xfe, 1, 0, 0, 0 }, 12);
	CHECK_EQ(parse_madt(&bd, &ai), 0);
	CHECK_EQ(ai.ncpus, ACPI_MAX_CPUS);
	CHECK(ai.cpus_truncated);
	CHECK_EQ(ai.cpu_apic_id[ACPI_MAX_CPUS - 1], ACPI_MAX_CPUS - 1);
	CHECK_EQ(ai.nioapics, ACPI_MAX_IOAPICS);
	CHECK_EQ(ai.ioapic[ACPI_MAX_IOAPICS - 1].gsi_base, 24 * (ACPI_MAX_IOAPICS - 1));
	CHECK_EQ(ai.niso, ACPI_MAX_ISO);
	CHECK_EQ(ai.lapic_addr, 0x1fee00000ull);    /* type 5 override */
	fx_free_all();
}

struct s5_case {
	uint8_t aml[16];
	size_t len;
	bool valid;
	uint8_t a, b;
};

static const struct s5_case s5_cases[] = {
	{ { 8, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x00 }, 10, true, 1, 0 },
	{ { 8, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0b, 0x34, 0x12, 0x00 }, 12, true, 0x34, 0 },
	{ { 8, '_', 'S', '5', '_', 0x12, 0x09, 0x02, 0x0a, 0x03, 0x0c, 0x04, 3, 2, 1 }, 15, true, 3, 4 },
	{ { 8, '_', 'S', '5', '_', 0x12, 0x45, 0x00, 0x02, 0x01, 0x01 }, 11, true, 1, 1 },
	{ { 8, '_', 'S', '5', '_', 0x12, 0x05, 0x01, 0x0b, 0x05, 0x07 }, 11, true, 5, 7 },
	{ { 8, '_', 'S', '5', '_', 0x12, 0x03, 0x00, 0x00 }, 9, false, 0, 0 },   /* empty */
	{ { 8, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x0a, 5 }, 12, false, 0, 0 },
	{ { 8, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x70 }, 11, false, 0, 0 },
	{ { 8, '_', 'S', '5', '_', 0x13, 0x04, 0x02, 0x01, 0x01 }, 10, false, 0, 0 },
	{ { 7, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01, 0x01 }, 10, false, 0, 0 },
	{ { 8, '_', 'S', '4', '_', 0x12, 0x04, 0x02, 0x01, 0x01 }, 10, false, 0, 0 },
};

/* Integer encodings, multi-byte PkgLength, one-element packages, non-matches. */
UNIT_TEST(acpi_s5_encodings)
{
	struct acpi_info ai;

	for (size_t i = 0; i < sizeof(s5_cases) / sizeof(s5_cases[0]); i++) {
		const struct s5_case *c = &s5_cases[i];

		CHECK_EQ(parse_aml(c->aml, c->len, &ai), 0);
		CHECK_EQ(ai.s5_valid, c->valid);
		CHECK_EQ(ai.s5_slp_typa, c->a);
		CHECK_EQ(ai.s5_slp_typb, c->b);
		fx_free_all();
	}
}

/* Every prefix of a good \_S5_ (ending the DSDT there) fails cleanly. */
UNIT_TEST(acpi_s5_truncated)
{
	const uint8_t full[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x04,
				 0x0a, 0x05, 0x0a, 0x06 };
	uint8_t aml[sizeof(full) + 8];
	struct acpi_info ai;

	for (size_t n = 1; n < sizeof(full); n++) {
		CHECK_EQ(parse_aml(full, n, &ai), 0);
		CHECK(!ai.s5_valid);
		fx_free_all();
	}
	memcpy(aml, full, sizeof(full));
	memset(aml + sizeof(full), 0, 8);
	aml[7] = 0x47;                          /* PkgLength 0x477: past the end */
	CHECK_EQ(parse_aml(aml, sizeof(aml), &ai), 0);
	CHECK(!ai.s5_valid);
	fx_free_all();
	aml[7] = 0x00;                          /* PkgLength 7: fits */
	CHECK_EQ(parse_aml(aml, sizeof(aml), &ai), 0);
	CHECK(ai.s5_valid);
	CHECK_EQ(ai.s5_slp_typb, 6);
	fx_free_all();
}

UNIT_TEST(acpi_rsdp_scan_finds_aligned)
{
	uint8_t *buf = fx_alloc(256);
	uint8_t *r = rsdp_new(2, 0x1000, 0x2000);

	CHECK_EQ(acpi_rsdp_scan(buf, 256), -ENOENT);
	memcpy(buf + 0x20, r, 36);              /* bad checksum at 0x20 */
	buf[0x28]++;
	memcpy(buf + 0x48, r, 36);              /* valid, but not 16-aligned */
	CHECK(acpi_rsdp_valid(buf + 0x48, 36));
	CHECK_EQ(acpi_rsdp_scan(buf, 256), -ENOENT);
	memcpy(buf + 0x90, r, 36);
	CHECK_EQ(acpi_rsdp_scan(buf, 256), 0x90);
	CHECK_EQ(acpi_rsdp_scan(buf, 0x90 + 35), -ENOENT);  /* v2 cut short */
	CHECK_EQ(acpi_rsdp_scan(buf, 0x90 + 36), 0x90);
	CHECK_EQ(acpi_rsdp_scan(buf, 10), -ENOENT);
	fx_free_all();
}

/* ---- randomized robustness ---- */

static uint64_t rng_state = 0x5eed5eed1234abcdull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

/* Entries of plausible types with usually-right, sometimes-wrong lengths. */
static void random_madt(struct body *bd)
{
	static const uint8_t types[] = { 0, 1, 2, 5, 9, 4, 0x7f };
	static const uint8_t lens[] = { 8, 12, 10, 12, 16, 6, 2 };

	madt_begin(bd, rng(), rng());
	for (int n = rng() % 40; n > 0; n--) {
		int k = rng() % sizeof(types);
		int len = rng() % 8 ? lens[k] : rng() % 20;

		body_put(bd, types[k], 1);
		body_put(bd, len, 1);
		for (int i = 2; i < len; i++)
			body_put(bd, rng() % 4 ? rng() % 4 : rng(), 1);
	}
	bd->len -= bd->len > 8 && rng() % 4 == 0 ? rng() % (bd->len - 8) : 0;
}

static void random_aml(struct body *bd)
{
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12 };
	static const uint8_t ops[] = { 0x00, 0x01, 0x0a, 0x0b, 0x0c, 0x12, 0x08 };

	bd->len = 0;
	for (int n = rng() % 24; n > 0; n--)
		body_put(bd, rng(), 1);
	if (rng() % 8) {
		body_bytes(bd, s5, sizeof(s5));
		body_put(bd, rng() % 4 ? 2 + rng() % 8 : rng(), 1);    /* PkgLength */
		body_put(bd, rng() % 4, 1);                             /* NumElements */
	}
	for (int n = rng() % 12; n > 0; n--)
		body_put(bd, rng() % 3 ? ops[rng() % sizeof(ops)] : rng(), 1);
}

static void random_check(const struct acpi_info *ai)
{
	CHECK(ai->ncpus <= ACPI_MAX_CPUS);
	CHECK(ai->nioapics <= ACPI_MAX_IOAPICS);
	CHECK(ai->niso <= ACPI_MAX_ISO);
	for (unsigned int i = 0; i < ai->ncpus && i < ACPI_MAX_CPUS; i++)
		for (unsigned int j = 0; j < i; j++)
			CHECK(ai->cpu_apic_id[i] != ai->cpu_apic_id[j]);
}

UNIT_TEST(acpi_random_robustness)
{
	static struct body bd;
	struct acpi_info ai;
	uint8_t *tables[2];
	int cpus_seen = 0, s5_seen = 0;

	for (int iter = 0; iter < 4000; iter++) {
		random_aml(&bd);
		tables[0] = fadt_new(244, rng(), sdt_from_body("DSDT", &bd));
		sdt_seal(tables[0]);
		random_madt(&bd);
		tables[1] = sdt_from_body("APIC", &bd);
		CHECK_EQ(acpi_parse(layout(rng() % 3, tables, 2), &ai), 0);
		random_check(&ai);
		cpus_seen += ai.ncpus > 0;
		s5_seen += ai.s5_valid;
		fx_free_all();
	}
	CHECK(cpus_seen > 100);         /* the generator reaches the decoders */
	CHECK(s5_seen > 100);
}
