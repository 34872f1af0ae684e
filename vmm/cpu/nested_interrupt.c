/* The guest hypervisor's (L1's) interrupts while its nested guest (L2)
 * runs, looked at before each entry to L2 (intr_before_entry): exit 1 to
 * L1 when L1 set external-interrupt exiting, else the interrupt is L2's,
 * as an external interrupt is on the CPU. */
#include "vmm/cpu/nested_interrupt.h"

#include "vmm/cpu/exit.h"
#include "vmm/cpu/interrupts.h"
#include "vmm/nested/nested_vcpu.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/exit_reason.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

void nested_set_l2_window(struct vcpu *v, bool on)
{
	struct nested_vcpu *n = &v->nested;

	if (n->l2_window == on)
		return;
	n->l2_window = on;
	uint32_t proc = (uint32_t)vmread(VMCS_PROC_BASED_CTLS);
	if (on)
		proc |= PROC_INTERRUPT_WINDOW_EXITING;
	else if (!(n->l2c.proc & PROC_INTERRUPT_WINDOW_EXITING))
		proc &= ~PROC_INTERRUPT_WINDOW_EXITING;
	vmwrite(VMCS_PROC_BASED_CTLS, proc);
}

/* An interrupt for L1 that L1 did not ask to exit on is L2's, as an
 * external interrupt is on the CPU (SDM 25.2, 6.8.1): injected through
 * L2's IDT, acknowledged at L1's vLAPIC or PIC, once L2 can take it (IF
 * set, no STI or MOV-SS blocking, no event on its way in); until then
 * VMCS02's interrupt-window exiting asks for the moment it can. */
static void l2_takes_interrupt(struct vcpu *v)
{
	int vector;

	if (!intr_take_for_l1(v, false, &vector)) {
		nested_set_l2_window(v, false);
		v->l1_vector_waits = false;
		return;
	}
	if ((vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) || !intr_guest_interruptible()) {
		nested_set_l2_window(v, true);
		return;
	}
	if (!intr_take_for_l1(v, true, &vector) || vector < 0)
		return;
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vector);
	nested_set_l2_window(v, false);
}

void nested_l1_interrupt(struct vcpu *v)
{
	struct nested_vmcs *v12 = &nested_current(&v->nested)->vmcs;
	int vector;

	if (!(nested_vmcs_get(v12, VMCS_PIN_BASED_CTLS) & PIN_EXTERNAL_INTERRUPT_EXITING)) {
		l2_takes_interrupt(v);
		return;
	}
	/* An event on its way into L2 is delivered first: the interrupt
	 * waits for L2's next exit. */
	if ((vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) ||
	    !intr_take_for_l1(v, nested_vmcs_get(v12, VMCS_EXIT_CTLS) & EXIT_ACK_INTERRUPT_ON_EXIT,
			      &vector))
		return;
	/* Exit 1 with the vector if acknowledged (SDM 27.2.1, 27.2.2). */
	nested_exit_to_l1(v, EXIT_EXTERNAL_INTERRUPT,
			  vector >= 0 ? INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vector
				      : 0);
}
