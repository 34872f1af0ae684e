#include "vmm/cpu/dirty_vcpu.h"

#include "arch/x86/page_alloc.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/interrupts.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

int dirty_vcpu_apply(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool pml = vm->dirty.mode == DIRTY_PML;
	uint32_t proc2 = (uint32_t)vmread(VMCS_PROC_BASED_CTLS2);

	if (pml && !v->pml_page) {
		v->pml_page = page_alloc(1);
		if (!v->pml_page)
			return -1;
	}
	vmwrite(VMCS_EPT_POINTER, vm_eptp(vm));
	if (pml) {
		vmwrite(VMCS_PML_ADDRESS, (uint64_t)(uintptr_t)v->pml_page);
		vmwrite(VMCS_GUEST_PML_INDEX, PML_INDEX_START);
		vmwrite(VMCS_PROC_BASED_CTLS2, proc2 | PROC2_ENABLE_PML);
	} else if (v->pml_page) {
		vmwrite(VMCS_PROC_BASED_CTLS2, proc2 & ~PROC2_ENABLE_PML);
		page_free(v->pml_page, 1);
		v->pml_page = NULL;
	}
	return 0;
}

void dirty_vcpu_drain(struct vcpu *v)
{
	if (!v->pml_page || v->vm->dirty.mode != DIRTY_PML)
		return;
	dirty_pml_drain(&v->vm->dirty, &v->vm->ept, v->pml_page,
			(uint16_t)vmread(VMCS_GUEST_PML_INDEX));
	vmwrite(VMCS_GUEST_PML_INDEX, PML_INDEX_START);
}

/* The log is full (SDM 29.3.6: the write that found the index out of
 * range was not logged and is retried after the resume): drained into
 * the VM's log. */
void handle_pml_full(struct vcpu *v)
{
	intr_iret_unblocked_nmi(vmread(VMCS_EXIT_QUALIFICATION));
	if (!v->pml_page || v->vm->dirty.mode != DIRTY_PML) {
		vm_stop(v->vm, VM_END_CRASH, "PML full exit without a page-modification log");
		return;
	}
	v->vm->dirty.events++;
	dirty_vcpu_drain(v);
}
