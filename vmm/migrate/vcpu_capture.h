/* A live vCPU into its stream record and a record into a vCPU: the VMCS
 * guest state (made current on this CPU for the reads and writes), the
 * registers VMX leaves to pgvisor, the FPU area, the lazy MSRs and the PV
 * state. */
#ifndef PGVISOR_MIGRATE_VCPU_CAPTURE_H
#define PGVISOR_MIGRATE_VCPU_CAPTURE_H

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

#endif
