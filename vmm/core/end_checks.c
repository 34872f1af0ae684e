#include "vmm/core/end_checks.h"

#include <stdint.h>

#include "arch/x86/lib/fnv1a.h"
#include "arch/x86/stack_canary.h"
#include "drivers/console.h"

static bool memhash;

void end_checks_enable_memhash(void)
{
	memhash = true;
}

static void print_memhash(const struct vm *vm, const char *when)
{
	if (!memhash || !vm->ram.host)
		return;
	uint64_t h = fnv1a64(FNV1A64_INIT, vm->ram.host, vm->ram.size);
	kprintf("pgvisor: vm %s: memory hash %016llx at %s (%llu KiB)\n", vm->name,
		(unsigned long long)h, when, (unsigned long long)(vm->ram.size >> 10));
}

void end_checks_vm_loaded(const struct vm *vm)
{
	print_memhash(vm, "load");
}

static unsigned report_broken_canaries(void)
{
	unsigned broken = 0;

	for (unsigned i = 0; i < stack_canary_count(); i++) {
		if (stack_canary_intact(i))
			continue;
		kprintf("pgvisor: stack canary broken: CPU %u's %s ran over its bottom\n",
			stack_canary_cpu(i), stack_canary_what(i));
		broken++;
	}
	return broken;
}

void end_checks_vm_ended(const struct vm *vm)
{
	print_memhash(vm, "end");
	report_broken_canaries();
}

bool end_checks_canaries_report(void)
{
	unsigned broken = report_broken_canaries(), n = stack_canary_count();
	kprintf("pgvisor: stack canaries: %u of %u intact\n", n - broken, n);
	return !broken;
}
