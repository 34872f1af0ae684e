/* Unit tests for vmm/core/placement.c: which CPU a vCPU goes to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/core/placement.h"

static void test_unpinned_goes_to_least_loaded(void **state)
{
	unsigned load[4] = { 2, 1, 1, 0 };

	(void)state;
	assert_int_equal(placement_pick(0, 0xf, load, 4), 3);
	assert_int_equal(placement_pick(0, 0x7, load, 4), 1); /* CPU 3 offline; tie: lowest */
	load[1] = 5;
	assert_int_equal(placement_pick(0, 0x7, load, 4), 2);
}

static void test_pinned_stays_in_its_set(void **state)
{
	unsigned load[4] = { 0, 9, 9, 0 };

	(void)state;
	assert_int_equal(placement_pick(0x2, 0xf, load, 4), 1);
	assert_int_equal(placement_pick(0x6, 0xf, load, 4), 1);
	assert_int_equal(placement_pick(0xffffffffu, 0xf, load, 4), 0);
}

static void test_no_allowed_cpu_online(void **state)
{
	unsigned load[2] = { 0, 0 };

	(void)state;
	assert_int_equal(placement_pick(0x2, 0x1, load, 2), -1);
	assert_int_equal(placement_pick(0x4, 0x7, load, 2), -1); /* beyond ncpus */
	assert_int_equal(placement_pick(0, 0, load, 2), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unpinned_goes_to_least_loaded),
		cmocka_unit_test(test_pinned_stays_in_its_set),
		cmocka_unit_test(test_no_allowed_cpu_online),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
