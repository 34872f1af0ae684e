/* Unit tests for arch/x86/lib/fnv1a.c: the published FNV-1a 64 values, and
 * a hash taken in pieces equals the hash of the whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86/lib/fnv1a.h"

static void test_known_values(void **state)
{
	(void)state;
	assert_true(fnv1a64(FNV1A64_INIT, "", 0) == 0xcbf29ce484222325ull);
	assert_true(fnv1a64(FNV1A64_INIT, "a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(fnv1a64(FNV1A64_INIT, "foobar", 6) == 0x85944171f73967e8ull);
}

static void test_pieces_and_one_changed_byte(void **state)
{
	uint8_t ram[4096];

	(void)state;
	for (unsigned i = 0; i < sizeof(ram); i++)
		ram[i] = (uint8_t)(i * 7);
	uint64_t whole = fnv1a64(FNV1A64_INIT, ram, sizeof(ram));
	assert_true(fnv1a64(fnv1a64(FNV1A64_INIT, ram, 1000), ram + 1000, sizeof(ram) - 1000) ==
		    whole);
	ram[4095] ^= 1;
	assert_true(fnv1a64(FNV1A64_INIT, ram, sizeof(ram)) != whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_pieces_and_one_changed_byte),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
