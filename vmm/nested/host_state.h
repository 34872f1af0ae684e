/* The guest hypervisor's state after its guest's VM exit, or after a VM
 * entry that failed on the guest state: what the CPU loads from the
 * host-state area of the guest hypervisor's VMCS (SDM Vol. 3 27.5), as
 * the fields of the guest-state area of the VMCS it runs in. */
#ifndef PGVISOR_NESTED_HOST_STATE_H
#define PGVISOR_NESTED_HOST_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/nested/nested_vmcs.h"

struct nested_field_value {
	uint32_t field; /* a guest-state field encoding */
	uint64_t value;
};

#define NESTED_HOST_STATE_MAX 56

/* Fills out with the guest hypervisor's new guest-state fields; returns
 * how many. CR0 and CR4 (the host CR0/CR4 fields as they are) are left
 * to the caller, which keeps its own fixed bits under them; IA32_PAT is
 * in the list only when the exit loads it. efer: its IA32_EFER now, kept
 * but for LMA and LME unless the exit loads IA32_EFER. */
unsigned nested_host_state(const struct nested_vmcs *vmcs, uint64_t efer,
			   struct nested_field_value *out);

/* The "host address-space size" exit control: a 64-bit host. */
bool nested_host_64bit(const struct nested_vmcs *vmcs);

/* All a VM exit to the guest hypervisor loads, made ready from its VMCS:
 * the list above, the host CR0, CR3 and CR4, the host's width, and
 * whether the exit would load MSRs (not implemented). An L2 exit to L1
 * takes the one made at the entry (the host state cannot change while
 * L2 runs), so it walks no field by encoding. */
struct nested_host_load {
	struct nested_field_value f[NESTED_HOST_STATE_MAX];
	unsigned n;
	uint64_t cr0, cr3, cr4;
	bool wide, msr_load;
};

/* pat: the CPU has the guest IA32_PAT field; without it the list leaves
 * IA32_PAT out, so the exit writes every field it holds. */
void nested_host_load_build(struct nested_host_load *h, const struct nested_vmcs *vmcs,
			    uint64_t efer, bool pat);

#endif
