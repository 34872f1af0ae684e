#include "vmm/sched.h"

#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "vmm/exit.h"
#include "vmm/vm.h"
#include "vmm/vmcs_fields.h"
#include "vmm/vmx.h"

#define US_PER_S 1000000ull

static uint64_t slice_ticks; /* preemption-timer units */
static uint64_t slice_tsc;   /* the same in TSC ticks */

void sched_init(uint64_t slice_us)
{
	uint64_t tsc_ticks = tsc_hz() / US_PER_S * slice_us;

	slice_tsc = tsc_ticks;
	slice_ticks = tsc_ticks >> vmx_controls.preemption_shift;
	if (slice_ticks > 0xffffffffull)
		slice_ticks = 0xffffffffull;
	if (!slice_ticks)
		slice_ticks = 1;
}

void sched_slice_expired(struct vcpu *v)
{
	v->slice_expired = true;
}

/* Makes v's VMCS current and its FPU state live on this CPU. */
static int switch_to(struct vcpu *v)
{
	struct cpu *c = this_cpu();

	if (c->loaded_vcpu != v) {
		if (vmcs_load(v->vmcs)) {
			vm_stop(v->vm, VM_END_CRASH, "VMPTRLD of its VMCS failed");
			return -1;
		}
		c->loaded_vcpu = v;
	}
	if (c->fpu_owner != v) {
		if (c->fpu_owner)
			fpu_save(c->fpu_owner->fpu_area, c->fpu_owner->xcr0);
		fpu_restore(v->fpu_area, v->xcr0);
		c->fpu_owner = v;
	}
	return 0;
}

/* Runs v until its VM stops or its slice ends. */
static void run_vcpu(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (switch_to(v))
		return;
	v->slice_expired = false;
	uint64_t deadline = rdtsc() + slice_tsc;
	if (vmx_controls.preemption_timer)
		vmwrite(VMCS_PREEMPTION_TIMER_VALUE, slice_ticks);
	while (vm->state == VM_RUNNING && !v->slice_expired) {
		/* Without "save preemption timer" every entry restarts the count
		 * from the field (SDM 26.7.4): give it what is left. */
		if (vmx_controls.preemption_timer && !vmx_controls.save_preemption_timer) {
			uint64_t now = rdtsc();
			vmwrite(VMCS_PREEMPTION_TIMER_VALUE,
				now >= deadline
					? 0
					: (deadline - now) >> vmx_controls.preemption_shift);
		}
		if (vmx_enter(&v->regs, v->launched)) {
			uint64_t err = vmread(VMCS_VM_INSTRUCTION_ERROR);
			vm_stop(vm, VM_END_CRASH, "%s failed: VM-instruction error %llu%s",
				v->launched ? "VMRESUME" : "VMLAUNCH", (unsigned long long)err,
				err == VMX_ERROR_ENTRY_INVALID_CONTROLS ? " (invalid control field)"
				: err == VMX_ERROR_ENTRY_INVALID_HOST_STATE
					? " (invalid host state)"
					: "");
			return;
		}
		v->launched = true;
		exit_dispatch(v, (uint32_t)vmread(VMCS_EXIT_REASON));
	}
}

void sched_run(void)
{
	for (;;) {
		bool ran = false;
		for (unsigned i = 0; i < vm_count(); i++) {
			struct vm *vm = vm_at(i);
			if (vm->state != VM_RUNNING)
				continue;
			for (unsigned c = 0; c < vm->nvcpus && vm->state == VM_RUNNING; c++)
				run_vcpu(&vm->vcpus[c]);
			ran = true;
			if (vm->state != VM_RUNNING)
				vm_apply_policy(vm);
		}
		if (!ran)
			return;
	}
}
