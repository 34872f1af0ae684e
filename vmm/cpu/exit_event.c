/* Exits caused by events rather than guest instructions: host interrupts
 * arriving while a guest runs, NMIs, and the end of a time slice. */
#include "arch/x86/idt.h"
#include "arch/x86/tsc.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define VEC_NMI 2
#define MS_PER_S 1000ull

void handle_external_interrupt(struct vcpu *v)
{
	(void)v;
	/* "Acknowledge interrupt on exit" already took the vector from the
	 * interrupt controller (SDM 27.2.2): run the host's handler for it. */
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
	if (info & INTR_INFO_VALID)
		idt_run_handler((uint8_t)(info & INTR_INFO_VECTOR_MASK));
}

void vcpu_watchdog_stop(struct vcpu *v)
{
	uint64_t ms = (v->regs.exit_tsc - v->regs.entry_tsc) / (tsc_hz() / MS_PER_S);

	vm_stop(v->vm, VM_END_CRASH, "vCPU %u made no VM exit for %llu ms: ended by the watchdog",
		v->id, (unsigned long long)ms);
}

void handle_exception_nmi(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);

	unsigned vector = info & INTR_INFO_VECTOR_MASK;

	/* A host NMI: only the watchdog sends them (vmm/core/watchdog.c). */
	if ((info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI) {
		if (__atomic_load_n(&v->watchdog_fired, __ATOMIC_ACQUIRE))
			vcpu_watchdog_stop(v);
		return;
	}
	/* Only an attached debugger puts #BP and #DB in the bitmap. */
	if (v->vm->debugger && (vector == VEC_BP || vector == VEC_DB)) {
		v->vm->debugger->debug_exit(v, vector);
		return;
	}
	/* The exception bitmap is otherwise empty: no guest exception should
	 * exit. */
	vm_stop(v->vm, VM_END_CRASH, "unexpected exception exit (vector %u) at rip %#llx",
		info & INTR_INFO_VECTOR_MASK, (unsigned long long)vmread(VMCS_GUEST_RIP));
}

void handle_preemption_timer(struct vcpu *v)
{
	/* The run loop compares the time with the slice end and the VM's
	 * device deadlines after every exit: nothing else to do. */
	(void)v;
}
