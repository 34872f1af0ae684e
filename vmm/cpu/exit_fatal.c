/* Exits that end a VM: a triple fault (the guest reset itself the hard
 * way) and failed VM entries (SDM 26.8), decoded down to the rule that
 * failed so a broken guest state is explained, not just reported. */
#include <stdio.h>

#include "vmm/cpu/exit.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/exit_reason.h"
#include "vmm/vmx/vmcs_check.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define ENTRY_QUAL_PDPTE 2
#define ENTRY_QUAL_NMI 3
#define ENTRY_QUAL_LINK 4

void handle_triple_fault(struct vcpu *v)
{
	vm_stop(v->vm, VM_END_CRASH, "triple fault at rip %#llx",
		(unsigned long long)vmread(VMCS_GUEST_RIP));
}

static uint64_t read_current_vmcs(uint32_t field, void *ctx)
{
	(void)ctx;
	return vmread(field);
}

void handle_entry_failure(struct vcpu *v, uint32_t exit_reason)
{
	unsigned basic = exit_reason & EXIT_REASON_BASIC_MASK;
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
	char rule[160] = "no modelled check failed";

	if (basic == EXIT_ENTRY_FAIL_GUEST_STATE) {
		if (qual == ENTRY_QUAL_PDPTE)
			snprintf(rule, sizeof(rule), "a PAE PDPTE has reserved bits set");
		else if (qual == ENTRY_QUAL_LINK)
			snprintf(rule, sizeof(rule), "bad VMCS link pointer");
		else
			vmcs_check_guest_state(read_current_vmcs, NULL, &vmx_caps, rule,
					       sizeof(rule));
		vm_stop(v->vm, VM_END_CRASH, "VM entry failed: invalid guest state: %s (rip %#llx)",
			rule, (unsigned long long)vmread(VMCS_GUEST_RIP));
		return;
	}
	vm_stop(v->vm, VM_END_CRASH, "VM entry failed: %s (exit reason %#x, qualification %#llx)",
		exit_reason_name(basic), exit_reason, (unsigned long long)qual);
}
