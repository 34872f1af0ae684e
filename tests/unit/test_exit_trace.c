/* Unit tests for vmm/vm/exit_trace.c: the ring of a vCPU's last exits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/vm/exit_trace.h"

static struct exit_trace t;

static void test_fewer_than_the_ring(void **state)
{
	(void)state;
	exit_trace_set(&t, true);
	for (unsigned i = 0; i < 5; i++)
		exit_trace_record(&t, 10 + i, 0x1000 + i, i, 100 * i);
	assert_int_equal(exit_trace_available(&t, 100), 5);
	assert_int_equal(exit_trace_available(&t, 3), 3);
	/* The last three, oldest first. */
	assert_int_equal(exit_trace_at(&t, 3, 0)->reason, 12);
	assert_int_equal(exit_trace_at(&t, 3, 2)->reason, 14);
	assert_int_equal(exit_trace_at(&t, 3, 2)->rip, 0x1004);
	assert_int_equal(exit_trace_at(&t, 3, 2)->tsc, 400);
}

static void test_wraps_keeping_the_newest(void **state)
{
	(void)state;
	exit_trace_set(&t, false);
	exit_trace_set(&t, true); /* on again: starts empty */
	assert_int_equal(exit_trace_available(&t, 10), 0);
	for (unsigned i = 0; i < EXIT_TRACE_LEN * 2 + 3; i++)
		exit_trace_record(&t, i, i, i, i);
	assert_int_equal(exit_trace_available(&t, 1000), EXIT_TRACE_LEN);
	assert_int_equal(exit_trace_at(&t, 1000, 0)->reason, EXIT_TRACE_LEN + 3);
	assert_int_equal(exit_trace_at(&t, 1000, EXIT_TRACE_LEN - 1)->reason,
			 EXIT_TRACE_LEN * 2 + 2);
	assert_int_equal(exit_trace_at(&t, 1, 0)->reason, EXIT_TRACE_LEN * 2 + 2);
	/* Off keeps what was recorded. */
	exit_trace_set(&t, false);
	assert_false(t.on);
	assert_int_equal(exit_trace_available(&t, 2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fewer_than_the_ring),
		cmocka_unit_test(test_wraps_keeping_the_newest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
