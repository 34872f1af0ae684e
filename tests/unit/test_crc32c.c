/* Unit tests for arch/x86/lib/crc32c.c: the RFC 3720 B.4 vectors through
 * both paths, a CRC taken in pieces equals the whole, and the SSE4.2 path
 * equals the table on random lengths and alignments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/lib/crc32c.h"

#define VECTOR_LEN 32
#define RANDOM_BUF 4200
#define RANDOM_ROUNDS 20000

typedef uint32_t crc_fn(uint32_t crc, const void *data, size_t len);

static void check_rfc3720_vectors(crc_fn *crc)
{
	uint8_t buf[VECTOR_LEN];

	memset(buf, 0, sizeof(buf));
	assert_int_equal(crc(CRC32C_INIT, buf, sizeof(buf)), 0x8A9136AA);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(crc(CRC32C_INIT, buf, sizeof(buf)), 0x62A8AB43);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(crc(CRC32C_INIT, buf, sizeof(buf)), 0x46DD794E);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(VECTOR_LEN - 1 - i);
	assert_int_equal(crc(CRC32C_INIT, buf, sizeof(buf)), 0x113FDB5C);
	assert_int_equal(crc(CRC32C_INIT, "123456789", 9), 0xE3069283);
	assert_int_equal(crc(CRC32C_INIT, "", 0), 0);
}

static void test_rfc3720_vectors_software(void **state)
{
	(void)state;
	check_rfc3720_vectors(crc32c_software);
}

static void test_rfc3720_vectors_sse42(void **state)
{
	(void)state;
	/* The host tests run on x86-64 CPUs with SSE4.2 (every VT-x CPU
	 * since Nehalem): without it this path is untested, a failure. */
	assert_true(crc32c_have_sse42());
	check_rfc3720_vectors(crc32c_sse42);
	check_rfc3720_vectors(crc32c);
}

static void test_pieces_and_one_changed_bit(void **state)
{
	uint8_t page[4096];

	(void)state;
	for (unsigned i = 0; i < sizeof(page); i++)
		page[i] = (uint8_t)(i * 13 + 5);
	uint32_t whole = crc32c(CRC32C_INIT, page, sizeof(page));
	for (size_t cut = 0; cut <= 17; cut++)
		assert_int_equal(
			crc32c(crc32c(CRC32C_INIT, page, cut), page + cut, sizeof(page) - cut),
			whole);
	page[2049] ^= 0x10;
	assert_int_not_equal(crc32c(CRC32C_INIT, page, sizeof(page)), whole);
}

static void test_sse42_equals_software_on_random_spans(void **state)
{
	static uint8_t buf[RANDOM_BUF];

	(void)state;
	assert_true(crc32c_have_sse42());
	srand(19);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (unsigned round = 0; round < RANDOM_ROUNDS; round++) {
		size_t start = (size_t)rand() % 64;
		size_t len = (size_t)rand() % (sizeof(buf) - start + 1);
		uint32_t seed = round % 3 ? (uint32_t)rand() : CRC32C_INIT;

		assert_int_equal(crc32c_sse42(seed, buf + start, len),
				 crc32c_software(seed, buf + start, len));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3720_vectors_software),
		cmocka_unit_test(test_rfc3720_vectors_sse42),
		cmocka_unit_test(test_pieces_and_one_changed_bit),
		cmocka_unit_test(test_sse42_equals_software_on_random_spans),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
