/* A vCPU's side of its VM's dirty log (vmm/vmx/dirty_log.h): the A/D bit
 * of the EPT pointer in its VMCS, its page-modification-logging controls
 * and its PML log page, and the "PML full" exit. Each function works on
 * the current VMCS, which must be v's. */
#ifndef PGVISOR_DIRTY_VCPU_H
#define PGVISOR_DIRTY_VCPU_H

#include "vmm/vm/vcpu.h"

/* Makes v's VMCS follow v->vm->dirty.mode: the EPTP's A/D bit (DIRTY_AD,
 * DIRTY_PML), and with DIRTY_PML a log page of its own (allocated here)
 * at PML_INDEX_START; without, the PML control off and the page freed
 * (drain it first). Returns 0, or -1 when no page is left. */
int dirty_vcpu_apply(struct vcpu *v);
/* Moves what v's PML log holds into the VM's dirty log and empties it
 * (nothing without PML). */
void dirty_vcpu_drain(struct vcpu *v);

#endif
