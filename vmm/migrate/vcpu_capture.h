/* A live vCPU into its stream record and a record into a vCPU: the VMCS
 * guest state (made current on this CPU for the reads and writes), the
 * registers VMX leaves to pgvisor, the FPU area, the lazy MSRs and the PV
 * state. */
#ifndef PGVISOR_MIGRATE_VCPU_CAPTURE_H
#define PGVISOR_MIGRATE_VCPU_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmm/migrate/vcpu_record.h"
#include "vmm/vm/vcpu.h"

/* Fills rec from v, which is not in guest mode and whose VMCS this CPU
 * may load (vcpu_state_readable_here). Returns -1 when its VMCS cannot be
 * loaded. */
int vcpu_capture(struct vcpu *v, struct vcpu_record *rec);
/* Gives v, a vCPU of a VM built and not yet started (its VMCS active on
 * no CPU), the state of rec. -1 with why filled when this CPU cannot run
 * that state (XCR0 features it lacks) or the VMCS cannot be loaded. */
int vcpu_apply(struct vcpu *v, const struct vcpu_record *rec, char *why, size_t whylen);
/* Runs fn on v's VMCS, current on this CPU for the call, then makes this
 * CPU's own current VMCS current again. inactive: v's VMCS was active on
 * no CPU (a released vCPU, a VM not yet started) and is cleared again, so
 * that whichever CPU runs it next may load it (SDM 25.11.1); otherwise it
 * is active on this CPU and stays so (clearing it would make its next
 * VMRESUME fail). -1 when it cannot be loaded. */
int vcpu_with_vmcs(struct vcpu *v, bool inactive, void (*fn)(struct vcpu *v, void *arg), void *arg);

#endif
