/* Unit tests for arch/x86/muldiv.h: mul_div_u64 agrees with a 128-bit
 * computation wherever the quotient fits, and saturates where it does not
 * (instead of the #DE that DIV would raise). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86/muldiv.h"

static uint64_t reference(uint64_t a, uint64_t b, uint64_t c)
{
	unsigned __int128 q = (unsigned __int128)a * b / c;

	return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

static void test_matches_128_bit_division(void **state)
{
	static const uint64_t values[] = { 0,	       1,	   3,	       999999999,
					   1000000000, 1193182,	   3579545,    49998000,
					   0xffffffff, 1ull << 40, 1ull << 63, UINT64_MAX };
	const unsigned n = sizeof(values) / sizeof(values[0]);

	(void)state;
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < n; j++)
			for (unsigned k = 1; k < n; k++)
				assert_int_equal(mul_div_u64(values[i], values[j], values[k]),
						 reference(values[i], values[j], values[k]));
}

static void test_time_conversions(void **state)
{
	(void)state;
	/* 10 s of a 50 MHz TSC in ns, and a PM-timer tick count. */
	assert_int_equal(mul_div_u64(500000000, 1000000000, 50000000), 10000000000ull);
	assert_int_equal(mul_div_u64(1000000000, 3579545, 1000000000), 3579545);
	/* Floors. */
	assert_int_equal(mul_div_u64(7, 1, 2), 3);
	/* A quotient of 2^64 saturates. */
	assert_int_equal(mul_div_u64(1ull << 63, 2, 1), UINT64_MAX);
	assert_int_equal(mul_div_u64(UINT64_MAX, UINT64_MAX, 1), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches_128_bit_division),
		cmocka_unit_test(test_time_conversions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
