/* Interrupts for the guest hypervisor (L1) while its nested guest (L2)
 * runs (nested_interrupt.c): an exit to L1 when L1 asked to exit on
 * external interrupts, else L2's, injected through L2's IDT once L2 can
 * take it. nested_l1_interrupt (exit.h) is the run loop's way in. */
#ifndef PGVISOR_NESTED_INTERRUPT_H
#define PGVISOR_NESTED_INTERRUPT_H

#include <stdbool.h>

#include "vmm/vm/vcpu.h"

/* Interrupt-window exiting in VMCS02 (current) for an interrupt of L1's
 * that L2 takes once it can, on or off; L1's own bit stays as L1 set it. */
void nested_set_l2_window(struct vcpu *v, bool on);
/* NMI-window exiting in VMCS02 (current) for an NMI of L1's that L2
 * takes once it can, on or off; L1's own bit stays as L1 set it. */
void nested_set_l2_nmi_window(struct vcpu *v, bool on);
/* L2's HLT, which L1 did not ask to exit on: L2 halts until an interrupt
 * wakes it, as on the CPU. */
void nested_l2_hlt(struct vcpu *v);

#endif
