/* Unit tests for vmm/dev/pvclock.c: the kvm-clock scale turns TSC ticks
 * into nanoseconds as exactly as a 32-bit multiplier can, for TSC rates
 * from Bochs' tens of MHz to real CPUs' GHz, computed the way Linux's
 * pvclock_scale_delta does; and the records have the ABI's layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/dev/pvclock.h"

#define NSEC_PER_SEC 1000000000ull

/* Linux's pvclock_scale_delta (arch/x86/include/asm/pvclock.h). */
static uint64_t linux_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

static uint64_t exact_ns(uint64_t ticks, uint64_t hz)
{
	return (uint64_t)((unsigned __int128)ticks * NSEC_PER_SEC / hz);
}

static void test_scale_is_precise_for_every_rate(void **state)
{
	static const uint64_t rates[] = {
		1000000,    14318180,	49998000,   100000000,	999999999,
		1000000000, 1000000001, 2400000000, 3700000000, 5000000000
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t hz = rates[i];
		struct pvclock_scale s = pvclock_scale_for_hz(hz);
		/* The most precision: the multiplier uses its top bit. */
		assert_true(s.mul >= 1u << 31);
		/* One hour of ticks: within 2^-31 of the exact time plus the
		 * ticks a right shift drops. */
		uint64_t ticks = hz * 3600;
		uint64_t want = exact_ns(ticks, hz);
		uint64_t got = pvclock_scale_delta(ticks, s);
		assert_int_equal(got, linux_scale(ticks, s.mul, s.shift));
		uint64_t err = want > got ? want - got : got - want;
		assert_true(err <= want / (1ull << 31) + 2 * NSEC_PER_SEC / hz + 1);
		/* One second is a second, to the nanosecond and below. */
		uint64_t one = pvclock_scale_delta(hz, s);
		assert_true(one <= NSEC_PER_SEC && one >= NSEC_PER_SEC - 2);
	}
}

static void test_shift_direction_follows_the_rate(void **state)
{
	(void)state;
	/* Slower than 1 GHz: ticks are scaled up before the multiply. */
	assert_true(pvclock_scale_for_hz(50000000).shift > 0);
	/* Faster than 2 GHz: scaled down. */
	assert_true(pvclock_scale_for_hz(3000000000ull).shift < 0);
	/* 1 GHz exactly: one tick is one nanosecond. */
	struct pvclock_scale s = pvclock_scale_for_hz(NSEC_PER_SEC);
	assert_int_equal(pvclock_scale_delta(123456789, s), 123456789);
}

static void test_record_layouts_match_the_abi(void **state)
{
	(void)state;
	/* arch/x86/include/asm/pvclock-abi.h */
	assert_int_equal(offsetof(struct pvclock_time_info, version), 0);
	assert_int_equal(offsetof(struct pvclock_time_info, tsc_timestamp), 8);
	assert_int_equal(offsetof(struct pvclock_time_info, system_time), 16);
	assert_int_equal(offsetof(struct pvclock_time_info, tsc_to_system_mul), 24);
	assert_int_equal(offsetof(struct pvclock_time_info, tsc_shift), 28);
	assert_int_equal(offsetof(struct pvclock_time_info, flags), 29);
	assert_int_equal(offsetof(struct pvclock_wall_clock, sec), 4);
	assert_int_equal(offsetof(struct pvclock_wall_clock, nsec), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_is_precise_for_every_rate),
		cmocka_unit_test(test_shift_direction_follows_the_rate),
		cmocka_unit_test(test_record_layouts_match_the_abi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
