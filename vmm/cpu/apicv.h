/* APIC virtualization (SDM Vol. 3 chapter 29) where the CPU offers it
 * (vmm/vmx/vmx_caps.c): the virtual-APIC page behind CR8 (TPR shadow),
 * and in x2APIC mode the TPR MSR and, with APIC-register virtualization,
 * reads of the other x2APIC registers, without exits. */
#ifndef PGVISOR_APICV_H
#define PGVISOR_APICV_H

#include "vmm/vm/vcpu.h"

/* The vCPU's APIC virtualization fields and its MSR bitmap, in its
 * current VMCS (at every VMCS setup). */
void apicv_setup(struct vcpu *v);
/* The guest wrote IA32_APIC_BASE: x2APIC virtualization follows its
 * vLAPIC's mode. The vCPU's VMCS is current. */
void apicv_apic_mode_changed(struct vcpu *v);

#endif
