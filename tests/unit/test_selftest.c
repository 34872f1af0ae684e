/* Unit tests for drivers/selftest.c: which words of pgvisor's command line
 * ask for self-tests, and that each named test runs once, in order, with
 * unknown names failing the run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/net/net_selftest.h"
#include "drivers/ps2kbd.h"
#include "drivers/selftest.h"
#include "drivers/storage/error_selftest.h"
#include "drivers/storage/storage_selftest.h"

static unsigned storage_runs, net_runs, disk_error_runs;
static bool storage_result;
static char printed[256];
static char order[8]; /* a letter a run: 's' storage, 'n' net, 'e' disk-errors, 'k' keyboard */

static void ran(char c)
{
	size_t n = strlen(order);

	if (n + 1 < sizeof(order)) {
		order[n] = c;
		order[n + 1] = '\0';
	}
}

bool storage_selftest(void)
{
	storage_runs++;
	ran('s');
	return storage_result;
}

bool net_selftest(void)
{
	net_runs++;
	ran('n');
	return true;
}

bool disk_error_selftest(void)
{
	disk_error_runs++;
	ran('e');
	return true;
}

bool ps2kbd_selftest(void)
{
	ran('k');
	return true;
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(printed, sizeof(printed), fmt, ap);
	va_end(ap);
}

static int setup(void **state)
{
	(void)state;
	storage_runs = net_runs = disk_error_runs = 0;
	storage_result = true;
	printed[0] = order[0] = '\0';
	return 0;
}

static void test_requested_only_as_a_word(void **state)
{
	(void)state;
	assert_true(selftest_requested("selftest=storage"));
	assert_true(selftest_requested("no-preemption-timer selftest=storage"));
	assert_false(selftest_requested(""));
	assert_false(selftest_requested("no-selftest=storage"));
	assert_false(selftest_requested("selftest"));
}

static void test_runs_storage(void **state)
{
	(void)state;
	assert_true(selftest_run("smp=1 selftest=storage no-preemption-timer"));
	assert_int_equal(storage_runs, 1);
	assert_string_equal(printed, "");
}

static void test_failure_passed_on(void **state)
{
	(void)state;
	storage_result = false;
	assert_false(selftest_run("selftest=storage"));
	assert_int_equal(storage_runs, 1);
}

static void test_comma_list(void **state)
{
	(void)state;
	assert_true(selftest_run("selftest=storage,storage"));
	assert_int_equal(storage_runs, 2);
}

static void test_each_named_test_in_order(void **state)
{
	(void)state;
	assert_true(selftest_run("selftest=net,disk-errors,storage,keyboard"));
	assert_string_equal(order, "nesk");
	storage_result = false;
	assert_false(selftest_run("selftest=storage,net"));
	assert_string_equal(order, "nesksn");
	assert_int_equal(net_runs, 2);
	assert_int_equal(disk_error_runs, 1);
}

static void test_unknown_name_fails_and_others_still_run(void **state)
{
	(void)state;
	assert_false(selftest_run("selftest=bogus,storage"));
	assert_int_equal(storage_runs, 1);
	assert_string_equal(printed, "pgvisor: selftest: no test named 'bogus'\n");
}

static void test_prefix_of_a_name_is_not_it(void **state)
{
	(void)state;
	assert_false(selftest_run("selftest=stor"));
	assert_int_equal(storage_runs, 0);
	assert_string_equal(printed, "pgvisor: selftest: no test named 'stor'\n");
}

static void test_empty_list_fails(void **state)
{
	(void)state;
	assert_false(selftest_run("selftest= smp=1"));
	assert_int_equal(storage_runs, 0);
	assert_string_equal(printed, "pgvisor: selftest: selftest= names no test\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_requested_only_as_a_word, setup),
		cmocka_unit_test_setup(test_runs_storage, setup),
		cmocka_unit_test_setup(test_failure_passed_on, setup),
		cmocka_unit_test_setup(test_comma_list, setup),
		cmocka_unit_test_setup(test_each_named_test_in_order, setup),
		cmocka_unit_test_setup(test_unknown_name_fails_and_others_still_run, setup),
		cmocka_unit_test_setup(test_prefix_of_a_name_is_not_it, setup),
		cmocka_unit_test_setup(test_empty_list_fails, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
