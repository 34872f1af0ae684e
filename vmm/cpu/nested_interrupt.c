/* The guest hypervisor's (L1's) interrupts while its nested guest (L2)
 * runs, looked at before each entry to L2 (intr_before_entry): exit 1 to
 * L1 when L1 set external-interrupt exiting (after the delivery of an
 * event on its way into L2), else the interrupt is L2's, as an external
 * interrupt is on the CPU; and L2 halted until one of them comes. */
#include "vmm/cpu/nested_interrupt.h"

#include "vmm/cpu/exit.h"
#include "vmm/cpu/interrupts.h"
#include "vmm/cpu/vmcs.h"
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
	/* It wakes L2 from HLT: a vectoring entry leaves it active (SDM
	 * 26.6.2), said here whatever the CPU makes of it. */
	if (vmread(VMCS_GUEST_ACTIVITY_STATE) == ACTIVITY_HLT)
		vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	nested_set_l2_window(v, false);
}

void nested_l1_interrupt(struct vcpu *v)
{
	struct nested_vcpu *n = &v->nested;
	struct nested_vmcs *v12 = &nested_current(n)->vmcs;
	int vector;

	if (!(nested_vmcs_get(v12, VMCS_PIN_BASED_CTLS) & PIN_EXTERNAL_INTERRUPT_EXITING)) {
		l2_takes_interrupt(v);
		return;
	}
	/* An event on its way into L2 is delivered first, then the
	 * interrupt exits before L2's first instruction, its state the
	 * delivery's: the entry's preemption timer at 0 ends L2 there,
	 * after the injection and before any instruction (SDM 26.7.4;
	 * exit_after_delivery), and this runs again before the next entry,
	 * nothing on its way in then. Without the timer on the host, the
	 * interrupt waits for L2's next exit. */
	if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) {
		n->exit_after_delivery =
			vmx_controls.preemption_timer && intr_take_for_l1(v, false, &vector);
		return;
	}
	if (!intr_take_for_l1(v, nested_vmcs_get(v12, VMCS_EXIT_CTLS) & EXIT_ACK_INTERRUPT_ON_EXIT,
			      &vector))
		return;
	/* Exit 1 with the vector if acknowledged (SDM 27.2.1, 27.2.2). */
	nested_exit_to_l1(v, EXIT_EXTERNAL_INTERRUPT,
			  vector >= 0 ? INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vector
				      : 0);
}

void nested_l2_hlt(struct vcpu *v)
{
	/* L2 halts where the CPU halts it, in VMCS02's HLT activity state
	 * (SDM 24.4.2), RIP past the HLT: the entries after this one leave
	 * it halted until an interrupt L2 takes is injected (SDM 26.6.2),
	 * or an exit to L1 saves the state as HLT (SDM 27.3.4: L1's
	 * external interrupt, its preemption timer). */
	vmcs_skip_instruction();
	/* A #DB of single-stepping is delivered first, and wakes it. */
	if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)
		return;
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	/* Until an interrupt for L1 comes (intr_wakes_halted), the vCPU
	 * waits off the CPU, as for its own HLT; with L1's preemption timer,
	 * which must end L2 on time, the CPU sits in HLT in VMX non-root
	 * operation until pgvisor's next exit instead (a host interrupt, the
	 * timer armed for the earliest moment). An NMI blocked by L2 wakes
	 * nothing (handle_hlt). */
	if (v->nested.l2_timer)
		return;
	v->halted_nmi_blocked = vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI;
	v->halted = true;
}
