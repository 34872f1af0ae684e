/* Unit tests for drivers/storage/ata_proto.c: IDENTIFY DEVICE data as
 * Bochs and QEMU return it, taskfiles of 28- and 48-bit commands, and PRD
 * tables split at 64 KiB boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/storage/ata_proto.h"

static uint16_t words[ATA_IDENTIFY_WORDS];
static struct ata_identity id;
static char why[128];

/* An LBA48 disk named "QEMU HARDDISK" of 11088 sectors that does DMA. */
static int setup(void **state)
{
	const char *model = "QEMU HARDDISK";

	(void)state;
	memset(words, 0, sizeof(words));
	words[0] = 0x0040; /* fixed device */
	for (unsigned i = 0; i < 40; i++) {
		char c = i < strlen(model) ? model[i] : ' ';
		words[27 + i / 2] |= (uint16_t)(i % 2 ? (uint8_t)c : (uint8_t)c << 8);
	}
	words[49] = 0x0300; /* LBA, DMA */
	words[60] = 11088;  /* LBA28 count as well */
	words[83] = 0x4400; /* valid, 48-bit address feature set */
	words[100] = 11088;
	return 0;
}

static void test_identify_lba48_disk(void **state)
{
	(void)state;
	assert_int_equal(ata_parse_identify(words, &id, why, sizeof(why)), 0);
	assert_string_equal(id.model, "QEMU HARDDISK");
	assert_int_equal(id.sectors, 11088);
	assert_true(id.lba48);
	assert_true(id.dma);
}

static void test_identify_48_bit_count_uses_all_words(void **state)
{
	(void)state;
	words[100] = 0x0001;
	words[101] = 0x0002;
	words[102] = 0x0003;
	words[103] = 0x0000;
	words[60] = 0xffff; /* LBA28 saturates at 0x0fffffff: ignored */
	words[61] = 0x0fff;
	assert_int_equal(ata_parse_identify(words, &id, why, sizeof(why)), 0);
	assert_int_equal(id.sectors, 0x000300020001ull);
}

static void test_identify_lba28_disk(void **state)
{
	(void)state;
	words[83] = 0;
	words[60] = 0x5678;
	words[61] = 0x0012;
	words[49] = 0x0200; /* LBA, no DMA */
	assert_int_equal(ata_parse_identify(words, &id, why, sizeof(why)), 0);
	assert_false(id.lba48);
	assert_false(id.dma);
	assert_int_equal(id.sectors, 0x125678);
}

static void test_identify_word_83_not_valid(void **state)
{
	(void)state;
	/* Bits 15:14 must read 01, else the word means nothing. */
	words[83] = 0xffff;
	assert_int_equal(ata_parse_identify(words, &id, why, sizeof(why)), 0);
	assert_false(id.lba48);
	assert_int_equal(id.sectors, 11088);
}

static void test_identify_atapi_refused(void **state)
{
	(void)state;
	words[0] = 0x85c0; /* what a CD-ROM answers IDENTIFY PACKET DEVICE with */
	assert_int_equal(ata_parse_identify(words, &id, why, sizeof(why)), -1);
	assert_string_equal(why, "an ATAPI device, not a disk");
}

static void test_identify_chs_only_refused(void **state)
{
	(void)state;
	words[49] = 0;
	assert_int_equal(ata_parse_identify(words, &id, why, sizeof(why)), -1);
	assert_string_equal(why, "no LBA addressing (CHS only)");
}

static void test_identify_no_sectors_refused(void **state)
{
	(void)state;
	words[100] = 0;
	assert_int_equal(ata_parse_identify(words, &id, why, sizeof(why)), -1);
	assert_string_equal(why, "reports no sectors");
}

static void test_identify_full_model(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 20; i++)
		words[27 + i] = (uint16_t)('A' + i % 26) << 8 | (uint16_t)('a' + i % 26);
	assert_int_equal(ata_parse_identify(words, &id, why, sizeof(why)), 0);
	assert_int_equal(strlen(id.model), 40);
	assert_memory_equal(id.model, "AaBbCc", 6);
}

static void test_taskfile_read_dma_ext(void **state)
{
	struct ata_taskfile tf;

	(void)state;
	assert_int_equal(ata_taskfile_rw(&tf, true, true, false, 1, 0x123456789abcull, 0x0180), 0);
	assert_true(tf.lba48);
	assert_int_equal(tf.command, 0x25);
	assert_int_equal(tf.count, 0x80);
	assert_int_equal(tf.hob_count, 0x01);
	assert_int_equal(tf.lba_low, 0xbc);
	assert_int_equal(tf.lba_mid, 0x9a);
	assert_int_equal(tf.lba_high, 0x78);
	assert_int_equal(tf.hob_lba_low, 0x56);
	assert_int_equal(tf.hob_lba_mid, 0x34);
	assert_int_equal(tf.hob_lba_high, 0x12);
	assert_int_equal(tf.device, 0xf0); /* obsolete bits, LBA, drive 1 */
}

static void test_taskfile_commands(void **state)
{
	struct ata_taskfile tf;

	(void)state;
	assert_int_equal(ata_taskfile_rw(&tf, true, true, true, 0, 0, 1), 0);
	assert_int_equal(tf.command, 0x35);
	assert_int_equal(tf.device, 0xe0);
	assert_int_equal(ata_taskfile_rw(&tf, true, false, false, 0, 0, 1), 0);
	assert_int_equal(tf.command, 0x24);
	assert_int_equal(ata_taskfile_rw(&tf, true, false, true, 0, 0, 1), 0);
	assert_int_equal(tf.command, 0x34);
	assert_int_equal(ata_taskfile_rw(&tf, false, true, false, 0, 0, 1), 0);
	assert_int_equal(tf.command, 0xc8);
	assert_int_equal(ata_taskfile_rw(&tf, false, true, true, 0, 0, 1), 0);
	assert_int_equal(tf.command, 0xca);
	assert_int_equal(ata_taskfile_rw(&tf, false, false, false, 0, 0, 1), 0);
	assert_int_equal(tf.command, 0x20);
	assert_int_equal(ata_taskfile_rw(&tf, false, false, true, 0, 0, 1), 0);
	assert_int_equal(tf.command, 0x30);
	ata_taskfile_flush(&tf, true, 1);
	assert_int_equal(tf.command, 0xea);
	assert_int_equal(tf.device, 0xb0);
	ata_taskfile_flush(&tf, false, 0);
	assert_int_equal(tf.command, 0xe7);
	ata_taskfile_identify(&tf, 1);
	assert_int_equal(tf.command, 0xec);
	assert_int_equal(tf.device, 0xb0);
}

static void test_taskfile_lba28_top_bits_in_device(void **state)
{
	struct ata_taskfile tf;

	(void)state;
	assert_int_equal(ata_taskfile_rw(&tf, false, false, false, 1, 0x0abcdef1, 256), 0);
	assert_false(tf.lba48);
	assert_int_equal(tf.count, 0); /* 256 */
	assert_int_equal(tf.lba_low, 0xf1);
	assert_int_equal(tf.lba_mid, 0xde);
	assert_int_equal(tf.lba_high, 0xbc);
	assert_int_equal(tf.device, 0xfa);
}

static void test_taskfile_limits(void **state)
{
	struct ata_taskfile tf;

	(void)state;
	assert_int_equal(ata_taskfile_rw(&tf, true, true, false, 0, 0, 65536), 0);
	assert_int_equal(tf.count, 0);
	assert_int_equal(tf.hob_count, 0);
	assert_int_equal(ata_taskfile_rw(&tf, true, true, false, 0, 0, 65537), -1);
	assert_int_equal(ata_taskfile_rw(&tf, false, true, false, 0, 0, 257), -1);
	assert_int_equal(ata_taskfile_rw(&tf, false, true, false, 0, 0, 0), -1);
	assert_int_equal(ata_taskfile_rw(&tf, false, true, false, 0, (1u << 28) - 1, 1), 0);
	assert_int_equal(ata_taskfile_rw(&tf, false, true, false, 0, (1u << 28) - 1, 2), -1);
	assert_int_equal(ata_taskfile_rw(&tf, true, true, false, 0, 1ull << 48, 1), -1);
}

static void test_prd_one_aligned_64k(void **state)
{
	struct ata_prd prd[4];

	(void)state;
	assert_int_equal(ata_prd_build(prd, 4, 0x200000, 0x10000), 1);
	assert_int_equal(prd[0].addr, 0x200000);
	assert_int_equal(prd[0].bytes, 0); /* 64 KiB */
	assert_int_equal(prd[0].flags, ATA_PRD_EOT);
}

static void test_prd_split_at_64k_boundaries(void **state)
{
	struct ata_prd prd[4];

	(void)state;
	assert_int_equal(ata_prd_build(prd, 4, 0x1f000, 0x12000), 3);
	assert_int_equal(prd[0].addr, 0x1f000);
	assert_int_equal(prd[0].bytes, 0x1000);
	assert_int_equal(prd[0].flags, 0);
	assert_int_equal(prd[1].addr, 0x20000);
	assert_int_equal(prd[1].bytes, 0);
	assert_int_equal(prd[1].flags, 0);
	assert_int_equal(prd[2].addr, 0x30000);
	assert_int_equal(prd[2].bytes, 0x1000);
	assert_int_equal(prd[2].flags, ATA_PRD_EOT);
}

static void test_prd_refusals(void **state)
{
	struct ata_prd prd[2];

	(void)state;
	assert_int_equal(ata_prd_build(prd, 2, 0x1f000, 0x12000), -1); /* needs 3 */
	assert_int_equal(ata_prd_build(prd, 2, 0x1001, 512), -1);      /* odd address */
	assert_int_equal(ata_prd_build(prd, 2, 0x1000, 0), -1);
	assert_int_equal(ata_prd_build(prd, 2, 0x100000000ull, 512), -1); /* above 4 GiB */
	assert_int_equal(ata_prd_build(prd, 2, 0xfffffe00ull, 1024), -1); /* crosses it */
	assert_int_equal(ata_prd_build(prd, 2, 0xfffffe00ull, 512), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_identify_lba48_disk, setup),
		cmocka_unit_test_setup(test_identify_48_bit_count_uses_all_words, setup),
		cmocka_unit_test_setup(test_identify_lba28_disk, setup),
		cmocka_unit_test_setup(test_identify_word_83_not_valid, setup),
		cmocka_unit_test_setup(test_identify_atapi_refused, setup),
		cmocka_unit_test_setup(test_identify_chs_only_refused, setup),
		cmocka_unit_test_setup(test_identify_no_sectors_refused, setup),
		cmocka_unit_test_setup(test_identify_full_model, setup),
		cmocka_unit_test(test_taskfile_read_dma_ext),
		cmocka_unit_test(test_taskfile_commands),
		cmocka_unit_test(test_taskfile_lba28_top_bits_in_device),
		cmocka_unit_test(test_taskfile_limits),
		cmocka_unit_test(test_prd_one_aligned_64k),
		cmocka_unit_test(test_prd_split_at_64k_boundaries),
		cmocka_unit_test(test_prd_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
