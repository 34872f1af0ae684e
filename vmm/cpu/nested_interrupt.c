/* The guest hypervisor's (L1's) interrupts and NMIs while its nested
 * guest (L2) runs, looked at before each entry to L2 (intr_before_entry):
 * exit 1 to L1 when L1 set external-interrupt exiting, exit 0 with the
 * NMI when it set NMI exiting (after the delivery of an event on its way
 * into L2), else the interrupt or NMI is L2's, as it is on the CPU; and
 * L2 halted until one of them comes. */
#include "vmm/cpu/nested_interrupt.h"

#include "vmm/cpu/exit.h"
#include "vmm/cpu/interrupts.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/nested/l2_controls.h"
#include "vmm/nested/nested_vcpu.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/exit_reason.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define VEC_NMI 2u

/* A window-exiting control of VMCS02's for L0, on or off (*cached
 * mirrors it); L1's own bit (in VMCS02's controls) stays as L1 set it. */
static void set_l2_exiting(struct vcpu *v, bool *cached, uint32_t control, bool on)
{
	if (*cached == on)
		return;
	*cached = on;
	uint32_t proc = (uint32_t)vmread(VMCS_PROC_BASED_CTLS);
	if (on)
		proc |= control;
	else if (!(v->nested.l2c.proc & control))
		proc &= ~control;
	vmwrite(VMCS_PROC_BASED_CTLS, proc);
}

void nested_set_l2_window(struct vcpu *v, bool on)
{
	set_l2_exiting(v, &v->nested.l2_window, PROC_INTERRUPT_WINDOW_EXITING, on);
}

void nested_set_l2_nmi_window(struct vcpu *v, bool on)
{
	set_l2_exiting(v, &v->nested.l2_nmi_window, PROC_NMI_WINDOW_EXITING, on);
}

/* An event of L1's that L2 takes, injected at the next entry; it wakes
 * L2 from HLT: a vectoring entry leaves it active (SDM 26.6.2), said here
 * whatever the CPU makes of it. */
static void inject_into_l2(uint32_t intr_info)
{
	vmwrite(VMCS_ENTRY_INTR_INFO, intr_info);
	if (vmread(VMCS_GUEST_ACTIVITY_STATE) == ACTIVITY_HLT)
		vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
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
	inject_into_l2(INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vector);
	nested_set_l2_window(v, false);
}

/* What became of an NMI pending for L1 before an entry to L2. */
enum l1_nmi_outcome {
	NMI_EXITED,	 /* exit 0 to L1: L1 runs next */
	NMI_WAITS,	 /* not now: injected, or held until it can be */
	NMI_STI_BLOCKED, /* L2's: waits for L2's STI blocking to end */
};

/* An NMI pending for L1 while L2 runs, where nested_l1_nmi_route says
 * (l2_controls.c). With L1's NMI exiting: exit 0 with the NMI's
 * interruption information (SDM 27.2.2), L2's state as it is (the NMI
 * never reached L2, SDM 27.3.4: its activity state too), or, with an
 * event on its way into L2, right after its delivery
 * (exit_after_delivery, as for interrupts). Else it is L2's, as on the
 * CPU: injected through L2's IDT (vector 2), which sets VMCS02's
 * virtual-NMI blocking, L2's NMI blocking until its IRET (SDM 26.6.1.2),
 * and wakes a halted L2; until L2 can take it, NMI-window exiting in
 * VMCS02 asks for the moment (or the interrupt window, for STI). */
static enum l1_nmi_outcome l1_nmi(struct vcpu *v, const struct nested_vmcs *v12)
{
	uint32_t pin12 = (uint32_t)nested_vmcs_get(v12, VMCS_PIN_BASED_CTLS);
	uint32_t intr = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
	bool event = vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID;

	switch (nested_l1_nmi_route(pin12, intr, event)) {
	case NESTED_NMI_HELD:
		return NMI_WAITS;
	case NESTED_NMI_EXIT_AFTER:
		v->nested.exit_after_delivery = vmx_controls.preemption_timer;
		return NMI_WAITS;
	case NESTED_NMI_EXIT:
		v->lapic.nmi_pending--;
		nested_exit_to_l1(v, EXIT_EXCEPTION_NMI, INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI);
		/* A VM exit caused by an NMI blocks NMIs (SDM 27.5.5, table
		 * 24-3): L1's, in VMCS01 (current now) as virtual-NMI
		 * blocking, until its IRET; a second latched NMI waits for it
		 * (interrupts.c). */
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			vmread(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
		return NMI_EXITED;
	case NESTED_NMI_WINDOW:
		nested_set_l2_nmi_window(v, true);
		return NMI_WAITS;
	case NESTED_NMI_INTERRUPT_WINDOW:
		return NMI_STI_BLOCKED;
	case NESTED_NMI_INJECT:
		break;
	}
	v->lapic.nmi_pending--;
	inject_into_l2(INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI);
	/* A second latched NMI waits for the handler's IRET. */
	nested_set_l2_nmi_window(v, v->lapic.nmi_pending != 0);
	return NMI_WAITS;
}

void nested_l1_interrupt(struct vcpu *v)
{
	struct nested_vcpu *n = &v->nested;
	struct nested_vmcs *v12 = &nested_current(n)->vmcs;
	enum l1_nmi_outcome nmi = NMI_WAITS;
	int vector;

	/* Worked out anew before each entry, the NMI's and the interrupt's. */
	n->exit_after_delivery = false;
	/* An NMI comes before an external interrupt (SDM 6.9). */
	if (v->lapic.nmi_pending) {
		nmi = l1_nmi(v, v12);
		if (nmi == NMI_EXITED)
			return;
	}
	bool exiting = nested_vmcs_get(v12, VMCS_PIN_BASED_CTLS) & PIN_EXTERNAL_INTERRUPT_EXITING;
	if (!exiting)
		l2_takes_interrupt(v);
	/* An NMI of L2's held by STI blocking waits for the interrupt window. */
	if (nmi == NMI_STI_BLOCKED)
		nested_set_l2_window(v, true);
	if (!exiting)
		return;
	/* An event on its way into L2 is delivered first, then the
	 * interrupt exits before L2's first instruction, its state the
	 * delivery's: the entry's preemption timer at 0 ends L2 there,
	 * after the injection and before any instruction (SDM 26.7.4;
	 * exit_after_delivery), and this runs again before the next entry,
	 * nothing on its way in then. Without the timer on the host, the
	 * interrupt waits for L2's next exit. */
	if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) {
		n->exit_after_delivery |=
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
	 * nothing (handle_hlt): L2's blocking by NMI, but for virtual-NMI
	 * blocking under L1's "virtual NMIs", which the NMI's exit to L1
	 * ignores (l1_nmi). */
	if (v->nested.l2_timer)
		return;
	uint32_t pin12 =
		(uint32_t)nested_vmcs_get(&nested_current(&v->nested)->vmcs, VMCS_PIN_BASED_CTLS);
	v->halted_nmi_blocked = (vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI) &&
				!(pin12 & PIN_VIRTUAL_NMIS);
	v->halted = true;
}
