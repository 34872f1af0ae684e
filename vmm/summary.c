#include <stdbool.h>
#include <stdio.h>

#include "drivers/console.h"
#include "vmm/sched.h"
#include "vmm/summary.h"
#include "vmm/vm.h"

static const char *end_name(const struct vm *vm)
{
	switch (vm->end) {
	case VM_END_POWEROFF:
		return "powered off";
	case VM_END_DEBUG_EXIT:
		return "exited";
	case VM_END_HALTED:
		return "halted";
	case VM_END_CRASH:
		return "crashed";
	case VM_END_DESTROYED:
		return "destroyed by the operator";
	case VM_END_REBOOT:
		return "reset by the guest";
	default:
		return vm->state == VM_PAUSED ? "paused" : "still running";
	}
}

bool summary_print(void)
{
	unsigned ok = 0;

	kprintf("pgvisor: summary of %u VM%s\n", vm_count(), vm_count() == 1 ? "" : "s");
	for (unsigned i = 0; i < vm_count(); i++) {
		const struct vm *vm = vm_at(i);
		char counts[640];
		int n = 0;

		for (unsigned r = 0; r < EXIT_REASON_COUNT; r++) {
			if (!vm->exits[r] || n >= (int)sizeof(counts))
				continue;
			n += snprintf(counts + n, sizeof(counts) - (size_t)n, " %s=%llu",
				      exit_reason_name(r), (unsigned long long)vm->exits[r]);
		}
		char how[VM_REASON_MAX + 48];
		if (vm->end == VM_END_DEBUG_EXIT)
			snprintf(how, sizeof(how), "exited with status %u (value %u)",
				 (vm->exit_value << 1) | 1, vm->exit_value);
		else if (vm->end == VM_END_CRASH)
			snprintf(how, sizeof(how), "crashed: %s", vm->reason);
		else
			snprintf(how, sizeof(how), "%s", end_name(vm));
		kprintf("pgvisor:   vm %s: %s, restarts %u\n", vm->name, how, vm->restarts);
		kprintf("pgvisor:   vm %s: ran on CPU %u\n", vm->name, vm->vcpus[0].cpu);
		kprintf("pgvisor:   vm %s: exits total=%llu%s\n", vm->name,
			(unsigned long long)vm->total_exits, counts);
		if (vm_succeeded(vm))
			ok++;
	}
	const struct sched_stats *s = sched_get_stats();
	if (s->switches)
		kprintf("pgvisor: scheduler: %llu vCPU switches, %llu TSC ticks each on average\n",
			(unsigned long long)s->switches,
			(unsigned long long)(s->switch_ticks / s->switches));
	bool success = vm_count() && ok == vm_count();
	kprintf("pgvisor: %u of %u VMs succeeded\n", ok, vm_count());
	kprintf("pgvisor: result: %s\n", success ? "success" : "failure");
	return success;
}
