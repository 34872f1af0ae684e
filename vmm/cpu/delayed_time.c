#include "vmm/cpu/delayed_time.h"

#include "arch/x86/cpu.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

static bool delays(const struct vm *vm)
{
	return vm->cfg.timer_mode == TIMER_MODE_DELAY_FOR_MISSED_TICKS;
}

static bool any_vcpu(const struct vm *vm, bool (*test)(const struct vcpu *))
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (test(&vm->vcpus[i]))
			return true;
	return false;
}

static bool on_cpu(const struct vcpu *v)
{
	return v->time_on_cpu;
}

static bool waiting(const struct vcpu *v)
{
	return v->time_waiting;
}

/* The guest's TSC stood still with the rest of its time: every vCPU's
 * offset drops by the span, so that its TSC, kvm-clock and device time
 * resume together (kvm-clock's record names guest time 0 at the TSC
 * origin plus offset, which this leaves unchanged). A vCPU's VMCS gets
 * the new offset before it next runs. */
static void take_out_of_tsc(struct vm *vm, uint64_t held)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		vm->vcpus[i].lapic.tsc_offset -= held;
		vm->vcpus[i].tsc_offset_stale = true;
	}
}

void delayed_time_vcpu_in(struct vcpu *v, uint64_t now_tsc, bool after_other_vm)
{
	struct vm *vm = v->vm;

	if (!delays(vm))
		return;
	bool taken = vm_lock(vm);
	v->time_waiting = false;
	if (!any_vcpu(vm, on_cpu)) {
		uint64_t held = vtime_release(&vm->vtime, now_tsc, after_other_vm);
		if (held)
			take_out_of_tsc(vm, held);
	}
	v->time_on_cpu = true;
	vm_unlock(vm, taken);
	if (v->tsc_offset_stale) {
		vmwrite(VMCS_TSC_OFFSET, v->lapic.tsc_offset);
		v->tsc_offset_stale = false;
	}
}

void delayed_time_vcpu_out(struct vcpu *v, uint64_t now_tsc, bool waiting_for_cpu)
{
	struct vm *vm = v->vm;

	if (!delays(vm))
		return;
	bool taken = vm_lock(vm);
	v->time_on_cpu = false;
	v->time_waiting = waiting_for_cpu;
	if (!any_vcpu(vm, on_cpu) && any_vcpu(vm, waiting))
		vtime_hold(&vm->vtime, now_tsc ? now_tsc : rdtsc());
	vm_unlock(vm, taken);
}
