/* Delivering interrupts to a vCPU (SDM Vol. 3 26.6 event injection, 25.6.2
 * interrupt-window exiting, 27.2.4 IDT-vectoring information). The local
 * APIC decides which vector is pending; the 8259 PIC feeds it through
 * LINT0 (virtual wire) or, with the APIC disabled, the INTR pin. */
#ifndef PGVISOR_INTERRUPTS_H
#define PGVISOR_INTERRUPTS_H

#include <stdbool.h>

#include "vmm/vcpu.h"

/* After a VM exit: an event whose delivery the exit interrupted is
 * queued again for the next entry. */
void intr_after_exit(struct vcpu *v);
/* Before a VM entry: inject the highest pending interrupt if the guest
 * can take it now, else ask for an exit when it can. */
void intr_before_entry(struct vcpu *v);
/* True when a halted vCPU has something that wakes it. */
bool intr_wakes_halted(struct vcpu *v);

#endif
