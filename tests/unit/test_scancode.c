/* Unit tests for drivers/scancode.c: scan code set 1 bytes, as the i8042
 * hands them over, typed as a serial terminal would send them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/scancode.h"

#define RELEASE(code) ((uint8_t)((code) | 0x80))
#define SC_A 0x1e
#define SC_1 0x02
#define SC_ENTER 0x1c
#define SC_LSHIFT 0x2a
#define SC_RSHIFT 0x36
#define SC_CTRL 0x1d
#define SC_CAPS 0x3a
#define SC_SLASH 0x35
#define SC_UP 0x48
#define SC_DELETE 0x53
#define SC_BACKSPACE 0x0e
#define SC_F1 0x3b

/* Feeds codes and returns what they typed, as a string. */
static const char *type(struct scancode_state *s, const uint8_t *codes, size_t n)
{
	static char text[64];
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t out[SCANCODE_OUT_MAX];
		unsigned k = scancode_feed(s, codes[i], out);
		assert_true(k <= SCANCODE_OUT_MAX);
		memcpy(text + len, out, k);
		len += k;
	}
	text[len] = '\0';
	return text;
}

#define TYPE(s, ...)                                                                               \
	type(s, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static void test_letters_digits_enter(void **state)
{
	(void)state;
	struct scancode_state s = { 0 };

	/* "a1" Enter, each key pressed and released. */
	assert_string_equal(
		TYPE(&s, SC_A, RELEASE(SC_A), SC_1, RELEASE(SC_1), SC_ENTER, RELEASE(SC_ENTER)),
		"a1\r");
	assert_string_equal(TYPE(&s, 0x39, 0x0c, 0x2b, 0x27), " -\\;");
	assert_string_equal(TYPE(&s, SC_BACKSPACE), "\x7f");
}

static void test_shift_either_side_and_release(void **state)
{
	(void)state;
	struct scancode_state s = { 0 };

	assert_string_equal(TYPE(&s, SC_LSHIFT, SC_A, SC_1, RELEASE(SC_LSHIFT), SC_A), "A!a");
	assert_string_equal(TYPE(&s, SC_RSHIFT, SC_SLASH, RELEASE(SC_RSHIFT), SC_SLASH), "?/");
	/* Both held, one let go: still shifted. */
	assert_string_equal(
		TYPE(&s, SC_LSHIFT, SC_RSHIFT, RELEASE(SC_LSHIFT), SC_A, RELEASE(SC_RSHIFT), SC_A),
		"Aa");
}

static void test_caps_lock_letters_only(void **state)
{
	(void)state;
	struct scancode_state s = { 0 };

	assert_string_equal(TYPE(&s, SC_CAPS, RELEASE(SC_CAPS), SC_A, SC_1), "A1");
	assert_string_equal(TYPE(&s, SC_LSHIFT, SC_A, RELEASE(SC_LSHIFT)), "a");
	assert_string_equal(TYPE(&s, SC_CAPS, RELEASE(SC_CAPS), SC_A), "a");
}

static void test_ctrl_a_left_and_right(void **state)
{
	(void)state;
	struct scancode_state s = { 0 };

	assert_string_equal(TYPE(&s, SC_CTRL, SC_A, RELEASE(SC_A), SC_A, RELEASE(SC_CTRL), SC_A),
			    "\x01\x01"
			    "a");
	/* Right Ctrl is E0 1D. */
	assert_string_equal(TYPE(&s, 0xe0, SC_CTRL, SC_A, 0xe0, RELEASE(SC_CTRL), SC_A), "\x01"
											 "a");
	/* Ctrl with a digit types the digit. */
	assert_string_equal(TYPE(&s, SC_CTRL, SC_1, RELEASE(SC_CTRL)), "1");
}

static void test_extended_keys(void **state)
{
	(void)state;
	struct scancode_state s = { 0 };

	assert_string_equal(TYPE(&s, 0xe0, SC_UP, 0xe0, RELEASE(SC_UP)), "\x1b[A");
	assert_string_equal(TYPE(&s, 0xe0, SC_DELETE), "\x1b[3~");
	assert_string_equal(TYPE(&s, 0xe0, SC_ENTER, 0xe0, SC_SLASH), "\r/");
	/* The keypad's own codes without E0 are its digits. */
	assert_string_equal(TYPE(&s, SC_UP, SC_DELETE), "8.");
}

static void test_fake_shift_and_pause_ignored(void **state)
{
	(void)state;
	struct scancode_state s = { 0 };

	/* Print Screen: E0 2A E0 37; the fake shift must not shift. */
	assert_string_equal(TYPE(&s, 0xe0, SC_LSHIFT, 0xe0, 0x37, SC_A), "a");
	/* Pause: E1 1D 45 E1 9D C5, no Ctrl left behind. */
	assert_string_equal(TYPE(&s, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, SC_A), "a");
}

static void test_keys_without_characters(void **state)
{
	(void)state;
	struct scancode_state s = { 0 };

	assert_string_equal(TYPE(&s, SC_F1, RELEASE(SC_F1), 0x58, 0x7f, 0xff, 0x00), "");
	assert_string_equal(TYPE(&s, SC_A), "a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_letters_digits_enter),
		cmocka_unit_test(test_shift_either_side_and_release),
		cmocka_unit_test(test_caps_lock_letters_only),
		cmocka_unit_test(test_ctrl_a_left_and_right),
		cmocka_unit_test(test_extended_keys),
		cmocka_unit_test(test_fake_shift_and_pause_ignored),
		cmocka_unit_test(test_keys_without_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
