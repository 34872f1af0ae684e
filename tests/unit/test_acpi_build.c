/* Unit tests for the ACPI table generator (vmm/load/acpi_build.c): the tables
 * are parsed back the way an OS finds them, RSDP -> XSDT (and RSDT) -> each
 * table, checking checksums, alignment and every field; the DSDT's AML is
 * decoded far enough to find \_S5 and the PCI root bridge's resources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/hpet.h"
#include "vmm/load/acpi_build.h"
#include "vmm/load/bytes.h"

#define AREA_SIZE 0x2000
#define BASE 0x7ff0000ull /* the area's guest-physical address */
#define FILL 0xee
#define BIOS_RSDP 0xe0000ull

static uint8_t area[AREA_SIZE];
static uint8_t bios[ACPI_RSDP_SIZE + 16];
static struct acpi_config cfg;
static uint64_t rsdp;
static char err[200];

static int setup(void **state)
{
	(void)state;
	memset(area, FILL, sizeof(area));
	memset(bios, FILL, sizeof(bios));
	cfg = (struct acpi_config){
		.ncpus = 1,
		.pm_base = ACPI_PM_BASE_DEFAULT,
		.sci_irq = ACPI_PM_SCI_IRQ,
		.has_8042 = false,
		.hpet_base = 0,
		.hpet_block_id = 0,
		.bios_rsdp_gpa = BIOS_RSDP,
		.bios_rsdp = bios,
	};
	rsdp = 0;
	err[0] = '\0';
	return 0;
}

static void build_ok(void)
{
	int rc = acpi_build(area, BASE, sizeof(area), &cfg, &rsdp, err, sizeof(err));
	if (rc)
		fail_msg("acpi_build: %s", err);
}

/* The host address of guest-physical [gpa, gpa + len), inside the area. */
static const uint8_t *at(uint64_t gpa, size_t len)
{
	assert_true(gpa >= BASE);
	assert_true(gpa - BASE + len <= AREA_SIZE);
	return area + (gpa - BASE);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* A table by address: header sane, checksum right. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = at(gpa, 36);
	uint32_t len = get_le32(t + 4);

	if (memcmp(t, sig, 4) != 0)
		fail_msg("table at 0x%llx is %.4s, not %s", (unsigned long long)gpa, t, sig);
	assert_true(len >= 36);
	t = at(gpa, len);
	assert_int_equal(sum(t, len), 0);
	assert_int_equal(gpa % 16, 0);
	assert_memory_equal(t + 10, "PGVISR", 6);
	assert_memory_equal(t + 16, "PGVISOR ", 8);
	return t;
}

/* Finds sig through the XSDT, checking the RSDT lists the same tables. */
static const uint8_t *find(const char *sig, uint64_t *gpa_out)
{
	const uint8_t *r = at(rsdp, ACPI_RSDP_SIZE);
	const uint8_t *xsdt = table(get_le64(r + 24), "XSDT");
	const uint8_t *rsdt = table(get_le32(r + 16), "RSDT");
	unsigned n = (get_le32(xsdt + 4) - 36) / 8;

	assert_int_equal((get_le32(rsdt + 4) - 36) / 4, n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = get_le64(xsdt + 36 + 8 * i);
		assert_int_equal(get_le32(rsdt + 36 + 4 * i), gpa);
		if (memcmp(at(gpa, 4), sig, 4) == 0) {
			if (gpa_out)
				*gpa_out = gpa;
			return table(gpa, sig);
		}
	}
	return NULL;
}

static void test_rsdp(void **state)
{
	(void)state;
	build_ok();
	assert_int_equal(rsdp, BASE);
	const uint8_t *r = at(rsdp, ACPI_RSDP_SIZE);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	assert_memory_equal(r + 9, "PGVISR", 6);
	assert_int_equal(r[15], 2);
	assert_int_equal(get_le32(r + 20), 36);
	assert_int_equal(get_le64(r + 24) % 16, 0);
	assert_int_equal(get_le32(r + 16) % 16, 0);
	assert_int_equal(r[33] | r[34] | r[35], 0);
	/* The BIOS-area copy, and nothing past it. */
	assert_memory_equal(bios, r, ACPI_RSDP_SIZE);
	assert_int_equal(bios[ACPI_RSDP_SIZE], FILL);
}

static void test_xsdt_and_rsdt(void **state)
{
	(void)state;
	build_ok();
	const uint8_t *r = at(rsdp, ACPI_RSDP_SIZE);
	const uint8_t *xsdt = table(get_le64(r + 24), "XSDT");
	const uint8_t *rsdt = table(get_le32(r + 16), "RSDT");
	assert_int_equal(get_le32(xsdt + 4), 36 + 2 * 8);
	assert_int_equal(get_le32(rsdt + 4), 36 + 2 * 4);
	assert_int_equal(xsdt[8], 1);
	assert_int_equal(rsdt[8], 1);
	assert_non_null(find("FACP", NULL));
	assert_non_null(find("APIC", NULL));
	assert_null(find("HPET", NULL));
}

static void test_fadt(void **state)
{
	(void)state;
	build_ok();
	const uint8_t *f = find("FACP", NULL);
	assert_non_null(f);
	assert_int_equal(get_le32(f + 4), 276);
	assert_int_equal(f[8], 6);		   /* major */
	assert_int_equal(f[131], 4);		   /* minor: FADT 6.4 */
	assert_int_equal(get_le16(f + 46), 9);	   /* SCI_INT */
	assert_int_equal(get_le32(f + 48), 0);	   /* SMI_CMD: no handshake */
	assert_int_equal(f[52] | f[53], 0);	   /* ACPI_ENABLE/DISABLE */
	assert_int_equal(get_le32(f + 56), 0x600); /* PM1a_EVT_BLK */
	assert_int_equal(get_le32(f + 60), 0);	   /* PM1b_EVT_BLK */
	assert_int_equal(get_le32(f + 64), 0x604); /* PM1a_CNT_BLK */
	assert_int_equal(get_le32(f + 68), 0);	   /* PM1b_CNT_BLK */
	assert_int_equal(get_le32(f + 72), 0);	   /* PM2_CNT_BLK */
	assert_int_equal(get_le32(f + 76), 0x608); /* PM_TMR_BLK */
	assert_int_equal(get_le32(f + 80), 0);	   /* GPE0_BLK */
	assert_int_equal(f[88], 4);		   /* PM1_EVT_LEN */
	assert_int_equal(f[89], 2);		   /* PM1_CNT_LEN */
	assert_int_equal(f[91], 4);		   /* PM_TMR_LEN */
	assert_int_equal(f[92], 0);		   /* GPE0_BLK_LEN */
	assert_true(get_le16(f + 96) > 100);	   /* no C2 */
	assert_true(get_le16(f + 98) > 1000);	   /* no C3 */
	assert_int_equal(f[108], 0x32);		   /* CENTURY */
	assert_int_equal(get_le16(f + 109), 1);	   /* LEGACY_DEVICES, no 8042 */
	uint32_t flags = get_le32(f + 112);
	assert_int_equal(flags, 1u << 0 | 1u << 2 | 1u << 5 | 1u << 10);
	assert_int_equal(flags & (1u << 20), 0); /* not HW_REDUCED_ACPI */
	assert_int_equal(flags & (1u << 8), 0);	 /* 24-bit timer */
	assert_int_equal(flags & (1u << 4), 0);	 /* fixed power button */
	/* RESET_REG: system I/O, 8 bits at 0xCF9, byte access; value 6. */
	static const uint8_t reset_gas[12] = { 1, 8, 0, 1, 0xf9, 0x0c, 0, 0, 0, 0, 0, 0 };
	assert_memory_equal(f + 116, reset_gas, 12);
	assert_int_equal(f[128], 6);
	/* X_ blocks: system I/O, the blocks' widths. */
	static const uint8_t x_evt[12] = { 1, 32, 0, 0, 0x00, 0x06, 0, 0, 0, 0, 0, 0 };
	static const uint8_t x_cnt[12] = { 1, 16, 0, 0, 0x04, 0x06, 0, 0, 0, 0, 0, 0 };
	static const uint8_t x_tmr[12] = { 1, 32, 0, 0, 0x08, 0x06, 0, 0, 0, 0, 0, 0 };
	static const uint8_t none[12] = { 0 };
	assert_memory_equal(f + 148, x_evt, 12);
	assert_memory_equal(f + 160, none, 12); /* X_PM1b_EVT_BLK */
	assert_memory_equal(f + 172, x_cnt, 12);
	assert_memory_equal(f + 184, none, 12); /* X_PM1b_CNT_BLK */
	assert_memory_equal(f + 208, x_tmr, 12);
	assert_memory_equal(f + 220, none, 12); /* X_GPE0_BLK */
	/* FACS and DSDT, both pointer forms agreeing. */
	uint64_t facs = get_le64(f + 132), dsdt = get_le64(f + 140);
	assert_int_equal(get_le32(f + 36), facs);
	assert_int_equal(get_le32(f + 40), dsdt);
	assert_int_equal(facs % 64, 0);
	const uint8_t *fc = at(facs, 64);
	assert_memory_equal(fc, "FACS", 4);
	assert_int_equal(get_le32(fc + 4), 64);
	assert_int_equal(fc[32], 2);
	assert_int_equal(get_le32(fc + 16), 0); /* global lock free */
	table(dsdt, "DSDT");
}

static void test_fadt_8042_flag(void **state)
{
	(void)state;
	cfg.has_8042 = true;
	build_ok();
	assert_int_equal(get_le16(find("FACP", NULL) + 109), 3);
}

static void test_fadt_pm_base(void **state)
{
	(void)state;
	cfg.pm_base = 0xb000;
	cfg.sci_irq = 10;
	build_ok();
	const uint8_t *f = find("FACP", NULL);
	assert_int_equal(get_le32(f + 56), 0xb000);
	assert_int_equal(get_le32(f + 64), 0xb004);
	assert_int_equal(get_le32(f + 76), 0xb008);
	assert_int_equal(get_le64(f + 148 + 4), 0xb000);
	assert_int_equal(get_le64(f + 172 + 4), 0xb004);
	assert_int_equal(get_le64(f + 208 + 4), 0xb008);
	assert_int_equal(get_le16(f + 46), 10);
}

/* Decodes a PkgLength at p (section 20.2.4): the value, and its size. */
static size_t pkg_length(const uint8_t *p, size_t *nbytes)
{
	unsigned follow = p[0] >> 6;
	size_t v;

	if (follow == 0) {
		*nbytes = 1;
		return p[0] & 0x3f;
	}
	v = p[0] & 0xf;
	for (unsigned i = 0; i < follow; i++)
		v |= (size_t)p[1 + i] << (4 + 8 * i);
	*nbytes = 1 + follow;
	return v;
}

static const uint8_t *dsdt(size_t *len)
{
	const uint8_t *f = find("FACP", NULL);
	const uint8_t *d = table(get_le64(f + 140), "DSDT");
	assert_int_equal(d[8], 2); /* 64-bit integers */
	*len = get_le32(d + 4);
	return d;
}

static const uint8_t *memfind(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return hay + i;
	return NULL;
}

static void test_dsdt_s5(void **state)
{
	(void)state;
	build_ok();
	size_t len, nb;
	const uint8_t *d = dsdt(&len);
	const uint8_t *s5 = memfind(d + 36, len - 36, "_S5_");
	assert_non_null(s5);
	assert_int_equal(s5[-2], 0x08); /* NameOp */
	assert_int_equal(s5[-1], '\\'); /* in the root */
	assert_int_equal(s5[4], 0x12);	/* PackageOp */
	size_t plen = pkg_length(s5 + 5, &nb);
	const uint8_t *p = s5 + 5 + nb;
	assert_int_equal(p[0], 4); /* NumElements */
	/* The first element, SLP_TYPa: a byte constant of the S5 value. */
	assert_int_equal(p[1], 0x0a);
	assert_int_equal(p[2], ACPI_PM_SLP_TYP_S5);
	assert_int_equal(p[3], 0x0a);
	assert_int_equal(p[4], ACPI_PM_SLP_TYP_S5);
	assert_int_equal(p[5], 0x00);
	assert_int_equal(p[6], 0x00);
	assert_int_equal(plen, nb + 7);
}

static void test_dsdt_pci_root_bridge(void **state)
{
	(void)state;
	build_ok();
	size_t len, nb;
	const uint8_t *d = dsdt(&len);
	const uint8_t *end = d + len;
	/* Scope (\_SB) follows the 15 bytes of Name (\_S5, ...) and runs to
	 * the end of the table. */
	const uint8_t *scope = d + 36 + 15;
	assert_int_equal(scope[0], 0x10); /* ScopeOp */
	size_t slen = pkg_length(scope + 1, &nb);
	assert_true(slen > 63); /* a 2-byte PkgLength */
	assert_int_equal(nb, 2);
	assert_memory_equal(scope + 1 + nb, "\\_SB_", 5);
	assert_ptr_equal(scope + 1 + slen, end);
	/* Device (PCI0) right inside, also to the end. */
	const uint8_t *dev = scope + 1 + nb + 5;
	assert_int_equal(dev[0], 0x5b);
	assert_int_equal(dev[1], 0x82);
	size_t dlen = pkg_length(dev + 2, &nb);
	assert_memory_equal(dev + 2 + nb, "PCI0", 4);
	assert_ptr_equal(dev + 2 + dlen, end);
	/* _HID EisaId ("PNP0A03") = 0x030AD041, _UID 0, _BBN 0. */
	static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	assert_non_null(memfind(dev, (size_t)(end - dev), "_HID"));
	assert_memory_equal(memfind(dev, (size_t)(end - dev), "_HID") - 1, hid, sizeof(hid));
	const uint8_t *uid = memfind(dev, (size_t)(end - dev), "_UID");
	assert_int_equal(uid[4], 0x00);
	const uint8_t *bbn = memfind(dev, (size_t)(end - dev), "_BBN");
	assert_int_equal(bbn[-1], 0x08);
	assert_int_equal(bbn[4], 0x00);
	/* _CRS: Buffer (n) { descriptors, end tag }. */
	const uint8_t *crs = memfind(dev, (size_t)(end - dev), "_CRS");
	assert_int_equal(crs[4], 0x11); /* BufferOp */
	size_t blen = pkg_length(crs + 5, &nb);
	const uint8_t *b = crs + 5 + nb;
	assert_int_equal(b[0], 0x0a); /* BufferSize as a byte constant */
	size_t n = b[1];
	assert_int_equal(blen, nb + 2 + n);
	assert_ptr_equal(crs + 5 + blen, end);
	const uint8_t *r = b + 2;
	static const uint8_t want[] = {
		/* WordBusNumber: producer, fixed, buses 0-255 */
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0x00, 0x00, 0xff, 0x00, 0, 0, 0x00, 0x01,
		/* IO (Decode16, 0xCF8, 0xCF8, 1, 8) */
		0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
		/* WordIO 0x0000-0x0CF7, EntireRange */
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x00, 0xf7, 0x0c, 0, 0, 0xf8, 0x0c,
		/* WordIO 0x0D00-0xFFFF, EntireRange */
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x0d, 0xff, 0xff, 0, 0, 0x00, 0xf3,
		/* DWordMemory 0xE0000000-0xEFFFFFFF, read-write, non-cacheable */
		0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xe0, 0xff, 0xff,
		0xff, 0xef, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x10,
		/* End tag */
		0x79, 0x00
	};
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(r, want, sizeof(want));
}

/* _PRT: Package (32) { Package (4) { 0xDDDDFFFF, pin, Zero, GSI }, ... }
 * with GSI = 16 + (device - 1 + pin) % 8, the routing pci_device.h
 * promises. */
static void test_dsdt_pci_interrupt_routing(void **state)
{
	(void)state;
	build_ok();
	size_t len, nb;
	const uint8_t *d = dsdt(&len);
	const uint8_t *prt = memfind(d, len, "_PRT");
	assert_non_null(prt);
	assert_int_equal(prt[-1], 0x08); /* NameOp */
	assert_int_equal(prt[4], 0x12);	 /* PackageOp */
	size_t plen = pkg_length(prt + 5, &nb);
	const uint8_t *p = prt + 5 + nb, *end = prt + 5 + plen;
	assert_int_equal(*p++, 32);
	for (unsigned slot = 1; slot <= 8; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			assert_int_equal(p[0], 0x12);
			size_t elen = pkg_length(p + 1, &nb);
			const uint8_t *e = p + 1 + nb;
			assert_int_equal(e[0], 4);
			/* 0xDDDDFFFF as a DWord constant */
			assert_int_equal(e[1], 0x0c);
			assert_int_equal(e[2] | e[3] << 8 | e[4] << 16 | (uint32_t)e[5] << 24,
					 slot << 16 | 0xffff);
			const uint8_t *x = e + 6;
			/* the pin: Zero, One or a byte constant */
			unsigned got_pin = x[0] == 0x0a ? x[1] : x[0];
			x += x[0] == 0x0a ? 2 : 1;
			assert_int_equal(got_pin, pin);
			assert_int_equal(*x++, 0x00); /* Source: Zero (a GSI) */
			assert_int_equal(x[0], 0x0a);
			assert_int_equal(x[1], 16 + (slot - 1 + pin) % 8);
			p += 1 + elen;
		}
	}
	assert_ptr_equal(p, end);
}

struct madt_count {
	unsigned lapic, ioapic, iso, nmi, other;
};

static struct madt_count check_madt(unsigned ncpus)
{
	struct madt_count c = { 0 };
	unsigned isos_seen = 0;

	cfg.ncpus = ncpus;
	build_ok();
	const uint8_t *m = find("APIC", NULL);
	assert_non_null(m);
	uint32_t len = get_le32(m + 4);
	assert_int_equal(m[8], 5);
	assert_int_equal(get_le32(m + 36), 0xfee00000);
	assert_int_equal(get_le32(m + 40), 1); /* PCAT_COMPAT */
	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = m + off;
		assert_true(e[1] >= 2 && off + e[1] <= len);
		switch (e[0]) {
		case 0:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], c.lapic); /* UID */
			assert_int_equal(e[3], c.lapic); /* APIC ID */
			assert_int_equal(get_le32(e + 4), 1);
			c.lapic++;
			break;
		case 1:
			assert_int_equal(e[1], 12);
			assert_int_equal(e[2], ncpus);
			assert_int_equal(get_le32(e + 4), 0xfec00000);
			assert_int_equal(get_le32(e + 8), 0);
			c.ioapic++;
			break;
		case 2:
			assert_int_equal(e[1], 10);
			assert_int_equal(e[2], 0); /* ISA */
			if (e[3] == 0) {
				assert_int_equal(get_le32(e + 4), 2);
				assert_int_equal(get_le16(e + 8), 0x5); /* edge, high */
				isos_seen |= 1;
			} else {
				assert_int_equal(e[3], cfg.sci_irq);
				assert_int_equal(get_le32(e + 4), cfg.sci_irq);
				assert_int_equal(get_le16(e + 8), 0xd); /* level, high */
				isos_seen |= 2;
			}
			c.iso++;
			break;
		case 4:
			assert_int_equal(e[1], 6);
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1); /* LINT1 */
			c.nmi++;
			break;
		default:
			c.other++;
		}
		off += e[1];
	}
	assert_int_equal(isos_seen, 3);
	return c;
}

static void test_madt_1_2_8_15_cpus(void **state)
{
	(void)state;
	const unsigned counts[] = { 1, 2, 8, ACPI_MAX_CPUS };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		memset(area, FILL, sizeof(area));
		struct madt_count c = check_madt(counts[i]);
		assert_int_equal(c.lapic, counts[i]);
		assert_int_equal(c.ioapic, 1);
		assert_int_equal(c.iso, 2);
		assert_int_equal(c.nmi, 1);
		assert_int_equal(c.other, 0);
	}
}

/* The HPET every VM has (vmm/dev/hpet.h), as Linux reads the table. */
static void test_hpet_when_configured(void **state)
{
	(void)state;
	cfg.hpet_base = HPET_MMIO_BASE;
	cfg.hpet_block_id = HPET_BLOCK_ID;
	build_ok();
	const uint8_t *h = find("HPET", NULL); /* checksummed */
	assert_non_null(h);
	assert_int_equal(get_le32(h + 4), 56);
	assert_int_equal(sum(h, 56), 0);
	assert_int_equal(get_le32(h + 36), 0x8086a201);
	/* Event Timer Block ID: vendor, legacy-capable, 3 comparators. */
	assert_int_equal(get_le16(h + 38), HPET_VENDOR_ID);
	assert_true(h[37] & 0x80);
	assert_int_equal((h[37] & 0x1f) + 1, 3);
	assert_int_equal(h[40], 0); /* system memory */
	assert_int_equal(get_le64(h + 44), 0xfed00000);
	assert_int_equal(h[52], 0); /* HPET number */
	assert_int_equal(get_le16(h + 53), 128);
	const uint8_t *r = at(rsdp, ACPI_RSDP_SIZE);
	assert_int_equal(get_le32(table(get_le64(r + 24), "XSDT") + 4), 36 + 3 * 8);
}

static void test_size_and_alignment(void **state)
{
	(void)state;
	size_t need = acpi_build_size(&cfg);
	assert_true(need > 0 && need <= AREA_SIZE);
	build_ok();
	/* Everything past the tables is untouched. */
	for (size_t i = need; i < AREA_SIZE; i++)
		assert_int_equal(area[i], FILL);
	/* All tables are inside [BASE, BASE + need). */
	uint64_t gpa;
	assert_non_null(find("APIC", &gpa));
	assert_true(gpa + get_le32(at(gpa, 8) + 4) <= BASE + need);
	cfg.hpet_base = 0xfed00000;
	assert_int_equal(acpi_build_size(&cfg), need + 56);
	cfg.hpet_base = 0;
	cfg.ncpus = 8;
	assert_true(acpi_build_size(&cfg) >= need + 7 * 8);
	cfg.ncpus = 0;
	assert_int_equal(acpi_build_size(&cfg), 0);
}

static void test_space_too_small(void **state)
{
	(void)state;
	size_t need = acpi_build_size(&cfg);
	for (size_t space = 0; space < need; space++) {
		err[0] = '\0';
		assert_int_equal(acpi_build(area, BASE, space, &cfg, &rsdp, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "ACPI tables need"));
	}
	char want[100];
	snprintf(want, sizeof(want), "ACPI tables need 0x%zx bytes, the area has 0x10", need);
	assert_int_equal(acpi_build(area, BASE, 16, &cfg, &rsdp, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	/* Nothing written. */
	for (size_t i = 0; i < AREA_SIZE; i++)
		assert_int_equal(area[i], FILL);
	assert_int_equal(bios[0], FILL);
	assert_int_equal(rsdp, 0);
	assert_int_equal(acpi_build(area, BASE, need, &cfg, &rsdp, err, sizeof(err)), 0);
}

static void test_bad_configs(void **state)
{
	(void)state;
	cfg.ncpus = 0;
	assert_int_equal(acpi_build(area, BASE, AREA_SIZE, &cfg, &rsdp, err, sizeof(err)), -1);
	assert_string_equal(err,
			    "bad ACPI config: 0 CPUs (1-15), PM ports 0x600, SCI IRQ 9 (0-15)");
	cfg.ncpus = ACPI_MAX_CPUS + 1;
	assert_int_equal(acpi_build(area, BASE, AREA_SIZE, &cfg, &rsdp, err, sizeof(err)), -1);
	cfg.ncpus = 1;
	cfg.pm_base = 0xfff8;
	assert_int_equal(acpi_build(area, BASE, AREA_SIZE, &cfg, &rsdp, err, sizeof(err)), -1);
	cfg.pm_base = ACPI_PM_BASE_DEFAULT;
	cfg.sci_irq = 16;
	assert_int_equal(acpi_build(area, BASE, AREA_SIZE, &cfg, &rsdp, err, sizeof(err)), -1);
	cfg.sci_irq = ACPI_PM_SCI_IRQ;
	assert_int_equal(acpi_build(area, BASE + 8, AREA_SIZE, &cfg, &rsdp, err, sizeof(err)), -1);
	assert_string_equal(err, "ACPI tables at 0x7ff0008: not 16-byte aligned");
	assert_int_equal(acpi_build(area, 0xffffff00, AREA_SIZE, &cfg, &rsdp, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "not below 4 GiB"));
	const uint64_t bad_bios[] = { 0xe0008, 0xd0000, 0xffff0, 0x100000 };
	for (size_t i = 0; i < sizeof(bad_bios) / sizeof(bad_bios[0]); i++) {
		cfg.bios_rsdp_gpa = bad_bios[i];
		assert_int_equal(acpi_build(area, BASE, AREA_SIZE, &cfg, &rsdp, err, sizeof(err)),
				 -1);
		assert_non_null(strstr(err, "RSDP copy at"));
	}
	cfg.bios_rsdp_gpa = 0xfffd0; /* the last 16-byte slot that holds 36 bytes */
	build_ok();
	for (size_t i = 0; i < AREA_SIZE; i++)
		if (area[i] != FILL)
			return;
	fail_msg("nothing built");
}

static void test_no_bios_copy(void **state)
{
	(void)state;
	cfg.bios_rsdp = NULL;
	cfg.bios_rsdp_gpa = 0;
	build_ok();
	assert_int_equal(bios[0], FILL);
	assert_memory_equal(at(rsdp, 8), "RSD PTR ", 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup(fn, setup)
		T(test_rsdp),
		T(test_xsdt_and_rsdt),
		T(test_fadt),
		T(test_fadt_8042_flag),
		T(test_fadt_pm_base),
		T(test_dsdt_s5),
		T(test_dsdt_pci_root_bridge),
		T(test_dsdt_pci_interrupt_routing),
		T(test_madt_1_2_8_15_cpus),
		T(test_hpet_when_configured),
		T(test_size_and_alignment),
		T(test_space_too_small),
		T(test_bad_configs),
		T(test_no_bios_copy),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
