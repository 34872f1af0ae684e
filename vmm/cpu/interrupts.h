/* Delivering interrupts to a vCPU (SDM Vol. 3 26.6 event injection, 25.6.2
 * interrupt-window exiting, 27.2.4 IDT-vectoring information). The local
 * APIC decides which vector is pending; the 8259 PIC feeds it through
 * LINT0 (virtual wire) or, with the APIC disabled, the INTR pin. */
#ifndef PGVISOR_INTERRUPTS_H
#define PGVISOR_INTERRUPTS_H

#include <stdbool.h>

#include "vmm/vm/vcpu.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

/* Queues again the event in info (IDT-vectoring information). */
void intr_requeue(uint32_t info);
/* An exit that reports "NMI unblocking due to IRET" in its qualification
 * (qual: EPT violations, SDM 27.2.3): restores the guest's NMI blocking
 * that the interrupted IRET had ended. */
void intr_iret_unblocked_nmi(uint64_t qual);
/* After a VM exit: an event whose delivery the exit interrupted is
 * queued again for the next entry. Inline: most exits interrupted none. */
static inline void intr_after_exit(void)
{
	uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);

	if (info & INTR_INFO_VALID)
		intr_requeue(info);
}
/* Before a VM entry: inject the highest pending interrupt if the guest
 * can take it now, else ask for an exit when it can. */
void intr_before_entry(struct vcpu *v);
/* While the vCPU runs its nested guest: whether an interrupt waits for
 * the guest hypervisor (a vLAPIC vector under virtual-interrupt delivery
 * too, in its virtual-APIC page), acknowledged when ack (SDM 27.2.2,
 * "acknowledge interrupt on exit", or L2 takes it), its vector then in
 * *vector (else -1). */
bool intr_take_for_l1(struct vcpu *v, bool ack, int *vector);
/* The guest of the current VMCS can take an external interrupt now:
 * RFLAGS.IF set, no STI or MOV-SS blocking (SDM 6.8.1, 26.3.1.5). */
bool intr_guest_interruptible(void);
/* intr_before_entry would change nothing: no interrupt or NMI pending, no
 * interrupt window asked for (the PIC only reaches vCPU 0). Inline: it
 * holds before most entries. */
static inline bool intr_idle(const struct vcpu *v)
{
	return !v->lapic.irr_words && !v->lapic.nmi_pending && !v->entry_work &&
	       (v->id != 0 || !pic_requesting(&v->vm->pic));
}
/* True when a halted vCPU has something that wakes it. */
bool intr_wakes_halted(struct vcpu *v);

#endif
