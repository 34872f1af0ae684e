/* Unit tests for vmm/vm/vcpu_start.c: INIT, SIPI and the wait-for-SIPI state
 * of application vCPUs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/vm/vcpu_start.h"

static void test_reset(void **state)
{
	struct vcpu_start bsp, ap;
	uint8_t vec;

	(void)state;
	vcpu_start_reset(&bsp, true);
	vcpu_start_reset(&ap, false);
	assert_true(vcpu_start_runnable(&bsp));
	assert_false(vcpu_start_runnable(&ap));
	assert_false(vcpu_start_apply(&ap, &vec));
}

static void test_init_sipi_starts_at_the_vector(void **state)
{
	struct vcpu_start ap;
	uint8_t vec = 0;

	(void)state;
	vcpu_start_reset(&ap, false);
	vcpu_start_init(&ap, false, true);
	vcpu_start_sipi(&ap, 0x08);
	vcpu_start_sipi(&ap, 0x09); /* the second SIPI before the AP ran */
	assert_true(vcpu_start_apply(&ap, &vec));
	assert_int_equal(vec, 0x09);
	assert_true(vcpu_start_runnable(&ap));
	/* Running now: a later SIPI is ignored. */
	vcpu_start_sipi(&ap, 0x10);
	assert_false(vcpu_start_apply(&ap, &vec));
	assert_true(vcpu_start_runnable(&ap));
}

static void test_sipi_without_init_after_reset(void **state)
{
	struct vcpu_start ap;
	uint8_t vec = 0;

	(void)state;
	/* After reset an AP already waits for SIPI. */
	vcpu_start_reset(&ap, false);
	vcpu_start_sipi(&ap, 0x20);
	assert_true(vcpu_start_apply(&ap, &vec));
	assert_int_equal(vec, 0x20);
}

static void test_init_cancels_an_earlier_sipi(void **state)
{
	struct vcpu_start ap;
	uint8_t vec;

	(void)state;
	vcpu_start_reset(&ap, false);
	vcpu_start_sipi(&ap, 0x20);
	vcpu_start_init(&ap, false, true);
	assert_false(vcpu_start_apply(&ap, &vec));
	assert_false(vcpu_start_runnable(&ap));
}

static void test_deassert_and_bsp_ignore_init(void **state)
{
	struct vcpu_start bsp, ap;
	uint8_t vec;

	(void)state;
	vcpu_start_reset(&bsp, true);
	vcpu_start_init(&bsp, true, true);
	assert_false(vcpu_start_apply(&bsp, &vec));
	assert_true(vcpu_start_runnable(&bsp));
	vcpu_start_sipi(&bsp, 0x08);
	assert_false(vcpu_start_apply(&bsp, &vec));

	vcpu_start_reset(&ap, false);
	assert_false(vcpu_start_apply(&ap, &vec)); /* waits for SIPI */
	vcpu_start_sipi(&ap, 0x08);
	assert_true(vcpu_start_apply(&ap, &vec));
	vcpu_start_init(&ap, false, false); /* de-assert */
	assert_false(vcpu_start_apply(&ap, &vec));
	assert_true(vcpu_start_runnable(&ap));
}

static void test_parked_until_init(void **state)
{
	struct vcpu_start ap;
	uint8_t vec;

	(void)state;
	vcpu_start_reset(&ap, false);
	vcpu_start_sipi(&ap, 0x08);
	assert_true(vcpu_start_apply(&ap, &vec));
	ap.parked = true;
	assert_false(vcpu_start_runnable(&ap));
	vcpu_start_sipi(&ap, 0x08); /* not waiting for SIPI: ignored */
	assert_false(vcpu_start_apply(&ap, &vec));
	vcpu_start_init(&ap, false, true);
	vcpu_start_sipi(&ap, 0x30);
	assert_true(vcpu_start_apply(&ap, &vec));
	assert_int_equal(vec, 0x30);
	assert_true(vcpu_start_runnable(&ap));
}

/* The run loop leaves the guest at once when the vCPU parks or an INIT
 * arrives: entering it again would run the code past its HLT, or past
 * the moment of the INIT. */
static void test_parked_or_init_leaves_the_guest(void **state)
{
	struct vcpu_start ap;
	uint8_t vec;

	(void)state;
	vcpu_start_reset(&ap, false);
	assert_false(vcpu_start_stays_in(&ap));
	vcpu_start_init(&ap, false, true);
	vcpu_start_sipi(&ap, 0x10);
	assert_true(vcpu_start_apply(&ap, &vec));
	assert_true(vcpu_start_stays_in(&ap));
	ap.parked = true; /* as handle_hlt parks it */
	assert_false(vcpu_start_stays_in(&ap));
	vcpu_start_init(&ap, false, true);
	assert_false(vcpu_start_apply(&ap, &vec)); /* waits for SIPI */
	vcpu_start_sipi(&ap, 0x11);
	assert_true(vcpu_start_apply(&ap, &vec));
	assert_true(vcpu_start_stays_in(&ap));
	vcpu_start_init(&ap, false, true); /* an INIT while it runs */
	assert_false(vcpu_start_stays_in(&ap));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_init_sipi_starts_at_the_vector),
		cmocka_unit_test(test_sipi_without_init_after_reset),
		cmocka_unit_test(test_init_cancels_an_earlier_sipi),
		cmocka_unit_test(test_deassert_and_bsp_ignore_init),
		cmocka_unit_test(test_parked_until_init),
		cmocka_unit_test(test_parked_or_init_leaves_the_guest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
