/* Unit tests for arch/x86/lib/cmdline.c: key=value words of pgvisor's
 * command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

#include "arch/x86/lib/cmdline.h"

static void test_finds_whole_words_only(void **state)
{
	char v[16];

	(void)state;
	assert_true(cmdline_value("diskbench=bench", "diskbench", v, sizeof(v)));
	assert_string_equal(v, "bench");
	assert_true(
		cmdline_value("  a=1 xdiskbench=no diskbench=yes b", "diskbench", v, sizeof(v)));
	assert_string_equal(v, "yes");
	assert_false(cmdline_value("diskbenchx=1 diskbench", "diskbench", v, sizeof(v)));
	assert_false(cmdline_value("", "diskbench", v, sizeof(v)));
	assert_true(cmdline_value("k= x", "k", v, sizeof(v)));
	assert_string_equal(v, "");
}

static void test_cuts_long_values(void **state)
{
	char v[4];

	(void)state;
	assert_true(cmdline_value("k=abcdefg", "k", v, sizeof(v)));
	assert_string_equal(v, "abc");
	assert_true(cmdline_value("k=abcdefg", "k", NULL, 0));
}

static void test_masks_a_secret(void **state)
{
	char v[64];

	(void)state;
	cmdline_masked("ip=10.0.0.1/24 migrate-key=sesame-sesame-open  x", "migrate-key", v,
		       sizeof(v));
	assert_string_equal(v, "ip=10.0.0.1/24 migrate-key=***  x");
	cmdline_masked("migrate-key=a xmigrate-key=b migrate-key=", "migrate-key", v, sizeof(v));
	assert_string_equal(v, "migrate-key=*** xmigrate-key=b migrate-key=***");
	cmdline_masked("abcdef", "k", v, 4);
	assert_string_equal(v, "abc");
	cmdline_masked("k=secret", "k", v, 4);
	assert_string_equal(v, "k=*");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finds_whole_words_only),
		cmocka_unit_test(test_cuts_long_values),
		cmocka_unit_test(test_masks_a_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
