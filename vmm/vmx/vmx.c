#include "vmm/vmx/vmx.h"

#include <stdio.h>

#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/page_alloc.h"
#include "vmm/vmx/vmcs_fields.h"

#define VMX_BASIC_REVISION_MASK 0x7fffffffull

struct vmx_caps vmx_caps;
struct vmx_controls vmx_controls;

void vmx_read_caps(struct vmx_caps *c)
{
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->pinbased = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
	c->procbased = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS);
	c->entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	if (c->basic & VMX_BASIC_TRUE_CTLS) {
		c->true_pinbased = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		c->true_procbased = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		c->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT_CTLS);
		c->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
	/* These MSRs only exist when the controls they describe can be 1. */
	c->procbased2 = (c->procbased >> 32) & PROC_ACTIVATE_SECONDARY
				? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2)
				: 0;
	c->ept_vpid = (c->procbased2 >> 32) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID)
			      ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP)
			      : 0;
	c->vmcs_enum = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
	c->vmfunc = (c->procbased2 >> 32) & PROC2_ENABLE_VMFUNC ? rdmsr(MSR_IA32_VMX_VMFUNC) : 0;
}

uint32_t vmx_revision_id(void)
{
	return (uint32_t)(rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_REVISION_MASK);
}

int vmx_check_support(char *why, size_t whylen)
{
	if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX)) {
		snprintf(why, whylen, "this CPU does not support VMX (CPUID.1:ECX.VMX = 0)");
		return -1;
	}
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		fc |= FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
		fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	}
	if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		snprintf(why, whylen,
			 "VMX is disabled by the firmware (IA32_FEATURE_CONTROL = %#llx, locked): "
			 "turn on Intel VT-x in the firmware setup",
			 (unsigned long long)fc);
		return -1;
	}
	return 0;
}

int vmx_enable(const struct vmx_caps *caps, char *why, size_t whylen)
{
	/* SDM 24.8: CR0 and CR4 must honour the fixed bits in VMX operation. */
	uint64_t cr0 = (read_cr0() | caps->cr0_fixed0) & caps->cr0_fixed1;
	uint64_t cr4 = (read_cr4() | caps->cr4_fixed0 | CR4_VMXE) & caps->cr4_fixed1;
	write_cr0(cr0);
	write_cr4(cr4);

	uint32_t *region = page_alloc(1);
	if (!region) {
		snprintf(why, whylen, "out of memory for the VMXON region");
		return -1;
	}
	region[0] = (uint32_t)(caps->basic & VMX_BASIC_REVISION_MASK);
	uint64_t phys = (uint64_t)region;
	bool fail;
	__asm__ volatile("vmxon %1"
			 : "=@cc"
			   "be"(fail)
			 : "m"(phys)
			 : "cc", "memory");
	if (fail) {
		snprintf(why, whylen, "VMXON failed");
		return -1;
	}
	return 0;
}

int vmcs_clear(uint64_t phys)
{
	bool fail;

	__asm__ volatile("vmclear %1"
			 : "=@cc"
			   "be"(fail)
			 : "m"(phys)
			 : "cc", "memory");
	return fail ? -1 : 0;
}

int vmcs_load(uint64_t phys)
{
	bool fail;

	__asm__ volatile("vmptrld %1"
			 : "=@cc"
			   "be"(fail)
			 : "m"(phys)
			 : "cc", "memory");
	return fail ? -1 : 0;
}

struct inv_descriptor {
	uint64_t a, b;
};

/* INVEPT and INVVPID types (SDM 30.3). */
#define INV_ADDRESS 0 /* INVVPID only */
#define INV_SINGLE_CONTEXT 1
#define INV_ALL_CONTEXT 2

/* Descriptors: INVEPT {EPTP, 0}; INVVPID {VPID, linear address}. */
static void invept(uint64_t type, uint64_t eptp)
{
	struct inv_descriptor d = { eptp, 0 };

	__asm__ volatile("invept %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

static void invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
	struct inv_descriptor d = { vpid, linear };

	__asm__ volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "cc", "memory");
}

/* All of vpid's translations: single-context where the CPU has it. */
static void invvpid_context(uint16_t vpid)
{
	invvpid(vmx_controls.invvpid_single ? INV_SINGLE_CONTEXT : INV_ALL_CONTEXT, vpid, 0);
}

void vmx_flush_guest(uint64_t eptp, uint16_t vpid)
{
	invept(vmx_controls.invept_single ? INV_SINGLE_CONTEXT : INV_ALL_CONTEXT, eptp);
	if (vmx_controls.vpid)
		invvpid_context(vpid);
}

void vmx_invvpid_address(uint16_t vpid, uint64_t linear)
{
	if (vmx_controls.invvpid_address)
		invvpid(INV_ADDRESS, vpid, linear);
	else
		invvpid_context(vpid);
}

void vmx_flush_vpid(uint16_t vpid)
{
	invvpid_context(vpid);
}
