/* Unit tests for drivers/byte_ring.h: typed bytes kept in order, a full
 * ring dropping (and counting) what does not fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drivers/byte_ring.h"

static void test_fifo_order_and_wrap(void **state)
{
	(void)state;
	uint8_t buf[4];
	struct byte_ring r;

	byte_ring_init(&r, buf, sizeof(buf));
	assert_int_equal(byte_ring_get(&r), -1);
	for (int round = 0; round < 3; round++) {
		assert_true(byte_ring_put(&r, (uint8_t)(10 * round + 1)));
		assert_true(byte_ring_put(&r, (uint8_t)(10 * round + 2)));
		assert_true(byte_ring_put(&r, (uint8_t)(10 * round + 3)));
		assert_int_equal(byte_ring_peek(&r), 10 * round + 1);
		assert_int_equal(byte_ring_get(&r), 10 * round + 1);
		assert_int_equal(byte_ring_get(&r), 10 * round + 2);
		assert_int_equal(byte_ring_get(&r), 10 * round + 3);
		assert_int_equal(r.count, 0);
	}
	assert_int_equal(r.dropped, 0);
}

static void test_full_ring_drops_and_counts(void **state)
{
	(void)state;
	uint8_t buf[3];
	struct byte_ring r;

	byte_ring_init(&r, buf, sizeof(buf));
	for (uint8_t c = 0; c < 5; c++)
		byte_ring_put(&r, c);
	assert_int_equal(r.count, 3);
	assert_int_equal(r.dropped, 2);
	assert_int_equal(byte_ring_get(&r), 0);
	assert_true(byte_ring_put(&r, 9));
	assert_int_equal(byte_ring_get(&r), 1);
	assert_int_equal(byte_ring_get(&r), 2);
	assert_int_equal(byte_ring_get(&r), 9);
	assert_int_equal(byte_ring_get(&r), 0 - 1);
}

static void test_runs_up_to_the_buffer_end(void **state)
{
	(void)state;
	uint8_t buf[4];
	struct byte_ring r;
	const uint8_t *run;

	byte_ring_init(&r, buf, sizeof(buf));
	for (uint8_t c = 1; c <= 3; c++)
		byte_ring_put(&r, c);
	byte_ring_skip(&r, 2);
	byte_ring_put(&r, 4);
	byte_ring_put(&r, 5); /* wraps to buf[0] */
	assert_int_equal(byte_ring_run(&r, &run), 2);
	assert_int_equal(run[0], 3);
	assert_int_equal(run[1], 4);
	byte_ring_skip(&r, 2);
	assert_int_equal(byte_ring_run(&r, &run), 1);
	assert_int_equal(run[0], 5);
	byte_ring_skip(&r, 7); /* more than there is: all of it */
	assert_int_equal(r.count, 0);
	assert_int_equal(byte_ring_run(&r, &run), 0);
	byte_ring_put(&r, 6);
	byte_ring_clear(&r);
	assert_int_equal(byte_ring_get(&r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_order_and_wrap),
		cmocka_unit_test(test_full_ring_drops_and_counts),
		cmocka_unit_test(test_runs_up_to_the_buffer_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
