/* Unit tests for arch/x86/lib/format.c, the hypervisor's vsnprintf.
 *
 * format.c is compiled into this file with its functions renamed to
 * pg_vsnprintf/pg_snprintf, so they do not clash with glibc's. glibc's
 * <stdio.h> is included first, so format.c's own #include <stdio.h> adds
 * nothing. Expected strings are the C99 results; where C99 defines the
 * result, glibc's vsnprintf is also checked to agree with them. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

int pg_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int pg_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define vsnprintf pg_vsnprintf
#define snprintf pg_snprintf
#include "arch/x86/lib/format.c"
#undef vsnprintf
#undef snprintf

/* pg_vsnprintf without the format attribute, for formats C leaves
 * undefined (the compiler would rightly warn about them). */
static int (*const pg_vsnprintf_raw)(char *, size_t, const char *, va_list) = pg_vsnprintf;

#define BUF 256

/* Formats with pg_vsnprintf into a canary-filled buffer and returns the
 * result length; out gets the text. */
static int format_pg(char *out, size_t size, const char *fmt, va_list ap)
{
	return pg_vsnprintf_raw(out, size, fmt, ap);
}

static void vcheck(int line, bool against_libc, const char *expect, const char *fmt, va_list ap)
{
	char buf[BUF], ref[BUF];
	va_list ap2;

	va_copy(ap2, ap);
	memset(buf, 0x7e, sizeof(buf));
	int n = format_pg(buf, sizeof(buf), fmt, ap);
	if (strcmp(buf, expect) != 0 || n != (int)strlen(expect))
		print_error("line %d: format \"%s\": got \"%s\" (%d), expected \"%s\"\n", line, fmt,
			    buf, n, expect);
	assert_string_equal(buf, expect);
	assert_int_equal(n, strlen(expect));
	assert_int_equal((unsigned char)buf[n + 1], 0x7e); /* nothing past the NUL */
	if (against_libc) {
		int m = vsnprintf(ref, sizeof(ref), fmt, ap2);
		if (strcmp(ref, expect) != 0)
			print_error("line %d: glibc gives \"%s\" for \"%s\"\n", line, ref, fmt);
		assert_string_equal(ref, expect);
		assert_int_equal(m, n);
	}
	va_end(ap2);
}

/* A case C99 defines: pg_vsnprintf and glibc must both give expect. */
static void check(int line, const char *expect, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void check(int line, const char *expect, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(line, true, expect, fmt, ap);
	va_end(ap);
}

/* Like check, without the compiler's format checking: for redundant flag
 * combinations that C99 defines but gcc warns about. */
static void check_quiet(int line, const char *expect, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(line, true, expect, fmt, ap);
	va_end(ap);
}

/* A case where only pgvisor's documented behaviour is checked. */
static void check_pg(int line, const char *expect, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vcheck(line, false, expect, fmt, ap);
	va_end(ap);
}

#define CHECK(expect, ...) check(__LINE__, expect, __VA_ARGS__)
#define CHECK_QUIET(expect, ...) check_quiet(__LINE__, expect, __VA_ARGS__)
#define CHECK_PG(expect, ...) check_pg(__LINE__, expect, __VA_ARGS__)

static void test_plain_text(void **state)
{
	(void)state;
	CHECK("", "%s", "");
	CHECK("hello, world", "hello, world");
	CHECK("100%", "100%%");
	CHECK("a%b", "a%%b");
	CHECK("x", "%c", 'x');
	CHECK("axb", "a%cb", 'x');
}

static void test_signed(void **state)
{
	(void)state;
	CHECK("0", "%d", 0);
	CHECK("42", "%d", 42);
	CHECK("-42", "%d", -42);
	CHECK("-7", "%i", -7);
	CHECK("2147483647", "%d", INT_MAX);
	CHECK("-2147483648", "%d", INT_MIN);
	CHECK("   42", "%5d", 42);
	CHECK("42   |", "%-5d|", 42);
	CHECK("00042", "%05d", 42);
	CHECK("-0042", "%05d", -42);
	CHECK_QUIET("42   ", "%-05d", 42); /* '0' ignored with '-' */
	CHECK("+5", "%+d", 5);
	CHECK("-5", "%+d", -5);
	CHECK("+0", "%+d", 0);
	CHECK(" 5", "% d", 5);
	CHECK("-5", "% d", -5);
	CHECK_QUIET("+5", "%+ d", 5); /* ' ' ignored with '+' */
	CHECK("  +42", "%+5d", 42);
	CHECK("+0042", "%+05d", 42);
	CHECK("12345", "%3d", 12345);
}

static void test_precision(void **state)
{
	(void)state;
	CHECK("007", "%.3d", 7);
	CHECK("-007", "%.3d", -7);
	CHECK(" -007", "%5.3d", -7);
	CHECK_QUIET("  042", "%05.3d", 42); /* '0' ignored with a precision */
	CHECK("", "%.0d", 0);
	CHECK("   ", "%3.0d", 0);
	CHECK("", "%.0x", 0);
	CHECK("", "%.0u", 0u);
	CHECK("", "%.0o", 0u);
	CHECK("1", "%.0d", 1);
	CHECK("0000ff", "%.6x", 255);
	CHECK("0x0000ff", "%#.6x", 255);
	CHECK("ab", "%.2s", "abc");
	CHECK("abc", "%.5s", "abc");
	CHECK("", "%.0s", "abc");
	CHECK("   ab", "%5.2s", "abc");
}

static void test_unsigned_and_bases(void **state)
{
	(void)state;
	CHECK("0", "%u", 0u);
	CHECK("4294967295", "%u", UINT_MAX);
	CHECK("deadbeef", "%x", 0xdeadbeefu);
	CHECK("DEADBEEF", "%X", 0xdeadbeefu);
	CHECK("10", "%o", 8u);
	CHECK("0xff", "%#x", 255u);
	CHECK("0XFF", "%#X", 255u);
	CHECK("010", "%#o", 8u);
	CHECK("010", "%#.3o", 8u);
	CHECK("0", "%#.0o", 0u);
	CHECK("      0xff", "%#10x", 255u);
	CHECK("0x000000ff", "%#010x", 255u);
	CHECK("0xff  |", "%-#6x|", 255u);
	CHECK("000000ff", "%08x", 255u);
}

static void test_length_modifiers(void **state)
{
	(void)state;
	CHECK("-56", "%hhd", 200);
	CHECK("255", "%hhu", 511);
	CHECK("ff", "%hhx", 0x1ff);
	CHECK("4464", "%hd", 70000);
	CHECK("-1", "%hd", 65535);
	CHECK("4464", "%hu", 70000);
	CHECK("-9223372036854775808", "%ld", LONG_MIN);
	CHECK("18446744073709551615", "%lu", ULONG_MAX);
	CHECK("ffffffffffffffff", "%lx", ULONG_MAX);
	CHECK("-9223372036854775808", "%lld", LLONG_MIN);
	CHECK("9223372036854775807", "%lld", LLONG_MAX);
	CHECK("18446744073709551615", "%llu", ULLONG_MAX);
	CHECK("1777777777777777777777", "%llo", ULLONG_MAX);
	CHECK("FFFFFFFFFFFFFFFF", "%llX", ULLONG_MAX);
	CHECK("0000000100000000", "%016llx", 0x100000000ull);
	CHECK("18446744073709551615", "%zu", SIZE_MAX);
	CHECK("1000", "%zx", (size_t)0x1000);
	CHECK("-9223372036854775808", "%jd", INTMAX_MIN);
	CHECK("18446744073709551615", "%ju", UINTMAX_MAX);
	CHECK("-5", "%td", (ptrdiff_t)-5);
	/* The argument after a 64-bit one is still read correctly. */
	CHECK("1 2 3", "%d %llu %d", 1, 2ull, 3);
}

static void test_strings_and_width_args(void **state)
{
	(void)state;
	CHECK("abc", "%s", "abc");
	CHECK("  abc", "%5s", "abc");
	CHECK("abc  |", "%-5s|", "abc");
	CHECK("a", "%.*s", 1, "abc");
	CHECK("   42", "%*d", 5, 42);
	CHECK("42   |", "%-*d|", 5, 42);
	CHECK("42   |", "%*d|", -5, 42); /* negative width: left-justify */
	CHECK("42", "%.*d", -1, 42);	 /* negative precision: as if none */
	CHECK("  007", "%*.*d", 5, 3, 7);
	CHECK("0x1234", "%p", (void *)0x1234);
	CHECK("[pgvisor:7] 0x00001000 ok", "[%s:%u] %#010x %s", "pgvisor", 7u, 0x1000u, "ok");
}

/* Behaviour C leaves undefined or implementation-defined, as format.c
 * documents or does it. */
static void test_pgvisor_specific(void **state)
{
	(void)state;
	CHECK_PG("(null)", "%s", (char *)NULL);
	CHECK_PG("0x0", "%p", (void *)NULL); /* glibc says "(nil)" */
	CHECK_PG("%q", "%q");
	CHECK_PG("abc", "abc%");
	CHECK_PG("abc", "abc%5");
	CHECK_PG("abc", "abc%l");
}

static void test_truncation(void **state)
{
	(void)state;
	char buf[16];

	memset(buf, 0x7e, sizeof(buf));
	assert_int_equal(pg_snprintf(buf, 5, "hello world"), 11);
	assert_string_equal(buf, "hell");
	assert_int_equal((unsigned char)buf[5], 0x7e);

	memset(buf, 0x7e, sizeof(buf));
	assert_int_equal(pg_snprintf(buf, 6, "hello"), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal((unsigned char)buf[6], 0x7e);

	memset(buf, 0x7e, sizeof(buf));
	assert_int_equal(pg_snprintf(buf, 4, "%d", 123456), 6);
	assert_string_equal(buf, "123");

	memset(buf, 0x7e, sizeof(buf));
	assert_int_equal(pg_snprintf(buf, 4, "%8s|", "ab"), 9);
	assert_string_equal(buf, "   ");

	memset(buf, 0x7e, sizeof(buf));
	assert_int_equal(pg_snprintf(buf, 1, "%s", "abc"), 3);
	assert_int_equal(buf[0], '\0');
	assert_int_equal((unsigned char)buf[1], 0x7e);

	/* size 0: nothing written, not even through the pointer. */
	assert_int_equal(pg_snprintf(NULL, 0, "%s=%d", "x", 10), 4);
	memset(buf, 0x7e, sizeof(buf));
	assert_int_equal(pg_snprintf(buf, 0, "abc"), 3);
	assert_int_equal((unsigned char)buf[0], 0x7e);
}

/* C99 corner cases format.c once got wrong: width on %c, '#' with a zero
 * value, '+' and ' ' on unsigned conversions. */
static void test_c99_corner_cases(void **state)
{
	(void)state;
	struct {
		const char *fmt;
		int arg;
		const char *c99;
	} cases[] = {
		{ "[%5c]", 'x', "[    x]" }, /* width ignored for %c */
		{ "[%-3c]", 'y', "[y  ]" },
		{ "[%#x]", 0, "[0]" }, /* '#' adds no 0x to a zero */
		{ "[%#5x]", 0, "[    0]" },
		{ "[%#o]", 0, "[0]" }, /* '#' on octal only ensures one leading 0 */
		{ "[%+u]", 5, "[5]" }, /* '+' and ' ' apply to signed conversions only */
		{ "[% u]", 5, "[5]" },
		{ "[%+x]", 5, "[5]" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[BUF], ref[BUF];
		int n = pg_snprintf(buf, sizeof(buf), cases[i].fmt, cases[i].arg);
		snprintf(ref, sizeof(ref), cases[i].fmt, cases[i].arg);
		assert_string_equal(ref, cases[i].c99); /* the expectation itself */
		assert_string_equal(buf, cases[i].c99);
		assert_int_equal(n, (int)strlen(cases[i].c99));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_precision),
		cmocka_unit_test(test_unsigned_and_bases),
		cmocka_unit_test(test_length_modifiers),
		cmocka_unit_test(test_strings_and_width_args),
		cmocka_unit_test(test_pgvisor_specific),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_c99_corner_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
