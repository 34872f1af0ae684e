/* Unit tests for the Linux bzImage loader (vmm/load/bzimage.c). A synthetic
 * bzImage is assembled here: a setup header with the fields the 64-bit boot
 * protocol reads (Documentation/arch/x86/boot.rst) and a patterned
 * protected-mode part. The zero page, E820 map, GDT, page tables and
 * placement are read back from guest RAM; every corruption of the header
 * must be refused without writing anything. The last test loads the real
 * Debian kernel that "make guest-linux" fetches, and is skipped when it is
 * absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/load/bytes.h"
#include "vmm/load/bzimage.h"
#include "vmm/load/memmap.h"

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)
#define REAL_KERNEL "build/guests/linux/vmlinuz"
#define REAL_INITRD "build/guests/linux/initrd.img"

/* Setup header offsets (boot.rst "The real-mode kernel header"). */
#define SETUP_SECTS 0x1f1
#define SYSSIZE 0x1f4
#define BOOT_FLAG 0x1fe
#define JUMP 0x200
#define HEADER 0x202
#define VERSION 0x206
#define TYPE_OF_LOADER 0x210
#define LOADFLAGS 0x211
#define RAMDISK_IMAGE 0x218
#define RAMDISK_SIZE 0x21c
#define CMD_LINE_PTR 0x228
#define INITRD_ADDR_MAX 0x22c
#define KERNEL_ALIGNMENT 0x230
#define RELOCATABLE 0x234
#define XLOADFLAGS 0x236
#define CMDLINE_SIZE 0x238
#define PREF_ADDRESS 0x258
#define INIT_SIZE 0x260
#define HDR_END 0x26c /* a 2.15 header: through kernel_info_offset */
/* Zero-page fields (zero-page.rst). */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SENTINEL 0x1ef
#define BP_E820_TABLE 0x2d0

#define SETUP_SECTS_VAL 3
#define SETUP_SIZE ((SETUP_SECTS_VAL + 1) * 512)
#define PM_SIZE 0x3000
#define IMG_SIZE (SETUP_SIZE + PM_SIZE)
#define PREF 0x1000000ull
#define INIT_SIZE_VAL 0x400000u
#define RAM_SIZE (32 * MiB)
#define ACPI_BASE (RAM_SIZE - 64 * 1024)
#define ACPI_SIZE (64 * 1024)
#define RSDP_GPA (ACPI_BASE)
#define GUARD 4096

static uint8_t img[IMG_SIZE];
static uint8_t *ram_alloc; /* RAM followed by a guard area */
static uint64_t ram_alloc_size;
static struct guest_ram ram;
static struct bzimage_layout layout;
static struct bzimage_entry entry;
static char err[256];
static uint8_t initrd_data[0x2345];

static void build_image(void)
{
	memset(img, 0, sizeof(img));
	/* Setup code and header padding are nonzero, so a copy of too much
	 * into the zero page shows. */
	for (size_t i = 0; i < SETUP_SIZE; i++)
		img[i] = 0xcc;
	img[SETUP_SECTS] = SETUP_SECTS_VAL;
	put_le16(img + 0x1f2, 1); /* root_flags */
	put_le32(img + SYSSIZE, PM_SIZE / 16);
	put_le16(img + BOOT_FLAG, 0xaa55);
	img[JUMP] = 0xeb;
	img[JUMP + 1] = HDR_END - HEADER;
	memcpy(img + HEADER, "HdrS", 4);
	put_le16(img + VERSION, 0x020f);
	put_le32(img + 0x208, 0);     /* realmode_swtch */
	put_le16(img + 0x20e, 0x123); /* kernel_version */
	img[TYPE_OF_LOADER] = 0;
	img[LOADFLAGS] = 0x01;		 /* LOADED_HIGH */
	put_le32(img + 0x214, 0x100000); /* code32_start */
	put_le32(img + RAMDISK_IMAGE, 0);
	put_le32(img + RAMDISK_SIZE, 0);
	put_le32(img + CMD_LINE_PTR, 0);
	put_le32(img + INITRD_ADDR_MAX, 0x7fffffff);
	put_le32(img + KERNEL_ALIGNMENT, 0x200000);
	img[RELOCATABLE] = 1;
	img[0x235] = 21;		    /* min_alignment */
	put_le16(img + XLOADFLAGS, 0x0003); /* KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
	put_le32(img + CMDLINE_SIZE, 0x7ff);
	put_le64(img + PREF_ADDRESS, PREF);
	put_le32(img + INIT_SIZE, INIT_SIZE_VAL);
	put_le32(img + 0x264, 0x190);  /* handover_offset */
	put_le32(img + 0x268, 0x1234); /* kernel_info_offset */
	for (size_t i = 0; i < PM_SIZE; i++)
		img[SETUP_SIZE + i] = (uint8_t)(i * 7 + 3);
}

static int setup(void **state)
{
	(void)state;
	build_image();
	ram_alloc_size = RAM_SIZE;
	ram_alloc = malloc(RAM_SIZE + GUARD);
	assert_non_null(ram_alloc);
	memset(ram_alloc, 0, RAM_SIZE);
	memset(ram_alloc + RAM_SIZE, 0xa5, GUARD);
	ram.host = ram_alloc;
	ram.size = RAM_SIZE;
	bzimage_default_layout(&layout);
	layout.acpi_base = ACPI_BASE;
	layout.acpi_size = ACPI_SIZE;
	layout.rsdp = RSDP_GPA;
	memset(&entry, 0, sizeof(entry));
	err[0] = '\0';
	for (size_t i = 0; i < sizeof(initrd_data); i++)
		initrd_data[i] = (uint8_t)(i ^ 0x5a);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < GUARD; i++)
		assert_int_equal(ram_alloc[ram_alloc_size + i], 0xa5);
	free(ram_alloc);
	return 0;
}

static const struct image_file kernel_file = { "vmlinuz", img, IMG_SIZE };
static const struct image_file initrd_file = { "initrd.img", initrd_data, sizeof(initrd_data) };

static int load(const struct image_file *k, const struct image_file *initrd, const char *cmdline)
{
	return bzimage_load(k, initrd, cmdline, &ram, &layout, &entry, err, sizeof(err));
}

static void assert_fails(const struct image_file *k, const char *msg_part)
{
	assert_int_equal(load(k, &initrd_file, "console=ttyS0"), -1);
	if (!strstr(err, msg_part))
		fail_msg("error \"%s\" lacks \"%s\"", err, msg_part);
}

static bool all_zero(uint64_t gpa, uint64_t len)
{
	for (uint64_t i = 0; i < len; i++)
		if (ram.host[gpa + i])
			return false;
	return true;
}

struct e820 {
	uint64_t addr, size;
	uint32_t type;
};

static unsigned read_e820(struct e820 *out)
{
	const uint8_t *zp = ram.host + layout.zero_page;
	unsigned n = zp[BP_E820_ENTRIES];

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = zp + BP_E820_TABLE + 20 * i;
		out[i].addr = get_le64(e);
		out[i].size = get_le64(e + 8);
		out[i].type = get_le32(e + 16);
	}
	return n;
}

static void assert_e820(unsigned i, uint64_t addr, uint64_t end, uint32_t type)
{
	struct e820 m[128];
	unsigned n = read_e820(m);

	assert_true(i < n);
	assert_int_equal(m[i].addr, addr);
	assert_int_equal(m[i].size, end - addr);
	assert_int_equal(m[i].type, type);
}

/* Walks the 4-level page tables at cr3 like the MMU (SDM Vol. 3A 4.5) and
 * returns the physical address of va, or ~0 when not mapped. */
static uint64_t walk(uint64_t cr3, uint64_t va)
{
	const uint64_t addr_mask = 0x000ffffffffff000ull;
	uint64_t table = cr3 & addr_mask;
	unsigned shifts[] = { 39, 30, 21, 12 };

	for (unsigned level = 0; level < 4; level++) {
		assert_true(table + 4096 <= ram.size);
		uint64_t e = get_le64(ram.host + table + ((va >> shifts[level]) & 511) * 8);
		if (!(e & 1))
			return ~0ull;
		assert_true(e & 2); /* writable */
		if (level >= 1 && level <= 2 && (e & 0x80)) {
			uint64_t page = 1ull << shifts[level];
			return (e & addr_mask & ~(page - 1)) | (va & (page - 1));
		}
		table = e & addr_mask;
	}
	return table | (va & 0xfff);
}

/* ---- a good image ---- */

static void test_probe(void **state)
{
	(void)state;
	assert_true(bzimage_probe(img, IMG_SIZE));
	assert_false(bzimage_probe(img, HEADER + 3));
	img[HEADER] = 'h';
	assert_false(bzimage_probe(img, IMG_SIZE));
}

static void test_default_layout(void **state)
{
	(void)state;
	struct bzimage_layout l;
	bzimage_default_layout(&l);
	assert_int_equal(l.gdt, 0x1000);
	assert_int_equal(l.zero_page, 0x7000);
	assert_int_equal(l.page_tables, 0x9000);
	assert_int_equal(l.cmdline, 0x20000);
	assert_int_equal(l.acpi_size, 0);
	assert_int_equal(l.rsdp, 0);
}

static void test_loads_kernel_at_pref_address(void **state)
{
	(void)state;
	assert_int_equal(load(&kernel_file, &initrd_file, "console=ttyS0 quiet"), 0);
	assert_int_equal(entry.kernel_addr, PREF);
	assert_int_equal(entry.kernel_size, INIT_SIZE_VAL);
	assert_memory_equal(ram.host + PREF, img + SETUP_SIZE, PM_SIZE);
	/* Nothing of the setup code is loaded below the kernel. */
	assert_true(all_zero(PREF - 0x1000, 0x1000));
}

static void test_entry_state(void **state)
{
	(void)state;
	assert_int_equal(load(&kernel_file, &initrd_file, "x"), 0);
	assert_int_equal(entry.rip, PREF + 0x200);
	assert_int_equal(entry.rsi, 0x7000);
	assert_int_equal(entry.cr0, 0x80000031);
	assert_int_equal(entry.cr4, 0x20);
	assert_int_equal(entry.efer, 0x500);
	assert_int_equal(entry.cr3, 0x9000);
	assert_int_equal(entry.gdt_base, 0x1000);
	assert_int_equal(entry.gdt_limit, 31);
	assert_int_equal(entry.cs_sel, 0x10);
	assert_int_equal(entry.ds_sel, 0x18);
}

static void test_gdt_bytes(void **state)
{
	(void)state;
	static const uint8_t want[32] = {
		0,    0,    0, 0, 0, 0,	   0,	 0,    /* null */
		0,    0,    0, 0, 0, 0,	   0,	 0,    /* null */
		0xff, 0xff, 0, 0, 0, 0x9b, 0xaf, 0x00, /* 0x10: code, L=1 */
		0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0x00, /* 0x18: data, D/B=1 */
	};
	assert_int_equal(load(&kernel_file, NULL, ""), 0);
	assert_memory_equal(ram.host + 0x1000, want, sizeof(want));
}

static void test_page_tables_identity_map_4gib(void **state)
{
	(void)state;
	assert_int_equal(load(&kernel_file, &initrd_file, "x"), 0);
	const uint64_t vas[] = { 0,
				 0x1000,
				 0x7000,
				 0x20000,
				 PREF,
				 PREF + 0x200,
				 PREF + INIT_SIZE_VAL - 1,
				 entry.initrd_addr,
				 entry.initrd_addr + entry.initrd_size - 1,
				 ACPI_BASE,
				 RAM_SIZE - 1,
				 1 * GiB + 0x123456,
				 3 * GiB + 0x200000,
				 0xfee00000,
				 4 * GiB - 1 };
	for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++)
		assert_int_equal(walk(entry.cr3, vas[i]), vas[i]);
	assert_int_equal(walk(entry.cr3, 4 * GiB), ~0ull);
	assert_int_equal(walk(entry.cr3, 512 * GiB), ~0ull);
	/* 2 MiB pages, present and writable, user bit clear. */
	uint64_t pd0 = 0x9000 + 2 * 4096;
	assert_int_equal(get_le64(ram.host + pd0 + 8), 0x200000 | 0x83);
	assert_int_equal(get_le64(ram.host + 0x9000), (0x9000 + 4096) | 3);
	assert_int_equal(get_le64(ram.host + 0x9000 + 8), 0); /* PML4[1] */
}

static void test_zero_page_fields(void **state)
{
	(void)state;
	const char *cmdline = "console=ttyS0 quiet cryptomgr.notests";
	assert_int_equal(load(&kernel_file, &initrd_file, cmdline), 0);
	const uint8_t *zp = ram.host + 0x7000;

	/* Before the header: all zero (sentinel included) but the RSDP
	 * address and the E820 entry count. */
	for (unsigned i = 0; i < SETUP_SECTS; i++)
		if ((i < BP_ACPI_RSDP || i >= BP_ACPI_RSDP + 8) && i != BP_E820_ENTRIES)
			assert_int_equal(zp[i], 0);
	assert_int_equal(zp[BP_SENTINEL], 0);
	assert_int_equal(get_le64(zp + BP_ACPI_RSDP), RSDP_GPA);

	/* The header copied as is, except what the loader fills in. */
	for (unsigned i = SETUP_SECTS; i < HDR_END; i++) {
		bool filled = i == TYPE_OF_LOADER || (i >= RAMDISK_IMAGE && i < RAMDISK_SIZE + 4) ||
			      (i >= CMD_LINE_PTR && i < CMD_LINE_PTR + 4);
		if (!filled && zp[i] != img[i])
			fail_msg("zero page byte 0x%x is 0x%x, the image's 0x%x", i, zp[i], img[i]);
	}
	/* Nothing past the header's end (0x202 + jump offset). */
	for (unsigned i = HDR_END; i < BP_E820_TABLE; i++)
		assert_int_equal(zp[i], 0);
	assert_int_equal(zp[TYPE_OF_LOADER], 0xff);
	assert_int_equal(zp[LOADFLAGS], 0x01);
	assert_int_equal(get_le32(zp + CMD_LINE_PTR), 0x20000);
	assert_int_equal(get_le32(zp + BP_EXT_CMD_LINE_PTR), 0);
	assert_string_equal((const char *)ram.host + 0x20000, cmdline);
	assert_int_equal(get_le32(zp + RAMDISK_IMAGE), entry.initrd_addr);
	assert_int_equal(get_le32(zp + BP_EXT_RAMDISK_IMAGE), 0);
	assert_int_equal(get_le32(zp + RAMDISK_SIZE), sizeof(initrd_data));
	assert_int_equal(get_le32(zp + BP_EXT_RAMDISK_SIZE), 0);
	/* Past the E820 table: zero. */
	for (unsigned i = BP_E820_TABLE + 20 * zp[BP_E820_ENTRIES]; i < 4096; i++)
		assert_int_equal(zp[i], 0);
}

static void test_e820_with_acpi_area(void **state)
{
	(void)state;
	struct e820 m[128];
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	/* The area ends RAM: no usable range after it. */
	assert_int_equal(read_e820(m), 5);
	assert_e820(0, 0, 0x9fc00, 1);
	assert_e820(1, 0x9fc00, 0xa0000, 2);
	assert_e820(2, 0xf0000, 0x100000, 2);
	assert_e820(3, 0x100000, ACPI_BASE, 1);
	assert_e820(4, ACPI_BASE, RAM_SIZE, 2);
}

static void test_e820_acpi_area_in_the_middle(void **state)
{
	(void)state;
	struct e820 m[128];
	layout.acpi_base = 8 * MiB;
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(read_e820(m), 6);
	assert_e820(3, 0x100000, 8 * MiB, 1);
	assert_e820(4, 8 * MiB, 8 * MiB + ACPI_SIZE, 2);
	assert_e820(5, 8 * MiB + ACPI_SIZE, RAM_SIZE, 1);
	/* The initrd is not held below it: it goes to the top of RAM. */
	assert_int_equal(entry.initrd_addr, (RAM_SIZE - sizeof(initrd_data)) & ~0xfffull);
}

static void test_e820_without_acpi(void **state)
{
	(void)state;
	struct e820 m[128];
	layout.acpi_base = layout.acpi_size = 0;
	layout.rsdp = 0;
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(read_e820(m), 4);
	assert_e820(3, 0x100000, RAM_SIZE, 1);
	assert_int_equal(get_le64(ram.host + 0x7000 + BP_ACPI_RSDP), 0);
	assert_int_equal(entry.initrd_addr, (RAM_SIZE - sizeof(initrd_data)) & ~0xfffull);
}

static void test_initrd_high_below_acpi(void **state)
{
	(void)state;
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(entry.initrd_addr, (ACPI_BASE - sizeof(initrd_data)) & ~0xfffull);
	assert_int_equal(entry.initrd_addr % 4096, 0);
	assert_true(entry.initrd_addr + entry.initrd_size <= ACPI_BASE);
	assert_int_equal(entry.initrd_size, sizeof(initrd_data));
	assert_memory_equal(ram.host + entry.initrd_addr, initrd_data, sizeof(initrd_data));
	assert_true(all_zero(ACPI_BASE, ACPI_SIZE));
}

static void test_initrd_below_initrd_addr_max(void **state)
{
	(void)state;
	/* Without XLF_CAN_BE_LOADED_ABOVE_4G, initrd_addr_max (the highest
	 * byte it may occupy) holds. */
	put_le16(img + XLOADFLAGS, 0x0001);
	put_le32(img + INITRD_ADDR_MAX, 24 * MiB - 1);
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(entry.initrd_addr, (24 * MiB - sizeof(initrd_data)) & ~0xfffull);
	assert_true(entry.initrd_addr + entry.initrd_size - 1 <= 24 * MiB - 1);
	/* Above 4 GiB allowed: the limit is ignored. */
	put_le16(img + XLOADFLAGS, 0x0003);
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(entry.initrd_addr, (ACPI_BASE - sizeof(initrd_data)) & ~0xfffull);
}

static void test_initrd_does_not_fit(void **state)
{
	(void)state;
	/* Between the kernel's end (16 + 4 MiB) and 24 MiB: 4 MiB. */
	static uint8_t big[4 * MiB + 1];
	struct image_file f = { "big.img", big, sizeof(big) };
	put_le16(img + XLOADFLAGS, 0x0001);
	put_le32(img + INITRD_ADDR_MAX, 24 * MiB - 1);
	assert_int_equal(load(&kernel_file, &f, ""), -1);
	assert_non_null(strstr(err, "does not fit in 32 MiB of RAM: initrd 'big.img'"));
	assert_true(all_zero(0x7000, 0x1000));
	f.size = 4 * MiB;
	assert_int_equal(load(&kernel_file, &f, ""), 0);
	assert_int_equal(entry.initrd_addr, PREF + INIT_SIZE_VAL);
	/* Larger than the limit itself. */
	put_le32(img + INITRD_ADDR_MAX, 0xfff);
	assert_int_equal(load(&kernel_file, &f, ""), -1);
	assert_non_null(strstr(err, "initrd"));
}

static void test_no_initrd_no_cmdline(void **state)
{
	(void)state;
	struct image_file empty = { "empty", initrd_data, 0 };
	assert_int_equal(load(&kernel_file, NULL, NULL), 0);
	assert_int_equal(entry.initrd_addr, 0);
	assert_int_equal(entry.initrd_size, 0);
	assert_int_equal(get_le32(ram.host + 0x7000 + RAMDISK_IMAGE), 0);
	assert_int_equal(get_le32(ram.host + 0x7000 + RAMDISK_SIZE), 0);
	assert_int_equal(ram.host[0x20000], 0);
	assert_int_equal(load(&kernel_file, &empty, ""), 0);
	assert_int_equal(entry.initrd_addr, 0);
}

static void test_cmdline_size_limit(void **state)
{
	(void)state;
	put_le32(img + CMDLINE_SIZE, 8);
	assert_int_equal(load(&kernel_file, NULL, "12345678"), 0);
	assert_int_equal(load(&kernel_file, NULL, "123456789"), -1);
	assert_string_equal(err, "the command line is 9 bytes, longer than the kernel's "
				 "cmdline_size 8");
}

static void test_relocates_when_pref_address_does_not_fit(void **state)
{
	(void)state;
	ram.size = 16 * MiB; /* pref_address 16 MiB is the end of RAM */
	layout.acpi_base = layout.acpi_size = 0;
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(entry.kernel_addr, 2 * MiB);
	assert_int_equal(entry.rip, 2 * MiB + 0x200);
	assert_memory_equal(ram.host + 2 * MiB, img + SETUP_SIZE, PM_SIZE);
	assert_int_equal(entry.initrd_addr, (16 * MiB - sizeof(initrd_data)) & ~0xfffull);
	/* Misaligned pref_address: the lowest aligned address instead. */
	ram.size = RAM_SIZE;
	put_le64(img + PREF_ADDRESS, PREF + 0x1000);
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(entry.kernel_addr, 2 * MiB);
	/* 4 MiB alignment. */
	put_le32(img + KERNEL_ALIGNMENT, 0x400000);
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(entry.kernel_addr, 4 * MiB);
	/* The ACPI area in the way of pref_address. */
	put_le64(img + PREF_ADDRESS, PREF);
	layout.acpi_base = PREF + MiB;
	layout.acpi_size = ACPI_SIZE;
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(entry.kernel_addr, 4 * MiB);
}

static void test_not_relocatable(void **state)
{
	(void)state;
	img[RELOCATABLE] = 0;
	put_le32(img + KERNEL_ALIGNMENT, 0x12345); /* ignored */
	assert_int_equal(load(&kernel_file, &initrd_file, ""), 0);
	assert_int_equal(entry.kernel_addr, PREF);
	ram.size = 18 * MiB;
	layout.acpi_base = layout.acpi_size = 0;
	assert_int_equal(load(&kernel_file, &initrd_file, ""), -1);
	assert_string_equal(err, "does not fit in 18 MiB of RAM: the kernel is not relocatable "
				 "and needs [0x1000000, 0x1400000) (pref_address + init_size)");
	/* pref_address in the legacy hole. */
	ram.size = RAM_SIZE;
	put_le64(img + PREF_ADDRESS, 0xa0000);
	assert_int_equal(load(&kernel_file, &initrd_file, ""), -1);
	assert_non_null(strstr(err, "not relocatable"));
}

static void test_kernel_does_not_fit(void **state)
{
	(void)state;
	ram.size = 4 * MiB;
	layout.acpi_base = layout.acpi_size = 0;
	assert_int_equal(load(&kernel_file, NULL, ""), -1);
	assert_string_equal(err, "does not fit in 4 MiB of RAM: the kernel needs 0x400000 bytes "
				 "(init_size) at a 0x200000-aligned address");
	/* init_size past 4 GiB - pref_address. */
	ram.size = RAM_SIZE;
	put_le32(img + INIT_SIZE, 0xffffffff);
	assert_int_equal(load(&kernel_file, NULL, ""), -1);
	assert_non_null(strstr(err, "does not fit in 32 MiB of RAM"));
}

static void test_kernel_alignment_not_power_of_two(void **state)
{
	(void)state;
	put_le32(img + KERNEL_ALIGNMENT, 0x300000);
	assert_fails(&kernel_file, "kernel_alignment 0x300000 is not a power of two");
	put_le32(img + KERNEL_ALIGNMENT, 0);
	assert_fails(&kernel_file, "kernel_alignment 0x0 is not a power of two");
}

static void test_init_size_smaller_than_file(void **state)
{
	(void)state;
	/* The loaded part counts when larger than init_size. */
	put_le32(img + INIT_SIZE, 0x100);
	assert_int_equal(load(&kernel_file, NULL, ""), 0);
	assert_int_equal(entry.kernel_size, PM_SIZE);
}

static void test_setup_sects_zero_means_four(void **state)
{
	(void)state;
	/* setup_sects 0: 5 sectors of setup, so the kernel starts at 0xa00. */
	img[SETUP_SECTS] = 0;
	put_le32(img + SYSSIZE, (IMG_SIZE - 0xa00) / 16);
	assert_int_equal(load(&kernel_file, NULL, ""), 0);
	assert_memory_equal(ram.host + PREF, img + 0xa00, IMG_SIZE - 0xa00);
	assert_int_equal(ram.host[0x7000 + SETUP_SECTS], 0);
}

static void test_long_header_copy_is_clamped(void **state)
{
	(void)state;
	/* A jump past 0x290 must not copy setup code over the zero page's
	 * edd_mbr_sig_buffer and E820 table. */
	img[JUMP + 1] = 0xff;
	assert_int_equal(load(&kernel_file, NULL, ""), 0);
	const uint8_t *zp = ram.host + 0x7000;
	assert_memory_equal(zp + HDR_END, img + HDR_END, 0x290 - HDR_END);
	for (unsigned i = 0x290; i < BP_E820_TABLE; i++)
		assert_int_equal(zp[i], 0);
}

/* ---- bad layouts ---- */

static void test_layout_errors(void **state)
{
	(void)state;
	layout.cmdline = 0x7800; /* inside the zero page */
	assert_fails(&kernel_file, "the command line at 0x7800 size 0xe overlaps the zero page");
	bzimage_default_layout(&layout);
	layout.zero_page = 0x9fc00; /* the EBDA */
	assert_fails(&kernel_file, "the zero page at 0x9fc00 size 0x1000 is not in available RAM");
	bzimage_default_layout(&layout);
	layout.page_tables = 0x9800;
	assert_fails(&kernel_file, "the page tables at 0x9800 are not page-aligned");
	bzimage_default_layout(&layout);
	layout.acpi_base = 0xe0000;
	layout.acpi_size = 0x1000;
	assert_fails(&kernel_file,
		     "the ACPI area at 0xe0000 size 0x1000 is not in RAM above 1 MiB");
	layout.acpi_base = RAM_SIZE - 0x800;
	assert_fails(&kernel_file, "is not in RAM above 1 MiB");
	bzimage_default_layout(&layout);
	layout.gdt = RAM_SIZE - 8;
	assert_fails(&kernel_file, "the GDT at 0x1fffff8 size 0x20 is not in available RAM");
	bzimage_default_layout(&layout);
	layout.gdt = PREF + 0x100;
	assert_fails(&kernel_file, "the kernel at 0x1000000 size 0x400000 overlaps the GDT");
	assert_true(all_zero(PREF, PM_SIZE));
}

/* ---- corrupted images ---- */

static void test_wrong_magic(void **state)
{
	(void)state;
	memcpy(img + HEADER, "HdrZ", 4);
	assert_fails(&kernel_file, "not a Linux kernel image (no HdrS signature)");
	assert_string_equal(err, "not a Linux kernel image (no HdrS signature)");
	/* An ELF file is not one either. */
	memset(img, 0, sizeof(img));
	memcpy(img,
	       "\x7f"
	       "ELF",
	       4);
	assert_fails(&kernel_file, "no HdrS signature");
}

static void test_old_protocols(void **state)
{
	(void)state;
	put_le16(img + VERSION, 0x020b);
	assert_fails(&kernel_file, "too old");
	assert_string_equal(err, "Linux boot protocol 2.11 is too old (need 2.12)");
	put_le16(img + VERSION, 0x0200);
	assert_fails(&kernel_file, "Linux boot protocol 2.00 is too old (need 2.12)");
	put_le16(img + VERSION, 0x020c);
	assert_int_equal(load(&kernel_file, NULL, ""), 0);
	put_le16(img + VERSION, 0x030a); /* a future major version */
	assert_int_equal(load(&kernel_file, NULL, ""), 0);
}

static void test_short_header(void **state)
{
	(void)state;
	img[JUMP + 1] = 0x66 - 1 - 4; /* ends at 0x263, inside init_size */
	assert_fails(&kernel_file, "the setup header ends at 0x263, too short for boot protocol "
				   "2.15 (it needs fields up to 0x268)");
	img[JUMP + 1] = 0x66; /* 0x268: just enough */
	assert_int_equal(load(&kernel_file, NULL, ""), 0);
}

static void test_not_a_bzimage(void **state)
{
	(void)state;
	img[LOADFLAGS] = 0x80; /* CAN_USE_HEAP, but not LOADED_HIGH */
	assert_fails(&kernel_file, "not a bzImage");
}

static void test_no_64bit_entry(void **state)
{
	(void)state;
	put_le16(img + XLOADFLAGS, 0x0002);
	assert_fails(&kernel_file, "no 64-bit entry point (xloadflags lacks XLF_KERNEL_64)");
}

static void test_overflowing_setup_sects(void **state)
{
	(void)state;
	/* 256 sectors of setup in a 14 KiB file. */
	img[SETUP_SECTS] = 255;
	assert_fails(&kernel_file, "truncated: setup_sects 255 puts the kernel at 0x20000, past "
				   "the end of the file (0x3800 bytes)");
	/* Setup exactly the whole file: no kernel left. */
	img[SETUP_SECTS] = IMG_SIZE / 512 - 1;
	assert_fails(&kernel_file, "truncated: setup_sects 27 puts the kernel at 0x3800");
}

static void test_syssize_past_end(void **state)
{
	(void)state;
	put_le32(img + SYSSIZE, PM_SIZE / 16 + 1);
	assert_fails(&kernel_file, "truncated: syssize says the protected-mode kernel is 0x3010 "
				   "bytes, the file has 0x3000 after the setup code");
}

static void test_truncation_at_every_length(void **state)
{
	(void)state;
	/* Every length up to 0x300, then every 0x80 to the full size: all are
	 * refused as truncated, with nothing written. */
	for (size_t len = 0; len < IMG_SIZE; len += len < 0x300 ? 1 : 0x80) {
		struct image_file f = { "cut", img, len };
		err[0] = '\0';
		if (load(&f, &initrd_file, "") != -1)
			fail_msg("a file cut at 0x%zx bytes was loaded", len);
		if (strncmp(err, "truncated: ", 11) != 0)
			fail_msg("cut at 0x%zx: \"%s\"", len, err);
		assert_true(all_zero(0x7000, 0x1000));
		assert_true(all_zero(PREF, 0x100));
		assert_true(all_zero(0x1000, 0x20));
	}
	struct image_file f = { "whole", img, IMG_SIZE };
	assert_int_equal(load(&f, &initrd_file, ""), 0);
}

static void test_nothing_written_on_error(void **state)
{
	(void)state;
	put_le32(img + CMDLINE_SIZE, 1);
	assert_int_equal(load(&kernel_file, &initrd_file, "long"), -1);
	assert_true(all_zero(0, RAM_SIZE));
}

/* ---- the real kernel ---- */

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static void test_real_debian_kernel(void **state)
{
	(void)state;
	size_t ksize = 0, isize = 0;
	uint8_t *k = read_file(REAL_KERNEL, &ksize);
	if (!k) {
		print_message("(%s absent: run \"make guest-linux\")\n", REAL_KERNEL);
		skip();
	}
	uint8_t *i = read_file(REAL_INITRD, &isize);
	struct image_file kf = { REAL_KERNEL, k, ksize };
	struct image_file inf = { REAL_INITRD, i, isize };
	uint64_t size = 128 * MiB;

	assert_true(bzimage_probe(k, ksize));
	free(ram_alloc);
	ram_alloc_size = size;
	ram_alloc = calloc(1, size + GUARD);
	assert_non_null(ram_alloc);
	memset(ram_alloc + size, 0xa5, GUARD);
	ram.host = ram_alloc;
	ram.size = size;
	layout.acpi_base = size - 0x10000;
	layout.acpi_size = 0x10000;
	layout.rsdp = layout.acpi_base;
	int rc = bzimage_load(&kf, i ? &inf : NULL, "console=ttyS0 quiet cryptomgr.notests", &ram,
			      &layout, &entry, err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
	unsigned sects = k[SETUP_SECTS] ? k[SETUP_SECTS] : 4;
	size_t setup_size = (sects + 1) * 512u;
	assert_true(get_le16(k + VERSION) >= 0x020c);
	assert_int_equal(entry.kernel_addr, get_le64(k + PREF_ADDRESS));
	assert_int_equal(entry.rip, entry.kernel_addr + 0x200);
	assert_int_equal(entry.kernel_size, get_le32(k + INIT_SIZE));
	assert_memory_equal(ram.host + entry.kernel_addr, k + setup_size, ksize - setup_size);
	const uint8_t *zp = ram.host + entry.rsi;
	assert_memory_equal(zp + HEADER, "HdrS", 4);
	assert_int_equal(zp[TYPE_OF_LOADER], 0xff);
	assert_int_equal(get_le32(zp + CMD_LINE_PTR), 0x20000);
	if (i) {
		assert_int_equal(entry.initrd_size, isize);
		assert_true(entry.initrd_addr >= entry.kernel_addr + entry.kernel_size);
		assert_true(entry.initrd_addr + isize <= layout.acpi_base);
		assert_int_equal(get_le32(zp + RAMDISK_IMAGE), entry.initrd_addr);
		assert_memory_equal(ram.host + entry.initrd_addr, i, isize);
	}
	assert_int_equal(walk(entry.cr3, entry.rip), entry.rip);
	assert_int_equal(zp[BP_E820_ENTRIES], 5);
	free(k);
	free(i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_probe),
		T(test_default_layout),
		T(test_loads_kernel_at_pref_address),
		T(test_entry_state),
		T(test_gdt_bytes),
		T(test_page_tables_identity_map_4gib),
		T(test_zero_page_fields),
		T(test_e820_with_acpi_area),
		T(test_e820_acpi_area_in_the_middle),
		T(test_e820_without_acpi),
		T(test_initrd_high_below_acpi),
		T(test_initrd_below_initrd_addr_max),
		T(test_initrd_does_not_fit),
		T(test_no_initrd_no_cmdline),
		T(test_cmdline_size_limit),
		T(test_relocates_when_pref_address_does_not_fit),
		T(test_not_relocatable),
		T(test_kernel_does_not_fit),
		T(test_kernel_alignment_not_power_of_two),
		T(test_init_size_smaller_than_file),
		T(test_setup_sects_zero_means_four),
		T(test_long_header_copy_is_clamped),
		T(test_layout_errors),
		T(test_wrong_magic),
		T(test_old_protocols),
		T(test_short_header),
		T(test_not_a_bzimage),
		T(test_no_64bit_entry),
		T(test_overflowing_setup_sects),
		T(test_syssize_past_end),
		T(test_truncation_at_every_length),
		T(test_nothing_written_on_error),
		T(test_real_debian_kernel),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
