/* ACPI table discovery (ACPI 6.4 chapter 5): RSDP -> XSDT or RSDT -> FADT
 * -> DSDT. The hypervisor only reads these tables; it never runs AML. The
 * \_S5 sleep type is found by a byte search of the DSDT for the "_S5_"
 * name followed by a package, as every small kernel does. */
#include "arch/x86/acpi.h"

#include <stddef.h>
#include <string.h>

#include "drivers/console.h"

#define RSDP_SIGNATURE "RSD PTR "
#define EBDA_SEGMENT_PTR 0x40e
#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_END 0x100000
#define ACPI_MAX_TABLES 64
#define AML_PACKAGE_OP 0x12
#define AML_BYTE_PREFIX 0x0a
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01

struct rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length; /* revision >= 2 from here on */
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __attribute__((packed));

/* Offsets into the FADT (ACPI 6.4 table 5.9). */
#define FADT_DSDT 40
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_X_DSDT 140

static struct acpi_info info;
static const struct acpi_sdt_header *tables[ACPI_MAX_TABLES];

static bool checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

static const struct rsdp *rsdp_scan(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + sizeof(struct rsdp) <= end; a += 16) {
		const struct rsdp *r = (const struct rsdp *)a;
		if (!memcmp(r->signature, RSDP_SIGNATURE, 8) && checksum_ok(r, 20))
			return r;
	}
	return NULL;
}

static const struct rsdp *rsdp_find(uint64_t hint)
{
	if (hint) {
		const struct rsdp *r = (const struct rsdp *)hint;
		if (!memcmp(r->signature, RSDP_SIGNATURE, 8) && checksum_ok(r, 20))
			return r;
	}
	uint64_t ebda = (uint64_t) * (const volatile uint16_t *)EBDA_SEGMENT_PTR << 4;
	const struct rsdp *r = NULL;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		r = rsdp_scan(ebda, ebda + 1024);
	return r ? r : rsdp_scan(BIOS_AREA_START, BIOS_AREA_END);
}

static const struct acpi_sdt_header *table_at(uint64_t addr)
{
	const struct acpi_sdt_header *h = (const struct acpi_sdt_header *)addr;

	if (!addr || h->length < sizeof(*h) || !checksum_ok(h, h->length))
		return NULL;
	return h;
}

static uint8_t aml_small_int(const uint8_t **p, const uint8_t *end)
{
	if (*p >= end)
		return 0;
	uint8_t op = *(*p)++;
	if (op == AML_BYTE_PREFIX && *p < end)
		return *(*p)++;
	return op == AML_ONE_OP ? 1 : 0; /* ZeroOp, or a bare byte */
}

static void find_s5(const struct acpi_sdt_header *dsdt)
{
	const uint8_t *aml = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;

	for (const uint8_t *p = aml; p + 8 < end; p++) {
		if (memcmp(p, "_S5_", 4) || p[4] != AML_PACKAGE_OP)
			continue;
		p += 5;
		p += (*p >> 6) + 1; /* PkgLength: lead byte bits 7:6 = extra bytes */
		p++;		    /* NumElements */
		info.slp_typa = aml_small_int(&p, end);
		info.slp_typb = aml_small_int(&p, end);
		info.s5_valid = true;
		return;
	}
}

static void read_fadt(const struct acpi_sdt_header *fadt)
{
	const uint8_t *f = (const uint8_t *)fadt;
	uint64_t dsdt = 0;

	if (fadt->length >= FADT_PM1B_CNT_BLK + 4) {
		info.pm1a_cnt = (uint16_t) * (const uint32_t *)(f + FADT_PM1A_CNT_BLK);
		info.pm1b_cnt = (uint16_t) * (const uint32_t *)(f + FADT_PM1B_CNT_BLK);
		dsdt = *(const uint32_t *)(f + FADT_DSDT);
	}
	if (fadt->length >= FADT_X_DSDT + 8 && *(const uint64_t *)(f + FADT_X_DSDT))
		dsdt = *(const uint64_t *)(f + FADT_X_DSDT);
	const struct acpi_sdt_header *d = table_at(dsdt);
	if (d && !memcmp(d->signature, "DSDT", 4))
		find_s5(d);
}

void acpi_init(uint64_t hint)
{
	const struct rsdp *r = rsdp_find(hint);

	if (!r)
		return;
	info.found = true;
	info.revision = r->revision;
	memcpy(info.oem_id, r->oem_id, 6);

	bool use_xsdt = r->revision >= 2 && r->xsdt_address && checksum_ok(r, r->length);
	const struct acpi_sdt_header *root = table_at(use_xsdt ? r->xsdt_address : r->rsdt_address);
	if (!root)
		return;
	size_t entry = use_xsdt ? 8 : 4;
	size_t n = (root->length - sizeof(*root)) / entry;
	const uint8_t *e = (const uint8_t *)root + sizeof(*root);
	for (size_t i = 0; i < n && info.ntables < ACPI_MAX_TABLES; i++) {
		uint64_t a =
			use_xsdt ? *(const uint64_t *)(e + i * 8) : *(const uint32_t *)(e + i * 4);
		const struct acpi_sdt_header *t = table_at(a);
		if (t)
			tables[info.ntables++] = t;
	}
	const struct acpi_sdt_header *fadt = acpi_find_table("FACP");
	if (fadt)
		read_fadt(fadt);
}

const struct acpi_info *acpi_get(void)
{
	return &info;
}

const struct acpi_sdt_header *acpi_find_table(const char sig[4])
{
	for (unsigned i = 0; i < info.ntables; i++)
		if (!memcmp(tables[i]->signature, sig, 4))
			return tables[i];
	return NULL;
}
