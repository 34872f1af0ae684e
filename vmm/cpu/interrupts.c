#include "vmm/cpu/interrupts.h"

#include "arch/x86/cpu.h"
#include "vmm/cpu/apicv.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/kvm_pv.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define IDT_INFO_TYPE_SHIFT 8
#define VEC_NMI 2

void intr_requeue(uint32_t info)
{
	uint32_t type = info & INTR_INFO_TYPE_MASK;
	if (info & INTR_INFO_DELIVER_ERROR_CODE)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, vmread(VMCS_IDT_VECTORING_ERROR_CODE));
	/* Software interrupts and exceptions are re-executed with their
	 * instruction length (SDM 26.6.1.3). */
	if (type == INTR_TYPE_SW_INTERRUPT || type == INTR_TYPE_SW_EXCEPTION ||
	    type == (5u << IDT_INFO_TYPE_SHIFT))
		vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmread(VMCS_EXIT_INSTRUCTION_LEN));
	/* An exit in the middle of an NMI's delivery leaves virtual-NMI
	 * blocking set, and an NMI is not injected into blocking (SDM 27.3.4,
	 * 26.3.1.5): the NMI is not delivered yet, so nothing blocks it. */
	if (type == INTR_TYPE_NMI) {
		uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
		if (intr & INTERRUPTIBILITY_NMI)
			vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
				intr & ~(uint64_t)INTERRUPTIBILITY_NMI);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO,
		info & (INTR_INFO_VALID | INTR_INFO_TYPE_MASK | INTR_INFO_DELIVER_ERROR_CODE |
			INTR_INFO_VECTOR_MASK));
}

void intr_iret_unblocked_nmi(uint64_t qual)
{
	/* The exit interrupted an IRET that had ended virtual-NMI blocking:
	 * the IRET runs again, so the blocking must hold until it does (SDM
	 * 27.2.3). An exit during an event's delivery has no such IRET. */
	if (!(qual & EXIT_QUAL_NMI_UNBLOCKING) ||
	    (vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
		return;
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
		vmread(VMCS_GUEST_INTERRUPTIBILITY) | INTERRUPTIBILITY_NMI);
}

/* The vector the vCPU's interrupt controllers want delivered, or -1;
 * *from_pic says whether it must be acknowledged at the PIC. With
 * virtual-interrupt delivery the CPU delivers the vLAPIC's vectors: only
 * the PIC's are injected. */
static int pending_vector_of(struct vcpu *v, bool cpu_delivers, bool *from_pic)
{
	/* The 8259's INTR is wired to vCPU 0's LINT0; as a fixed interrupt
	 * it raises the LVT's vector, the PIC keeping its request. */
	if (v->id == 0 && vlapic_lint0_fixed(&v->lapic))
		vlapic_lint0_sample(&v->lapic, pic_has_interrupt(&v->vm->pic));
	int vec = cpu_delivers ? -1 : vlapic_pending_vector(&v->lapic);

	*from_pic = false;
	if (vec >= 0)
		return vec;
	if (v->id == 0 && vlapic_accepts_pic(&v->lapic) && pic_has_interrupt(&v->vm->pic)) {
		*from_pic = true;
		return 0; /* the vector comes with the acknowledge cycle */
	}
	return -1;
}

static int pending_vector(struct vcpu *v, bool *from_pic)
{
	return pending_vector_of(v, v->vid, from_pic);
}

bool intr_guest_interruptible(void)
{
	return (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmread(VMCS_GUEST_INTERRUPTIBILITY) &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/* Turns a processor-based exiting control on or off; *cached mirrors it,
 * so the VMCS is written only when it changes. */
static void set_exiting_control(bool *cached, uint32_t control, bool on)
{
	if (*cached == on)
		return;
	*cached = on;
	uint32_t proc = (uint32_t)vmread(VMCS_PROC_BASED_CTLS);
	vmwrite(VMCS_PROC_BASED_CTLS, on ? proc | control : proc & ~control);
}

static void set_window_exiting(struct vcpu *v, bool on)
{
	set_exiting_control(&v->window_exiting, PROC_INTERRUPT_WINDOW_EXITING, on);
}

static void set_nmi_window_exiting(struct vcpu *v, bool on)
{
	set_exiting_control(&v->nmi_window_exiting, PROC_NMI_WINDOW_EXITING, on);
}

/* Injects a pending NMI if the guest can take one now (SDM 26.3.1.5: not
 * into NMI or MOV-SS blocking; some CPUs refuse STI blocking too). If it
 * cannot, asks for an exit when it can and returns false: NMI-window
 * exiting for NMI blocking, which lasts until the guest handler's IRET
 * (SDM 26.7.6), and, like KVM, interrupt-window exiting for STI
 * blocking, which NMI-window exiting may not wait for. Sets
 * *intr_window then. */
static bool nmi_inject(struct vcpu *v, bool *intr_window)
{
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);

	if (intr & INTERRUPTIBILITY_NMI) {
		/* In the guest's NMI handler: the CPU latches one NMI. */
		v->lapic.nmi_pending = 1;
		set_nmi_window_exiting(v, true);
		return false;
	}
	if (intr & INTERRUPTIBILITY_STI) {
		*intr_window = true;
		return false;
	}
	if (intr & INTERRUPTIBILITY_MOV_SS) {
		set_nmi_window_exiting(v, true);
		return false;
	}
	/* Delivering it sets virtual-NMI blocking (SDM 26.6.1.2): a second
	 * pending one waits for the window. */
	v->lapic.nmi_pending--;
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI);
	set_nmi_window_exiting(v, v->lapic.nmi_pending != 0);
	return true;
}

/* With TPR shadow the guest changes its TPR without exits: an interrupt
 * its TPR holds back needs the TPR-below-threshold exit to come out when
 * the TPR drops (SDM 29.1.2). The VMCS is written only on a change. */
static void update_tpr_threshold(struct vcpu *v)
{
	if (!vmx_controls.tpr_shadow || v->vid || (!v->tpr_threshold && !vlapic_tpr(&v->lapic)))
		return;
	unsigned threshold = vlapic_tpr_threshold(&v->lapic);
	if (threshold == v->tpr_threshold)
		return;
	v->tpr_threshold = (uint8_t)threshold;
	vmwrite(VMCS_TPR_THRESHOLD, threshold);
}

void intr_before_entry(struct vcpu *v)
{
	bool from_pic, intr_window = false;

	/* The vCPU's interrupts are its guest hypervisor's: one it asked to
	 * exit on ends its nested guest now, the others wait. */
	if (v->nested.in_l2) {
		nested_l1_interrupt(v);
		return;
	}
	update_tpr_threshold(v);
	if (v->vid)
		apicv_before_entry(v);

	if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) {
		/* An event is already on its way in (a fault, the #DB of a
		 * single-step): an NMI or interrupt waits for the window after
		 * its delivery. */
		if (v->lapic.nmi_pending)
			set_nmi_window_exiting(v, true);
		if (pending_vector(v, &from_pic) >= 0)
			set_window_exiting(v, true);
		return;
	}
	if (v->lapic.nmi_pending) {
		if (nmi_inject(v, &intr_window))
			return;
	} else {
		set_nmi_window_exiting(v, false);
	}
	int vec = pending_vector(v, &from_pic);
	if (vec < 0) {
		set_window_exiting(v, intr_window);
		return;
	}
	if (!intr_guest_interruptible()) {
		set_window_exiting(v, true);
		return;
	}
	if (from_pic) {
		vec = pic_acknowledge(&v->vm->pic);
		if (vec < 0)
			return;
	} else {
		vlapic_ack(&v->lapic, (uint8_t)vec);
		kvm_pv_eoi_offer(v, (uint8_t)vec);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vec);
	set_window_exiting(v, intr_window);
	/* The interrupt left the IRR: a timer may raise a tick it owes. */
	vtime_interrupt_taken(&v->vm->vtime);
}

bool intr_take_for_l1(struct vcpu *v, bool ack, int *vector)
{
	bool from_pic;
	/* The CPU delivers no vector of L1's while L2 runs: with
	 * virtual-interrupt delivery they wait in L1's page (its IRR, RVI in
	 * L1's VMCS), looked at here like the model's. */
	int vec = pending_vector_of(v, false, &from_pic);

	*vector = -1;
	if (vec < 0)
		return false;
	if (!ack)
		return true;
	if (from_pic) {
		vec = pic_acknowledge(&v->vm->pic);
		if (vec < 0)
			return false;
	} else {
		vlapic_ack(&v->lapic, (uint8_t)vec);
	}
	vtime_interrupt_taken(&v->vm->vtime);
	*vector = vec;
	return true;
}

bool intr_wakes_halted(struct vcpu *v)
{
	bool from_pic;

	/* HLT ends on an NMI the guest can take, a PV kick, or an interrupt
	 * the guest would take: IF was set when it halted, unless it waits
	 * for a kick. */
	if ((v->lapic.nmi_pending && !v->halted_nmi_blocked) || v->pv_unhalted)
		return true;
	if (v->halted_until_kick)
		return false;
	return pending_vector(v, &from_pic) >= 0 ||
	       (v->vid && vlapic_pending_vector(&v->lapic) >= 0);
}

void handle_interrupt_window(struct vcpu *v)
{
	/* Nothing to do here: intr_before_entry injects on the way back in. */
	(void)v;
}

void handle_tpr_below_threshold(struct vcpu *v)
{
	/* Trap-like (SDM 29.1.2): the guest lowered its TPR under a held-back
	 * interrupt's class; intr_before_entry injects it on the way in. */
	(void)v;
}

void handle_nmi_window(struct vcpu *v)
{
	/* The guest's NMI blocking ended (its handler's IRET): intr_before_entry
	 * injects the latched NMI on the way back in. */
	(void)v;
}
