#include "vmm/sched.h"

#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "vmm/console_input.h"
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

static struct sched_stats stats;
static struct vcpu *last_vcpu;
static uint64_t last_exit_tsc; /* when last_vcpu's slice ended */

void sched_slice_expired(struct vcpu *v)
{
	v->slice_expired = true;
}

const struct sched_stats *sched_get_stats(void)
{
	return &stats;
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
	if (last_vcpu && last_vcpu != v && last_exit_tsc) {
		stats.switches++;
		stats.switch_ticks += rdtsc() - last_exit_tsc;
	}
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
	last_vcpu = v;
	last_exit_tsc = v->slice_expired ? rdtsc() : 0;
}

void sched_run(void)
{
	for (;;) {
		bool live = false;
		for (unsigned i = 0; i < vm_count(); i++) {
			struct vm *vm = vm_at(i);
			console_input_poll();
			console_input_run();
			if (vm->state == VM_PAUSED)
				live = true;
			if (vm->state != VM_RUNNING)
				continue;
			for (unsigned c = 0; c < vm->nvcpus && vm->state == VM_RUNNING; c++)
				run_vcpu(&vm->vcpus[c]);
			live = true;
			if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
				vm_apply_policy(vm);
		}
		/* Done when no VM can ever run again; paused ones wait for the
		 * operator's console. */
		if (!live)
			return;
	}
}
