/* Unit tests for the control channel's JSON (vmm/console/json_writer.c,
 * json_request.c) and its requests as console commands
 * (control_request.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/console/control_request.h"
#include "vmm/console/json_request.h"
#include "vmm/console/json_writer.h"

static struct json_object obj;
static struct control_request req;
static char err[160];

static int parse_json(const char *text)
{
	return json_parse_object(text, strlen(text), &obj, err, sizeof(err));
}

static int parse_request(const char *text)
{
	return control_request_parse(text, strlen(text), &req, err, sizeof(err));
}

static void test_writer_builds_nested_replies(void **state)
{
	char buf[256];
	struct json_writer w;

	(void)state;
	json_init(&w, buf, sizeof(buf));
	json_open(&w, '{');
	json_key_int(&w, "id", -7);
	json_key_bool(&w, "ok", true);
	json_key(&w, "vms");
	json_open(&w, '[');
	json_open(&w, '{');
	json_key_string(&w, "name", "a\"b\\c\n\x01");
	json_key_uint(&w, "exits", UINT64_MAX);
	json_close(&w, '}');
	json_open(&w, '{');
	json_close(&w, '}');
	json_close(&w, ']');
	json_key_bool(&w, "paused", false);
	json_close(&w, '}');
	assert_true(json_ok(&w));
	assert_string_equal(buf,
			    "{\"id\":-7,\"ok\":true,\"vms\":[{\"name\":\"a\\\"b\\\\c\\n\\u0001\","
			    "\"exits\":18446744073709551615},{}],\"paused\":false}");
}

static void test_writer_reports_overflow_and_open_brackets(void **state)
{
	char buf[8];
	struct json_writer w;

	(void)state;
	json_init(&w, buf, sizeof(buf));
	json_open(&w, '{');
	json_key_string(&w, "name", "long enough");
	json_close(&w, '}');
	assert_false(json_ok(&w));
	assert_true(strlen(buf) < sizeof(buf));

	char big[64];
	json_init(&w, big, sizeof(big));
	json_open(&w, '{');
	assert_false(json_ok(&w)); /* still open */
	json_close(&w, '}');
	assert_true(json_ok(&w));
	json_close(&w, '}');
	assert_false(json_ok(&w)); /* closed once too often */
}

static void test_parser_takes_strings_integers_booleans(void **state)
{
	(void)state;
	assert_int_equal(parse_json(" { \"a\" : \"x\\\"\\\\\\/\\n\\u0041\", \"b\": -12, "
				    "\"c\":true,\"d\":false, \"e\": 0 }\r\n"),
			 0);
	assert_int_equal(obj.count, 5);
	assert_string_equal(json_field(&obj, "a")->str, "x\"\\/\nA");
	assert_int_equal(json_field(&obj, "b")->type, JSON_INT);
	assert_int_equal(json_field(&obj, "b")->num, -12);
	assert_true(json_field(&obj, "c")->flag);
	assert_int_equal(json_field(&obj, "d")->type, JSON_BOOL);
	assert_false(json_field(&obj, "d")->flag);
	assert_int_equal(json_field(&obj, "e")->num, 0);
	assert_null(json_field(&obj, "f"));
	assert_int_equal(parse_json("{}"), 0);
	assert_int_equal(obj.count, 0);
	assert_int_equal(parse_json("{\"m\":9223372036854775807,\"n\":-9223372036854775808}"), 0);
	assert_int_equal(json_field(&obj, "m")->num, INT64_MAX);
	assert_int_equal(json_field(&obj, "n")->num, INT64_MIN);
}

static void test_parser_refuses_what_it_does_not_take(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"[1]",
		"{",
		"{\"a\"}",
		"{\"a\":}",
		"{\"a\":1,}",
		"{\"a\":1 \"b\":2}",
		"{\"a\":{}}",
		"{\"a\":[1]}",
		"{\"a\":null}",
		"{\"a\":1.5}",
		"{\"a\":1e3}",
		"{\"a\":01}",
		"{\"a\":-}",
		"{\"a\":9223372036854775808}",
		"{\"a\":-9223372036854775809}",
		"{\"a\":\"unterminated}",
		"{\"a\":\"\\x\"}",
		"{\"a\":\"\\u00e9\"}",
		"{\"a\":\"\\u0000\"}",
		"{\"a\":\"\\u12\"}",
		"{\"a\":\"tab\there\"}",
		"{\"a\":tru}",
		"{\"a\":1,\"a\":2}",
		"{\"a\":1} x",
		"{\"a-key-far-too-long\":1}",
		"{\"1\":1,\"2\":2,\"3\":3,\"4\":4,\"5\":5,\"6\":6,\"7\":7,\"8\":8,\"9\":9}",
	};
	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse_json(bad[i]), -1);
		assert_true(strlen(err) > 0);
		assert_non_null(strstr(err, "at byte"));
	}
	char value[200] = "{\"a\":\"";
	memset(value + 6, 'x', 120);
	strcpy(value + 126, "\"}");
	assert_int_equal(parse_json(value), -1);
	assert_non_null(strstr(err, "longer than"));
}

static void test_requests_become_commands(void **state)
{
	(void)state;
	assert_int_equal(parse_request("{\"id\": 1, \"cmd\": \"list\"}"), 0);
	assert_true(req.has_id);
	assert_int_equal(req.id, 1);
	assert_int_equal(req.cmd.id, CMD_LIST);
	assert_int_equal(parse_request("{\"cmd\":\"pause\",\"vm\":\"alpha\"}"), 0);
	assert_false(req.has_id);
	assert_int_equal(req.cmd.id, CMD_PAUSE);
	assert_string_equal(req.cmd.vm, "alpha");
	assert_int_equal(
		parse_request("{\"len\":32,\"cmd\":\"mem\",\"gpa\":\"0x1000\",\"vm\":\"a\"}"), 0);
	assert_int_equal(req.cmd.id, CMD_MEM);
	assert_int_equal(req.cmd.gpa, 0x1000);
	assert_int_equal(req.cmd.len, 32);
	assert_int_equal(parse_request("{\"cmd\":\"trace\",\"vm\":\"a\",\"op\":\"show\",\"n\":5}"),
			 0);
	assert_int_equal(req.cmd.trace, TRACE_SHOW);
	assert_int_equal(req.cmd.count, 5);
	assert_int_equal(parse_request("{\"cmd\":\"shutdown\",\"vm\":\"a\"}"), 0);
	assert_int_equal(req.cmd.count, SHUTDOWN_TIMEOUT_DEFAULT);
	assert_int_equal(parse_request("{\"cmd\":\"create\",\"file\":\"x.cfg\"}"), 0);
	assert_string_equal(req.cmd.word, "x.cfg");
	assert_int_equal(parse_request("{\"cmd\":\"help\",\"command\":\"mem\"}"), 0);
	assert_string_equal(req.cmd.word, "mem");
	/* The image commands: "image" is the mem:NAME target, restore's
	 * new name is "vm". */
	assert_int_equal(parse_request("{\"cmd\":\"save\",\"vm\":\"a\",\"image\":\"mem:i\"}"), 0);
	assert_int_equal(req.cmd.id, CMD_SAVE);
	assert_string_equal(req.cmd.vm, "a");
	assert_string_equal(req.cmd.word, "i");
	assert_int_equal(parse_request("{\"cmd\":\"restore\",\"image\":\"mem:i\",\"vm\":\"b\"}"),
			 0);
	assert_int_equal(req.cmd.id, CMD_RESTORE);
	assert_string_equal(req.cmd.vm, "b");
	assert_int_equal(parse_request("{\"cmd\":\"restore\",\"image\":\"i\"}"), -1);
	assert_int_equal(parse_request("{\"cmd\":\"corrupt\",\"image\":\"mem:i\",\"offset\":7}"),
			 0);
	assert_int_equal(req.cmd.offset, 7);
	assert_int_equal(parse_request("{\"cmd\":\"migrate\",\"vm\":\"d\",\"host\":\"10.0.0.2\"}"),
			 0);
	assert_int_equal(req.cmd.id, CMD_MIGRATE);
	assert_string_equal(req.cmd.word, "10.0.0.2");
	assert_int_equal(parse_request("{\"cmd\":\"migrate cancel\",\"vm\":\"d\"}"), 0);
	assert_int_equal(req.cmd.id, CMD_MIGRATE_CANCEL);
	assert_string_equal(req.cmd.vm, "d");
}

static void test_bad_requests_say_why_and_keep_the_id(void **state)
{
	(void)state;
	assert_int_equal(parse_request("{\"id\":4,\"cmd\":\"frobnicate\"}"), -1);
	assert_true(req.has_id);
	assert_int_equal(req.id, 4);
	assert_string_equal(err, "unknown command 'frobnicate'");
	assert_int_equal(parse_request("{\"id\":5,\"cmd\":\"pause\",\"vm\":\"a\",\"colour\":1}"),
			 -1);
	assert_int_equal(req.id, 5);
	assert_string_equal(err, "pause: unknown field 'colour'");
	assert_int_equal(parse_request("{\"cmd\":\"pause\"}"), -1);
	assert_string_equal(err, "pause: field 'vm' is missing");
	assert_int_equal(parse_request("{\"cmd\":\"list\",\"vm\":\"a\"}"), -1);
	assert_int_equal(parse_request("{\"cmd\":\"pause\",\"vm\":\"a b\"}"), -1);
	assert_int_equal(parse_request("{\"cmd\":\"pause\",\"vm\":\"\"}"), -1);
	assert_int_equal(parse_request("{\"cmd\":\"pause\",\"vm\":true}"), -1);
	assert_int_equal(parse_request("{\"cmd\":\"mem\",\"vm\":\"a\",\"gpa\":-1,\"len\":1}"), -1);
	assert_int_equal(parse_request("{\"cmd\":\"mem\",\"vm\":\"a\",\"gpa\":0,\"len\":4097}"),
			 -1);
	assert_non_null(strstr(err, "LEN must be 1 to 4096"));
	assert_int_equal(parse_request("{\"id\":\"x\",\"cmd\":\"list\"}"), -1);
	assert_false(req.has_id);
	assert_int_equal(parse_request("{\"cmd\":1}"), -1);
	assert_int_equal(parse_request("{\"id\":2}"), -1);
	assert_int_equal(req.id, 2);
	assert_int_equal(parse_request("not json"), -1);
}

static void test_every_argument_has_a_field(void **state)
{
	(void)state;
	for (unsigned i = 0; i < CMD_COUNT; i++) {
		const struct command_info *c = command_info((enum command_id)i);
		assert_int_equal(control_arg_name((enum command_id)i, (unsigned)strlen(c->args)),
				 NULL);
		for (unsigned a = 0; a < strlen(c->args); a++)
			assert_non_null(control_arg_name((enum command_id)i, a));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_builds_nested_replies),
		cmocka_unit_test(test_writer_reports_overflow_and_open_brackets),
		cmocka_unit_test(test_parser_takes_strings_integers_booleans),
		cmocka_unit_test(test_parser_refuses_what_it_does_not_take),
		cmocka_unit_test(test_requests_become_commands),
		cmocka_unit_test(test_bad_requests_say_why_and_keep_the_id),
		cmocka_unit_test(test_every_argument_has_a_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
