/* Unit tests for boot/efi/boot_conf.c: the UEFI loader's pgvisor.conf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "boot/efi/boot_conf.h"

static struct boot_conf conf;
static char err[160];

static int parse(const char *text)
{
	err[0] = '\0';
	return boot_conf_parse(text, strlen(text), &conf, err, sizeof(err));
}

static void test_valid(void **state)
{
	(void)state;
	assert_int_equal(parse("# what BOOTX64.EFI boots\n"
			       "cmdline = \"no-preemption-timer smp-test-novtx=1\"\n"
			       "\n"
			       "vm = \"configs/hello.cfg\"   # the first VM\r\n"
			       "  vm=\"./configs//../configs/oob.cfg\""),
			 0);
	assert_string_equal(conf.cmdline, "no-preemption-timer smp-test-novtx=1");
	assert_int_equal(conf.nvms, 2);
	assert_string_equal(conf.vms[0], "configs/hello.cfg");
	assert_string_equal(conf.vms[1], "configs/oob.cfg");
}

static void test_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "", "pgvisor.conf:0: no vm line: nothing to boot" },
		{ "cmdline = \"x\"\n", "pgvisor.conf:1: no vm line: nothing to boot" },
		{ "vm = \"a.cfg\"\nkernel = \"x\"\n",
		  "pgvisor.conf:2: unknown setting (expected cmdline or vm)" },
		{ "vm \"a.cfg\"\n", "pgvisor.conf:1: expected '=' after the setting name" },
		{ "vm = a.cfg\n", "pgvisor.conf:1: expected a quoted value" },
		{ "vm = \"a.cfg\n", "pgvisor.conf:1: missing closing '\"'" },
		{ "vm = \"a.cfg\" x\n", "pgvisor.conf:1: unexpected text after the value" },
		{ "= \"a.cfg\"\n", "pgvisor.conf:1: expected a setting name" },
		{ "vm = \"\"\n", "pgvisor.conf:1: empty vm path" },
		{ "cmdline = \"a\"\ncmdline = \"b\"\nvm = \"a.cfg\"\n",
		  "pgvisor.conf:2: cmdline given twice" },
		{ "vm = \"a\tb\"\n", "pgvisor.conf:1: control character in the value" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].text), -1);
		assert_string_equal(err, cases[i].err);
	}
}

static void test_limits(void **state)
{
	char text[4096] = "";

	(void)state;
	for (int i = 0; i <= BOOT_CONF_MAX_VMS; i++)
		strcat(text, "vm = \"a.cfg\"\n");
	assert_int_equal(parse(text), -1);
	assert_string_equal(err, "pgvisor.conf:17: too many vm lines");

	memset(text, 0, sizeof(text));
	strcpy(text, "vm = \"");
	memset(text + strlen(text), 'a', CFG_PATH_MAX);
	strcat(text, "\"\n");
	assert_int_equal(parse(text), -1);
	assert_string_equal(err, "pgvisor.conf:1: vm path too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
