/* Unit tests for vmm/nested/: the virtual CPU's capability MSRs per
 * profile, the virtual VMCS's field access, the per-vCPU VMCS cache and
 * the VM-entry checks on controls and host state, and the fields VMCS
 * shadowing lets through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/msr.h"
#include "tests/unit/bochs_vmx_caps.h"
#include "vmm/nested/entry_check.h"
#include "vmm/nested/host_state.h"
#include "vmm/nested/l2_controls.h"
#include "vmm/nested/nested_caps.h"
#include "vmm/nested/nested_vcpu.h"
#include "vmm/nested/nested_vmcs.h"
#include "vmm/nested/vmcs02_cache.h"
#include "vmm/nested/vmcs_shadowing.h"
#include "vmm/vmx/exit_reason.h"
#include "vmm/vmx/vmcs_fields.h"

#define PROC2_PML (1ull << 17)
#define PIN_POSTED (1ull << 7)
#define MISC_VMWRITE_ALL (1ull << 29)

static struct vmx_caps tigerlake(void)
{
	struct vmx_caps c = bochs_haswell_caps;

	c.procbased = 0xfff9fffe0401e172ull;
	c.procbased2 = 0x02977fff00000000ull;
	c.ept_vpid = 0x00000f0106b34141ull;
	c.cr4_fixed1 = 0xf72fffull;
	c.misc = 0x600401e0ull;
	return c;
}

static uint64_t msr(const struct nested_caps *c, uint32_t index)
{
	uint64_t v = 0;

	assert_true(nested_caps_read(c, index, &v));
	return v;
}

static void test_caps_profiles(void **state)
{
	(void)state;
	struct vmx_caps tgl = tigerlake();
	struct nested_caps kvm, host;

	nested_caps_compute(&tgl, NESTED_PROFILE_KVM, &kvm);
	nested_caps_compute(&tgl, NESTED_PROFILE_HOST, &host);
	for (uint32_t m = NESTED_VMX_MSR_FIRST; m <= NESTED_VMX_MSR_LAST; m++) {
		uint64_t v;
		/* VMFUNC exists only where VM functions may be enabled. */
		bool present = m != MSR_IA32_VMX_VMFUNC;
		assert_int_equal(nested_caps_read(&kvm, m, &v), present);
		assert_true(nested_caps_read(&host, m, &v));
	}
	/* Same revision as the host, 4 KiB regions, WB, TRUE_ controls. */
	assert_int_equal(nested_caps_revision(&kvm), 0x2b);
	assert_int_equal(msr(&kvm, MSR_IA32_VMX_BASIC), 0x00d810000000002bull);
	/* kvm: no shadowing, PML or VMFUNC; host: PML and VMFUNC, still no
	 * shadowing. Neither offers posted interrupts. */
	assert_false((msr(&kvm, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_VMCS_SHADOWING);
	assert_false((msr(&kvm, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_PML);
	assert_false((msr(&kvm, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_ENABLE_VMFUNC);
	assert_false((msr(&host, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_VMCS_SHADOWING);
	assert_true((msr(&host, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_PML);
	assert_true((msr(&host, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_ENABLE_VMFUNC);
	assert_int_equal(msr(&host, MSR_IA32_VMX_VMFUNC), 1);
	assert_false((msr(&kvm, MSR_IA32_VMX_PINBASED_CTLS) >> 32) & PIN_POSTED);
	/* VMWRITE to the exit-information fields is not offered. */
	assert_false(msr(&kvm, MSR_IA32_VMX_MISC) & MISC_VMWRITE_ALL);
	assert_int_equal((msr(&kvm, MSR_IA32_VMX_MISC) >> 16) & 0x1ff, 4);
	/* EPT for L2 (shadow tables): neither profile offers the accessed
	 * and dirty flags (the host has them, bit 21); both keep INVEPT. */
	assert_true(tgl.ept_vpid & EPT_CAP_ACCESSED_DIRTY);
	assert_false(msr(&kvm, MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_ACCESSED_DIRTY);
	assert_false(msr(&host, MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_ACCESSED_DIRTY);
	assert_true(msr(&host, MSR_IA32_VMX_EPT_VPID_CAP) & EPT_CAP_INVEPT);
	assert_int_equal(msr(&host, MSR_IA32_VMX_EPT_VPID_CAP),
			 tgl.ept_vpid & ~EPT_CAP_ACCESSED_DIRTY);
	/* Every control: a subset of the host's, allowed-0 within allowed-1. */
	static const uint32_t ctls[] = {
		MSR_IA32_VMX_PINBASED_CTLS,	 MSR_IA32_VMX_PROCBASED_CTLS,
		MSR_IA32_VMX_EXIT_CTLS,		 MSR_IA32_VMX_ENTRY_CTLS,
		MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
		MSR_IA32_VMX_TRUE_EXIT_CTLS,	 MSR_IA32_VMX_TRUE_ENTRY_CTLS,
		MSR_IA32_VMX_PROCBASED_CTLS2
	};
	for (unsigned i = 0; i < sizeof(ctls) / sizeof(ctls[0]); i++) {
		uint64_t v = msr(&host, ctls[i]);
		assert_int_equal((uint32_t)v & ~(uint32_t)(v >> 32), 0);
	}
	/* Not the TPR shadow nor APIC virtualization: no nested guest runs
	 * with them yet. */
	assert_int_equal(msr(&kvm, MSR_IA32_VMX_TRUE_PROCBASED_CTLS),
			 tgl.true_procbased & ~((uint64_t)PROC_USE_TPR_SHADOW << 32));
	assert_false((msr(&host, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) &
		     (PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VIRTUALIZE_X2APIC |
		      PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY));
	assert_true((msr(&kvm, MSR_IA32_VMX_PROCBASED_CTLS2) >> 32) & PROC2_UNRESTRICTED_GUEST);
	assert_int_equal(msr(&kvm, MSR_IA32_VMX_VMCS_ENUM), nested_vmcs_enum());
	/* Nothing without secondary controls: no CTLS2, EPT_VPID_CAP, VMFUNC. */
	struct vmx_caps old = bochs_haswell_caps;
	old.procbased &= ~((uint64_t)PROC_ACTIVATE_SECONDARY << 32);
	nested_caps_compute(&old, NESTED_PROFILE_HOST, &host);
	uint64_t v;
	assert_false(nested_caps_read(&host, MSR_IA32_VMX_PROCBASED_CTLS2, &v));
	assert_false(nested_caps_read(&host, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	assert_false(nested_caps_read(&host, 0x492, &v));
	assert_false(nested_caps_read(&host, 0x47f, &v));
}

static void test_vmcs_fields(void **state)
{
	(void)state;
	struct nested_vmcs vmcs;
	uint64_t v;

	memset(&vmcs, 0, sizeof(vmcs));
	/* Widths: 16-bit and 32-bit writes truncate; natural keeps 64 bits. */
	assert_int_equal(nested_vmcs_write(&vmcs, VMCS_VPID, 0x12345), NESTED_VMCS_OK);
	assert_int_equal(nested_vmcs_read(&vmcs, VMCS_VPID, &v), NESTED_VMCS_OK);
	assert_int_equal(v, 0x2345);
	assert_int_equal(nested_vmcs_write(&vmcs, VMCS_PIN_BASED_CTLS, 0x1ffffffffull),
			 NESTED_VMCS_OK);
	assert_int_equal(nested_vmcs_get(&vmcs, VMCS_PIN_BASED_CTLS), 0xffffffffull);
	assert_int_equal(nested_vmcs_write(&vmcs, VMCS_HOST_RIP, 0xffffffff80001000ull),
			 NESTED_VMCS_OK);
	assert_int_equal(nested_vmcs_get(&vmcs, VMCS_HOST_RIP), 0xffffffff80001000ull);
	/* 64-bit fields: the high access reads and writes bits 63:32. */
	assert_int_equal(nested_vmcs_write(&vmcs, VMCS_IO_BITMAP_A, 0x1111222233334444ull),
			 NESTED_VMCS_OK);
	assert_int_equal(nested_vmcs_read(&vmcs, VMCS_IO_BITMAP_A + 1, &v), NESTED_VMCS_OK);
	assert_int_equal(v, 0x11112222);
	assert_int_equal(nested_vmcs_write(&vmcs, VMCS_IO_BITMAP_A + 1, 0xaaaa), NESTED_VMCS_OK);
	assert_int_equal(nested_vmcs_get(&vmcs, VMCS_IO_BITMAP_A), 0x0000aaaa33334444ull);
	/* Unsupported: unknown encodings, high access of other widths, bits
	 * above 15. */
	assert_int_equal(nested_vmcs_read(&vmcs, 0x7ffe, &v), NESTED_VMCS_UNSUPPORTED);
	/* Every field has a slot of its own; bit 12 (reserved) names none. */
	for (unsigned i = 0; i < NESTED_VMCS_FIELDS; i++)
		nested_vmcs_set(&vmcs, nested_vmcs_field(i), i);
	for (unsigned i = 0; i < NESTED_VMCS_FIELDS; i++) {
		assert_int_equal(nested_vmcs_get(&vmcs, nested_vmcs_field(i)), i);
		assert_int_equal(nested_vmcs_read(&vmcs, nested_vmcs_field(i) | 0x1000, &v),
				 NESTED_VMCS_UNSUPPORTED);
	}
	assert_int_equal(nested_vmcs_read(&vmcs, 0x0c0e, &v), NESTED_VMCS_UNSUPPORTED);
	assert_int_equal(nested_vmcs_read(&vmcs, VMCS_PIN_BASED_CTLS + 1, &v),
			 NESTED_VMCS_UNSUPPORTED);
	assert_int_equal(nested_vmcs_read(&vmcs, 0x100000000ull | VMCS_VPID, &v),
			 NESTED_VMCS_UNSUPPORTED);
	assert_int_equal(nested_vmcs_write(&vmcs, 0x7ffe, 1), NESTED_VMCS_UNSUPPORTED);
	/* The exit-information fields are read-only, readable. */
	assert_int_equal(nested_vmcs_write(&vmcs, VMCS_EXIT_REASON, 1), NESTED_VMCS_READ_ONLY);
	assert_int_equal(nested_vmcs_write(&vmcs, VMCS_VM_INSTRUCTION_ERROR, 1),
			 NESTED_VMCS_READ_ONLY);
	assert_int_equal(nested_vmcs_write(&vmcs, VMCS_EXIT_QUALIFICATION, 1),
			 NESTED_VMCS_READ_ONLY);
	nested_vmcs_set(&vmcs, VMCS_VM_INSTRUCTION_ERROR, 12);
	assert_int_equal(nested_vmcs_read(&vmcs, VMCS_VM_INSTRUCTION_ERROR, &v), NESTED_VMCS_OK);
	assert_int_equal(v, 12);
	assert_int_equal(nested_vmcs_enum(), 0x32); /* TSC multiplier, index 25 */
}

static void test_vmcs_cache(void **state)
{
	(void)state;
	static struct nested_vcpu n;
	static struct nested_vmcs_slot slots[NESTED_VMCS_CACHED];

	assert_null(nested_find(&n, 0x1000)); /* a vCPU without VMX has no slots */
	n.slots = slots;
	nested_vcpu_reset(&n);
	assert_int_equal(nested_current_region(&n), NESTED_NO_VMCS);
	assert_null(nested_current(&n));
	nested_load(&n, 0x1000);
	nested_vmcs_set(&nested_current(&n)->vmcs, VMCS_GUEST_RIP, 0x1234);
	nested_current(&n)->launched = true;
	/* Other VMCSs fill the cache; the first, loaded again, kept its data. */
	for (uint64_t r = 0x2000; r < 0x2000 + 0x1000 * (NESTED_VMCS_CACHED - 1); r += 0x1000)
		nested_load(&n, r);
	nested_load(&n, 0x1000);
	assert_int_equal(nested_current_region(&n), 0x1000);
	assert_int_equal(nested_vmcs_get(&nested_current(&n)->vmcs, VMCS_GUEST_RIP), 0x1234);
	assert_true(nested_current(&n)->launched);
	/* One more evicts the least recently used one (0x2000), not 0x1000. */
	nested_load(&n, 0x9000);
	assert_null(nested_find(&n, 0x2000));
	assert_non_null(nested_find(&n, 0x1000));
	assert_int_equal(nested_vmcs_get(&nested_current(&n)->vmcs, VMCS_GUEST_RIP), 0);
	assert_false(nested_current(&n)->launched);
}

/* A VMCS that passes every modelled check for a 32-bit guest hypervisor
 * on Haswell's virtual CPU (profile kvm). */
static void valid_vmcs(struct nested_vmcs *vmcs, const struct nested_caps *caps)
{
	memset(vmcs, 0, sizeof(*vmcs));
	nested_vmcs_set(vmcs, VMCS_PIN_BASED_CTLS,
			(uint32_t)msr(caps, MSR_IA32_VMX_TRUE_PINBASED_CTLS));
	nested_vmcs_set(vmcs, VMCS_PROC_BASED_CTLS,
			(uint32_t)msr(caps, MSR_IA32_VMX_TRUE_PROCBASED_CTLS));
	nested_vmcs_set(vmcs, VMCS_EXIT_CTLS, (uint32_t)msr(caps, MSR_IA32_VMX_TRUE_EXIT_CTLS));
	nested_vmcs_set(vmcs, VMCS_ENTRY_CTLS, (uint32_t)msr(caps, MSR_IA32_VMX_TRUE_ENTRY_CTLS));
	nested_vmcs_set(vmcs, VMCS_HOST_CR0, 0x80000031);
	nested_vmcs_set(vmcs, VMCS_HOST_CR4, 0x2010);
	nested_vmcs_set(vmcs, VMCS_HOST_CS_SEL, 0x08);
	nested_vmcs_set(vmcs, VMCS_HOST_SS_SEL, 0x10);
	nested_vmcs_set(vmcs, VMCS_HOST_TR_SEL, 0x18);
	nested_vmcs_set(vmcs, VMCS_HOST_RIP, 0x100000);
}

static void test_entry_checks(void **state)
{
	(void)state;
	struct nested_caps caps;
	struct nested_vmcs vmcs;
	char msg[200];

	nested_caps_compute(&bochs_haswell_caps, NESTED_PROFILE_KVM, &caps);
	struct nested_entry_env env = { .caps = &caps, .pa_bits = 36, .long_mode = false };
	valid_vmcs(&vmcs, &caps);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), 0);
	assert_int_equal(nested_check_host_state(&vmcs, &env, msg, sizeof(msg)), 0);

	/* A cleared VMCS (all 0) misses the controls that must be 1. */
	struct nested_vmcs zero;
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(nested_check_controls(&zero, &env, msg, sizeof(msg)), -1);
	assert_string_equal(msg, "pin-based controls outside the allowed settings (value 0; SDM "
				 "26.2.1.1)");
	/* Controls: shadowing is not offered; VPID 0; a bad EPTP; virtual
	 * NMIs without NMI exiting; MSR bitmap unaligned; preemption timer. */
	valid_vmcs(&vmcs, &caps);
	uint64_t proc = nested_vmcs_get(&vmcs, VMCS_PROC_BASED_CTLS);
	nested_vmcs_set(&vmcs, VMCS_PROC_BASED_CTLS, proc | PROC_ACTIVATE_SECONDARY);
	nested_vmcs_set(&vmcs, VMCS_PROC_BASED_CTLS2, PROC2_VMCS_SHADOWING);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), -1);
	nested_vmcs_set(&vmcs, VMCS_PROC_BASED_CTLS2, PROC2_ENABLE_VPID);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "VPID 0"));
	nested_vmcs_set(&vmcs, VMCS_VPID, 1);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), 0);
	nested_vmcs_set(&vmcs, VMCS_PROC_BASED_CTLS2, PROC2_ENABLE_EPT);
	nested_vmcs_set(&vmcs, VMCS_EPT_POINTER, 0x5000 | 6 | (2 << 3)); /* 3-level walk */
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), -1);
	nested_vmcs_set(&vmcs, VMCS_EPT_POINTER, 0x5000 | 6 | (3 << 3));
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), 0);
	assert_true(nested_eptp_valid(&env, 0x5000 | 6 | (3 << 3)));
	assert_false(nested_eptp_valid(&env, (1ull << 40) | 6 | (3 << 3))); /* beyond 36 bits */
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_PIN_BASED_CTLS,
			nested_vmcs_get(&vmcs, VMCS_PIN_BASED_CTLS) | PIN_VIRTUAL_NMIS);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), -1);
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_PROC_BASED_CTLS, proc | PROC_USE_MSR_BITMAPS);
	nested_vmcs_set(&vmcs, VMCS_MSR_BITMAP, 0x3008);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), -1);
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_EXIT_CTLS,
			nested_vmcs_get(&vmcs, VMCS_EXIT_CTLS) | EXIT_SAVE_PREEMPTION_TIMER);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), -1);
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_CR3_TARGET_COUNT, 5);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), -1);
	/* Event injection: an NMI must have vector 2. */
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | 3);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), -1);
	/* A #GP with its error code: fine in protected mode, refused for a
	 * real-mode L2 under unrestricted guest (hardware would fail the
	 * entry, SDM 26.2.1.3). */
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_PROC_BASED_CTLS, proc | PROC_ACTIVATE_SECONDARY);
	nested_vmcs_set(&vmcs, VMCS_PROC_BASED_CTLS2, PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST);
	nested_vmcs_set(&vmcs, VMCS_EPT_POINTER, 0x5000 | 6 | (3 << 3));
	nested_vmcs_set(&vmcs, VMCS_ENTRY_INTR_INFO,
			INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | INTR_INFO_DELIVER_ERROR_CODE |
				13);
	nested_vmcs_set(&vmcs, VMCS_GUEST_CR0, 0x80000031);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), 0);
	nested_vmcs_set(&vmcs, VMCS_GUEST_CR0, 0x30);
	assert_int_equal(nested_check_controls(&vmcs, &env, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "real-mode"));

	/* Host state: CR0 without PG; TR 0; RPL set; a 64-bit host from a
	 * 32-bit guest hypervisor; RIP above 4 GiB. */
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_HOST_CR0, 0x31);
	assert_int_equal(nested_check_host_state(&vmcs, &env, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "host CR0"));
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_HOST_CR4, 0x10); /* no VMXE */
	assert_int_equal(nested_check_host_state(&vmcs, &env, msg, sizeof(msg)), -1);
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_HOST_TR_SEL, 0);
	assert_int_equal(nested_check_host_state(&vmcs, &env, msg, sizeof(msg)), -1);
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_HOST_DS_SEL, 0x13);
	assert_int_equal(nested_check_host_state(&vmcs, &env, msg, sizeof(msg)), -1);
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_EXIT_CTLS,
			nested_vmcs_get(&vmcs, VMCS_EXIT_CTLS) | EXIT_HOST_ADDRESS_SPACE_SIZE);
	assert_int_equal(nested_check_host_state(&vmcs, &env, msg, sizeof(msg)), -1);
	env.long_mode = true; /* ... which a 64-bit guest hypervisor needs */
	nested_vmcs_set(&vmcs, VMCS_HOST_CR4, 0x2030);
	assert_int_equal(nested_check_host_state(&vmcs, &env, msg, sizeof(msg)), 0);
	nested_vmcs_set(&vmcs, VMCS_HOST_RIP, 0x0000800000000000ull);
	assert_int_equal(nested_check_host_state(&vmcs, &env, msg, sizeof(msg)), -1);
	env.long_mode = false;
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_HOST_RIP, 0x100000000ull);
	assert_int_equal(nested_check_host_state(&vmcs, &env, msg, sizeof(msg)), -1);
}

static uint64_t loaded(const struct nested_field_value *f, unsigned n, uint32_t field)
{
	for (unsigned i = 0; i < n; i++)
		if (f[i].field == field)
			return f[i].value;
	fail_msg("field %#x not loaded", field);
	return 0;
}

static bool is_loaded(const struct nested_field_value *f, unsigned n, uint32_t field)
{
	for (unsigned i = 0; i < n; i++)
		if (f[i].field == field)
			return true;
	return false;
}

static void test_host_state(void **state)
{
	(void)state;
	struct nested_caps caps;
	struct nested_vmcs vmcs;
	struct nested_field_value f[NESTED_HOST_STATE_MAX];

	/* A 32-bit guest hypervisor (SDM 27.5): flat segments from its
	 * selectors, a null one unusable, TR a busy TSS, RFLAGS 2, DR7 0x400,
	 * EFER's LMA/LME cleared, no PAT unless the exit loads it. */
	nested_caps_compute(&bochs_haswell_caps, NESTED_PROFILE_KVM, &caps);
	valid_vmcs(&vmcs, &caps);
	nested_vmcs_set(&vmcs, VMCS_HOST_DS_SEL, 0x10);
	nested_vmcs_set(&vmcs, VMCS_HOST_FS_BASE, 0x7000);
	nested_vmcs_set(&vmcs, VMCS_HOST_TR_BASE, 0x9000);
	nested_vmcs_set(&vmcs, VMCS_HOST_RSP, 0x8ff0);
	nested_vmcs_set(&vmcs, VMCS_HOST_CR3, 0x5000);
	unsigned n = nested_host_state(&vmcs, EFER_LME | EFER_LMA | EFER_NXE, f);
	assert_true(n <= NESTED_HOST_STATE_MAX);
	assert_false(nested_host_64bit(&vmcs));
	assert_int_equal(loaded(f, n, VMCS_GUEST_CS_SEL), 0x08);
	assert_int_equal(loaded(f, n, VMCS_GUEST_CS_AR), 0xc09b);
	assert_int_equal(loaded(f, n, VMCS_GUEST_CS_LIMIT), 0xffffffff);
	assert_int_equal(loaded(f, n, VMCS_GUEST_SS_AR), 0xc093);
	assert_int_equal(loaded(f, n, VMCS_GUEST_DS_SEL), 0x10);
	assert_int_equal(loaded(f, n, VMCS_GUEST_ES_AR), 0xc093 | AR_UNUSABLE);
	assert_int_equal(loaded(f, n, VMCS_GUEST_FS_BASE), 0x7000);
	assert_int_equal(loaded(f, n, VMCS_GUEST_TR_SEL), 0x18);
	assert_int_equal(loaded(f, n, VMCS_GUEST_TR_BASE), 0x9000);
	assert_int_equal(loaded(f, n, VMCS_GUEST_TR_LIMIT), 0x67);
	assert_int_equal(loaded(f, n, VMCS_GUEST_TR_AR), 0x8b);
	assert_int_equal(loaded(f, n, VMCS_GUEST_LDTR_AR), AR_UNUSABLE);
	assert_int_equal(loaded(f, n, VMCS_GUEST_GDTR_LIMIT), 0xffff);
	assert_int_equal(loaded(f, n, VMCS_GUEST_RIP), 0x100000);
	assert_int_equal(loaded(f, n, VMCS_GUEST_RSP), 0x8ff0);
	assert_int_equal(loaded(f, n, VMCS_GUEST_RFLAGS), 2);
	assert_int_equal(loaded(f, n, VMCS_GUEST_DR7), 0x400);
	assert_int_equal(loaded(f, n, VMCS_GUEST_CR3), 0x5000);
	assert_int_equal(loaded(f, n, VMCS_GUEST_IA32_EFER), EFER_NXE);
	assert_false(is_loaded(f, n, VMCS_GUEST_IA32_PAT));
	/* A 64-bit host: CS with L, EFER's LMA/LME set; the exit's EFER and
	 * PAT when it loads them. */
	uint64_t exit = nested_vmcs_get(&vmcs, VMCS_EXIT_CTLS);
	nested_vmcs_set(&vmcs, VMCS_EXIT_CTLS, exit | EXIT_HOST_ADDRESS_SPACE_SIZE);
	n = nested_host_state(&vmcs, 0, f);
	assert_int_equal(loaded(f, n, VMCS_GUEST_CS_AR), 0xa09b);
	assert_int_equal(loaded(f, n, VMCS_GUEST_IA32_EFER), EFER_LME | EFER_LMA);
	nested_vmcs_set(&vmcs, VMCS_EXIT_CTLS,
			exit | EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_LOAD_IA32_EFER |
				EXIT_LOAD_IA32_PAT);
	nested_vmcs_set(&vmcs, VMCS_HOST_IA32_EFER, 0xd01);
	nested_vmcs_set(&vmcs, VMCS_HOST_IA32_PAT, 0x0007040600070406ull);
	n = nested_host_state(&vmcs, 0, f);
	assert_int_equal(loaded(f, n, VMCS_GUEST_IA32_EFER), 0xd01);
	assert_int_equal(loaded(f, n, VMCS_GUEST_IA32_PAT), 0x0007040600070406ull);
	/* Made ready for an exit: PAT left out where the CPU has no guest
	 * IA32_PAT field, every other field kept. */
	struct nested_host_load h;
	nested_host_load_build(&h, &vmcs, 0, true);
	assert_int_equal(h.n, n);
	assert_int_equal(loaded(h.f, h.n, VMCS_GUEST_IA32_PAT), 0x0007040600070406ull);
	nested_host_load_build(&h, &vmcs, 0, false);
	assert_int_equal(h.n, n - 1);
	assert_false(is_loaded(h.f, h.n, VMCS_GUEST_IA32_PAT));
	assert_int_equal(loaded(h.f, h.n, VMCS_GUEST_IA32_EFER), 0xd01);
	assert_int_equal(loaded(h.f, h.n, VMCS_GUEST_RSP), 0x8ff0);
}

static void test_l2_controls(void **state)
{
	(void)state;
	struct nested_caps caps;
	struct nested_vmcs v12;
	struct nested_l2_controls c;
	const struct nested_l0_controls l0 = {
		.pin = PIN_EXTERNAL_INTERRUPT_EXITING | PIN_NMI_EXITING | PIN_PREEMPTION_TIMER,
		.proc = PROC_HLT_EXITING | PROC_USE_TPR_SHADOW | PROC_USE_MSR_BITMAPS |
			PROC_USE_IO_BITMAPS | PROC_USE_TSC_OFFSETTING | PROC_ACTIVATE_SECONDARY,
		.proc2 = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST |
			 PROC2_VIRTUAL_INTR_DELIVERY | PROC2_ENABLE_RDTSCP,
		.exit = EXIT_HOST_ADDRESS_SPACE_SIZE,
		.entry = ENTRY_LOAD_IA32_EFER,
		.cr0_mask = 0xe0000021, /* CD, NW, NE; PE and PG in VMX operation */
		.cr4_mask = 0x2000,
		.tsc_offset = 100,
	};

	nested_caps_compute(&bochs_haswell_caps, NESTED_PROFILE_KVM, &caps);
	valid_vmcs(&v12, &caps);
	assert_null(nested_l2_unsupported(&v12));
	/* Exits L1 gets whatever its controls, and some it may not. */
	assert_true(nested_exit_unconditional(EXIT_CPUID));
	assert_true(nested_exit_unconditional(EXIT_VMRESUME));
	assert_true(nested_exit_unconditional(EXIT_XSETBV));
	assert_false(nested_exit_unconditional(EXIT_VMREAD));
	assert_false(nested_exit_unconditional(EXIT_HLT));
	assert_false(nested_exit_unconditional(EXIT_EPT_VIOLATION));
	assert_false(nested_exit_unconditional(EXIT_PREEMPTION_TIMER));
	/* L0's own controls stay but for APIC virtualization, MSR bitmaps,
	 * VPID and unrestricted guest; L1's exits join; CR8 always exits. */
	uint64_t proc12 = nested_vmcs_get(&v12, VMCS_PROC_BASED_CTLS);
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS,
			proc12 | PROC_RDTSC_EXITING | PROC_USE_TSC_OFFSETTING);
	nested_vmcs_set(&v12, VMCS_TSC_OFFSET, 5);
	nested_vmcs_set(&v12, VMCS_CR0_GUEST_HOST_MASK, 0x8);
	nested_vmcs_set(&v12, VMCS_CR0_READ_SHADOW, 0x8);
	nested_vmcs_set(&v12, VMCS_GUEST_CR0, 0x80000031);
	nested_l2_controls(&l0, &v12, &c);
	assert_int_equal(c.pin, l0.pin);
	assert_true(c.proc & PROC_RDTSC_EXITING);
	assert_true(c.proc & PROC_HLT_EXITING); /* L0's */
	assert_false(c.proc & (PROC_USE_TPR_SHADOW | PROC_USE_MSR_BITMAPS));
	assert_true(c.proc & PROC_CR8_LOAD_EXITING);
	assert_int_equal(c.proc2, PROC2_ENABLE_EPT | PROC2_ENABLE_RDTSCP);
	assert_int_equal(c.tsc_offset, 105);
	assert_int_equal(c.cr0_mask, 0xe0000029);
	assert_int_equal(c.cr0_shadow, 0x80000039); /* TS from L1's shadow, the rest L2's */
	/* What is not supported yet is named. */
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS, proc12 | PROC_ACTIVATE_SECONDARY);
	/* EPT runs L2 under shadow tables; unrestricted guest (which needs
	 * it) is L1's as it asks, and L2 may then clear CR0.PE and PG. */
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS2, PROC2_ENABLE_EPT);
	assert_null(nested_l2_unsupported(&v12));
	nested_l2_controls(&l0, &v12, &c);
	assert_int_equal(c.proc2, PROC2_ENABLE_EPT | PROC2_ENABLE_RDTSCP);
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS2, PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST);
	assert_null(nested_l2_unsupported(&v12));
	nested_l2_controls(&l0, &v12, &c);
	assert_int_equal(c.proc2,
			 PROC2_ENABLE_EPT | PROC2_ENABLE_RDTSCP | PROC2_UNRESTRICTED_GUEST);
	assert_int_equal(c.cr0_mask, 0x60000028);
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS2, PROC2_ENABLE_EPT | PROC2_ENABLE_PML);
	assert_non_null(nested_l2_unsupported(&v12));
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS2, 0);
	nested_vmcs_set(&v12, VMCS_EXIT_MSR_LOAD_COUNT, 1);
	assert_non_null(nested_l2_unsupported(&v12));
}

static void test_l1_wants_exit(void **state)
{
	(void)state;
	struct nested_caps caps;
	struct nested_vmcs v12;
	struct nested_l2_exit e = { 0 };

	nested_caps_compute(&bochs_haswell_caps, NESTED_PROFILE_KVM, &caps);
	valid_vmcs(&v12, &caps);
	uint64_t proc = nested_vmcs_get(&v12, VMCS_PROC_BASED_CTLS);
	/* Always L1's: CPUID; never: the host's interrupts, timer, EPT. */
	e.reason = EXIT_CPUID;
	assert_true(nested_l1_wants_exit(&v12, &e));
	e.reason = EXIT_EXTERNAL_INTERRUPT;
	assert_false(nested_l1_wants_exit(&v12, &e));
	e.reason = EXIT_EPT_VIOLATION;
	assert_false(nested_l1_wants_exit(&v12, &e));
	/* HLT and I/O as L1's controls say. */
	e.reason = EXIT_HLT;
	assert_int_equal(nested_l1_wants_exit(&v12, &e), !!(proc & PROC_HLT_EXITING));
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS, proc | PROC_HLT_EXITING);
	assert_true(nested_l1_wants_exit(&v12, &e));
	e.reason = EXIT_IO_INSTRUCTION;
	assert_false(nested_l1_wants_exit(&v12, &e));
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS, proc | PROC_UNCONDITIONAL_IO_EXITING);
	assert_true(nested_l1_wants_exit(&v12, &e));
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS, proc | PROC_USE_IO_BITMAPS);
	e.bitmap_exit = false;
	assert_false(nested_l1_wants_exit(&v12, &e));
	e.bitmap_exit = true;
	assert_true(nested_l1_wants_exit(&v12, &e));
	/* MSRs: all without bitmaps. */
	e.reason = EXIT_RDMSR;
	e.bitmap_exit = false;
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS, proc);
	assert_true(nested_l1_wants_exit(&v12, &e));
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS, proc | PROC_USE_MSR_BITMAPS);
	assert_false(nested_l1_wants_exit(&v12, &e));
	/* An NMI exit of L2 is the host's NMI, L0's whatever L1's NMI
	 * exiting: L1's NMIs reach it before an entry, not as L2's exits. */
	e.reason = EXIT_EXCEPTION_NMI;
	e.intr_info = INTR_INFO_VALID | INTR_TYPE_NMI | 2;
	uint64_t pin12 = nested_vmcs_get(&v12, VMCS_PIN_BASED_CTLS);
	nested_vmcs_set(&v12, VMCS_PIN_BASED_CTLS, pin12 | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	assert_false(nested_l1_wants_exit(&v12, &e));
	nested_vmcs_set(&v12, VMCS_PIN_BASED_CTLS, pin12);
	/* Exceptions by the bitmap; #PF by the bitmap and mask/match. */
	e.intr_info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | 6;
	assert_false(nested_l1_wants_exit(&v12, &e));
	nested_vmcs_set(&v12, VMCS_EXCEPTION_BITMAP, (1u << 6) | (1u << 14));
	assert_true(nested_l1_wants_exit(&v12, &e));
	e.intr_info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | 14;
	e.error_code = 2;
	nested_vmcs_set(&v12, VMCS_PF_ERROR_CODE_MASK, 2);
	nested_vmcs_set(&v12, VMCS_PF_ERROR_CODE_MATCH, 0);
	assert_false(nested_l1_wants_exit(&v12, &e)); /* mismatch inverts the bit */
	/* MOV to CR0: L1's only when a bit it owns changes from its shadow. */
	e.reason = EXIT_CR_ACCESS;
	e.qualification = 0; /* MOV to CR0 */
	nested_vmcs_set(&v12, VMCS_CR0_GUEST_HOST_MASK, 0x8);
	nested_vmcs_set(&v12, VMCS_CR0_READ_SHADOW, 0x8);
	e.cr_value = 0x80000039;
	assert_false(nested_l1_wants_exit(&v12, &e));
	e.cr_value = 0x80000031;
	assert_true(nested_l1_wants_exit(&v12, &e));
}

static bool bit_set(const uint8_t *bitmap, uint32_t encoding)
{
	return (bitmap[encoding / 8] >> (encoding % 8)) & 1;
}

/* A host that cannot hold the guest interrupt status nor, without
 * IA32_VMX_MISC bit 29, any read-only field. */
static bool host_without_read_only(uint32_t encoding, void *ctx)
{
	(void)ctx;
	return encoding != VMCS_GUEST_INTR_STATUS && !nested_vmcs_is_read_only(encoding);
}

static bool host_with_all(uint32_t encoding, void *ctx)
{
	(void)ctx;
	return encoding != VMCS_GUEST_INTR_STATUS;
}

static void test_vmcs_shadowing(void **state)
{
	static struct nested_shadowing s;
	(void)state;

	nested_shadowing_build(&s, host_with_all, NULL);
	assert_int_equal(s.nread, NESTED_VMCS_FIELDS - 1);
	/* Read: every field the host holds, a 64-bit one's high access too;
	 * written: those a guest hypervisor writes around most exits, never
	 * the VM-exit information fields; the others' VMWRITE exits. */
	assert_false(bit_set(s.vmread_bitmap, VMCS_GUEST_RIP));
	assert_false(bit_set(s.vmwrite_bitmap, VMCS_GUEST_RIP));
	assert_false(bit_set(s.vmread_bitmap, VMCS_EPT_POINTER));
	assert_false(bit_set(s.vmread_bitmap, VMCS_EPT_POINTER + 1));
	assert_true(bit_set(s.vmwrite_bitmap, VMCS_EPT_POINTER));
	assert_true(bit_set(s.vmwrite_bitmap, VMCS_EPT_POINTER + 1));
	assert_false(bit_set(s.vmwrite_bitmap, VMCS_TSC_OFFSET));
	assert_false(bit_set(s.vmwrite_bitmap, VMCS_TSC_OFFSET + 1));
	assert_false(bit_set(s.vmwrite_bitmap, VMCS_ENTRY_INTR_INFO));
	assert_false(bit_set(s.vmread_bitmap, VMCS_HOST_RIP));
	assert_true(bit_set(s.vmwrite_bitmap, VMCS_HOST_RIP));
	assert_true(bit_set(s.vmwrite_bitmap, VMCS_GUEST_ES_SEL));
	assert_false(bit_set(s.vmread_bitmap, VMCS_EXIT_REASON));
	assert_true(bit_set(s.vmwrite_bitmap, VMCS_EXIT_REASON));
	assert_true(bit_set(s.vmwrite_bitmap, VMCS_GUEST_PHYSICAL_ADDRESS + 1));
	assert_int_equal(s.nwrite, NESTED_VMCS_WRITTEN);
	/* What the host cannot hold, or the virtual CPU lacks, exits. */
	assert_true(bit_set(s.vmread_bitmap, VMCS_GUEST_INTR_STATUS));
	assert_true(bit_set(s.vmwrite_bitmap, VMCS_GUEST_INTR_STATUS));
	assert_true(bit_set(s.vmread_bitmap, 0x7fff));
	assert_true(bit_set(s.vmread_bitmap, VMCS_GUEST_RIP + 1)); /* no high access */
	for (unsigned i = 0; i < s.nwrite; i++) {
		assert_false(nested_vmcs_is_read_only(s.write_fields[i]));
		assert_int_equal(nested_vmcs_field(s.write_slots[i]), s.write_fields[i]);
	}
	for (unsigned i = 0; i < s.nread; i++)
		assert_int_equal(nested_vmcs_field(s.read_slots[i]), s.read_fields[i]);

	nested_shadowing_build(&s, host_without_read_only, NULL);
	assert_int_equal(s.nread, NESTED_VMCS_FIELDS - 1 - 15); /* 15 read-only fields */
	assert_int_equal(s.nwrite, NESTED_VMCS_WRITTEN);
	assert_true(bit_set(s.vmread_bitmap, VMCS_EXIT_REASON));
	assert_false(bit_set(s.vmread_bitmap, VMCS_GUEST_RIP));
}

/* VMCS02 takes v12, and then a VMX instruction of L1's may write any
 * field: the next diff compares them all. */
static void take_all(struct vmcs02_cache *c, const struct nested_vmcs *v12)
{
	vmcs02_cache_take(c, 0, v12);
	c->synced = false;
}

/* VMCS02 kept between entries: what changed in L1's VMCS since it took
 * it, each kind of field to the checks it takes part in. */
static void test_vmcs02_cache(void **state)
{
	(void)state;
	static struct vmcs02_cache c;
	static struct nested_vmcs v12;

	memset(&v12, 0, sizeof(v12));
	vmcs02_cache_drop(&c);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_ALL);
	nested_vmcs_set(&v12, VMCS_GUEST_RIP, 0x1000);
	nested_vmcs_set(&v12, VMCS_PROC_BASED_CTLS, 0x80);
	take_all(&c, &v12);
	/* Nothing changed; another slot's VMCS is all new. */
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), 0);
	assert_int_equal(c.nguest, 0);
	assert_int_equal(vmcs02_cache_diff(&c, 1, &v12), VMCS02_ALL);
	/* RIP alone; RSP, the exit information and the preemption timer's
	 * value take no check. */
	nested_vmcs_set(&v12, VMCS_GUEST_RIP, 0x1002);
	nested_vmcs_set(&v12, VMCS_GUEST_RSP, 0x8000);
	nested_vmcs_set(&v12, VMCS_EXIT_REASON, 10);
	nested_vmcs_set(&v12, VMCS_PREEMPTION_TIMER_VALUE, 99);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_RIP);
	assert_int_equal(c.nguest, 3); /* RIP, RSP and the timer: guest state */
	/* Other guest state, a control, a host-state field. */
	nested_vmcs_set(&v12, VMCS_GUEST_CR0, 0x80000031);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_RIP | VMCS02_GUEST_CHECK);
	assert_int_equal(c.ndiff, 5); /* the exit reason as well */
	vmcs02_cache_take_diff(&c, &v12);
	c.synced = false;
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), 0);
	assert_int_equal(nested_vmcs_next_difference(&c.held, &v12, 0), NESTED_VMCS_FIELDS);
	/* A control or host field: both kinds of checks (the guest state's
	 * read the controls). */
	nested_vmcs_set(&v12, VMCS_CR4_READ_SHADOW, 0x100);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_CONTROLS | VMCS02_GUEST_CHECK);
	assert_int_equal(c.nguest, 0);
	take_all(&c, &v12);
	nested_vmcs_set(&v12, VMCS_HOST_RIP, 0x2000);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_CONTROLS | VMCS02_GUEST_CHECK);
	take_all(&c, &v12);
	nested_vmcs_set(&v12, VMCS_HOST_RSP, 0x3000);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_HOST_RSP);
	take_all(&c, &v12);
	/* An event to inject is checked at every entry, changed or not. */
	nested_vmcs_set(&v12, VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | 0x30);
	take_all(&c, &v12);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_CONTROLS | VMCS02_GUEST_CHECK);
	/* The last field of the table and the first are seen. */
	take_all(&c, &v12);
	v12.field[NESTED_VMCS_FIELDS - 1]++;
	v12.field[0]++;
	assert_int_equal(nested_vmcs_next_difference(&c.held, &v12, 0), 0);
	assert_int_equal(nested_vmcs_next_difference(&c.held, &v12, 1), NESTED_VMCS_FIELDS - 1);
	assert_int_equal(nested_vmcs_next_difference(&c.held, &v12, NESTED_VMCS_FIELDS),
			 NESTED_VMCS_FIELDS);
	vmcs02_cache_drop(&c);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_ALL);
}

/* The preemption timer's moment for an entry to L2: pgvisor's own, L1's
 * deadline when earlier (never before now), now for an exit right after
 * an event's delivery, whatever the deadlines. */
/* An NMI for L1 while L2 runs: exit 0 under NMI exiting (after an
 * event's delivery; held by L2's blocking only without virtual NMIs),
 * else L2's: injected, or after an NMI window (NMI or MOV-SS blocking,
 * an event on its way in) or an interrupt window (STI blocking). */
static void test_l1_nmi_route(void **state)
{
	(void)state;
	const uint32_t exiting = PIN_NMI_EXITING, virt = PIN_NMI_EXITING | PIN_VIRTUAL_NMIS;
	const uint32_t nmi = INTERRUPTIBILITY_NMI;

	assert_int_equal(nested_l1_nmi_route(exiting, 0, false), NESTED_NMI_EXIT);
	assert_int_equal(nested_l1_nmi_route(virt, 0, false), NESTED_NMI_EXIT);
	assert_int_equal(nested_l1_nmi_route(exiting, 0, true), NESTED_NMI_EXIT_AFTER);
	assert_int_equal(nested_l1_nmi_route(virt, nmi, false), NESTED_NMI_EXIT);
	assert_int_equal(nested_l1_nmi_route(exiting, nmi, false), NESTED_NMI_HELD);
	assert_int_equal(nested_l1_nmi_route(exiting, nmi, true), NESTED_NMI_HELD);
	/* STI and MOV-SS blocking hold no NMI exit back (SDM 25.2). */
	assert_int_equal(nested_l1_nmi_route(virt, INTERRUPTIBILITY_STI, false), NESTED_NMI_EXIT);
	assert_int_equal(nested_l1_nmi_route(virt, INTERRUPTIBILITY_MOV_SS, false),
			 NESTED_NMI_EXIT);
	/* Without NMI exiting: L2's. */
	assert_int_equal(nested_l1_nmi_route(0, 0, false), NESTED_NMI_INJECT);
	assert_int_equal(nested_l1_nmi_route(PIN_EXTERNAL_INTERRUPT_EXITING, 0, false),
			 NESTED_NMI_INJECT);
	assert_int_equal(nested_l1_nmi_route(0, nmi, false), NESTED_NMI_WINDOW);
	assert_int_equal(nested_l1_nmi_route(0, INTERRUPTIBILITY_MOV_SS, false), NESTED_NMI_WINDOW);
	assert_int_equal(nested_l1_nmi_route(0, 0, true), NESTED_NMI_WINDOW);
	assert_int_equal(nested_l1_nmi_route(0, INTERRUPTIBILITY_STI, false),
			 NESTED_NMI_INTERRUPT_WINDOW);
	assert_int_equal(nested_l1_nmi_route(0, INTERRUPTIBILITY_STI | nmi, false),
			 NESTED_NMI_WINDOW);
}

static void test_l2_timer_until(void **state)
{
	(void)state;
	struct nested_vcpu n = { 0 };
	const uint64_t now = 1000, until = 5000;

	assert_int_equal(nested_l2_timer_until(&n, now, until), until);
	n.l2_timer = true;
	n.l2_timer_deadline = 3000;
	assert_int_equal(nested_l2_timer_until(&n, now, until), 3000);
	n.l2_timer_deadline = 9000;
	assert_int_equal(nested_l2_timer_until(&n, now, until), until);
	n.l2_timer_deadline = 500; /* due before the entry: at once */
	assert_int_equal(nested_l2_timer_until(&n, now, until), now);
	n.l2_timer_deadline = 3000;
	n.exit_after_delivery = true;
	assert_int_equal(nested_l2_timer_until(&n, now, until), now);
	n.l2_timer = false;
	assert_int_equal(nested_l2_timer_until(&n, now, until), now);
}

/* As a pull from the shadow VMCS lists a field of the run L1 writes
 * often that it found changed. */
static void pulled(struct vmcs02_cache *c, struct nested_vmcs *v12, uint32_t field, uint64_t value)
{
	int slot = nested_vmcs_slot(field);

	assert_true(slot >= NESTED_VMCS_WRITTEN_FIRST &&
		    slot < NESTED_VMCS_WRITTEN_FIRST + NESTED_VMCS_WRITTEN);
	nested_vmcs_set(v12, field, value);
	c->pulled[c->npulled++] = (uint8_t)slot;
}

/* After an entry or an exit to L1 (held is v12 in every field), only
 * the fields the pull listed are looked at; the entry leaves held
 * synced. */
static void test_vmcs02_cache_synced(void **state)
{
	(void)state;
	static struct vmcs02_cache c;
	static struct nested_vmcs v12;

	memset(&v12, 0, sizeof(v12));
	vmcs02_cache_drop(&c);
	assert_false(c.synced);
	vmcs02_cache_take(&c, 0, &v12);
	assert_true(c.synced);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), 0);
	/* L1 moved RIP: RIP alone differs. */
	pulled(&c, &v12, VMCS_GUEST_RIP, 0x1002);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_RIP);
	assert_int_equal(c.ndiff, 1);
	assert_int_equal(c.nguest, 1);
	vmcs02_cache_take_diff(&c, &v12);
	assert_true(c.synced);
	assert_int_equal(c.npulled, 0);
	assert_int_equal(nested_vmcs_next_difference(&c.held, &v12, 0), NESTED_VMCS_FIELDS);
	/* A control of the run: both kinds of checks. */
	pulled(&c, &v12, VMCS_PROC_BASED_CTLS, 0x80);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_CONTROLS | VMCS02_GUEST_CHECK);
	vmcs02_cache_take_diff(&c, &v12);
	/* Not listed, only a diff out of sync sees a change. */
	nested_vmcs_set(&v12, VMCS_GUEST_CS_AR, 0xa09b);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), 0);
	c.synced = false;
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_GUEST_CHECK);
	/* An event to inject is checked whether changed or not. */
	nested_vmcs_set(&v12, VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | 0x30);
	vmcs02_cache_take(&c, 0, &v12);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_CONTROLS | VMCS02_GUEST_CHECK);
	/* Another slot's VMCS, or a dropped cache: all new, synced or not. */
	assert_int_equal(vmcs02_cache_diff(&c, 1, &v12), VMCS02_ALL);
	vmcs02_cache_drop(&c);
	assert_int_equal(vmcs02_cache_diff(&c, 0, &v12), VMCS02_ALL);
}

/* The storage: those fields L1 writes often in one run, what an exit
 * from L2 changes from NESTED_VMCS_EXIT_FIRST on (guest state and exit
 * information only), the guest state and exit information an exit
 * copies as they are in the lists' order. */
static void test_vmcs_exit_layout(void **state)
{
	(void)state;
	static const uint32_t l2_state[] = { NESTED_VMCS_L2_STATE_LIST };
	static const uint32_t written[] = { NESTED_VMCS_WRITTEN_LIST };
	static const uint32_t info[] = { NESTED_VMCS_EXIT_INFO_LIST };

	assert_int_equal(sizeof(l2_state) / sizeof(l2_state[0]), NESTED_VMCS_L2_STATE);
	assert_int_equal(sizeof(written) / sizeof(written[0]), NESTED_VMCS_WRITTEN);
	assert_int_equal(sizeof(info) / sizeof(info[0]), NESTED_VMCS_EXIT_INFO);
	for (unsigned i = 0; i < NESTED_VMCS_FIELDS; i++) {
		uint32_t f = nested_vmcs_field(i);
		bool exit_side = nested_vmcs_is_guest_state(f) || nested_vmcs_is_read_only(f);
		if (i < NESTED_VMCS_WRITTEN_FIRST || i >= NESTED_VMCS_EXIT_FIRST)
			assert_int_equal(exit_side, i >= NESTED_VMCS_EXIT_FIRST);
	}
	for (unsigned k = 0; k < NESTED_VMCS_L2_STATE; k++)
		assert_int_equal(nested_vmcs_field(NESTED_VMCS_L2_STATE_FIRST + k), l2_state[k]);
	for (unsigned k = 0; k < NESTED_VMCS_WRITTEN; k++)
		assert_int_equal(nested_vmcs_field(NESTED_VMCS_WRITTEN_FIRST + k), written[k]);
	for (unsigned k = 0; k < NESTED_VMCS_EXIT_INFO; k++)
		assert_int_equal(nested_vmcs_field(NESTED_VMCS_EXIT_INFO_FIRST + k), info[k]);
	/* DR7 and the MSRs the controls decide about are copied apart. */
	static const uint32_t apart[] = { VMCS_GUEST_DR7,
					  VMCS_GUEST_IA32_EFER,
					  VMCS_GUEST_IA32_PAT,
					  VMCS_GUEST_IA32_DEBUGCTL,
					  VMCS_PREEMPTION_TIMER_VALUE,
					  0x4828 /* SMBASE */ };
	for (unsigned k = 0; k < sizeof(apart) / sizeof(apart[0]); k++) {
		int slot = nested_vmcs_slot(apart[k]);
		assert_true(slot >= NESTED_VMCS_EXIT_FIRST);
		assert_true(slot < NESTED_VMCS_L2_STATE_FIRST ||
			    slot >= NESTED_VMCS_L2_STATE_FIRST + NESTED_VMCS_L2_STATE);
	}
	/* The event to inject, which an exit marks delivered, is L1's to
	 * write: outside the exit's part. */
	int intr = nested_vmcs_slot(VMCS_ENTRY_INTR_INFO);
	assert_true(intr >= NESTED_VMCS_WRITTEN_FIRST && intr < NESTED_VMCS_EXIT_FIRST);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_profiles),	 cmocka_unit_test(test_vmcs_fields),
		cmocka_unit_test(test_vmcs_cache),	 cmocka_unit_test(test_entry_checks),
		cmocka_unit_test(test_host_state),	 cmocka_unit_test(test_l2_controls),
		cmocka_unit_test(test_l1_wants_exit),	 cmocka_unit_test(test_vmcs_shadowing),
		cmocka_unit_test(test_vmcs02_cache),	 cmocka_unit_test(test_vmcs02_cache_synced),
		cmocka_unit_test(test_vmcs_exit_layout), cmocka_unit_test(test_l2_timer_until),
		cmocka_unit_test(test_l1_nmi_route),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
