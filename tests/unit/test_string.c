/* Unit tests for arch/x86/lib/string.c, the hypervisor's own copy, fill
 * and compare loops (eight bytes an iteration and a byte tail), against
 * the C library's: every length up to 80 at every alignment, and pages.
 * The file is included with its functions renamed, so the test binary
 * keeps the C library's for itself (and for ASan's interceptors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define memcpy pg_memcpy
#define memmove pg_memmove
#define memset pg_memset
#define memcmp pg_memcmp
#define strlen pg_strlen
#define strnlen pg_strnlen
#define strcmp pg_strcmp
#define strncmp pg_strncmp
#define strchr pg_strchr
#define strstr pg_strstr
#define strrchr pg_strrchr
#include "arch/x86/lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strstr
#undef strrchr

enum { AREA = 8192 + 64 };

static uint8_t src[AREA], got[AREA], want[AREA];

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed * 17 + (i >> 8));
}

/* Lengths 0..80 and two pages and a bit, at every source and destination
 * alignment: the bytes outside the range stay as they were. */
static const size_t lengths[] = { 0,  1,  2,  7,  8,  9,    15,	  16,	17,   31,
				  63, 64, 65, 79, 80, 4095, 4096, 4097, 8192, 8199 };

static void test_memcpy_every_length_and_alignment(void **state)
{
	(void)state;
	fill(src, AREA, 1);
	for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++)
		for (size_t so = 0; so < 8; so++)
			for (size_t d = 0; d < 8; d++) {
				size_t n = lengths[l];
				fill(got, AREA, 2);
				memcpy(want, got, AREA);
				memcpy(want + d, src + so, n);
				assert_ptr_equal(pg_memcpy(got + d, src + so, n), got + d);
				assert_memory_equal(got, want, AREA);
			}
}

static void test_memset_every_length_and_alignment(void **state)
{
	(void)state;
	for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++)
		for (size_t d = 0; d < 8; d++) {
			size_t n = lengths[l];
			fill(got, AREA, 3);
			memcpy(want, got, AREA);
			memset(want + d, 0xa5, n);
			/* Only the low byte of c counts. */
			assert_ptr_equal(pg_memset(got + d, 0x7a5, n), got + d);
			assert_memory_equal(got, want, AREA);
		}
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Equal ranges compare 0; one byte changed anywhere (first, in a word,
 * in the tail) gives the C library's sign, higher or lower. */
static void test_memcmp_finds_the_first_difference(void **state)
{
	(void)state;
	fill(src, AREA, 4);
	for (size_t l = 0; l < sizeof(lengths) / sizeof(lengths[0]); l++) {
		size_t n = lengths[l];
		memcpy(got, src, AREA);
		assert_int_equal(pg_memcmp(got + 3, src + 3, n), 0);
		for (size_t at = 0; at < n; at += 1 + at / 3) {
			for (int delta = -1; delta <= 1; delta += 2) {
				memcpy(got, src, AREA);
				got[3 + at] = (uint8_t)(got[3 + at] + delta);
				/* A later difference in the other direction must not
				 * decide. */
				if (at + 1 < n)
					got[3 + at + 1] = (uint8_t)(got[3 + at + 1] - delta);
				assert_int_equal(sign(pg_memcmp(got + 3, src + 3, n)),
						 sign(memcmp(got + 3, src + 3, n)));
				assert_int_equal(sign(pg_memcmp(got + 3, src + 3, n)), delta);
			}
		}
	}
}

static void test_memmove_overlapping_both_ways(void **state)
{
	(void)state;
	for (size_t shift = 1; shift < 20; shift++) {
		fill(got, AREA, 5);
		memcpy(want, got, AREA);
		memmove(want + shift, want, 300);
		pg_memmove(got + shift, got, 300);
		assert_memory_equal(got, want, AREA);
		memmove(want, want + shift, 300);
		pg_memmove(got, got + shift, 300);
		assert_memory_equal(got, want, AREA);
	}
}

static void test_string_functions(void **state)
{
	(void)state;
	assert_int_equal(pg_strlen(""), 0);
	assert_int_equal(pg_strlen("pgvisor"), 7);
	assert_int_equal(pg_strnlen("pgvisor", 3), 3);
	assert_true(pg_strcmp("abc", "abd") < 0 && pg_strcmp("b", "a") > 0);
	assert_int_equal(pg_strcmp("same", "same"), 0);
	assert_int_equal(pg_strncmp("abcx", "abcy", 3), 0);
	assert_true(pg_strncmp("abcx", "abcy", 4) < 0);
	const char *s = "vm net-a: migrate";
	assert_ptr_equal(pg_strchr(s, ':'), s + 8);
	assert_ptr_equal(pg_strchr(s, '\0'), s + strlen(s));
	assert_null(pg_strchr(s, '#'));
	assert_ptr_equal(pg_strrchr(s, 'a'), s + 14);
	assert_ptr_equal(pg_strstr(s, "migrate"), s + 10);
	assert_null(pg_strstr(s, "save"));
	assert_ptr_equal(pg_strstr(s, ""), s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcpy_every_length_and_alignment),
		cmocka_unit_test(test_memset_every_length_and_alignment),
		cmocka_unit_test(test_memcmp_finds_the_first_difference),
		cmocka_unit_test(test_memmove_overlapping_both_ways),
		cmocka_unit_test(test_string_functions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
