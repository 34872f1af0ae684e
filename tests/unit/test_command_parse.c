/* Unit tests for vmm/console/command_parse.c: operator lines into
 * requests, and one line for everything wrong with them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/console/command_parse.h"

static struct command_request req;
static char err[160];

static int parse(const char *line)
{
	return command_parse(line, &req, err, sizeof(err));
}

static void test_every_command_has_help(void **state)
{
	(void)state;
	for (unsigned i = 0; i < CMD_COUNT; i++) {
		const struct command_info *c = command_info((enum command_id)i);
		enum command_id id;
		assert_non_null(c->name);
		assert_non_null(c->usage);
		assert_true(strlen(c->summary) > 0);
		assert_ptr_equal(command_find(c->name, &id), c);
		assert_int_equal(id, i);
	}
	assert_null(command_find("lis", NULL));
}

static void test_vm_commands(void **state)
{
	(void)state;
	static const char *const names[] = { "console", "pause", "unpause", "destroy",
					     "reboot",	"info",	 "exits",   "gdbserver" };
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char line[64];
		snprintf(line, sizeof(line), "  %s\t linux-1 ", names[i]);
		assert_int_equal(parse(line), 0);
		assert_string_equal(req.vm, "linux-1");
		assert_true(command_names_vm(req.id));
		assert_string_equal(err, "");
	}
	assert_int_equal(parse("pause"), -1);
	assert_string_equal(err, "pause: missing argument (pause VM)");
	assert_int_equal(parse("pause a b"), -1);
	assert_string_equal(err, "pause: too many arguments (pause VM)");
	assert_int_equal(parse("list"), 0);
	assert_int_equal(req.id, CMD_LIST);
	assert_false(command_names_vm(CMD_LIST));
	assert_int_equal(parse("list x"), -1);
}

static void test_unknown_and_empty(void **state)
{
	(void)state;
	assert_int_equal(parse("frobnicate vm"), -1);
	assert_string_equal(err, "unknown command 'frobnicate' (try help)");
	assert_int_equal(parse("   "), -1);
	assert_string_equal(err, "empty command (try help)");
	assert_int_equal(parse("a b c d e f g h i"), -1);
}

static void test_help(void **state)
{
	(void)state;
	assert_int_equal(parse("help"), 0);
	assert_int_equal(req.id, CMD_HELP);
	assert_string_equal(req.word, "");
	assert_int_equal(parse("help mem"), 0);
	assert_string_equal(req.word, "mem");
	assert_int_equal(parse("help nope"), -1);
	assert_string_equal(err, "no command named 'nope' (try help)");
}

static void test_mem_numbers_and_bounds(void **state)
{
	(void)state;
	assert_int_equal(parse("mem a 0x1000 64"), 0);
	assert_int_equal(req.gpa, 0x1000);
	assert_int_equal(req.len, 64);
	assert_int_equal(parse("mem a 4096 0X10"), 0);
	assert_int_equal(req.gpa, 4096);
	assert_int_equal(req.len, 16);
	assert_int_equal(parse("mem a 0 4096"), 0);
	assert_int_equal(parse("mem a 0 4097"), -1);
	assert_string_equal(err, "LEN must be 1 to 4096 (mem VM GPA LEN)");
	assert_int_equal(parse("mem a 0 0"), -1);
	assert_int_equal(parse("mem a 12z 16"), -1);
	assert_string_equal(err, "'12z' is not a number (mem VM GPA LEN)");
	assert_int_equal(parse("mem a 0x 16"), -1);
	assert_int_equal(parse("mem a -1 16"), -1);
	/* 2^64 does not fit; 2^64 - 1 does, and then wraps with LEN. */
	assert_int_equal(parse("mem a 18446744073709551616 1"), -1);
	assert_int_equal(parse("mem a 0x10000000000000000 1"), -1);
	assert_int_equal(parse("mem a 0xffffffffffffffff 2"), -1);
	assert_string_equal(err, "GPA + LEN wraps around (mem VM GPA LEN)");
	assert_int_equal(parse("mem a 0x1000"), -1);
}

static void test_trace(void **state)
{
	(void)state;
	assert_int_equal(parse("trace a on"), 0);
	assert_int_equal(req.trace, TRACE_ON);
	assert_int_equal(parse("trace a off"), 0);
	assert_int_equal(req.trace, TRACE_OFF);
	assert_int_equal(parse("trace a show"), 0);
	assert_int_equal(req.trace, TRACE_SHOW);
	assert_int_equal(req.count, TRACE_SHOW_DEFAULT);
	assert_int_equal(parse("trace a show 5"), 0);
	assert_int_equal(req.count, 5);
	assert_int_equal(parse("trace a show 65"), -1);
	assert_string_equal(err, "N must be 1 to 64 (trace VM on|off|show [N])");
	assert_int_equal(parse("trace a on 5"), -1);
	assert_int_equal(parse("trace a sideways"), -1);
	assert_string_equal(err, "'sideways': expected on, off or show (trace VM on|off|show [N])");
	assert_int_equal(parse("trace a"), -1);
}

static void test_shutdown_and_create(void **state)
{
	(void)state;
	assert_int_equal(parse("shutdown a"), 0);
	assert_int_equal(req.count, SHUTDOWN_TIMEOUT_DEFAULT);
	assert_int_equal(parse("shutdown a 5"), 0);
	assert_int_equal(req.count, 5);
	assert_int_equal(parse("shutdown a 0"), -1);
	assert_int_equal(parse("shutdown a 99999999999"), -1);
	assert_string_equal(err, "SECONDS must be 1 to 3600 (shutdown VM [SECONDS])");
	assert_int_equal(parse("create vms/late.cfg"), 0);
	assert_int_equal(req.id, CMD_CREATE);
	assert_string_equal(req.word, "vms/late.cfg");
	assert_string_equal(req.vm, "");
	assert_false(command_names_vm(CMD_CREATE));
}

static void test_long_names_refused(void **state)
{
	(void)state;
	char line[COMMAND_LINE_MAX];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "info ", 5);
	assert_int_equal(parse(line), -1);
	memcpy(line, "create ", 7);
	assert_int_equal(parse(line), -1);
}

/* save, restore, images, drop, corrupt: images are mem:NAME. */
static void test_image_commands(void **state)
{
	(void)state;
	assert_int_equal(parse("save dirty mem:img"), 0);
	assert_int_equal(req.id, CMD_SAVE);
	assert_true(command_names_vm(CMD_SAVE));
	assert_string_equal(req.vm, "dirty");
	assert_string_equal(req.word, "img");
	assert_int_equal(parse("save dirty img"), -1);
	assert_string_equal(err, "'img': images are mem:NAME (save VM mem:NAME)");
	assert_int_equal(parse("save dirty mem:"), -1);
	assert_int_equal(parse("save dirty"), -1);
	assert_int_equal(parse("save dirty mem:0123456789012345678901234567890123"), -1);
	assert_non_null(strstr(err, "is too long"));

	assert_int_equal(parse("restore mem:img"), 0);
	assert_int_equal(req.id, CMD_RESTORE);
	assert_false(command_names_vm(CMD_RESTORE));
	assert_string_equal(req.word, "img");
	assert_string_equal(req.vm, "");
	assert_int_equal(parse("restore mem:img copy"), 0);
	assert_string_equal(req.vm, "copy");
	assert_int_equal(parse("restore mem:img copy more"), -1);

	assert_int_equal(parse("images"), 0);
	assert_int_equal(req.id, CMD_IMAGES);
	assert_int_equal(parse("drop mem:img"), 0);
	assert_int_equal(req.id, CMD_DROP);
	assert_string_equal(req.word, "img");
	assert_int_equal(parse("corrupt mem:img 0x20"), 0);
	assert_int_equal(req.id, CMD_CORRUPT);
	assert_int_equal(req.offset, 0x20);
	assert_int_equal(req.record_type, 0);
	/* TYPE+OFFSET: a byte of the first record of that type. */
	assert_int_equal(parse("corrupt mem:img 0x1a+40"), 0);
	assert_int_equal(req.record_type, 0x1a);
	assert_int_equal(req.offset, 40);
	assert_int_equal(parse("corrupt mem:img 0+40"), -1);
	assert_int_equal(parse("corrupt mem:img x+40"), -1);
	assert_int_equal(parse("corrupt mem:img 0x1a+"), -1);
	assert_int_equal(parse("corrupt mem:img 0x100000000+1"), -1);
	assert_int_equal(parse("corrupt mem:img"), -1);
}

static void test_migrate_commands(void **state)
{
	(void)state;
	assert_int_equal(parse("migrate dirty 10.0.0.2"), 0);
	assert_int_equal(req.id, CMD_MIGRATE);
	assert_true(command_names_vm(CMD_MIGRATE));
	assert_string_equal(req.vm, "dirty");
	assert_string_equal(req.word, "10.0.0.2");
	/* Without HOST: live, within this machine. */
	assert_int_equal(parse("migrate dirty"), 0);
	assert_int_equal(req.id, CMD_MIGRATE);
	assert_string_equal(req.vm, "dirty");
	assert_string_equal(req.word, "");
	assert_int_equal(parse("migrate"), -1);
	assert_string_equal(err, "migrate: missing argument (migrate VM [HOST])");
	assert_int_equal(parse("migrate dirty 10.0.0.2 more"), -1);
	/* "cancel" as the second word is the other command. */
	assert_int_equal(parse(" migrate  cancel\tdirty"), 0);
	assert_int_equal(req.id, CMD_MIGRATE_CANCEL);
	assert_true(command_names_vm(CMD_MIGRATE_CANCEL));
	assert_string_equal(req.vm, "dirty");
	assert_string_equal(req.word, "");
	assert_int_equal(parse("migrate cancel"), -1);
	assert_string_equal(err, "migrate cancel: missing argument (migrate cancel VM)");
	assert_int_equal(parse("migrate cancel dirty 10.0.0.2"), -1);
	assert_int_equal(parse("cancel dirty"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command_has_help),
		cmocka_unit_test(test_vm_commands),
		cmocka_unit_test(test_unknown_and_empty),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_mem_numbers_and_bounds),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_shutdown_and_create),
		cmocka_unit_test(test_long_names_refused),
		cmocka_unit_test(test_image_commands),
		cmocka_unit_test(test_migrate_commands),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
