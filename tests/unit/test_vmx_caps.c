/* Unit tests for vmm/vmx/vmx_caps.c: VMCS controls derived from the capability
 * MSRs of real and emulated CPUs (values as Bochs reports them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/bochs_vmx_caps.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx_caps.h"

static struct vmx_caps tigerlake(void)
{
	struct vmx_caps c = bochs_haswell_caps;

	c.procbased = 0xfff9fffe0401e172ull;
	c.true_procbased = 0xfff9fffe04006172ull;
	c.procbased2 = 0x02977fff00000000ull;
	c.ept_vpid = 0x00000f0106b34141ull;
	c.cr4_fixed1 = 0xf72fffull;
	c.misc = 0x600401e0ull;
	return c;
}

/* Bochs corei7_sandy_bridge_2600k: no 1 GiB EPT pages, no EPT A/D, no
 * VMFUNC. */
static struct vmx_caps sandy_bridge(void)
{
	struct vmx_caps c = bochs_haswell_caps;

	c.ept_vpid = 0x00000f0106114141ull;
	c.procbased2 &= ~((uint64_t)PROC2_ENABLE_VMFUNC << 32);
	return c;
}

static int compute(const struct vmx_caps *caps, struct vmx_controls *out, char *err)
{
	memset(out, 0xa5, sizeof(*out));
	strcpy(err, "untouched");
	return vmx_compute_controls(caps, out, err, 256);
}

/* Every bit the MSR says must be 1 is 1; none it forbids is. */
static void assert_honours(uint32_t value, uint64_t msr, const char *what)
{
	uint32_t must_be_one = (uint32_t)msr;
	uint32_t may_be_one = (uint32_t)(msr >> 32);

	if ((value & must_be_one) != must_be_one || (value & ~may_be_one))
		fail_msg("%s control %#x violates capability MSR %#llx", what, value,
			 (unsigned long long)msr);
}

static void assert_honours_all(const struct vmx_caps *c, const struct vmx_controls *o)
{
	bool t = c->basic & VMX_BASIC_TRUE_CTLS;

	assert_honours(o->pinbased, t ? c->true_pinbased : c->pinbased, "pin-based");
	assert_honours(o->procbased, t ? c->true_procbased : c->procbased, "processor-based");
	assert_honours(o->procbased2, c->procbased2, "secondary");
	assert_honours(o->exit, t ? c->true_exit : c->exit, "VM-exit");
	assert_honours(o->entry, t ? c->true_entry : c->entry, "VM-entry");
}

static void assert_required_set(const struct vmx_controls *o)
{
	uint32_t pin = PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS;
	uint32_t proc = PROC_HLT_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
			PROC_ACTIVATE_SECONDARY;
	uint32_t proc2 = PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST;
	uint32_t exit = EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_ACK_INTERRUPT_ON_EXIT |
			EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER | EXIT_SAVE_DEBUG_CONTROLS;
	uint32_t entry = ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_DEBUG_CONTROLS;

	assert_int_equal(o->pinbased & pin, pin);
	assert_int_equal(o->procbased & proc, proc);
	assert_int_equal(o->procbased2 & proc2, proc2);
	assert_int_equal(o->exit & exit, exit);
	assert_int_equal(o->entry & entry, entry);
	/* NMI-window exiting is turned on only while an NMI waits. */
	assert_int_equal(o->procbased & PROC_NMI_WINDOW_EXITING, 0);
	/* A VM-entry into IA-32e mode is never asked for: guests start 32-bit. */
	assert_int_equal(o->entry & ENTRY_IA32E_MODE_GUEST, 0);
}

static void test_adjust_control(void **state)
{
	(void)state;
	/* Default-1 bits are forced on, disallowed bits forced off. */
	assert_int_equal(vmx_adjust_control(0, 0x0000007f00000016ull), 0x16);
	assert_int_equal(vmx_adjust_control(0x49, 0x0000007f00000016ull), 0x5f);
	assert_int_equal(vmx_adjust_control(0xffffffffu, 0x0000007f00000016ull), 0x7f);
	assert_int_equal(vmx_adjust_control(1u << 31, 0x7fffffff00000000ull), 0);
	assert_int_equal(vmx_adjust_control(1u << 31, 0xffffffff00000000ull), 1u << 31);
	/* Allowed-1 wins over a (contradictory) allowed-0 bit. */
	assert_int_equal(vmx_adjust_control(0, 0x0000000000000001ull), 0);
	assert_int_equal(vmx_adjust_control(0x80000080u, 0xf7f9fffe04006172ull),
			 0x84006172u | 0x80u);
}

static void test_haswell(void **state)
{
	(void)state;
	struct vmx_controls o;
	char err[256];

	assert_int_equal(compute(&bochs_haswell_caps, &o, err), 0);
	assert_honours_all(&bochs_haswell_caps, &o);
	assert_required_set(&o);
	/* TRUE MSRs let CR3-load/store exiting be cleared (default-1 in the
	 * legacy MSR); the debug controls, which TRUE MSRs would let go too,
	 * are asked for (the guest's DR7 across exits). */
	assert_int_equal(o.procbased & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING), 0);
	assert_int_equal(o.exit & EXIT_SAVE_DEBUG_CONTROLS, EXIT_SAVE_DEBUG_CONTROLS);
	assert_int_equal(o.entry & ENTRY_LOAD_DEBUG_CONTROLS, ENTRY_LOAD_DEBUG_CONTROLS);
	/* Exactly: pin = default-1 0x16 | ext-int | NMI | virtual NMIs |
	 * preemption timer. */
	assert_int_equal(o.pinbased, 0x16 | PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING |
					     PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER);
	assert_true(o.ept_2mb);
	assert_true(o.ept_1gb);
	assert_true(o.ept_ad);
	assert_true(o.vpid);
	assert_int_equal(o.procbased2 & PROC2_ENABLE_VPID, PROC2_ENABLE_VPID);
	assert_true(o.invept_single);
	assert_true(o.invvpid_single);
	assert_true(o.invvpid_address);
	assert_true(o.preemption_timer);
	assert_true(o.save_preemption_timer);
	assert_int_equal(o.exit & EXIT_SAVE_PREEMPTION_TIMER, EXIT_SAVE_PREEMPTION_TIMER);
	assert_int_equal(o.preemption_shift, 0);
	assert_true(o.rdtscp);
	/* WRMSR to the TSC sets the guest's TSC through the offset. */
	assert_int_equal(o.procbased & PROC_USE_TSC_OFFSETTING, PROC_USE_TSC_OFFSETTING);
	assert_true(o.invpcid);
	assert_false(o.xsaves); /* bit 20 not in 0x00047fff */
	assert_int_equal(o.procbased2 & PROC2_ENABLE_XSAVES, 0);
	assert_true(o.pat);
	assert_int_equal(o.exit & (EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT),
			 EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT);
	assert_int_equal(o.entry & ENTRY_LOAD_IA32_PAT, ENTRY_LOAD_IA32_PAT);
	assert_true(o.activity_hlt);
	/* TPR shadow: CR8 without exits, so no CR8 exiting. */
	assert_true(o.tpr_shadow);
	/* x2APIC virtualization is set per vCPU, never for all of them. */
	assert_true(o.x2apic_virt);
	assert_int_equal(o.procbased2 & PROC2_VIRTUALIZE_X2APIC, 0);
	assert_true(o.apic_reg_virt);
	assert_int_equal(o.procbased2 & PROC2_APIC_REGISTER_VIRT, PROC2_APIC_REGISTER_VIRT);
	/* The APIC-access page, set per vCPU (xAPIC mode at the default base). */
	assert_true(o.apic_access);
	/* Virtual-interrupt delivery too, set per vCPU. */
	assert_true(o.virtual_intr_delivery);
	assert_int_equal(o.procbased2 & PROC2_VIRTUAL_INTR_DELIVERY, 0);
	assert_int_equal(o.procbased & (PROC_USE_TPR_SHADOW | PROC_CR8_LOAD_EXITING |
					PROC_CR8_STORE_EXITING),
			 PROC_USE_TPR_SHADOW);
	/* Nothing optional pgvisor does not ask for sneaks in. */
	assert_int_equal(o.procbased2 & (PROC2_ENABLE_VMFUNC | PROC2_ENABLE_PML |
					 PROC2_VIRTUALIZE_APIC_ACCESSES),
			 0);
	assert_int_equal(o.procbased & (PROC_RDTSC_EXITING | PROC_MONITOR_TRAP_FLAG), 0);
}

static void test_tigerlake(void **state)
{
	(void)state;
	struct vmx_caps c = tigerlake();
	struct vmx_controls o;
	char err[256];

	assert_int_equal(compute(&c, &o, err), 0);
	assert_honours_all(&c, &o);
	assert_required_set(&o);
	assert_int_equal(o.procbased & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING), 0);
	assert_true(o.ept_2mb);
	assert_true(o.ept_1gb);
	assert_true(o.ept_ad);
	assert_true(o.vpid);
	assert_true(o.preemption_timer);
	assert_true(o.xsaves); /* bit 20 in 0x02977fff */
	assert_int_equal(o.procbased2 & PROC2_ENABLE_XSAVES, PROC2_ENABLE_XSAVES);
	assert_true(o.rdtscp);
	assert_true(o.invpcid);
	/* Not asked for even though offered (PML, bit 17). */
	assert_int_equal(o.procbased2 & PROC2_ENABLE_PML, 0);
}

static void test_sandy_bridge(void **state)
{
	(void)state;
	struct vmx_caps c = sandy_bridge();
	struct vmx_controls o;
	char err[256];

	assert_int_equal(compute(&c, &o, err), 0);
	assert_honours_all(&c, &o);
	assert_required_set(&o);
	assert_int_equal(o.procbased & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING), 0);
	assert_true(o.ept_2mb);
	assert_false(o.ept_1gb);
	assert_false(o.ept_ad);
	assert_true(o.vpid);
	assert_true(o.preemption_timer);
}

static void test_preemption_rate(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;
	struct vmx_controls o;
	char err[256];

	c.misc = (c.misc & ~VMX_MISC_PREEMPT_RATE_MASK) | 5;
	assert_int_equal(compute(&c, &o, err), 0);
	assert_int_equal(o.preemption_shift, 5);

	/* No preemption timer offered: neither the control nor the saving. */
	c.true_pinbased &= ~((uint64_t)PIN_PREEMPTION_TIMER << 32);
	c.true_exit &= ~((uint64_t)EXIT_SAVE_PREEMPTION_TIMER << 32);
	assert_int_equal(compute(&c, &o, err), 0);
	assert_false(o.preemption_timer);
	assert_false(o.save_preemption_timer);
	assert_int_equal(o.pinbased & PIN_PREEMPTION_TIMER, 0);
	assert_honours_all(&c, &o);
}

static void test_legacy_only(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;
	struct vmx_controls o;
	char err[256];

	c.basic &= ~VMX_BASIC_TRUE_CTLS;
	/* Garbage in the TRUE MSRs must not matter when bit 55 is clear. */
	c.true_pinbased = 0;
	c.true_procbased = 0;
	c.true_exit = 0;
	c.true_entry = 0;
	assert_int_equal(compute(&c, &o, err), 0);
	assert_honours_all(&c, &o);
	assert_required_set(&o);
	/* Default-1 in the legacy MSRs, so they stay on. */
	assert_int_equal(o.procbased & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING),
			 PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING);
	assert_int_equal(o.exit & EXIT_SAVE_DEBUG_CONTROLS, EXIT_SAVE_DEBUG_CONTROLS);
	assert_int_equal(o.entry & ENTRY_LOAD_DEBUG_CONTROLS, ENTRY_LOAD_DEBUG_CONTROLS);
}

static void test_true_msrs_used(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;
	struct vmx_controls o;
	char err[256];

	/* A legacy MSR forbidding HLT exiting is ignored when TRUE MSRs exist;
	 * a TRUE MSR forbidding it is not. */
	c.procbased &= ~((uint64_t)PROC_HLT_EXITING << 32);
	assert_int_equal(compute(&c, &o, err), 0);
	assert_int_equal(o.procbased & PROC_HLT_EXITING, PROC_HLT_EXITING);

	c = bochs_haswell_caps;
	c.true_procbased &= ~((uint64_t)PROC_HLT_EXITING << 32);
	assert_int_equal(compute(&c, &o, err), -1);
	assert_non_null(strstr(err, "HLT exiting"));
}

static void expect_failure(const struct vmx_caps *c, const char *needle)
{
	struct vmx_controls o;
	char err[256];

	assert_int_equal(compute(c, &o, err), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not name \"%s\"", err, needle);
}

static void test_missing_required(void **state)
{
	(void)state;
	struct vmx_caps c;

	c = bochs_haswell_caps;
	c.procbased2 &= ~(1ull << 39); /* unrestricted guest, allowed-1 bit 7 */
	expect_failure(&c, "unrestricted guest");

	c = bochs_haswell_caps;
	c.procbased2 &= ~((uint64_t)PROC2_ENABLE_EPT << 32);
	expect_failure(&c, "EPT");

	c = bochs_haswell_caps;
	c.true_procbased &= ~((uint64_t)PROC_ACTIVATE_SECONDARY << 32);
	c.procbased &= ~((uint64_t)PROC_ACTIVATE_SECONDARY << 32);
	expect_failure(&c, "secondary controls");

	c = bochs_haswell_caps;
	c.true_procbased &= ~((uint64_t)PROC_USE_IO_BITMAPS << 32);
	expect_failure(&c, "I/O bitmaps");

	c = bochs_haswell_caps;
	c.true_procbased &= ~((uint64_t)PROC_USE_MSR_BITMAPS << 32);
	expect_failure(&c, "MSR bitmaps");

	c = bochs_haswell_caps;
	c.true_pinbased &= ~((uint64_t)PIN_NMI_EXITING << 32);
	expect_failure(&c, "NMI exiting");

	c = bochs_haswell_caps;
	c.true_pinbased &= ~((uint64_t)PIN_VIRTUAL_NMIS << 32);
	expect_failure(&c, "virtual NMIs");

	c = bochs_haswell_caps;
	c.true_procbased &= ~((uint64_t)PROC_NMI_WINDOW_EXITING << 32);
	expect_failure(&c, "NMI-window exiting");

	c = bochs_haswell_caps;
	c.true_exit &= ~((uint64_t)EXIT_SAVE_DEBUG_CONTROLS << 32);
	expect_failure(&c, "save debug controls");

	c = bochs_haswell_caps;
	c.true_entry &= ~((uint64_t)ENTRY_LOAD_DEBUG_CONTROLS << 32);
	expect_failure(&c, "load debug controls");

	c = bochs_haswell_caps;
	c.true_pinbased &= ~((uint64_t)PIN_EXTERNAL_INTERRUPT_EXITING << 32);
	expect_failure(&c, "external-interrupt exiting");

	c = bochs_haswell_caps;
	c.true_exit &= ~((uint64_t)EXIT_HOST_ADDRESS_SPACE_SIZE << 32);
	expect_failure(&c, "64-bit host");

	c = bochs_haswell_caps;
	c.true_exit &= ~((uint64_t)EXIT_ACK_INTERRUPT_ON_EXIT << 32);
	expect_failure(&c, "acknowledge interrupt on exit");

	c = bochs_haswell_caps;
	c.true_exit &= ~((uint64_t)EXIT_LOAD_IA32_EFER << 32);
	expect_failure(&c, "load IA32_EFER on exit");

	c = bochs_haswell_caps;
	c.true_entry &= ~((uint64_t)ENTRY_LOAD_IA32_EFER << 32);
	expect_failure(&c, "load IA32_EFER on entry");

	c = bochs_haswell_caps;
	c.ept_vpid &= ~EPT_CAP_WALK_LENGTH_4;
	expect_failure(&c, "4-level write-back EPT");

	c = bochs_haswell_caps;
	c.ept_vpid &= ~EPT_CAP_MEMTYPE_WB;
	expect_failure(&c, "4-level write-back EPT");

	c = bochs_haswell_caps;
	c.ept_vpid &= ~EPT_CAP_INVEPT_ALL;
	expect_failure(&c, "INVEPT");
}

static void test_secondary_gated_by_primary(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;

	/* Secondary controls offered, but the primary bit that activates them
	 * is not: they do not exist, and the first missing one is named. */
	c.true_procbased &= ~((uint64_t)PROC_ACTIVATE_SECONDARY << 32);
	expect_failure(&c, "secondary controls");
}

static void test_optional_missing(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;
	struct vmx_controls o;
	char err[256];

	/* VPID control without INVVPID all-context: not used. */
	c.ept_vpid &= ~VPID_CAP_INVVPID_ALL;
	assert_int_equal(compute(&c, &o, err), 0);
	assert_false(o.vpid);
	assert_false(o.invvpid_single);
	assert_false(o.invvpid_address);
	assert_int_equal(o.procbased2 & PROC2_ENABLE_VPID, 0);

	/* INVVPID without the individual-address type: INVLPG falls back to
	 * single-context. */
	c = bochs_haswell_caps;
	c.ept_vpid &= ~VPID_CAP_INVVPID_ADDRESS;
	assert_int_equal(compute(&c, &o, err), 0);
	assert_true(o.vpid);
	assert_true(o.invvpid_single);
	assert_false(o.invvpid_address);

	/* Only two of three PAT halves: PAT switching is off entirely. */
	c = bochs_haswell_caps;
	c.true_entry &= ~((uint64_t)ENTRY_LOAD_IA32_PAT << 32);
	assert_int_equal(compute(&c, &o, err), 0);
	assert_false(o.pat);
	assert_int_equal(o.exit & (EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT), 0);
	assert_int_equal(o.entry & ENTRY_LOAD_IA32_PAT, 0);
	assert_honours_all(&c, &o);

	/* ... unless the CPU insists on a bit (default-1): then it stays. */
	c.true_exit |= EXIT_SAVE_IA32_PAT;
	assert_int_equal(compute(&c, &o, err), 0);
	assert_false(o.pat);
	assert_int_equal(o.exit & EXIT_SAVE_IA32_PAT, EXIT_SAVE_IA32_PAT);
	assert_honours_all(&c, &o);

	/* No HLT activity state. */
	c = bochs_haswell_caps;
	c.misc &= ~VMX_MISC_ACTIVITY_HLT;
	assert_int_equal(compute(&c, &o, err), 0);
	assert_false(o.activity_hlt);

	/* No 2 MiB EPT pages. */
	c = bochs_haswell_caps;
	c.ept_vpid &= ~EPT_CAP_2MB_PAGES;
	assert_int_equal(compute(&c, &o, err), 0);
	assert_false(o.ept_2mb);
}

/* Without TPR shadow, CR8 accesses exit (else the guest's MOV to CR8 would
 * set the host's TPR); a CPU with neither is refused. */
static void test_no_tpr_shadow(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;
	struct vmx_controls o;
	char err[256], apic[128];

	assert_int_equal(compute(&c, &o, err), 0);
	vmx_apic_format(&o, apic, sizeof(apic));
	assert_string_equal(apic, "TPR shadow, x2APIC virtualization, APIC-register "
				  "virtualization, APIC-access page, virtual-interrupt delivery");
	/* Whole names only. */
	vmx_apic_format(&o, apic, 20);
	assert_string_equal(apic, "TPR shadow");

	/* The secondary APIC controls need TPR shadow (SDM 26.2.1.1). */
	c.true_procbased &= ~((uint64_t)PROC_USE_TPR_SHADOW << 32);
	assert_int_equal(compute(&c, &o, err), 0);
	assert_honours_all(&c, &o);
	assert_false(o.tpr_shadow);
	assert_false(o.x2apic_virt);
	assert_false(o.apic_reg_virt);
	assert_false(o.apic_access);
	assert_false(o.virtual_intr_delivery);
	assert_int_equal(o.procbased2 & (PROC2_VIRTUALIZE_X2APIC | PROC2_APIC_REGISTER_VIRT), 0);
	assert_int_equal(o.procbased & (PROC_USE_TPR_SHADOW | PROC_CR8_LOAD_EXITING |
					PROC_CR8_STORE_EXITING),
			 PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING);
	vmx_apic_format(&o, apic, sizeof(apic));
	assert_string_equal(apic, "none");

	c.true_procbased &= ~((uint64_t)PROC_CR8_STORE_EXITING << 32);
	expect_failure(&c, "TPR shadow or CR8 exiting");
}

/* "no-apicv": the CPU seen as one without APIC virtualization. */
static void test_hide_apicv(void **state)
{
	(void)state;
	struct vmx_caps c = tigerlake();
	struct vmx_controls o;
	char err[256], apic[64];

	vmx_caps_hide_apicv(&c);
	assert_int_equal(compute(&c, &o, err), 0);
	assert_honours_all(&c, &o);
	assert_required_set(&o);
	assert_false(o.tpr_shadow || o.x2apic_virt || o.apic_reg_virt || o.apic_access ||
		     o.virtual_intr_delivery);
	assert_int_equal(o.procbased & (PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING),
			 PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING);
	vmx_apic_format(&o, apic, sizeof(apic));
	assert_string_equal(apic, "none");
	/* The rest is untouched. */
	assert_true(o.xsaves && o.vpid && o.ept_ad);
}

/* "no-vid": the rest of APIC virtualization stays. */
static void test_hide_vid(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;
	struct vmx_controls o;
	char err[256], apic[128];

	vmx_caps_hide_vid(&c);
	assert_int_equal(compute(&c, &o, err), 0);
	assert_true(o.tpr_shadow && o.x2apic_virt && o.apic_reg_virt);
	assert_false(o.virtual_intr_delivery);
	vmx_apic_format(&o, apic, sizeof(apic));
	assert_string_equal(apic, "TPR shadow, x2APIC virtualization, APIC-register "
				  "virtualization, APIC-access page");
}

/* Without x2APIC virtualization, APIC-register virtualization has nothing
 * pgvisor uses it for (no APIC-access page): left off. */
static void test_apic_reg_virt_needs_x2apic(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;
	struct vmx_controls o;
	char err[256];

	c.procbased2 &= ~((uint64_t)PROC2_VIRTUALIZE_X2APIC << 32);
	assert_int_equal(compute(&c, &o, err), 0);
	assert_true(o.tpr_shadow);
	assert_false(o.x2apic_virt);
	assert_false(o.apic_reg_virt);
	assert_false(o.apic_access);
	assert_false(o.virtual_intr_delivery);
	assert_int_equal(o.procbased2 & PROC2_APIC_REGISTER_VIRT, 0);
}

/* Without the CPU's "virtualize APIC accesses", no APIC-access page; the
 * rest stays. */
static void test_no_apic_access(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;
	struct vmx_controls o;
	char err[256];

	c.procbased2 &= ~((uint64_t)PROC2_VIRTUALIZE_APIC_ACCESSES << 32);
	assert_int_equal(compute(&c, &o, err), 0);
	assert_true(o.apic_reg_virt && o.virtual_intr_delivery);
	assert_false(o.apic_access);
}

static void test_small_error_buffer(void **state)
{
	(void)state;
	struct vmx_caps c = bochs_haswell_caps;
	struct vmx_controls o;
	char err[8];

	c.procbased2 &= ~(1ull << 39);
	memset(err, 'x', sizeof(err));
	assert_int_equal(vmx_compute_controls(&c, &o, err, sizeof(err)), -1);
	assert_int_equal(err[sizeof(err) - 1], '\0');
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adjust_control),
		cmocka_unit_test(test_haswell),
		cmocka_unit_test(test_tigerlake),
		cmocka_unit_test(test_sandy_bridge),
		cmocka_unit_test(test_preemption_rate),
		cmocka_unit_test(test_legacy_only),
		cmocka_unit_test(test_true_msrs_used),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_secondary_gated_by_primary),
		cmocka_unit_test(test_optional_missing),
		cmocka_unit_test(test_no_tpr_shadow),
		cmocka_unit_test(test_hide_apicv),
		cmocka_unit_test(test_hide_vid),
		cmocka_unit_test(test_apic_reg_virt_needs_x2apic),
		cmocka_unit_test(test_no_apic_access),
		cmocka_unit_test(test_small_error_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
