/* Unit tests for drivers/storage/gpt.c (and crc32.c) against an in-memory
 * disk: a valid table as scripts/mkdisk writes it, tables that lie (bad
 * header or entry CRC, an entry beyond the disk, overlapping entries), boot
 * partition detection and names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/storage/crc32.h"
#include "drivers/storage/gpt.h"
#include "drivers/storage/partition.h"

#define DISK_SECTORS 4032 /* 2 MiB less a bit: 4 Bochs cylinders of 1008 */
#define ENTRIES 128
#define ENTRY_SIZE 128
#define ENTRY_SECTORS (ENTRIES * ENTRY_SIZE / BLOCK_SECTOR)
#define FIRST_USABLE (2 + ENTRY_SECTORS)
#define LAST_USABLE (DISK_SECTORS - 2 - ENTRY_SECTORS)
#define HEADER_SIZE 92
#define NAME_UNITS 36
#define MAX_ADDED 8

static const uint8_t linux_data[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
					0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };
static const uint8_t efi_system[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
					0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const uint8_t bios_boot[16] = { 0x48, 0x61, 0x68, 0x21, 0x49, 0x64, 0x6f, 0x6e,
				       0x74, 0x4e, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49 };

static uint8_t image[DISK_SECTORS * BLOCK_SECTOR];
static struct blockdev disk = { .name = "ata0", .sectors = DISK_SECTORS };
static unsigned reads;

struct added {
	char name[PARTITION_NAME_MAX + 1];
	uint64_t first, sectors;
	bool boot;
};
static struct added added[MAX_ADDED];
static unsigned nadded;

/* The disk gpt.c reads. */
int blockdev_read(struct blockdev *d, uint64_t lba, uint32_t count, void *buf, char *why,
		  size_t len)
{
	assert_ptr_equal(d, &disk);
	reads++;
	if (lba + count > d->sectors) {
		snprintf(why, len, "beyond the disk");
		return -1;
	}
	memcpy(buf, image + lba * BLOCK_SECTOR, (size_t)count * BLOCK_SECTOR);
	return 0;
}

/* The registry gpt.c fills. */
int partition_add(struct blockdev *d, const char *name, uint64_t first_lba, uint64_t sectors,
		  bool boot)
{
	assert_ptr_equal(d, &disk);
	assert_true(nadded < MAX_ADDED);
	snprintf(added[nadded].name, sizeof(added[nadded].name), "%s", name);
	added[nadded].first = first_lba;
	added[nadded].sectors = sectors;
	added[nadded].boot = boot;
	nadded++;
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static uint8_t *entry(unsigned i)
{
	return image + 2 * BLOCK_SECTOR + i * ENTRY_SIZE;
}

static uint8_t *header(void)
{
	return image + BLOCK_SECTOR;
}

static void set_entry(unsigned i, const uint8_t *type, uint64_t first, uint64_t last,
		      uint64_t attributes, const char *name)
{
	uint8_t *e = entry(i);

	memset(e, 0, ENTRY_SIZE);
	memcpy(e, type, 16);
	e[16] = (uint8_t)(i + 1); /* a unique GUID, not all zero */
	put64(e + 32, first);
	put64(e + 40, last);
	put64(e + 48, attributes);
	for (unsigned k = 0; name[k] && k < NAME_UNITS; k++)
		e[56 + 2 * k] = (uint8_t)name[k];
}

/* Recomputes the entry array's CRC into the header, then the header's. */
static void seal(void)
{
	uint8_t *h = header();

	uint32_t count, size;

	memcpy(&count, h + 80, sizeof(count));
	memcpy(&size, h + 84, sizeof(size));
	put32(h + 88, crc32(CRC32_INIT, entry(0), (size_t)count * size));
	put32(h + 16, 0);
	put32(h + 16, crc32(CRC32_INIT, h, HEADER_SIZE));
}

/* A table laid out as scripts/mkdisk writes one (header at 1, 128 entries
 * from 2, partitions 1 MiB aligned), on a 2 MiB disk: "boot" (EFI system),
 * "scratch" and, after an unused entry, "data"; 256 KiB each. */
static int setup(void **state)
{
	uint8_t *h = header();

	(void)state;
	memset(image, 0, sizeof(image));
	memcpy(h, "EFI PART", 8);
	put32(h + 8, 0x00010000);
	put32(h + 12, HEADER_SIZE);
	put64(h + 24, 1);
	put64(h + 32, DISK_SECTORS - 1);
	put64(h + 40, FIRST_USABLE);
	put64(h + 48, LAST_USABLE);
	h[56] = 0x42; /* disk GUID */
	put64(h + 72, 2);
	put32(h + 80, ENTRIES);
	put32(h + 84, ENTRY_SIZE);
	set_entry(0, efi_system, 2048, 2559, 0, "boot");
	set_entry(1, linux_data, 2560, 3071, 0, "scratch");
	set_entry(3, linux_data, 3072, 3583, 0, "data");
	seal();
	nadded = 0;
	reads = 0;
	return 0;
}

static char why[256];

static void test_crc32_known_value(void **state)
{
	(void)state;
	/* The check value of CRC-32/ISO-HDLC, and one split in two. */
	assert_int_equal(crc32(CRC32_INIT, "123456789", 9), 0xcbf43926u);
	assert_int_equal(crc32(crc32(CRC32_INIT, "1234", 4), "56789", 5), 0xcbf43926u);
	assert_int_equal(crc32(CRC32_INIT, "", 0), 0);
}

static void test_valid_table_adds_named_partitions(void **state)
{
	(void)state;
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), 0);
	assert_int_equal(nadded, 3);
	assert_string_equal(added[0].name, "boot");
	assert_int_equal(added[0].first, 2048);
	assert_int_equal(added[0].sectors, 512);
	assert_true(added[0].boot);
	assert_string_equal(added[1].name, "scratch");
	assert_int_equal(added[1].first, 2560);
	assert_int_equal(added[1].sectors, 512);
	assert_false(added[1].boot);
	/* Entry 2 is unused: the array has gaps. */
	assert_string_equal(added[2].name, "data");
	assert_int_equal(added[2].first, 3072);
}

static void test_no_signature(void **state)
{
	(void)state;
	memset(header(), 0, BLOCK_SECTOR);
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no GPT"));
	assert_int_equal(nadded, 0);
}

static void test_bad_header_crc(void **state)
{
	(void)state;
	header()[16] ^= 1;
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	assert_string_equal(why, "GPT header CRC mismatch");
	assert_int_equal(nadded, 0);
}

static void test_header_field_change_breaks_crc(void **state)
{
	(void)state;
	put64(header() + 48, LAST_USABLE - 1); /* not resealed */
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	assert_string_equal(why, "GPT header CRC mismatch");
}

static void test_bad_entries_crc(void **state)
{
	(void)state;
	entry(1)[56] = 'S'; /* the name changed, the array's CRC not */
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	assert_string_equal(why, "GPT entry array CRC mismatch");
	assert_int_equal(nadded, 0);
}

static void test_entry_beyond_disk(void **state)
{
	(void)state;
	set_entry(4, linux_data, 3584, DISK_SECTORS + 10, 0, "big");
	seal();
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "GPT entry 4 ('big'"));
	assert_non_null(strstr(why, "not within the usable sectors"));
	assert_int_equal(nadded, 0);
}

static void test_entry_in_table_sectors(void **state)
{
	(void)state;
	set_entry(4, linux_data, 2, 100, 0, "over-table");
	seal();
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "'over-table'"));
}

static void test_usable_range_beyond_disk(void **state)
{
	(void)state;
	put64(header() + 48, DISK_SECTORS);
	seal();
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "are not on the disk"));
}

static void test_overlap(void **state)
{
	(void)state;
	set_entry(5, linux_data, 3000, 3100, 0, "overlapper");
	seal();
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	assert_string_equal(why, "GPT partitions 'scratch' and 'overlapper' overlap");
	assert_int_equal(nadded, 0);
}

static void test_adjacent_partitions_do_not_overlap(void **state)
{
	(void)state;
	set_entry(5, linux_data, 3584, 3584, 0, "one");
	seal();
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), 0);
	assert_int_equal(nadded, 4);
	assert_int_equal(added[3].sectors, 1);
}

static void test_boot_types_and_attribute(void **state)
{
	(void)state;
	set_entry(0, bios_boot, 2048, 2559, 0, "grub");
	set_entry(3, linux_data, 3072, 3583, 1ull << 2, "legacy");
	set_entry(4, linux_data, 3584, 3599, 1ull << 0, "platform"); /* bit 0: not boot */
	seal();
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), 0);
	assert_int_equal(nadded, 4);
	assert_true(added[0].boot);
	assert_false(added[1].boot);
	assert_true(added[2].boot);
	assert_false(added[3].boot);
}

static void test_names(void **state)
{
	uint8_t *e;

	(void)state;
	/* 36 units, no terminator; a non-ASCII unit becomes '?'. */
	set_entry(0, linux_data, 2048, 2559, 0, "abcdefghijklmnopqrstuvwxyz0123456789");
	e = entry(1);
	memset(e + 56, 0, NAME_UNITS * 2);
	e[56] = 'd';
	e[58] = 0xe9; /* U+00E9 */
	e[60] = 0x41; /* U+2641 */
	e[61] = 0x26;
	e[62] = 'x';
	set_entry(3, linux_data, 3072, 3583, 0, ""); /* unnamed: not added */
	seal();
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), 0);
	assert_int_equal(nadded, 2);
	assert_string_equal(added[0].name, "abcdefghijklmnopqrstuvwxyz0123456789");
	assert_string_equal(added[1].name, "d??x");
}

static void test_large_entries(void **state)
{
	uint8_t *h = header();

	(void)state;
	/* 32 entries of 256 bytes: the same 16 KiB array, every other 128. */
	memset(entry(0), 0, ENTRIES * ENTRY_SIZE);
	put32(h + 80, 32);
	put32(h + 84, 256);
	set_entry(0, linux_data, 2048, 2559, 0, "first");
	set_entry(2 * 31, linux_data, 2560, 3071, 0, "last");
	seal();
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), 0);
	assert_int_equal(nadded, 2);
	assert_string_equal(added[1].name, "last");
}

static void test_bad_entry_size(void **state)
{
	(void)state;
	put32(header() + 84, 192);
	seal();
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "entry size 192"));
}

static void test_read_error_passes_on(void **state)
{
	(void)state;
	disk.sectors = 1;
	assert_int_equal(gpt_scan(&disk, why, sizeof(why)), -1);
	disk.sectors = DISK_SECTORS;
	assert_string_equal(why, "beyond the disk");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32_known_value),
		cmocka_unit_test_setup(test_valid_table_adds_named_partitions, setup),
		cmocka_unit_test_setup(test_no_signature, setup),
		cmocka_unit_test_setup(test_bad_header_crc, setup),
		cmocka_unit_test_setup(test_header_field_change_breaks_crc, setup),
		cmocka_unit_test_setup(test_bad_entries_crc, setup),
		cmocka_unit_test_setup(test_entry_beyond_disk, setup),
		cmocka_unit_test_setup(test_entry_in_table_sectors, setup),
		cmocka_unit_test_setup(test_usable_range_beyond_disk, setup),
		cmocka_unit_test_setup(test_overlap, setup),
		cmocka_unit_test_setup(test_adjacent_partitions_do_not_overlap, setup),
		cmocka_unit_test_setup(test_boot_types_and_attribute, setup),
		cmocka_unit_test_setup(test_names, setup),
		cmocka_unit_test_setup(test_large_entries, setup),
		cmocka_unit_test_setup(test_bad_entry_size, setup),
		cmocka_unit_test_setup(test_read_error_passes_on, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
