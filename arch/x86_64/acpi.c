/*
 * arch/x86_64/acpi.c - the ACPI table parser: RSDP -> XSDT/RSDT -> MADT,
 * FADT (-> DSDT \_S5_), HPET, reduced to struct acpi_info.
 *
 * Interface (declared in acpi_impl.h): call acpi_parse(rsdp_pa, &ai) once at
 * boot with the RSDP address from the boot protocol, or from
 * acpi_rsdp_scan() over the BIOS area.  Every byte is read through the
 * acpi_map() hook, which the caller supplies:
 *   - it returns a pointer to `len` readable bytes at physical `pa`, or NULL
 *     when that range cannot be mapped (NULL means "table absent");
 *   - the pointers it returns must stay valid until acpi_parse() returns.
 * Each table's header is mapped first, its length checked (36 bytes to
 * 1 MiB), then the whole table is mapped and its checksum verified; a table
 * that fails is skipped and its fields keep their "absent" values.  Nothing
 * reads past the length a table was mapped with, and all multi-byte fields
 * are read bytewise (tables are not aligned).  Pure C with no hardware
 * access: host unit tests (tests/unit/test_acpi.c) and a libFuzzer target
 * (tests/fuzz/fuzz_acpi.c) build this same file.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#include "arch/x86_64/acpi_impl.h"
#include "core/errno.h"

/* RSDP (ACPI 6.5 section 5.2.5.3) */
#define RSDP_CHECKSUM_LEN 20            /* the v1 structure */
#define RSDP_V2_LEN       36
#define RSDP_MAX_LEN      4096          /* sanity cap on the v2 length field */
#define RSDP_OEM_ID       9
#define RSDP_REVISION     15
#define RSDP_RSDT         16
#define RSDP_LENGTH       20
#define RSDP_XSDT         24

/* Common table header (5.2.6) */
#define SDT_HDR_LEN       36
#define SDT_LENGTH        4
#define SDT_MAX_LEN       (1u << 20)    /* sanity cap on any table's length */

/* MADT (5.2.12) */
#define MADT_LAPIC_ADDR   36
#define MADT_FLAGS        40
#define MADT_ENTRIES      44
#define MADT_PCAT_COMPAT  (1u << 0)
enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_OVR = 5, MADT_X2APIC = 9 };
#define MADT_CPU_ENABLED  0x1u          /* present now */
#define MADT_CPU_ONLINE_CAPABLE 0x2u    /* absent now, may be hot-plugged (ACPI 6.3) */

/* FADT (5.2.9) field offsets */
#define FADT_DSDT         40
#define FADT_PM1A_CNT     64
#define FADT_PM1B_CNT     68
#define FADT_PM_TMR       76
#define FADT_FLAGS        112
#define FADT_RESET_REG    116
#define FADT_RESET_VALUE  128
#define FADT_X_DSDT       140
#define FADT_X_PM1A_CNT   172
#define FADT_X_PM1B_CNT   184
#define FADT_X_PM_TMR     208
#define FADT_SLEEP_CTL    244
#define FADT_F_TMR_VAL_EXT   (1u << 8)
#define FADT_F_RESET_REG_SUP (1u << 10)
#define FADT_F_HW_REDUCED    (1u << 20)

/* Generic Address Structure (5.2.3.2) */
#define GAS_LEN           12
#define GAS_ADDR          4
#define GAS_SPACE_MEM     0
#define GAS_SPACE_IO      1
#define GAS_ABSENT        0xff
#define IO_PORT_MAX       0xffffu

#define HPET_BASE_GAS     40

/* AML opcodes used by the \_S5_ decoder (20.2) */
enum {
	AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE = 0x0a,
	AML_WORD = 0x0b, AML_DWORD = 0x0c, AML_PACKAGE = 0x12, AML_ROOT = '\\',
};

static uint32_t rd_le(const uint8_t *p, unsigned int n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	return rd_le(p, 4);
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static bool bytes_eq(const uint8_t *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != (uint8_t)b[i])
			return false;
	return true;
}

static uint8_t sum8(const uint8_t *p, uint64_t n)
{
	uint8_t s = 0;

	for (uint64_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

/* Is [off, off + size) inside a table of length len?  (len <= SDT_MAX_LEN) */
static bool in_table(uint32_t len, uint32_t off, uint32_t size)
{
	return off + size <= len;
}

bool acpi_rsdp_valid(const void *p, uint64_t avail_len)
{
	const uint8_t *r = p;
	uint32_t len;

	if (!r || avail_len < RSDP_CHECKSUM_LEN)
		return false;
	if (!bytes_eq(r, "RSD PTR ", 8) || sum8(r, RSDP_CHECKSUM_LEN) != 0)
		return false;
	if (r[RSDP_REVISION] < 2)
		return true;
	if (avail_len < RSDP_V2_LEN)
		return false;
	len = rd32(r + RSDP_LENGTH);
	return len >= RSDP_V2_LEN && len <= avail_len && sum8(r, len) == 0;
}

long acpi_rsdp_scan(const void *buf, uint64_t len)
{
	const uint8_t *b = buf;

	if (!b)
		return -ENOENT;
	for (uint64_t off = 0; len >= RSDP_CHECKSUM_LEN &&
	     off <= len - RSDP_CHECKSUM_LEN; off += 16)
		if (acpi_rsdp_valid(b + off, len - off))
			return (long)off;
	return -ENOENT;
}

/* Maps and validates the RSDP, growing the mapping to its v2 length. */
static const uint8_t *rsdp_map(uint64_t pa)
{
	const uint8_t *r = acpi_map(pa, RSDP_CHECKSUM_LEN);
	uint32_t len;

	if (!r)
		return NULL;
	if (r[RSDP_REVISION] < 2)
		return acpi_rsdp_valid(r, RSDP_CHECKSUM_LEN) ? r : NULL;
	r = acpi_map(pa, RSDP_V2_LEN);
	if (!r)
		return NULL;
	len = rd32(r + RSDP_LENGTH);
	if (len < RSDP_V2_LEN || len > RSDP_MAX_LEN)
		return NULL;
	r = acpi_map(pa, len);
	return r && acpi_rsdp_valid(r, len) ? r : NULL;
}

/* Maps a whole table after checking its signature, length and checksum. */
static const uint8_t *sdt_map(uint64_t pa, const char *sig, uint32_t *len)
{
	const uint8_t *t = pa ? acpi_map(pa, SDT_HDR_LEN) : NULL;

	if (!t || !bytes_eq(t, sig, 4))
		return NULL;
	*len = rd32(t + SDT_LENGTH);
	if (*len < SDT_HDR_LEN || *len > SDT_MAX_LEN)
		return NULL;
	t = acpi_map(pa, *len);
	if (!t || !bytes_eq(t, sig, 4) || sum8(t, *len) != 0)
		return NULL;
	return t;
}

/* Reads a GAS in memory or I/O space with a non-zero address into *g. */
static bool gas_read(const uint8_t *p, struct acpi_gas *g)
{
	uint64_t addr = rd64(p + GAS_ADDR);

	if ((p[0] != GAS_SPACE_MEM && p[0] != GAS_SPACE_IO) || addr == 0)
		return false;
	g->space = p[0];
	g->bit_width = p[1];
	g->addr = addr;
	return true;
}

/* ---- MADT ---- */

static void cpu_add(struct acpi_info *ai, uint32_t apic_id, uint32_t flags)
{
	if (!(flags & MADT_CPU_ENABLED)) {
		if (flags & MADT_CPU_ONLINE_CAPABLE)
			ai->ncpus_hotplug++;    /* not started: there is no CPU there yet */
		return;
	}
	for (unsigned int i = 0; i < ai->ncpus; i++)
		if (ai->cpu_apic_id[i] == apic_id)
			return;
	if (ai->ncpus == ACPI_MAX_CPUS) {
		ai->cpus_truncated = true;
		return;
	}
	ai->cpu_apic_id[ai->ncpus++] = apic_id;
}

static void madt_ioapic(const uint8_t *e, struct acpi_info *ai)
{
	struct acpi_ioapic *io;

	if (ai->nioapics == ACPI_MAX_IOAPICS)
		return;
	io = &ai->ioapic[ai->nioapics++];
	io->id = e[2];
	io->addr = rd32(e + 4);
	io->gsi_base = rd32(e + 8);
}

static void madt_iso(const uint8_t *e, struct acpi_info *ai)
{
	struct acpi_iso *iso;

	if (ai->niso == ACPI_MAX_ISO)
		return;
	iso = &ai->iso[ai->niso++];
	iso->irq = e[3];
	iso->gsi = rd32(e + 4);
	iso->flags = (uint16_t)rd_le(e + 8, 2);
}

/* Minimum length of each entry type we decode; 2 (just the header) for others. */
static unsigned int madt_min_len(uint8_t type)
{
	static const uint8_t min_len[] = {
		[MADT_LAPIC] = 8, [MADT_IOAPIC] = 12, [MADT_ISO] = 10,
		[MADT_LAPIC_OVR] = 12, [MADT_X2APIC] = 16,
	};

	return type < sizeof(min_len) && min_len[type] ? min_len[type] : 2;
}

/* Decodes one entry of known-good length.  Unknown types are ignored.
 * APIC id 0xff (xAPIC) and 0xffffffff (x2APIC) mean "no CPU here". */
static void madt_entry(const uint8_t *e, struct acpi_info *ai)
{
	uint64_t addr;

	switch (e[0]) {
	case MADT_LAPIC:
		if (e[3] != 0xff)
			cpu_add(ai, e[3], rd32(e + 4));
		break;
	case MADT_X2APIC:
		if (rd32(e + 4) != UINT32_MAX)
			cpu_add(ai, rd32(e + 4), rd32(e + 8));
		break;
	case MADT_IOAPIC:
		madt_ioapic(e, ai);
		break;
	case MADT_ISO:
		madt_iso(e, ai);
		break;
	case MADT_LAPIC_OVR:
		addr = rd64(e + 4);
		if (addr)
			ai->lapic_addr = addr;
		break;
	}
}

/* Walks the entries; a zero, overrunning or too-short length ends the walk
 * (what was parsed before it is kept). */
static void madt_parse(const uint8_t *t, uint32_t len, struct acpi_info *ai)
{
	uint32_t off = MADT_ENTRIES;

	if (len < MADT_ENTRIES)
		return;
	ai->lapic_addr = rd32(t + MADT_LAPIC_ADDR);
	ai->has_8259 = rd32(t + MADT_FLAGS) & MADT_PCAT_COMPAT;
	while (len - off >= 2) {
		uint8_t elen = t[off + 1];

		if (elen < madt_min_len(t[off]) || elen > len - off)
			break;
		madt_entry(t + off, ai);
		off += elen;
	}
}

/* ---- DSDT: \_S5_ ---- */

/* Decodes a PkgLength at *p; on success *p points past it and *pkg_end at
 * the end of the package (which must lie inside [.., end)). */
static int aml_pkg_length(const uint8_t **p, const uint8_t *end,
			  const uint8_t **pkg_end)
{
	const uint8_t *s = *p;
	unsigned int extra;
	uint32_t len;

	if (s >= end)
		return -EINVAL;
	extra = s[0] >> 6;
	if ((size_t)(end - s) <= extra)
		return -EINVAL;
	len = extra ? (s[0] & 0x0fu) | rd_le(s + 1, extra) << 4 : s[0] & 0x3fu;
	if (len < extra + 1 || len > (size_t)(end - s))
		return -EINVAL;
	*p = s + extra + 1;
	*pkg_end = s + len;
	return 0;
}

/* Decodes an integer element: ZeroOp, OneOp, or Byte/Word/DWordPrefix data. */
static int aml_int(const uint8_t **p, const uint8_t *end, uint32_t *v)
{
	const uint8_t *s = *p;
	unsigned int size;

	if (s >= end)
		return -EINVAL;
	switch (s[0]) {
	case AML_ZERO:  *v = 0; size = 0; break;
	case AML_ONE:   *v = 1; size = 0; break;
	case AML_BYTE:  size = 1; break;
	case AML_WORD:  size = 2; break;
	case AML_DWORD: size = 4; break;
	default:        return -EINVAL;
	}
	if ((size_t)(end - s - 1) < size)
		return -EINVAL;
	if (size)
		*v = rd_le(s + 1, size);
	*p = s + 1 + size;
	return 0;
}

/* Decodes the package after "_S5_" PackageOp.  A one-element package holds
 * SLP_TYPa in bits 0-7 and SLP_TYPb in bits 8-15 (as ACPICA reads it). */
static int s5_decode(const uint8_t *p, const uint8_t *end, struct acpi_info *ai)
{
	const uint8_t *pkg_end;
	uint32_t a, b;
	uint8_t n;

	if (aml_pkg_length(&p, end, &pkg_end) < 0 || p >= pkg_end)
		return -EINVAL;
	n = *p++;
	if (n == 0 || aml_int(&p, pkg_end, &a) < 0)
		return -EINVAL;
	if (n == 1)
		b = a >> 8;
	else if (aml_int(&p, pkg_end, &b) < 0)
		return -EINVAL;
	ai->s5_slp_typa = (uint8_t)a;
	ai->s5_slp_typb = (uint8_t)b;
	return 0;
}

/* Is there a NameOp [RootChar] "_S5_" PackageOp at t[i - 1 or 2 ..]? */
static bool s5_name_at(const uint8_t *t, uint32_t i)
{
	if (!bytes_eq(t + i, "_S5_", 4) || t[i + 4] != AML_PACKAGE)
		return false;
	if (t[i - 1] == AML_NAME)
		return true;
	return t[i - 1] == AML_ROOT && i >= SDT_HDR_LEN + 2 && t[i - 2] == AML_NAME;
}

static void dsdt_parse(uint64_t pa, struct acpi_info *ai)
{
	uint32_t len;
	const uint8_t *t = sdt_map(pa, "DSDT", &len);

	if (!t)
		return;
	for (uint32_t i = SDT_HDR_LEN + 1; i + 5 <= len; i++) {
		if (s5_name_at(t, i) && s5_decode(t + i + 5, t + len, ai) == 0) {
			ai->s5_valid = true;
			return;
		}
	}
}

/* ---- FADT ---- */

/* An I/O port from the X_ GAS when it is system I/O and present, else from
 * the 32-bit legacy field; 0 when neither holds a port. */
static uint32_t fadt_port(const uint8_t *t, uint32_t len, uint32_t legacy,
			  uint32_t xgas)
{
	uint64_t x;
	uint32_t port;

	if (in_table(len, xgas, GAS_LEN) && t[xgas] == GAS_SPACE_IO) {
		x = rd64(t + xgas + GAS_ADDR);
		if (x != 0 && x <= IO_PORT_MAX)
			return (uint32_t)x;
	}
	if (!in_table(len, legacy, 4))
		return 0;
	port = rd32(t + legacy);
	return port <= IO_PORT_MAX ? port : 0;
}

static uint64_t fadt_dsdt(const uint8_t *t, uint32_t len)
{
	if (in_table(len, FADT_X_DSDT, 8) && rd64(t + FADT_X_DSDT) != 0)
		return rd64(t + FADT_X_DSDT);
	return in_table(len, FADT_DSDT, 4) ? rd32(t + FADT_DSDT) : 0;
}

/* Fixed-hardware fields are ignored on HW-reduced platforms (spec 4.1). */
static void fadt_parse(const uint8_t *t, uint32_t len, struct acpi_info *ai)
{
	uint32_t flags = in_table(len, FADT_FLAGS, 4) ? rd32(t + FADT_FLAGS) : 0;

	ai->hw_reduced = flags & FADT_F_HW_REDUCED;
	ai->pm_timer_32bit = flags & FADT_F_TMR_VAL_EXT;
	if (!ai->hw_reduced) {
		ai->pm_timer_port = fadt_port(t, len, FADT_PM_TMR, FADT_X_PM_TMR);
		ai->pm1a_cnt_port = fadt_port(t, len, FADT_PM1A_CNT, FADT_X_PM1A_CNT);
		ai->pm1b_cnt_port = fadt_port(t, len, FADT_PM1B_CNT, FADT_X_PM1B_CNT);
	}
	if ((flags & FADT_F_RESET_REG_SUP) && in_table(len, FADT_RESET_VALUE, 1) &&
	    gas_read(t + FADT_RESET_REG, &ai->reset_reg))
		ai->reset_value = t[FADT_RESET_VALUE];
	if (in_table(len, FADT_SLEEP_CTL, GAS_LEN))
		gas_read(t + FADT_SLEEP_CTL, &ai->sleep_control);
	dsdt_parse(fadt_dsdt(t, len), ai);
}

/* ---- HPET ---- */

static void hpet_parse(const uint8_t *t, uint32_t len, struct acpi_info *ai)
{
	struct acpi_gas g;

	if (in_table(len, HPET_BASE_GAS, GAS_LEN) &&
	    gas_read(t + HPET_BASE_GAS, &g) && g.space == GAS_SPACE_MEM)
		ai->hpet_addr = g.addr;
}

/* ---- root table ---- */

struct sdt_kind {
	const char *sig;
	void (*parse)(const uint8_t *t, uint32_t len, struct acpi_info *ai);
};

static const struct sdt_kind sdt_kinds[] = {
	{ "APIC", madt_parse },
	{ "FACP", fadt_parse },
	{ "HPET", hpet_parse },
};

/* Parses the table at pa if it is one we want and the first valid one of
 * its kind (bit k of *seen is set once kind k has been parsed). */
static void root_entry(uint64_t pa, struct acpi_info *ai, unsigned int *seen)
{
	const uint8_t *h = pa ? acpi_map(pa, SDT_HDR_LEN) : NULL;
	const uint8_t *t;
	uint32_t len;

	for (unsigned int k = 0; h && k < sizeof(sdt_kinds) / sizeof(sdt_kinds[0]); k++) {
		if (!bytes_eq(h, sdt_kinds[k].sig, 4) || (*seen & 1u << k))
			continue;
		t = sdt_map(pa, sdt_kinds[k].sig, &len);
		if (t) {
			sdt_kinds[k].parse(t, len, ai);
			*seen |= 1u << k;
		}
		return;
	}
}

/* Walks an XSDT (entry_size 8) or RSDT (4); -ENOENT if it is not valid. */
static int root_walk(uint64_t pa, const char *sig, uint32_t entry_size,
		     struct acpi_info *ai)
{
	unsigned int seen = 0;
	uint32_t len;
	const uint8_t *t = sdt_map(pa, sig, &len);

	if (!t)
		return -ENOENT;
	for (uint32_t off = SDT_HDR_LEN; len - off >= entry_size; off += entry_size)
		root_entry(entry_size == 8 ? rd64(t + off) : rd32(t + off), ai, &seen);
	return 0;
}

static void info_reset(struct acpi_info *ai)
{
	*ai = (struct acpi_info){ 0 };
	ai->sleep_control.space = GAS_ABSENT;
	ai->reset_reg.space = GAS_ABSENT;
}

int acpi_parse(uint64_t rsdp_pa, struct acpi_info *ai)
{
	const uint8_t *r;
	uint64_t xsdt;

	if (!ai)
		return -EINVAL;
	info_reset(ai);
	r = rsdp_map(rsdp_pa);
	if (!r)
		return -ENOENT;
	ai->valid = true;
	ai->revision = r[RSDP_REVISION];
	for (int i = 0; i < 6; i++)
		ai->oem_id[i] = (char)r[RSDP_OEM_ID + i];
	xsdt = ai->revision >= 2 ? rd64(r + RSDP_XSDT) : 0;
	/* A broken XSDT falls back to the RSDT, as ACPICA does. */
	if (!xsdt || root_walk(xsdt, "XSDT", 8, ai) < 0)
		root_walk(rd32(r + RSDP_RSDT), "RSDT", 4, ai);
	return 0;
}
