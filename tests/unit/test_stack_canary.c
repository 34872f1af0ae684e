/* Unit tests for arch/x86/stack_canary.c: a canary holds until the word
 * under it is written, says whose stack it guards, and the table refuses
 * what it cannot hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "arch/x86/stack_canary.h"

static uint64_t stacks[STACK_CANARY_MAX + 1][4];

static void test_overflow_breaks_only_its_canary(void **state)
{
	(void)state;
	assert_int_equal(stack_canary_plant(stacks[0], 0, "stack"), 0);
	assert_int_equal(stack_canary_plant(stacks[1], 1, "NMI stack"), 0);
	assert_int_equal(stack_canary_count(), 2);
	assert_true(stack_canary_intact(0) && stack_canary_intact(1));
	/* Two stacks never share a value: one copied over another breaks. */
	stacks[1][0] = stacks[0][0];
	assert_false(stack_canary_intact(1));
	assert_true(stack_canary_intact(0));
	assert_int_equal(stack_canary_cpu(1), 1);
	assert_string_equal(stack_canary_what(1), "NMI stack");
	stacks[0][1] = 0; /* above the canary: the stack's own use */
	assert_true(stack_canary_intact(0));
	assert_false(stack_canary_intact(2)); /* no such canary */
}

static void test_table_full(void **state)
{
	(void)state;
	while (stack_canary_count() < STACK_CANARY_MAX)
		assert_int_equal(stack_canary_plant(stacks[stack_canary_count()], 2, "stack"), 0);
	assert_int_equal(stack_canary_plant(stacks[STACK_CANARY_MAX], 3, "stack"), -1);
	assert_int_equal(stack_canary_count(), STACK_CANARY_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overflow_breaks_only_its_canary),
		cmocka_unit_test(test_table_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
