/* ACPI table generation (see acpi_build.h). Section and table numbers are
 * those of the ACPI 6.4 specification; the HPET table is the IA-PC HPET
 * specification 1.0a's, section 3.2.4. */
#include "vmm/load/acpi_build.h"
#include "vmm/load/errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/pci_host.h"
#include "vmm/dev/vioapic.h"
#include "vmm/dev/vlapic.h"
#include "vmm/load/bytes.h"

#define OEM_ID "PGVISR"		/* 6 bytes */
#define OEM_TABLE_ID "PGVISOR " /* 8 bytes */
#define OEM_REVISION 1
#define CREATOR_ID "PGVR"
#define CREATOR_REVISION 1

#define TABLE_ALIGN 16
#define FACS_ALIGN 64 /* section 5.2.10 */
#define TABLES_LIMIT 0x100000000ull

/* System description table header (section 5.2.6, Table 5.4). */
#define HDR_SIZE 36
#define HDR_LENGTH 4
#define HDR_REVISION 8
#define HDR_CHECKSUM 9
#define HDR_OEM_ID 10
#define HDR_OEM_TABLE_ID 16
#define HDR_OEM_REVISION 24
#define HDR_CREATOR_ID 28
#define HDR_CREATOR_REVISION 32

/* RSDP (section 5.2.5.3, Table 5.3). */
#define RSDP_CHECKSUM 8
#define RSDP_OEM_ID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_EXT_CHECKSUM 32
#define RSDP_V1_SIZE 20 /* what the first checksum covers */
#define RSDP_REV_ACPI2 2

#define XSDT_REVISION 1
#define RSDT_REVISION 1

/* FADT (section 5.2.9, Table 5.9). */
#define FADT_SIZE 276
#define FADT_REVISION 6
#define FADT_MINOR 4
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_P_LVL2_LAT 96
#define FADT_P_LVL3_LAT 98
#define FADT_CENTURY 108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK 208
/* Latencies above these mean "C2/C3 not supported". */
#define P_LVL2_LAT_NONE 101
#define P_LVL3_LAT_NONE 1001
/* Fixed feature flags (Table 5.10). PWR_BUTTON clear: the power button
 * is the fixed-feature one of PM1; SLP_BUTTON set: there is no sleep
 * button. TMR_VAL_EXT clear: a 24-bit PM timer. */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_PROC_C1 (1u << 2)
#define FADT_F_SLP_BUTTON (1u << 5)
#define FADT_F_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags (Table 5.11). */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_8042 (1u << 1)

/* Generic Address Structure (section 5.2.3.2, Table 5.2). */
#define GAS_SYSTEM_MEMORY 0
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_UNDEFINED 0 /* "legacy reasons": the block's own width */
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_QWORD 4

/* FACS (section 5.2.10, Table 5.14). */
#define FACS_SIZE 64
#define FACS_LENGTH 4
#define FACS_VERSION 32
#define FACS_VERSION_VALUE 2

/* MADT (section 5.2.12, Table 5.43) and its entries. */
#define MADT_REVISION 5
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_PCAT_COMPAT 1u
#define MADT_TYPE_LAPIC 0 /* section 5.2.12.2 */
#define MADT_LAPIC_SIZE 8
#define MADT_LAPIC_ENABLED 1u
#define MADT_TYPE_IOAPIC 1 /* section 5.2.12.3 */
#define MADT_IOAPIC_SIZE 12
#define MADT_TYPE_ISO 2 /* interrupt source override, section 5.2.12.5 */
#define MADT_ISO_SIZE 10
#define MADT_TYPE_LAPIC_NMI 4 /* section 5.2.12.7 */
#define MADT_LAPIC_NMI_SIZE 6
#define MADT_ALL_PROCESSORS 0xff
#define MADT_LINT1 1
/* MPS INTI flags (Table 5.50): polarity bits 1:0, trigger mode bits 3:2. */
#define INTI_ACTIVE_HIGH 0x1u
#define INTI_EDGE 0x4u
#define INTI_LEVEL 0xcu
#define ISA_BUS 0
#define PIT_IRQ 0
#define PIT_GSI 2
#define MADT_NISO 2

/* HPET description table (IA-PC HPET specification, Table 3). */
#define HPET_SIZE 56
#define HPET_REVISION 1
#define HPET_BLOCK_ID 36
#define HPET_BASE_ADDRESS 40
#define HPET_MIN_TICK 53
#define HPET_MIN_TICK_VALUE 128 /* as QEMU's and real chipsets' */

#define DSDT_REVISION 2 /* 64-bit AML integers */
#define DSDT_BODY_MAX 1024

/* ---- AML (chapter 20, "ACPI Machine Language Specification") ---- */

#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT_PREFIX 0x5b
#define AML_DEVICE 0x82 /* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR '\\'
/* PkgLength (section 20.2.4): one byte holds up to 63; else bits 7:6 count
 * the following bytes, bits 3:0 are the low nibble. */
#define PKGLEN_1BYTE_MAX 0x3f
#define PKGLEN_MAX_BYTES 4

struct aml {
	uint8_t *b;
	size_t len, cap;
	bool overflow;
};

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->b + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

/* The smallest integer encoding (section 20.2.3, ComputationalData). */
static void aml_integer(struct aml *a, uint32_t v)
{
	uint8_t le[4];

	put_le32(le, v);
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= UINT8_MAX) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_byte(a, (uint8_t)v);
	} else if (v <= UINT16_MAX) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_bytes(a, le, 2);
	} else {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_bytes(a, le, 4);
	}
}

/* Opens a PkgLength-prefixed construct; aml_pkg_end() inserts the length
 * once the contents are known. */
static size_t aml_pkg_begin(const struct aml *a)
{
	return a->len;
}

static void aml_pkg_end(struct aml *a, size_t start)
{
	size_t body = a->len - start, n = 1;
	uint8_t enc[PKGLEN_MAX_BYTES];

	if (a->overflow)
		return;
	/* The length counts its own bytes. */
	while (n < PKGLEN_MAX_BYTES &&
	       body + n > (n == 1 ? PKGLEN_1BYTE_MAX : (1ull << (4 + 8 * (n - 1))) - 1))
		n++;
	size_t v = body + n;
	if (n == 1) {
		enc[0] = (uint8_t)v;
	} else {
		enc[0] = (uint8_t)((n - 1) << 6 | (v & 0xf));
		for (size_t i = 1; i < n; i++)
			enc[i] = (uint8_t)(v >> (4 + 8 * (i - 1)));
	}
	if (n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memmove(a->b + start + n, a->b + start, body);
	memcpy(a->b + start, enc, n);
	a->len += n;
}

static void aml_name_seg(struct aml *a, const char seg[4])
{
	aml_bytes(a, seg, 4);
}

/* A compressed EISA ID such as "PNP0A03" (section 6.1.5, _HID): three
 * letters of 5 bits and four hex digits, stored big-endian. */
static uint32_t eisa_id(const char id[7])
{
	uint16_t vendor = (uint16_t)((id[0] - '@') << 10 | (id[1] - '@') << 5 | (id[2] - '@'));
	uint32_t product = 0;

	for (int i = 3; i < 7; i++)
		product = product << 4 | (uint32_t)(id[i] <= '9' ? id[i] - '0' : id[i] - 'A' + 10);
	return (uint32_t)(vendor >> 8) | (uint32_t)(vendor & 0xff) << 8 |
	       (product >> 8 & 0xff) << 16 | (product & 0xff) << 24;
}

/* Resource descriptors (section 6.4). */
#define RES_WORD_ADDRESS 0x88 /* large item, Word Address Space, 6.4.3.5.3 */
#define RES_WORD_ADDRESS_LEN 13
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
#define RES_MIN_FIXED 0x04	 /* general flags: _MIF */
#define RES_MAX_FIXED 0x08	 /* _MAX; bit 0 clear: producer, bit 1 clear: _DEC positive */
#define RES_IO_ENTIRE_RANGE 0x03 /* type-specific flags for I/O: _RNG */
#define RES_IO_PORT 0x47	 /* small item, I/O Port, 6.4.2.5 */
#define RES_IO_DECODE16 0x01
#define RES_END_TAG 0x79       /* small item, End Tag, 6.4.2.9; checksum 0 */
#define RES_DWORD_ADDRESS 0x87 /* large item, DWord Address Space, 6.4.3.5.2 */
#define RES_DWORD_ADDRESS_LEN 23
#define RES_TYPE_MEMORY 0
#define RES_MEM_READ_WRITE 0x01 /* type-specific flags: _RW, non-cacheable */
#define PCI_CONFIG_PORT 0xcf8
#define PCI_CONFIG_PORTS 8
#define PCI_BUS_MAX 0xff
#define IO_PORT_MAX 0xffff
#define PRT_ENTRY_ELEMENTS 4
#define PRT_DEVICE_SHIFT 16
#define PRT_ANY_FUNCTION 0xffff

static void res_word_address(struct aml *a, uint8_t type, uint8_t type_flags, uint16_t min,
			     uint16_t max)
{
	uint8_t d[3 + RES_WORD_ADDRESS_LEN] = {
		RES_WORD_ADDRESS, RES_WORD_ADDRESS_LEN, 0, type, RES_MIN_FIXED | RES_MAX_FIXED,
		type_flags
	};
	put_le16(d + 6, 0);			     /* _GRA */
	put_le16(d + 8, min);			     /* _MIN */
	put_le16(d + 10, max);			     /* _MAX */
	put_le16(d + 12, 0);			     /* _TRA */
	put_le16(d + 14, (uint16_t)(max - min + 1)); /* _LEN */
	aml_bytes(a, d, sizeof(d));
}

static void res_dword_memory(struct aml *a, uint32_t min, uint32_t max)
{
	uint8_t d[3 + RES_DWORD_ADDRESS_LEN] = {
		RES_DWORD_ADDRESS, RES_DWORD_ADDRESS_LEN,	  0,
		RES_TYPE_MEMORY,   RES_MIN_FIXED | RES_MAX_FIXED, RES_MEM_READ_WRITE
	};
	put_le32(d + 6, 0);		 /* _GRA */
	put_le32(d + 10, min);		 /* _MIN */
	put_le32(d + 14, max);		 /* _MAX */
	put_le32(d + 18, 0);		 /* _TRA */
	put_le32(d + 22, max - min + 1); /* _LEN */
	aml_bytes(a, d, sizeof(d));
}

static void res_io_port(struct aml *a, uint16_t port, uint8_t len)
{
	uint8_t d[8] = { RES_IO_PORT, RES_IO_DECODE16, 0, 0, 0, 0, 1, len };

	put_le16(d + 2, port); /* _MIN */
	put_le16(d + 4, port); /* _MAX */
	aml_bytes(a, d, sizeof(d));
}

/* The PCI root bridge's _CRS: the buses, its configuration ports, the
 * I/O space around them it forwards (as a PC host bridge does), and the
 * memory window its functions' BARs live in (vmm/dev/pci_host.h). */
static void pci0_crs(struct aml *a)
{
	uint8_t buf[128];
	struct aml r = { buf, 0, sizeof(buf), false };

	res_word_address(&r, RES_TYPE_BUS, 0, 0, PCI_BUS_MAX);
	res_io_port(&r, PCI_CONFIG_PORT, PCI_CONFIG_PORTS);
	res_word_address(&r, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0, PCI_CONFIG_PORT - 1);
	res_word_address(&r, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0xd00, IO_PORT_MAX);
	res_dword_memory(&r, PCI_MMIO_BASE, PCI_MMIO_BASE + (PCI_MMIO_SIZE - 1));
	aml_byte(&r, RES_END_TAG);
	aml_byte(&r, 0);
	if (r.overflow) {
		a->overflow = true;
		return;
	}
	aml_byte(a, AML_NAME);
	aml_name_seg(a, "_CRS");
	aml_byte(a, AML_BUFFER);
	size_t pkg = aml_pkg_begin(a);
	aml_integer(a, (uint32_t)r.len);
	aml_bytes(a, r.b, r.len);
	aml_pkg_end(a, pkg);
}

/* The root bridge's _PRT (ACPI 6.2.13): for each device 1..PCI_INTX_SLOTS
 * and pin, Package { 0xDDDDFFFF, pin, Zero, GSI }: a global system
 * interrupt with no link device, level-triggered and active low. */
static void pci0_prt(struct aml *a)
{
	aml_byte(a, AML_NAME);
	aml_name_seg(a, "_PRT");
	aml_byte(a, AML_PACKAGE);
	size_t pkg = aml_pkg_begin(a);
	aml_byte(a, PCI_INTX_SLOTS * PCI_INTX_PINS);
	for (unsigned slot = 1; slot <= PCI_INTX_SLOTS; slot++) {
		for (unsigned pin = 0; pin < PCI_INTX_PINS; pin++) {
			aml_byte(a, AML_PACKAGE);
			size_t e = aml_pkg_begin(a);
			aml_byte(a, PRT_ENTRY_ELEMENTS);
			aml_integer(a, slot << PRT_DEVICE_SHIFT | PRT_ANY_FUNCTION);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, pci_intx_gsi(slot, pin));
			aml_pkg_end(a, e);
		}
	}
	aml_pkg_end(a, pkg);
}

/* DefinitionBlock body:
 *   Name (\_S5, Package (4) { S5, S5, 0, 0 })
 *   Scope (\_SB) {
 *     Device (PCI0) {
 *       Name (_HID, EisaId ("PNP0A03"))  Name (_UID, 0)  Name (_BBN, 0)
 *       Name (_CRS, ResourceTemplate () { ... })
 *     }
 *   } */
static size_t build_dsdt_body(uint8_t *buf, size_t cap)
{
	struct aml a = { buf, 0, cap, false };
	size_t pkg, scope, dev;

	aml_byte(&a, AML_NAME);
	aml_byte(&a, AML_ROOT_CHAR);
	aml_name_seg(&a, "_S5_");
	aml_byte(&a, AML_PACKAGE);
	pkg = aml_pkg_begin(&a);
	aml_byte(&a, 4); /* NumElements: SLP_TYPa, SLP_TYPb, reserved x2 */
	aml_integer(&a, ACPI_PM_SLP_TYP_S5);
	aml_integer(&a, ACPI_PM_SLP_TYP_S5);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_pkg_end(&a, pkg);

	aml_byte(&a, AML_SCOPE);
	scope = aml_pkg_begin(&a);
	aml_byte(&a, AML_ROOT_CHAR);
	aml_name_seg(&a, "_SB_");
	aml_byte(&a, AML_EXT_PREFIX);
	aml_byte(&a, AML_DEVICE);
	dev = aml_pkg_begin(&a);
	aml_name_seg(&a, "PCI0");
	aml_byte(&a, AML_NAME);
	aml_name_seg(&a, "_HID");
	aml_byte(&a, AML_DWORD_PREFIX);
	uint8_t id[4];
	put_le32(id, eisa_id("PNP0A03"));
	aml_bytes(&a, id, 4);
	aml_byte(&a, AML_NAME);
	aml_name_seg(&a, "_UID");
	aml_integer(&a, 0);
	aml_byte(&a, AML_NAME);
	aml_name_seg(&a, "_BBN");
	aml_integer(&a, 0);
	pci0_prt(&a);
	pci0_crs(&a);
	aml_pkg_end(&a, dev);
	aml_pkg_end(&a, scope);
	return a.overflow ? 0 : a.len;
}

/* ---- tables ---- */

static size_t align_to(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)-sum;
}

static void put_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t revision)
{
	memcpy(t, sig, 4);
	put_le32(t + HDR_LENGTH, len);
	t[HDR_REVISION] = revision;
	memcpy(t + HDR_OEM_ID, OEM_ID, 6);
	memcpy(t + HDR_OEM_TABLE_ID, OEM_TABLE_ID, 8);
	put_le32(t + HDR_OEM_REVISION, OEM_REVISION);
	memcpy(t + HDR_CREATOR_ID, CREATOR_ID, 4);
	put_le32(t + HDR_CREATOR_REVISION, CREATOR_REVISION);
}

/* Fills the checksum byte last, once the table is complete. */
static void seal(uint8_t *t)
{
	uint32_t len = get_le32(t + HDR_LENGTH);

	t[HDR_CHECKSUM] = 0;
	t[HDR_CHECKSUM] = checksum(t, len);
}

static void put_gas(uint8_t *p, uint8_t space, uint8_t bits, uint8_t access, uint64_t addr)
{
	p[0] = space;
	p[1] = bits;
	p[2] = 0; /* bit offset */
	p[3] = access;
	put_le64(p + 4, addr);
}

/* Where each table goes, as offsets from gpa_base. */
struct acpi_layout {
	size_t rsdp, xsdt, rsdt, fadt, facs, dsdt, madt, hpet, end;
	size_t ntables; /* in the XSDT/RSDT */
	size_t dsdt_len, madt_len;
};

static size_t madt_size(unsigned ncpus)
{
	return MADT_ENTRIES + ncpus * MADT_LAPIC_SIZE + MADT_IOAPIC_SIZE +
	       MADT_NISO * MADT_ISO_SIZE + MADT_LAPIC_NMI_SIZE;
}

static bool config_ok(const struct acpi_config *cfg)
{
	return cfg->ncpus >= 1 && cfg->ncpus <= ACPI_MAX_CPUS &&
	       (uint32_t)cfg->pm_base + ACPI_PM_PORTS <= IO_PORT_MAX + 1 && cfg->sci_irq < 16;
}

static void plan(const struct acpi_config *cfg, size_t dsdt_len, struct acpi_layout *l)
{
	l->ntables = cfg->hpet_base ? 3 : 2;
	l->dsdt_len = HDR_SIZE + dsdt_len;
	l->madt_len = madt_size(cfg->ncpus);
	l->rsdp = 0;
	l->xsdt = align_to(l->rsdp + ACPI_RSDP_SIZE, TABLE_ALIGN);
	l->rsdt = align_to(l->xsdt + HDR_SIZE + 8 * l->ntables, TABLE_ALIGN);
	l->fadt = align_to(l->rsdt + HDR_SIZE + 4 * l->ntables, TABLE_ALIGN);
	l->facs = align_to(l->fadt + FADT_SIZE, FACS_ALIGN);
	l->dsdt = align_to(l->facs + FACS_SIZE, TABLE_ALIGN);
	l->madt = align_to(l->dsdt + l->dsdt_len, TABLE_ALIGN);
	l->hpet = align_to(l->madt + l->madt_len, TABLE_ALIGN);
	l->end = cfg->hpet_base ? l->hpet + HPET_SIZE : l->hpet;
}

size_t acpi_build_size(const struct acpi_config *cfg)
{
	uint8_t body[DSDT_BODY_MAX];
	struct acpi_layout l;

	if (!config_ok(cfg))
		return 0;
	plan(cfg, build_dsdt_body(body, sizeof(body)), &l);
	return l.end;
}

static void write_rsdp(uint8_t *p, uint64_t rsdt, uint64_t xsdt)
{
	memset(p, 0, ACPI_RSDP_SIZE);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + RSDP_OEM_ID, OEM_ID, 6);
	p[RSDP_REVISION] = RSDP_REV_ACPI2;
	put_le32(p + RSDP_RSDT, (uint32_t)rsdt);
	put_le32(p + RSDP_LENGTH, ACPI_RSDP_SIZE);
	put_le64(p + RSDP_XSDT, xsdt);
	p[RSDP_CHECKSUM] = checksum(p, RSDP_V1_SIZE);
	p[RSDP_EXT_CHECKSUM] = checksum(p, ACPI_RSDP_SIZE);
}

static void write_fadt(uint8_t *t, const struct acpi_config *cfg, uint64_t facs, uint64_t dsdt)
{
	uint16_t pm1_evt = (uint16_t)(cfg->pm_base + ACPI_PM1_EVT_OFFSET);
	uint16_t pm1_cnt = (uint16_t)(cfg->pm_base + ACPI_PM1_CNT_OFFSET);
	uint16_t pm_tmr = (uint16_t)(cfg->pm_base + ACPI_PM_TMR_OFFSET);

	put_header(t, "FACP", FADT_SIZE, FADT_REVISION);
	put_le32(t + FADT_FIRMWARE_CTRL, (uint32_t)facs);
	put_le32(t + FADT_DSDT, (uint32_t)dsdt);
	put_le16(t + FADT_SCI_INT, cfg->sci_irq);
	put_le32(t + FADT_SMI_CMD, 0); /* no SMI: always in ACPI mode */
	put_le32(t + FADT_PM1A_EVT_BLK, pm1_evt);
	put_le32(t + FADT_PM1A_CNT_BLK, pm1_cnt);
	put_le32(t + FADT_PM_TMR_BLK, pm_tmr);
	t[FADT_PM1_EVT_LEN] = ACPI_PM1_EVT_LEN;
	t[FADT_PM1_CNT_LEN] = ACPI_PM1_CNT_LEN;
	t[FADT_PM_TMR_LEN] = ACPI_PM_TMR_LEN;
	put_le16(t + FADT_P_LVL2_LAT, P_LVL2_LAT_NONE);
	put_le16(t + FADT_P_LVL3_LAT, P_LVL3_LAT_NONE);
	t[FADT_CENTURY] = ACPI_CENTURY_CMOS_INDEX;
	put_le16(t + FADT_IAPC_BOOT_ARCH,
		 (uint16_t)(IAPC_LEGACY_DEVICES | (cfg->has_8042 ? IAPC_8042 : 0)));
	put_le32(t + FADT_FLAGS,
		 FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_RESET_REG_SUP);
	put_gas(t + FADT_RESET_REG, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, ACPI_RESET_PORT);
	t[FADT_RESET_VALUE] = ACPI_RESET_VALUE;
	t[FADT_MINOR_VERSION] = FADT_MINOR;
	put_le64(t + FADT_X_FIRMWARE_CTRL, facs);
	put_le64(t + FADT_X_DSDT, dsdt);
	put_gas(t + FADT_X_PM1A_EVT_BLK, GAS_SYSTEM_IO, 8 * ACPI_PM1_EVT_LEN, GAS_ACCESS_UNDEFINED,
		pm1_evt);
	put_gas(t + FADT_X_PM1A_CNT_BLK, GAS_SYSTEM_IO, 8 * ACPI_PM1_CNT_LEN, GAS_ACCESS_UNDEFINED,
		pm1_cnt);
	put_gas(t + FADT_X_PM_TMR_BLK, GAS_SYSTEM_IO, 8 * ACPI_PM_TMR_LEN, GAS_ACCESS_UNDEFINED,
		pm_tmr);
	seal(t);
}

static uint8_t *madt_entry(uint8_t *p, uint8_t type, uint8_t len)
{
	p[0] = type;
	p[1] = len;
	return p + 2;
}

static void write_madt(uint8_t *t, const struct acpi_config *cfg, size_t len)
{
	uint8_t *p = t + MADT_ENTRIES, *e;

	put_header(t, "APIC", (uint32_t)len, MADT_REVISION);
	put_le32(t + MADT_LAPIC_ADDR, (uint32_t)VLAPIC_MMIO_BASE);
	put_le32(t + MADT_FLAGS, MADT_PCAT_COMPAT);
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		e = madt_entry(p, MADT_TYPE_LAPIC, MADT_LAPIC_SIZE);
		e[0] = (uint8_t)i; /* ACPI processor UID */
		e[1] = (uint8_t)i; /* APIC ID */
		put_le32(e + 2, MADT_LAPIC_ENABLED);
		p += MADT_LAPIC_SIZE;
	}
	e = madt_entry(p, MADT_TYPE_IOAPIC, MADT_IOAPIC_SIZE);
	e[0] = (uint8_t)cfg->ncpus; /* I/O APIC ID */
	e[1] = 0;
	put_le32(e + 2, (uint32_t)VIOAPIC_MMIO_BASE);
	put_le32(e + 6, 0); /* GSI base */
	p += MADT_IOAPIC_SIZE;
	/* The PIT's IRQ0 is wired to pin 2, as on PC chipsets. */
	e = madt_entry(p, MADT_TYPE_ISO, MADT_ISO_SIZE);
	e[0] = ISA_BUS;
	e[1] = PIT_IRQ;
	put_le32(e + 2, PIT_GSI);
	put_le16(e + 6, INTI_EDGE | INTI_ACTIVE_HIGH);
	p += MADT_ISO_SIZE;
	/* The SCI is level-triggered, here active-high (section 5.2.12.5). */
	e = madt_entry(p, MADT_TYPE_ISO, MADT_ISO_SIZE);
	e[0] = ISA_BUS;
	e[1] = cfg->sci_irq;
	put_le32(e + 2, cfg->sci_irq);
	put_le16(e + 6, INTI_LEVEL | INTI_ACTIVE_HIGH);
	p += MADT_ISO_SIZE;
	e = madt_entry(p, MADT_TYPE_LAPIC_NMI, MADT_LAPIC_NMI_SIZE);
	e[0] = MADT_ALL_PROCESSORS;
	put_le16(e + 1, 0); /* flags: bus conformant */
	e[3] = MADT_LINT1;
	seal(t);
}

static void write_hpet(uint8_t *t, const struct acpi_config *cfg)
{
	put_header(t, "HPET", HPET_SIZE, HPET_REVISION);
	put_le32(t + HPET_BLOCK_ID, cfg->hpet_block_id);
	put_gas(t + HPET_BASE_ADDRESS, GAS_SYSTEM_MEMORY, 64, GAS_ACCESS_QWORD, cfg->hpet_base);
	put_le16(t + HPET_MIN_TICK, HPET_MIN_TICK_VALUE);
	seal(t);
}

int acpi_build(uint8_t *mem, uint64_t gpa_base, size_t space, const struct acpi_config *cfg,
	       uint64_t *rsdp_gpa, char *err, size_t errlen)
{
	uint8_t body[DSDT_BODY_MAX];
	struct acpi_layout l;
	size_t body_len;

	if (!config_ok(cfg))
		return errf(err, errlen,
			    "bad ACPI config: %u CPUs (1-%u), PM ports 0x%x, SCI IRQ %u (0-15)",
			    cfg->ncpus, ACPI_MAX_CPUS, cfg->pm_base, cfg->sci_irq);
	if (gpa_base % TABLE_ALIGN)
		return errf(err, errlen, "ACPI tables at 0x%llx: not 16-byte aligned",
			    (unsigned long long)gpa_base);
	if (cfg->bios_rsdp &&
	    (cfg->bios_rsdp_gpa % TABLE_ALIGN || cfg->bios_rsdp_gpa < ACPI_BIOS_RSDP_START ||
	     !range_within(cfg->bios_rsdp_gpa, ACPI_RSDP_SIZE, ACPI_BIOS_RSDP_END)))
		return errf(err, errlen,
			    "RSDP copy at 0x%llx: not 16-byte aligned in [0x%llx, 0x%llx)",
			    (unsigned long long)cfg->bios_rsdp_gpa, ACPI_BIOS_RSDP_START,
			    ACPI_BIOS_RSDP_END);
	body_len = build_dsdt_body(body, sizeof(body));
	if (body_len == 0)
		return errf(err, errlen, "internal error: the DSDT is over %u bytes",
			    DSDT_BODY_MAX);
	plan(cfg, body_len, &l);
	if (l.end > space)
		return errf(err, errlen, "ACPI tables need 0x%zx bytes, the area has 0x%zx", l.end,
			    space);
	if (!range_within(gpa_base, l.end, TABLES_LIMIT))
		return errf(err, errlen, "ACPI tables at 0x%llx size 0x%zx: not below 4 GiB",
			    (unsigned long long)gpa_base, l.end);

	memset(mem, 0, l.end);
	uint8_t *xsdt = mem + l.xsdt, *rsdt = mem + l.rsdt;
	uint64_t tables[3] = { gpa_base + l.fadt, gpa_base + l.madt, gpa_base + l.hpet };
	put_header(xsdt, "XSDT", (uint32_t)(HDR_SIZE + 8 * l.ntables), XSDT_REVISION);
	put_header(rsdt, "RSDT", (uint32_t)(HDR_SIZE + 4 * l.ntables), RSDT_REVISION);
	for (size_t i = 0; i < l.ntables; i++) {
		put_le64(xsdt + HDR_SIZE + 8 * i, tables[i]);
		put_le32(rsdt + HDR_SIZE + 4 * i, (uint32_t)tables[i]);
	}
	seal(xsdt);
	seal(rsdt);
	write_fadt(mem + l.fadt, cfg, gpa_base + l.facs, gpa_base + l.dsdt);
	memcpy(mem + l.facs, "FACS", 4);
	put_le32(mem + l.facs + FACS_LENGTH, FACS_SIZE);
	mem[l.facs + FACS_VERSION] = FACS_VERSION_VALUE;
	put_header(mem + l.dsdt, "DSDT", (uint32_t)l.dsdt_len, DSDT_REVISION);
	memcpy(mem + l.dsdt + HDR_SIZE, body, body_len);
	seal(mem + l.dsdt);
	write_madt(mem + l.madt, cfg, l.madt_len);
	if (cfg->hpet_base)
		write_hpet(mem + l.hpet, cfg);
	write_rsdp(mem + l.rsdp, gpa_base + l.rsdt, gpa_base + l.xsdt);
	if (cfg->bios_rsdp)
		memcpy(cfg->bios_rsdp, mem + l.rsdp, ACPI_RSDP_SIZE);
	*rsdp_gpa = gpa_base + l.rsdp;
	return 0;
}
