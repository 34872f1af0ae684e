/* Unit tests for drivers/storage/ahci_cmd.c: the bytes an AHCI HBA fetches
 * for a command (AHCI 1.3.1, 4.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/storage/ahci_cmd.h"
#include "drivers/storage/ata_proto.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_h2d_fis_of_a_48_bit_write(void **state)
{
	uint8_t fis[64];
	(void)state;
	memset(fis, 0, sizeof(fis));

	unsigned cfl = ahci_fis_h2d(fis, ATA_CMD_WRITE_DMA_EXT, 0x0000123456789abcull, 0x0180);

	assert_int_equal(cfl, 5);	/* 20 bytes */
	assert_int_equal(fis[0], 0x27); /* Register H2D */
	assert_int_equal(fis[1], 0x80); /* C bit, port multiplier port 0 */
	assert_int_equal(fis[2], 0x35);
	assert_int_equal(fis[3], 0);	/* features */
	assert_int_equal(fis[4], 0xbc); /* LBA 7:0 */
	assert_int_equal(fis[5], 0x9a);
	assert_int_equal(fis[6], 0x78);
	assert_int_equal(fis[7], 0x40); /* device: LBA mode */
	assert_int_equal(fis[8], 0x56); /* LBA 31:24 */
	assert_int_equal(fis[9], 0x34);
	assert_int_equal(fis[10], 0x12);
	assert_int_equal(fis[12], 0x80); /* count 7:0 */
	assert_int_equal(fis[13], 0x01); /* count 15:8 */
	for (unsigned i = 14; i < sizeof(fis); i++)
		assert_int_equal(fis[i], 0);
}

static void test_h2d_fis_count_65536_is_zero(void **state)
{
	uint8_t fis[64] = { 0 };
	(void)state;

	ahci_fis_h2d(fis, ATA_CMD_READ_DMA_EXT, 0, (uint16_t)65536); /* 0 means 65536 */
	assert_int_equal(fis[12], 0);
	assert_int_equal(fis[13], 0);
	assert_int_equal(fis[2], 0x25);
}

static void test_prdt_entries(void **state)
{
	uint8_t table[AHCI_CMD_TABLE_PRDT + 2 * AHCI_PRD_SIZE];
	struct ahci_prd prd[2] = { { 0x123456789a000ull, 65536 }, { 0x2000, 512 } };
	(void)state;
	memset(table, 0xee, sizeof(table));

	assert_int_equal(ahci_prdt_fill(table, prd, 2), 0);

	const uint8_t *e = table + 0x80;
	assert_int_equal(le32(e), 0x6789a000);
	assert_int_equal(le32(e + 4), 0x12345);
	assert_int_equal(le32(e + 8), 0);
	assert_int_equal(le32(e + 12), 65535); /* byte count less one, no interrupt bit */
	assert_int_equal(le32(e + 16), 0x2000);
	assert_int_equal(le32(e + 20), 0);
	assert_int_equal(le32(e + 28), 511);
	assert_int_equal(table[0], 0xee); /* the CFIS is not touched */
}

static void test_prdt_refuses_what_the_hba_cannot_do(void **state)
{
	uint8_t table[AHCI_CMD_TABLE_PRDT + AHCI_PRD_SIZE];
	struct ahci_prd odd_len = { 0x1000, 511 }, odd_addr = { 0x1001, 512 },
			empty = { 0x1000, 0 }, big = { 0x1000, (4u << 20) + 2 },
			max = { 0x1000, 4u << 20 };
	(void)state;

	assert_int_equal(ahci_prdt_fill(table, &odd_len, 1), -1);
	assert_int_equal(ahci_prdt_fill(table, &odd_addr, 1), -1);
	assert_int_equal(ahci_prdt_fill(table, &empty, 1), -1);
	assert_int_equal(ahci_prdt_fill(table, &big, 1), -1);
	assert_int_equal(ahci_prdt_fill(table, &max, 1), 0);
	assert_int_equal(le32(table + 0x80 + 12), 0x3fffff);
}

static void test_command_header(void **state)
{
	uint8_t list[AHCI_CMD_LIST_SIZE];
	(void)state;
	memset(list, 0xee, sizeof(list));

	ahci_cmd_header(list, 3, 5, 1, true, 0xabcdef0012345680ull);

	const uint8_t *h = list + 3 * 32;
	assert_int_equal(le32(h), 5 | 1u << 6 | 1u << 16); /* CFL, W, PRDTL */
	assert_int_equal(le32(h + 4), 0);		   /* PRDBC */
	assert_int_equal(le32(h + 8), 0x12345680);
	assert_int_equal(le32(h + 12), 0xabcdef00);
	for (unsigned i = 16; i < 32; i++)
		assert_int_equal(h[i], 0);
	assert_int_equal(list[3 * 32 - 1], 0xee); /* slot 2 untouched */
	assert_int_equal(list[4 * 32], 0xee);	  /* slot 4 untouched */

	ahci_cmd_header(list, 0, 5, 0, false, 0x1000);
	assert_int_equal(le32(list), 5); /* a read (or no data): W clear, no PRDs */
	list[4] = 0x00;
	list[5] = 0x02; /* the HBA moved 512 bytes */
	assert_int_equal(ahci_cmd_header_bytes(list, 0), 512);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_h2d_fis_of_a_48_bit_write),
		cmocka_unit_test(test_h2d_fis_count_65536_is_zero),
		cmocka_unit_test(test_prdt_entries),
		cmocka_unit_test(test_prdt_refuses_what_the_hba_cannot_do),
		cmocka_unit_test(test_command_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
