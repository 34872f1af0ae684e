/* VMCS shadowing for a guest hypervisor on a host CPU that has it (SDM
 * Vol. 3 24.10, 25.3, 30.3): its VMREAD and VMWRITE of the fields the
 * host can hold go to a shadow VMCS without a VM exit, and pgvisor keeps
 * its virtual VMCS in step with it at the VMX instructions that exit and
 * at L2's exits to L1. */
#ifndef PGVISOR_VMCS_SHADOW_H
#define PGVISOR_VMCS_SHADOW_H

#include <stdbool.h>

#include "vmm/vm/vm.h"

/* On the boot CPU in VMX operation, before any VM: which fields the host
 * can hold in a shadow VMCS (the VMREAD and VMWRITE bitmaps). Without
 * VMCS shadowing, or out of memory, every VMREAD and VMWRITE exits. */
void vmcs_shadow_init(void);

/* The number of fields L1's VMREAD reaches without an exit (0 without
 * shadowing). */
unsigned vmcs_shadow_fields(void);

/* A vCPU's shadow VMCS, for a VM with nested VMX: none without
 * shadowing. Returns -1 out of memory. */
int vmcs_shadow_alloc(struct vcpu *v);
void vmcs_shadow_free(struct vcpu *v);

/* While L1 runs with its current VMCS in the shadow VMCS: what L1 wrote
 * there, back into the virtual VMCS (before pgvisor reads it). */
void vmcs_shadow_pull(struct vcpu *v);
/* The current virtual VMCS into the shadow VMCS, and VMCS01 set to let
 * L1 reach it (or, with no current VMCS, every VMREAD/VMWRITE exiting).
 * In L1 only, VMCS01 current. */
void vmcs_shadow_push(struct vcpu *v);
/* The same after an exit from L2 to L1, when the shadow VMCS held the
 * current VMCS (cur) as it was before (its state at the entry into L2): only
 * the fields that differ from it now, looked for from slot first on (the
 * caller knows the rest the same), before brought up to date with them.
 * Returns false when it pushed everything instead (before is left as it
 * was). */
bool vmcs_shadow_push_changed(struct vcpu *v, struct nested_vmcs_slot *cur,
			      struct nested_vmcs *before, unsigned first);

#endif
