/* The test build's faults at a VM's first entry (see fault_entry.h). */
#ifdef FAULT_INJECT

#include "vmm/cpu/fault_entry.h"

#include "arch/x86/cpu.h"
#include "arch/x86/fault_inject.h"
#include "drivers/console.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

/* JMP rel8 -2: the instruction jumps to itself. */
static const uint8_t spin_forever[] = { 0xeb, 0xfe };

/* fault=entry:VM. RFLAGS bit 1 must be 1 in the guest-state area (SDM
 * 26.3.1.4): the CPU refuses the entry as invalid guest state, an exit
 * with bit 31 set, which exit_dispatch_unusual turns into the VM's end. */
static void break_guest_state(struct vcpu *v)
{
	vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_FIXED);
	kprintf("pgvisor: fault: vm %s: RFLAGS bit 1 cleared in its guest state before its "
		"first entry (injected)\n",
		v->vm->name);
}

/* fault=noexit:VM. The guest spins at its entry point with interrupts off,
 * and nothing makes it exit: no VMX-preemption timer (nor its saving,
 * which needs it, SDM 26.2.1.2), no external-interrupt exiting (host
 * interrupts stay pending in the LAPIC while the guest has IF clear).
 * NMIs still exit: the watchdog (vmm/core/watchdog.c) must end it. */
static void spin_without_exits(struct vcpu *v)
{
	uint64_t rip = vmread(VMCS_GUEST_RIP), gpa;
	uint32_t pf_error;

	if (guest_linear_to_phys(v, vmread(VMCS_GUEST_CS_BASE) + rip, true, &gpa, &pf_error) !=
		    GVA_OK ||
	    guest_phys_write(v->vm, gpa, spin_forever, sizeof(spin_forever))) {
		kprintf("pgvisor: fault: vm %s: its entry point %#llx is not in its RAM; noexit "
			"not injected\n",
			v->vm->name, (unsigned long long)rip);
		return;
	}
	vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_IF);
	vmwrite(VMCS_PIN_BASED_CTLS,
		vmread(VMCS_PIN_BASED_CTLS) &
			~(uint64_t)(PIN_EXTERNAL_INTERRUPT_EXITING | PIN_PREEMPTION_TIMER));
	vmwrite(VMCS_EXIT_CTLS, vmread(VMCS_EXIT_CTLS) & ~(uint64_t)EXIT_SAVE_PREEMPTION_TIMER);
	kprintf("pgvisor: fault: vm %s: vCPU 0 spins at %#llx with no preemption timer and no "
		"external-interrupt exiting (injected)\n",
		v->vm->name, (unsigned long long)rip);
}

void fault_before_first_entry(struct vcpu *v)
{
	if (v->id)
		return;
	if (fault_take(FAULT_ENTRY, v->vm->name))
		break_guest_state(v);
	if (fault_take(FAULT_NOEXIT, v->vm->name))
		spin_without_exits(v);
}

#endif
