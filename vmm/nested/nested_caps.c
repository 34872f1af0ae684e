#include "vmm/nested/nested_caps.h"

#include "arch/x86/msr.h"
#include "vmm/nested/nested_vmcs.h"
#include "vmm/vmx/vmcs_fields.h"

/* IA32_VMX_BASIC (SDM Vol. 3 A.1). */
#define BASIC_REVISION_MASK 0x7fffffffull
#define BASIC_REGION_SIZE_SHIFT 32
#define BASIC_MEMTYPE_WB (6ull << 50)
#define BASIC_INS_OUTS_INFO (1ull << 54)
#define BASIC_TRUE_CTLS (1ull << 55)

/* Pin-based: posted interrupts (bit 7) need virtual-interrupt delivery
 * emulated for the guest's guest; neither profile offers them. */
#define PIN_POSTED_INTERRUPTS (1u << 7)
/* Primary: "activate tertiary controls" (bit 17) is not modelled; the
 * TPR shadow, like the APIC virtualization of the secondary controls, is
 * not offered until a nested guest can run with it (l2_controls.c): a
 * guest hypervisor such as pgvisor then runs its guests without. */
#define PROC_ACTIVATE_TERTIARY (1u << 17)
/* Secondary controls (SDM A.3.3) KVM's nested VMX offers. */
#define PROC2_RDRAND_EXITING (1u << 11)
#define PROC2_RDSEED_EXITING (1u << 16)
#define PROC2_EPT_VE (1u << 18)
#define PROC2_TSC_SCALING (1u << 25)
#define PROC2_KVM_PROFILE                                                                          \
	(PROC2_ENABLE_EPT | PROC2_DESCRIPTOR_TABLE_EXITING | PROC2_ENABLE_RDTSCP |                 \
	 PROC2_ENABLE_VPID | PROC2_WBINVD_EXITING | PROC2_UNRESTRICTED_GUEST |                     \
	 PROC2_PAUSE_LOOP_EXITING | PROC2_RDRAND_EXITING | PROC2_ENABLE_INVPCID |                  \
	 PROC2_RDSEED_EXITING | PROC2_ENABLE_XSAVES | PROC2_TSC_SCALING)
/* "host": everything but what pgvisor does not emulate for a guest: VMCS
 * shadowing (its VMREAD/VMWRITE always exit) and the SGX, Intel PT,
 * sub-page and user-wait controls, none of which the virtual CPU has. */
#define PROC2_HOST_PROFILE                                                                         \
	(PROC2_KVM_PROFILE | PROC2_ENABLE_VMFUNC | PROC2_ENABLE_PML | PROC2_EPT_VE)
/* Exit and entry controls for Intel PT, CET and the secondary exit
 * controls: features the virtual CPU lacks. */
#define EXIT_NOT_MODELLED ((1u << 24) | (1u << 25) | (1u << 28) | (1u << 31))
#define ENTRY_NOT_MODELLED ((1u << 17) | (1u << 18) | (1u << 20))

/* IA32_VMX_MISC (SDM A.6): the preemption-timer rate, "store LMA", HLT
 * as the one activity state besides active, four CR3 targets, the MSR
 * list size; no RDMSR in SMM, no MSEG, and VMWRITE may not write the
 * VM-exit information fields (bit 29 clear). */
#define MISC_KEEP (0x1full | (1ull << 5) | (7ull << 25))
#define MISC_ACTIVITY_HLT (1ull << 6)
#define MISC_CR3_TARGETS_SHIFT 16
#define NESTED_CR3_TARGETS 4ull

/* IA32_VMX_EPT_VPID_CAP bits KVM offers (SDM A.10): execute-only, 4-level
 * walks, UC and WB, 2 MiB and 1 GiB pages, INVEPT (single, all),
 * INVVPID (individual address, single, all, single keeping globals). Not
 * the accessed and dirty flags, in either profile: the shadow EPT tables
 * do not set them in the guest hypervisor's. */
#define EPT_CAP_KVM_PROFILE                                                                        \
	((1ull << 0) | EPT_CAP_WALK_LENGTH_4 | (1ull << 8) | EPT_CAP_MEMTYPE_WB |                  \
	 EPT_CAP_2MB_PAGES | EPT_CAP_1GB_PAGES | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE |          \
	 EPT_CAP_INVEPT_ALL | VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDRESS |                        \
	 VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL | (1ull << 43))
#define VMFUNC_EPTP_SWITCHING 1ull

#define ALLOWED1_SHIFT 32

/* Keeps the host's allowed-0 settings (bits that must be 1) and the
 * allowed-1 settings in mask (SDM A.3). A control that must be 1 stays
 * 1 whatever the mask: the guest cannot be offered less than that. */
static uint64_t subset(uint64_t host, uint32_t mask)
{
	uint32_t must1 = (uint32_t)host;
	uint32_t may1 = (uint32_t)(host >> ALLOWED1_SHIFT) & (mask | must1);

	return ((uint64_t)may1 << ALLOWED1_SHIFT) | must1;
}

static void set(struct nested_caps *out, uint32_t msr, uint64_t value)
{
	out->msr[msr - NESTED_VMX_MSR_FIRST] = value;
	out->present[msr - NESTED_VMX_MSR_FIRST] = true;
}

void nested_caps_compute(const struct vmx_caps *host, enum nested_profile profile,
			 struct nested_caps *out)
{
	bool kvm = profile == NESTED_PROFILE_KVM;
	uint32_t pin = ~PIN_POSTED_INTERRUPTS;
	uint32_t proc = ~(PROC_ACTIVATE_TERTIARY | PROC_USE_TPR_SHADOW);
	uint32_t proc2 = kvm ? PROC2_KVM_PROFILE : PROC2_HOST_PROFILE;
	/* pgvisor reads the TRUE_ MSRs only where the CPU has them. */
	bool true_ctls = host->basic & BASIC_TRUE_CTLS;

	for (unsigned i = 0; i < NESTED_VMX_MSR_COUNT; i++) {
		out->msr[i] = 0;
		out->present[i] = false;
	}
	set(out, MSR_IA32_VMX_BASIC,
	    (host->basic & (BASIC_REVISION_MASK | BASIC_INS_OUTS_INFO)) | BASIC_MEMTYPE_WB |
		    ((uint64_t)NESTED_VMCS_REGION_SIZE << BASIC_REGION_SIZE_SHIFT) |
		    BASIC_TRUE_CTLS);
	set(out, MSR_IA32_VMX_PINBASED_CTLS, subset(host->pinbased, pin));
	set(out, MSR_IA32_VMX_PROCBASED_CTLS, subset(host->procbased, proc));
	set(out, MSR_IA32_VMX_EXIT_CTLS, subset(host->exit, ~EXIT_NOT_MODELLED));
	set(out, MSR_IA32_VMX_ENTRY_CTLS, subset(host->entry, ~ENTRY_NOT_MODELLED));
	set(out, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
	    subset(true_ctls ? host->true_pinbased : host->pinbased, pin));
	set(out, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
	    subset(true_ctls ? host->true_procbased : host->procbased, proc));
	set(out, MSR_IA32_VMX_TRUE_EXIT_CTLS,
	    subset(true_ctls ? host->true_exit : host->exit, ~EXIT_NOT_MODELLED));
	set(out, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
	    subset(true_ctls ? host->true_entry : host->entry, ~ENTRY_NOT_MODELLED));
	set(out, MSR_IA32_VMX_MISC,
	    (host->misc & (MISC_KEEP | MISC_ACTIVITY_HLT)) |
		    (NESTED_CR3_TARGETS << MISC_CR3_TARGETS_SHIFT));
	set(out, MSR_IA32_VMX_CR0_FIXED0, host->cr0_fixed0);
	set(out, MSR_IA32_VMX_CR0_FIXED1, host->cr0_fixed1);
	set(out, MSR_IA32_VMX_CR4_FIXED0, host->cr4_fixed0);
	set(out, MSR_IA32_VMX_CR4_FIXED1, host->cr4_fixed1);
	set(out, MSR_IA32_VMX_VMCS_ENUM, nested_vmcs_enum());

	/* PROCBASED_CTLS2 exists when "activate secondary controls" may be
	 * 1, EPT_VPID_CAP when EPT or VPID may be, VMFUNC when VM functions
	 * may be (SDM A.3.3, A.10, A.11). */
	if (!((out->msr[MSR_IA32_VMX_PROCBASED_CTLS - NESTED_VMX_MSR_FIRST] >> ALLOWED1_SHIFT) &
	      PROC_ACTIVATE_SECONDARY))
		return;
	uint64_t ctls2 = subset(host->procbased2, proc2);
	set(out, MSR_IA32_VMX_PROCBASED_CTLS2, ctls2);
	uint32_t may2 = (uint32_t)(ctls2 >> ALLOWED1_SHIFT);
	if (may2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID))
		set(out, MSR_IA32_VMX_EPT_VPID_CAP,
		    host->ept_vpid & (kvm ? EPT_CAP_KVM_PROFILE : ~EPT_CAP_ACCESSED_DIRTY));
	if (may2 & PROC2_ENABLE_VMFUNC)
		set(out, MSR_IA32_VMX_VMFUNC, host->vmfunc & VMFUNC_EPTP_SWITCHING);
}

bool nested_caps_read(const struct nested_caps *caps, uint32_t msr, uint64_t *value)
{
	if (msr < NESTED_VMX_MSR_FIRST || msr > NESTED_VMX_MSR_LAST ||
	    !caps->present[msr - NESTED_VMX_MSR_FIRST])
		return false;
	*value = caps->msr[msr - NESTED_VMX_MSR_FIRST];
	return true;
}

uint32_t nested_caps_revision(const struct nested_caps *caps)
{
	return (uint32_t)(caps->msr[MSR_IA32_VMX_BASIC - NESTED_VMX_MSR_FIRST] &
			  BASIC_REVISION_MASK);
}

const char *nested_profile_name(enum nested_profile p)
{
	return p == NESTED_PROFILE_HOST ? "host" : "kvm";
}
