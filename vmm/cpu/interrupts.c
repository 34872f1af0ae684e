#include "vmm/cpu/interrupts.h"

#include "arch/x86/cpu.h"
#include "vmm/cpu/exit.h"
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
	vmwrite(VMCS_ENTRY_INTR_INFO,
		info & (INTR_INFO_VALID | INTR_INFO_TYPE_MASK | INTR_INFO_DELIVER_ERROR_CODE |
			INTR_INFO_VECTOR_MASK));
}

/* The vector the vCPU's interrupt controllers want delivered, or -1;
 * *from_pic says whether it must be acknowledged at the PIC. */
static int pending_vector(struct vcpu *v, bool *from_pic)
{
	/* The 8259's INTR is wired to vCPU 0's LINT0; as a fixed interrupt
	 * it raises the LVT's vector, the PIC keeping its request. */
	if (v->id == 0 && vlapic_lint0_fixed(&v->lapic))
		vlapic_lint0_sample(&v->lapic, pic_has_interrupt(&v->vm->pic));
	int vec = vlapic_pending_vector(&v->lapic);

	*from_pic = false;
	if (vec >= 0)
		return vec;
	if (v->id == 0 && vlapic_accepts_pic(&v->lapic) && pic_has_interrupt(&v->vm->pic)) {
		*from_pic = true;
		return 0; /* the vector comes with the acknowledge cycle */
	}
	return -1;
}

static bool guest_interruptible(void)
{
	return (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmread(VMCS_GUEST_INTERRUPTIBILITY) &
		 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

static void set_window_exiting(struct vcpu *v, bool on)
{
	if (v->window_exiting == on)
		return;
	v->window_exiting = on;
	uint32_t proc = (uint32_t)vmread(VMCS_PROC_BASED_CTLS);
	vmwrite(VMCS_PROC_BASED_CTLS,
		on ? proc | PROC_INTERRUPT_WINDOW_EXITING : proc & ~PROC_INTERRUPT_WINDOW_EXITING);
}

void intr_before_entry(struct vcpu *v)
{
	bool from_pic;

	if (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID)
		return; /* an event is already on its way in */
	if (v->lapic.nmi_pending) {
		v->lapic.nmi_pending = false;
		vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | VEC_NMI);
		return;
	}
	int vec = pending_vector(v, &from_pic);
	if (vec < 0) {
		set_window_exiting(v, false);
		return;
	}
	if (!guest_interruptible()) {
		set_window_exiting(v, true);
		return;
	}
	if (from_pic) {
		vec = pic_acknowledge(&v->vm->pic);
		if (vec < 0)
			return;
	} else {
		vlapic_ack(&v->lapic, (uint8_t)vec);
	}
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vec);
	set_window_exiting(v, false);
}

bool intr_wakes_halted(struct vcpu *v)
{
	bool from_pic;

	/* HLT ends on an NMI, or an interrupt the guest would take: IF was
	 * set when it halted (a cli;hlt vCPU never gets here). */
	return v->lapic.nmi_pending || pending_vector(v, &from_pic) >= 0;
}

void handle_interrupt_window(struct vcpu *v)
{
	/* Nothing to do here: intr_before_entry injects on the way back in. */
	(void)v;
}
