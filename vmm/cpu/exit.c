#include "vmm/cpu/exit.h"

#include "vmm/vm/vm.h"
#include "vmm/vmx/exit_reason.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

/* Reasons pgvisor's controls never cause, and those it does not emulate,
 * stop the VM: the range fills the table, the entries below override it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const exit_handler_fn exit_handlers[EXIT_REASON_COUNT] = {
	[0 ... EXIT_REASON_COUNT - 1] = handle_unexpected,
	[EXIT_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_EXTERNAL_INTERRUPT] = handle_external_interrupt,
	[EXIT_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_INTERRUPT_WINDOW] = handle_interrupt_window,
	[EXIT_NMI_WINDOW] = handle_nmi_window,
	[EXIT_TPR_BELOW_THRESHOLD] = handle_tpr_below_threshold,
	[EXIT_VIRTUALIZED_EOI] = handle_virtualized_eoi,
	[EXIT_CPUID] = handle_cpuid,
	[EXIT_HLT] = handle_hlt,
	[EXIT_INVD] = handle_cache_flush,
	[EXIT_VMCALL] = handle_vmcall,
	/* VMX for guests with nested = 1; #UD in the others, as on a CPU
	 * without VMX (exit_vmx.c). VMFUNC and GETSEC are not offered. */
	[EXIT_VMCLEAR] = handle_vmclear,
	[EXIT_VMLAUNCH] = handle_vmlaunch,
	[EXIT_VMPTRLD] = handle_vmptrld,
	[EXIT_VMPTRST] = handle_vmptrst,
	[EXIT_VMREAD] = handle_vmread,
	[EXIT_VMRESUME] = handle_vmresume,
	[EXIT_VMWRITE] = handle_vmwrite,
	[EXIT_VMXOFF] = handle_vmxoff,
	[EXIT_VMXON] = handle_vmxon,
	[EXIT_INVEPT] = handle_invept,
	[EXIT_INVVPID] = handle_invvpid,
	[EXIT_VMFUNC] = handle_undefined,
	[EXIT_GETSEC] = handle_undefined,
	/* Trap policies (trap_policy.h): emulated as on the bare machine.
	 * CPUID hides MONITOR/MWAIT; the "mwait" trap keeps a guest that uses
	 * them anyway from parking the CPU. */
	[EXIT_MONITOR] = handle_hint,
	[EXIT_MWAIT] = handle_hint,
	[EXIT_PAUSE] = handle_hint,
	[EXIT_GDTR_IDTR_ACCESS] = handle_gdtr_idtr_access,
	[EXIT_LDTR_TR_ACCESS] = handle_ldtr_tr_access,
	[EXIT_RDTSC] = handle_rdtsc,
	[EXIT_RDTSCP] = handle_rdtscp,
	[EXIT_INVLPG] = handle_invlpg,
	[EXIT_DR_ACCESS] = handle_dr_access,
	[EXIT_RDPMC] = handle_rdpmc,
	[EXIT_CR_ACCESS] = handle_cr_access,
	[EXIT_IO_INSTRUCTION] = handle_io,
	[EXIT_RDMSR] = handle_rdmsr,
	[EXIT_WRMSR] = handle_wrmsr,
	[EXIT_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_PML_FULL] = handle_pml_full,
	[EXIT_APIC_ACCESS] = handle_apic_access,
	[EXIT_APIC_WRITE] = handle_apic_write,
	[EXIT_PREEMPTION_TIMER] = handle_preemption_timer,
	[EXIT_WBINVD] = handle_cache_flush,
	[EXIT_XSETBV] = handle_xsetbv,
};

#pragma GCC diagnostic pop

void handle_unexpected(struct vcpu *v)
{
	unsigned basic = (unsigned)vmread(VMCS_EXIT_REASON) & EXIT_REASON_BASIC_MASK;

	vm_stop(v->vm, VM_END_CRASH, "unhandled VM exit %s (reason %u) at rip %#llx",
		exit_reason_name(basic), basic, (unsigned long long)vmread(VMCS_GUEST_RIP));
}

void exit_dispatch_unusual(struct vcpu *v, uint32_t exit_reason)
{
	unsigned basic = exit_reason & EXIT_REASON_BASIC_MASK;

	if (exit_reason & EXIT_REASON_ENTRY_FAILURE || basic >= EXIT_REASON_COUNT) {
		v->prof.unusual++;
		v->prof_reason = PROFILE_NO_REASON;
		if (exit_reason & EXIT_REASON_ENTRY_FAILURE)
			handle_entry_failure(v, exit_reason);
		else
			handle_unexpected(v);
		return;
	}
	/* Another flag (an MTF exit pending, SDM 25.9.1): the reason's own
	 * handler. */
	v->prof.count[basic]++;
	v->prof_reason = (uint16_t)basic;
	exit_handlers[basic](v);
}
