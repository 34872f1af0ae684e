/* APIC virtualization (SDM Vol. 3 chapter 29) where the CPU offers it
 * (vmm/vmx/vmx_caps.c): the virtual-APIC page behind CR8 (TPR shadow),
 * and in x2APIC mode the TPR MSR and, with APIC-register virtualization,
 * reads of the other x2APIC registers, and with virtual-interrupt delivery
 * the vLAPIC's interrupts and their EOIs, without exits. */
#ifndef PGVISOR_APICV_H
#define PGVISOR_APICV_H

#include <stdbool.h>

#include "vmm/vm/vcpu.h"

/* The vCPU's APIC virtualization fields and its MSR bitmap, in its
 * current VMCS (at every VMCS setup). */
void apicv_setup(struct vcpu *v);
/* The guest wrote IA32_APIC_BASE: x2APIC virtualization follows its
 * vLAPIC's mode. The vCPU's VMCS is current. */
void apicv_apic_mode_changed(struct vcpu *v);
/* With virtual-interrupt delivery on (v->vid), before an entry: the
 * vectors accepted since are handed to the CPU (the page's IRR, RVI), the
 * EOI-exit bitmap follows the level-triggered ones, SVI a model EOI. */
void apicv_before_entry(struct vcpu *v);
/* Whether RVI names a vector, read from the VMCS (v's is current). */
bool apicv_read_rvi(struct vcpu *v);
/* With virtual-interrupt delivery on, whether RVI names a vector: the CPU
 * delivers it once the guest can take it. Inline, and no VMREAD unless
 * pgvisor wrote a vector there since RVI was last seen empty: the run
 * loop asks before every entry. */
static inline bool apicv_vector_pending(struct vcpu *v)
{
	return v->rvi_set && apicv_read_rvi(v);
}

#endif
