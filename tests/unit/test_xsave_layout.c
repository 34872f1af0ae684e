/* Unit tests for vmm/cpu/xsave_layout.c: which XSAVE components a guest
 * is offered and the standard and compacted sizes CPUID 0xD reports for
 * them, from the subleaves of Bochs' Ice Lake model (whose own totals
 * disagree with its components) and of a CPU with aligned components. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/cpu/xsave_layout.h"

/* x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM: what pgvisor may offer. */
#define ALLOWED 0xe7ull
#define PKRU (1ull << 9)

/* Bochs 2.7 corei7_icelake_u, as a Linux guest printed it: XCR0 0x2e7,
 * PKRU (9) supported but not described (size 0). */
static struct xsave_component_info icelake(unsigned i)
{
	switch (i) {
	case 2:
		return (struct xsave_component_info){ 0x100, 0x240, 0 };
	case 5:
		return (struct xsave_component_info){ 0x40, 0x440, 0 };
	case 6:
		return (struct xsave_component_info){ 0x200, 0x480, 0 };
	case 7:
		return (struct xsave_component_info){ 0x400, 0x680, 0 };
	default:
		return (struct xsave_component_info){ 0, 0, 0 };
	}
}

/* Components 2 and 9 with PKRU described and 64-byte aligned when
 * compacted, as on CPUs where XSAVEC pads before it. */
static struct xsave_component_info aligned(unsigned i)
{
	if (i == 2)
		return (struct xsave_component_info){ 0x100, 0x240, 0 };
	if (i == 9)
		return (struct xsave_component_info){ 8, 0xa80, 1u << 1 };
	return (struct xsave_component_info){ 0, 0, 0 };
}

static void test_icelake_offered(void **state)
{
	(void)state;
	struct xsave_layout l;

	xsave_layout_init(&l, 0x2e7, ALLOWED, icelake);
	assert_int_equal(l.offered, 0xe7);
	/* PKRU is not offered even when allowed: its size is unknown. */
	xsave_layout_init(&l, 0x2e7, ALLOWED | PKRU, icelake);
	assert_int_equal(l.offered, 0xe7);
	/* Nothing the host lacks. */
	xsave_layout_init(&l, 0x7, ALLOWED, icelake);
	assert_int_equal(l.offered, 0x7);
}

static void test_icelake_sizes(void **state)
{
	(void)state;
	struct xsave_layout l;

	xsave_layout_init(&l, 0x2e7, ALLOWED, icelake);
	/* Standard: the end of Hi16_ZMM, 0x680 + 0x400; Bochs' 0xac0 for
	 * ECX counted PKRU's space without describing it. */
	assert_int_equal(xsave_standard_size(&l, 0xe7), 0xa80);
	assert_int_equal(xsave_standard_size(&l, 0x7), 0x340);
	assert_int_equal(xsave_standard_size(&l, 0x3), XSAVE_LEGACY_AND_HEADER);
	/* Compacted: 576 + 0x100 + 0x40 + 0x200 + 0x400 = 2432, where Bochs
	 * reports 0xa80 (2688) and Linux warns "size 2432 != kernel_size
	 * 2688". */
	assert_int_equal(xsave_compacted_size(&l, 0xe7), 2432);
	assert_int_equal(xsave_compacted_size(&l, 0x7), 576 + 0x100);
	/* Bits not offered count for nothing. */
	assert_int_equal(xsave_compacted_size(&l, 0x2e7), 2432);
	assert_int_equal(xsave_standard_size(&l, 0x2e7), 0xa80);
}

static void test_aligned_component(void **state)
{
	(void)state;
	struct xsave_layout l;

	xsave_layout_init(&l, 0x207, 0x207, aligned);
	assert_int_equal(l.offered, 0x207);
	assert_int_equal(xsave_standard_size(&l, 0x207), 0xa88);
	/* 576 + 0x100 = 832, already a multiple of 64: + 8. */
	assert_int_equal(xsave_compacted_size(&l, 0x207), 832 + 8);
	/* Without AVX: 576 is aligned too. */
	assert_int_equal(xsave_compacted_size(&l, 0x203), 576 + 8);
	/* An unaligned start is padded: make AVX 0x104 bytes. */
	l.size[2] = 0x104;
	assert_int_equal(xsave_compacted_size(&l, 0x207), 896 + 8);
}

/* A component described below the header is not trusted either. */
static struct xsave_component_info bogus(unsigned i)
{
	return (struct xsave_component_info){ i == 2 ? 0x100u : 0u, 0x100, 0 };
}

static void test_bogus_offset(void **state)
{
	(void)state;
	struct xsave_layout l;

	xsave_layout_init(&l, 0x7, ALLOWED, bogus);
	assert_int_equal(l.offered, 0x3);
	assert_int_equal(xsave_standard_size(&l, 0x7), XSAVE_LEGACY_AND_HEADER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icelake_offered),
		cmocka_unit_test(test_icelake_sizes),
		cmocka_unit_test(test_aligned_component),
		cmocka_unit_test(test_bogus_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
