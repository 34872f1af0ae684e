/* Unit tests for boot/multiboot2_info.c: the tags GRUB-EFI adds (EFI
 * system table, EFI memory map), the framebuffer tag's colour fields, and
 * malformed tags (each read past its end or misaligned before they were
 * refused; issue 20). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi_memmap.h"
#include "boot/multiboot2_info.h"

#define TAG_ALIGN 8
#define PAGE 4096ull
#define EFI_DESC_SIZE 48
#define FB_TAG_RGB_SIZE 38 /* GRUB's tag: common part + 6 colour bytes */

static uint8_t info[4096] __attribute__((aligned(8)));
static size_t used;
static struct boot_info bi;
static char err[120];

static void begin(void)
{
	memset(info, 0, sizeof(info));
	used = 8;
}

static uint8_t *tag(uint32_t type, uint32_t size)
{
	uint8_t *t = info + used;

	memcpy(t, &type, 4);
	memcpy(t + 4, &size, 4);
	used += (size + TAG_ALIGN - 1) & ~(size_t)(TAG_ALIGN - 1);
	return t;
}

static int finish(void)
{
	uint32_t total;

	tag(0, 8);
	total = (uint32_t)used;
	memcpy(info, &total, 4);
	return mb2_parse_info((uint64_t)(uintptr_t)info, &bi, err, sizeof(err));
}

/* Parses the first len bytes of info from a heap copy of exactly that
 * size, without an end tag, so that ASan sees any read past the last tag. */
static int parse_exact(size_t len)
{
	uint32_t total = (uint32_t)len;
	uint8_t *copy = malloc(len);
	int rc;

	assert_non_null(copy);
	memcpy(info, &total, 4);
	memcpy(copy, info, len);
	rc = mb2_parse_info((uint64_t)(uintptr_t)copy, &bi, err, sizeof(err));
	free(copy);
	return rc;
}

static void mmap_tag(void)
{
	uint8_t *t = tag(6, 16 + 24);
	uint32_t entry_size = 24;
	uint64_t base = 0, length = 640 * 1024;
	uint32_t type = 1;

	memcpy(t + 8, &entry_size, 4);
	memcpy(t + 16, &base, 8);
	memcpy(t + 24, &length, 8);
	memcpy(t + 32, &type, 4);
}

static void efi_mmap_tag(void)
{
	uint8_t *t = tag(17, 16 + 2 * EFI_DESC_SIZE);
	uint32_t desc_size = EFI_DESC_SIZE, version = 1;
	struct efi_memory_descriptor d[2] = {
		{ EFI_CONVENTIONAL_MEMORY, 0, 0, 0, 16, 0 },
		{ EFI_RUNTIME_SERVICES_DATA, 0, 16 * PAGE, 0, 4, EFI_MEMMAP_RUNTIME },
	};

	memcpy(t + 8, &desc_size, 4);
	memcpy(t + 12, &version, 4);
	memcpy(t + 16, &d[0], sizeof(d[0]));
	memcpy(t + 16 + EFI_DESC_SIZE, &d[1], sizeof(d[1]));
}

static void test_bios_tags(void **state)
{
	(void)state;
	begin();
	mmap_tag();
	assert_int_equal(finish(), 0);
	assert_int_equal(bi.nmem, 1);
	assert_int_equal(bi.mem[0].length, 640 * 1024);
	assert_int_equal(bi.efi_system_table, 0);
	assert_int_equal(bi.fb.addr, 0);
}

/* GRUB-EFI: the EFI map wins over the E820-style one, read as our own
 * loader reads it; the system table is kept for ResetSystem. */
static void test_efi_tags(void **state)
{
	uint64_t st = 0x7f5eb018;

	(void)state;
	begin();
	mmap_tag();
	memcpy(tag(12, 16) + 8, &st, 8);
	efi_mmap_tag();
	assert_int_equal(finish(), 0);
	assert_int_equal(bi.efi_system_table, st);
	assert_int_equal(bi.nmem, 2);
	assert_int_equal(bi.mem[0].length, 16 * PAGE);
	assert_int_equal(bi.mem[0].type, MEM_USABLE);
	assert_int_equal(bi.mem[1].base, 16 * PAGE);
	assert_int_equal(bi.mem[1].type, MEM_RESERVED);
}

static void test_malformed_efi_map(void **state)
{
	(void)state;
	begin();
	mmap_tag();
	uint8_t *t = tag(17, 16);
	uint32_t small = 16;
	memcpy(t + 8, &small, 4);
	assert_int_equal(finish(), -1);
	assert_string_equal(err, "malformed EFI memory map (descriptor size 16)");
}

static void test_framebuffer_colours(void **state)
{
	uint64_t addr = 0x80000000;
	uint32_t pitch = 5120, width = 1280, height = 800;
	const uint8_t colours[] = { 16, 8, 8, 8, 0, 8 };

	(void)state;
	begin();
	mmap_tag();
	uint8_t *t = tag(8, FB_TAG_RGB_SIZE);
	memcpy(t + 8, &addr, 8);
	memcpy(t + 16, &pitch, 4);
	memcpy(t + 20, &width, 4);
	memcpy(t + 24, &height, 4);
	t[28] = 32;
	t[29] = BOOT_FB_TYPE_RGB;
	memcpy(t + 32, colours, sizeof(colours));
	assert_int_equal(finish(), 0);
	assert_int_equal(bi.fb.addr, addr);
	assert_int_equal(bi.fb.pitch, pitch);
	assert_int_equal(bi.fb.width, width);
	assert_int_equal(bi.fb.height, height);
	assert_int_equal(bi.fb.bpp, 32);
	assert_int_equal(bi.fb.red_pos, 16);
	assert_int_equal(bi.fb.red_size, 8);
	assert_int_equal(bi.fb.green_pos, 8);
	assert_int_equal(bi.fb.blue_pos, 0);
	assert_int_equal(bi.fb.blue_size, 8);
}

static void test_short_framebuffer_tag(void **state)
{
	(void)state;
	begin();
	mmap_tag();
	tag(8, 16);
	assert_int_equal(parse_exact(used), -1);
	assert_string_equal(err, "malformed Multiboot2 tag 8 (size 16)");
}

/* 8-15 bytes: the name's length, size - 16, wrapped. */
static void test_short_module_tag(void **state)
{
	(void)state;
	begin();
	mmap_tag();
	uint8_t *t = tag(3, 12);
	memset(t + 8, 'x', 4);
	assert_int_equal(parse_exact(used - 4), -1);
	assert_string_equal(err, "malformed Multiboot2 tag 3 (size 12)");
}

/* Its size would wrap to nearly 4 GiB. */
static void test_module_ending_before_its_start(void **state)
{
	uint32_t start = 0x200000, end = 0x1000;

	(void)state;
	begin();
	mmap_tag();
	uint8_t *t = tag(3, 16 + 5);
	memcpy(t + 8, &start, 4);
	memcpy(t + 12, &end, 4);
	memcpy(t + 16, "kern", 5);
	assert_int_equal(finish(), -1);
	assert_string_equal(err, "Multiboot2 module kern ends before it starts");
}

static void test_short_mmap_tag(void **state)
{
	(void)state;
	begin();
	mmap_tag();
	tag(6, 8);
	assert_int_equal(parse_exact(used), -1);
	assert_string_equal(err, "malformed Multiboot2 tag 6 (size 8)");
}

static void mmap_tag_with_entry_size(uint32_t entry_size)
{
	uint8_t *t = tag(6, 16 + 2 * entry_size);

	memcpy(t + 8, &entry_size, 4);
	memset(t + 16, 0x11, 2 * entry_size);
}

/* Entries 28 bytes apart: the second one's 64-bit fields are misaligned. */
static void test_mmap_entry_size_not_multiple_of_8(void **state)
{
	(void)state;
	begin();
	mmap_tag_with_entry_size(28);
	assert_int_equal(finish(), -1);
	assert_string_equal(err, "malformed Multiboot2 memory map (entry size 28)");
}

static void test_mmap_entry_smaller_than_an_entry(void **state)
{
	(void)state;
	begin();
	mmap_tag();
	mmap_tag_with_entry_size(16);
	assert_int_equal(finish(), -1);
	assert_string_equal(err, "malformed Multiboot2 memory map (entry size 16)");
}

/* The RSDP copy must hold what the ACPI code reads: 36 bytes for ACPI 2.0. */
static void test_short_acpi_tag(void **state)
{
	(void)state;
	begin();
	mmap_tag();
	tag(15, 8 + 20);
	assert_int_equal(finish(), -1);
	assert_string_equal(err, "malformed Multiboot2 tag 15 (size 28)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bios_tags),
		cmocka_unit_test(test_efi_tags),
		cmocka_unit_test(test_malformed_efi_map),
		cmocka_unit_test(test_framebuffer_colours),
		cmocka_unit_test(test_short_framebuffer_tag),
		cmocka_unit_test(test_short_module_tag),
		cmocka_unit_test(test_module_ending_before_its_start),
		cmocka_unit_test(test_short_mmap_tag),
		cmocka_unit_test(test_mmap_entry_size_not_multiple_of_8),
		cmocka_unit_test(test_mmap_entry_smaller_than_an_entry),
		cmocka_unit_test(test_short_acpi_tag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
