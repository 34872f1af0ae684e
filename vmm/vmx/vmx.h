/* VMX operation on this CPU: support checks, VMXON, and the VMCS access
 * instructions. */
#ifndef PGVISOR_VMX_H
#define PGVISOR_VMX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/vmx/vmx_caps.h"

/* What this machine's VT-x offers and the controls derived from it; set
 * by vmx_enable on the boot CPU. */
extern struct vmx_caps vmx_caps;
extern struct vmx_controls vmx_controls;

/* Reads the capability MSRs of this CPU. */
void vmx_read_caps(struct vmx_caps *caps);
/* Checks CPUID and IA32_FEATURE_CONTROL, locking VMX on when the firmware
 * left the MSR unlocked (SDM 24.7). Returns 0, or -1 with the reason. */
int vmx_check_support(char *why, size_t whylen);
/* Applies the CR0/CR4 fixed bits and enters VMX root operation with a
 * fresh VMXON region. Returns 0, or -1 with the reason. */
int vmx_enable(const struct vmx_caps *caps, char *why, size_t whylen);

/* The VMCS revision identifier every VMXON region and VMCS begins with. */
uint32_t vmx_revision_id(void);

static inline uint64_t vmread(uint64_t field)
{
	uint64_t v;

	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(field) : "cc");
	return v;
}

/* VMWRITE with a bad field or a read-only field fails; every field we
 * write is valid by construction, so the status is only checked in
 * vmcs_check_write_errors() after setup. */
static inline bool vmwrite(uint64_t field, uint64_t value)
{
	bool fail;

	__asm__ volatile("vmwrite %2, %1"
			 : "=@cc"
			   "be"(fail)
			 : "r"(field), "r"(value)
			 : "cc");
	return !fail;
}

/* VMCLEAR / VMPTRLD: 0 on success, -1 on VMfail. */
int vmcs_clear(uint64_t phys);
int vmcs_load(uint64_t phys);

/* Drops this CPU's cached translations of one VM: guest-physical ones of
 * its EPT (eptp as in its VMCS) and, with VPID, the combined ones tagged
 * with vpid (SDM 29.4.3). Single-context INVEPT/INVVPID where the CPU has
 * them, so other VMs keep theirs; all-context otherwise. */
void vmx_flush_guest(uint64_t eptp, uint16_t vpid);
/* Drops this CPU's translations of one guest-linear address tagged with
 * vpid (the guest's INVLPG): individual-address INVVPID, or the nearest
 * wider one the CPU has. Needs VPID; linear must be canonical. */
void vmx_invvpid_address(uint16_t vpid, uint64_t linear);
/* Drops this CPU's translations tagged with vpid (a nested guest's, whose
 * guest hypervisor invalidated them). Needs VPID. */
void vmx_flush_vpid(uint16_t vpid);

#endif
