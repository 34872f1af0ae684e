/* Unit tests for vmm/vmx/trap_policy.c: names, presets, and the controls each
 * trap needs, checked against capability MSRs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/vmx/trap_policy.h"
#include "vmm/vmx/vmcs_fields.h"

/* Bochs corei7_haswell_4770 (see test_vmx_caps.c) */
static const struct vmx_caps haswell = {
	.basic = 0x00d810000000002bull,
	.procbased = 0xf7f9fffe0401e172ull,
	.true_procbased = 0xf7f9fffe04006172ull,
	.procbased2 = 0x00047fff00000000ull,
};

static void test_lookup(void **state)
{
	(void)state;
	uint32_t bits;

	assert_int_equal(trap_lookup("minimal", &bits), 0);
	assert_int_equal(bits, 0);
	assert_int_equal(trap_lookup("default", &bits), 0);
	assert_int_equal(bits, TRAP_BIT(TRAP_MWAIT));
	assert_int_equal(trap_lookup("all", &bits), 0);
	assert_int_equal(bits, TRAP_ALL);
	assert_int_equal(trap_lookup("descriptor-tables", &bits), 0);
	assert_int_equal(bits, TRAP_BIT(TRAP_DESCRIPTOR_TABLES));
	for (unsigned t = 0; t < TRAP_COUNT; t++) {
		assert_int_equal(trap_lookup(trap_name(t), &bits), 0);
		assert_int_equal(bits, TRAP_BIT(t));
	}
	assert_int_equal(trap_lookup("bogus", &bits), -1);
	assert_int_equal(trap_lookup("", &bits), -1);
}

static void test_controls_haswell(void **state)
{
	(void)state;
	struct trap_controls c;
	char err[128] = "";

	assert_int_equal(trap_compute_controls(TRAP_PRESET_MINIMAL, &haswell, &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.procbased, 0);
	assert_int_equal(c.procbased2, 0);
	assert_int_equal(trap_compute_controls(TRAP_ALL, &haswell, &c, err, sizeof(err)), 0);
	assert_int_equal(c.procbased,
			 PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING |
				 PROC_INVLPG_EXITING | PROC_MOV_DR_EXITING | PROC_RDPMC_EXITING |
				 PROC_PAUSE_EXITING | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING);
	assert_int_equal(c.procbased2, PROC2_DESCRIPTOR_TABLE_EXITING | PROC2_WBINVD_EXITING);
}

static void test_impossible_trap(void **state)
{
	(void)state;
	struct vmx_caps caps = haswell;
	struct trap_controls c;
	char err[128] = "";

	/* A CPU without descriptor-table exiting. */
	caps.procbased2 &= ~((uint64_t)PROC2_DESCRIPTOR_TABLE_EXITING << 32);
	assert_int_equal(trap_compute_controls(TRAP_BIT(TRAP_DESCRIPTOR_TABLES), &caps, &c, err,
					       sizeof(err)),
			 -1);
	assert_string_equal(err, "trap \"descriptor-tables\" is impossible: this CPU's VT-x "
				 "cannot set the secondary control");
	/* Without secondary controls at all, only primary traps remain. */
	caps = haswell;
	caps.true_procbased &= ~((uint64_t)PROC_ACTIVATE_SECONDARY << 32);
	assert_int_equal(trap_compute_controls(TRAP_BIT(TRAP_WBINVD), &caps, &c, err, sizeof(err)),
			 -1);
	assert_int_equal(trap_compute_controls(TRAP_BIT(TRAP_RDTSC), &caps, &c, err, sizeof(err)),
			 0);
	/* Without TRUE_* the legacy MSR decides. */
	caps = haswell;
	caps.basic &= ~VMX_BASIC_TRUE_CTLS;
	caps.procbased &= ~((uint64_t)PROC_PAUSE_EXITING << 32);
	assert_int_equal(trap_compute_controls(TRAP_BIT(TRAP_PAUSE), &caps, &c, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "trap \"pause\" is impossible: this CPU's VT-x cannot set the "
				 "processor-based control");
}

static void test_format(void **state)
{
	(void)state;
	char buf[128];

	trap_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	trap_format(TRAP_BIT(TRAP_RDTSC) | TRAP_BIT(TRAP_CR3), buf, sizeof(buf));
	assert_string_equal(buf, "rdtsc cr3");
	trap_format(TRAP_ALL, buf, 10);
	assert_string_equal(buf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_controls_haswell),
		cmocka_unit_test(test_impossible_trap),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
