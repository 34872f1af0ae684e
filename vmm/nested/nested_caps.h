/* The VMX capability MSRs of a guest's virtual CPU (nested VMX): a subset
 * of the host's, chosen by the VM's nested profile. Pure computation over
 * the host's values, so the host unit tests feed it any CPU. */
#ifndef PGVISOR_NESTED_CAPS_H
#define PGVISOR_NESTED_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vmx/vmx_caps.h"

enum nested_profile {
	/* What KVM's nested VMX typically offers its guests: no VMCS
	 * shadowing, no PML, no posted interrupts, no VM functions. */
	NESTED_PROFILE_KVM,
	/* Everything of the host's that pgvisor can emulate for a guest. */
	NESTED_PROFILE_HOST,
};

/* IA32_VMX_BASIC (0x480) to IA32_VMX_VMFUNC (0x491). */
#define NESTED_VMX_MSR_FIRST 0x480u
#define NESTED_VMX_MSR_LAST 0x491u
#define NESTED_VMX_MSR_COUNT (NESTED_VMX_MSR_LAST - NESTED_VMX_MSR_FIRST + 1)

/* The virtual CPU's VMCS region size (IA32_VMX_BASIC[44:32]). */
#define NESTED_VMCS_REGION_SIZE 4096u

struct nested_caps {
	uint64_t msr[NESTED_VMX_MSR_COUNT];
	/* Whether each MSR exists (RDMSR of one that does not raises #GP,
	 * as PROCBASED_CTLS2 on a CPU without secondary controls). */
	bool present[NESTED_VMX_MSR_COUNT];
};

/* Computes the virtual CPU's capability MSRs from the host's. */
void nested_caps_compute(const struct vmx_caps *host, enum nested_profile profile,
			 struct nested_caps *out);

/* The value of capability MSR msr; false when the virtual CPU has no
 * such MSR. */
bool nested_caps_read(const struct nested_caps *caps, uint32_t msr, uint64_t *value);

/* The VMCS revision identifier the virtual CPU expects (BASIC[30:0]). */
uint32_t nested_caps_revision(const struct nested_caps *caps);

/* "kvm" or "host". */
const char *nested_profile_name(enum nested_profile p);

#endif
