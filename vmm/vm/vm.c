/* The VM and vCPU objects' state changes that handlers and devices
 * cause: a VM stops (and says why), pauses, kicks the CPUs it runs on; the
 * table of VMs. Building, loading and freeing a VM is vmm/core/vm_lifecycle.c. */
#include "vmm/vm/vm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "drivers/console.h"

static struct vm *vms[MAX_VMS];
static unsigned nvms;

unsigned vm_count(void)
{
	return __atomic_load_n(&nvms, __ATOMIC_ACQUIRE);
}

struct vm *vm_at(unsigned i)
{
	return i < vm_count() ? vms[i] : NULL;
}

struct vm *vm_named(const char *name)
{
	for (unsigned i = vm_count(); i-- > 0;)
		if (!strcmp(vms[i]->name, name))
			return vms[i];
	return NULL;
}

bool vm_finished(struct vm *vm)
{
	bool locked = vm_lock(vm);
	/* Ended, its policy applied (no restart coming) and its memory not
	 * kept: only the summary still reads it. */
	bool finished = (vm->state == VM_SHUTDOWN || vm->state == VM_CRASHED) && !vm->vcpus_held &&
			!vm->preserved;
	vm_unlock(vm, locked);
	return finished;
}

bool vm_name_free(const char *name)
{
	struct vm *vm = vm_named(name);

	return !vm || vm_finished(vm);
}

void vm_add(struct vm *vm)
{
	/* Whole before another CPU can see it: the console's create adds
	 * a VM while the others run. */
	vms[nvms] = vm;
	__atomic_store_n(&nvms, nvms + 1, __ATOMIC_RELEASE);
}

struct vcpu *vm_current_vcpu(struct vm *vm)
{
	struct vcpu *v = this_cpu()->loaded_vcpu;

	return v && v->vm == vm ? v : &vm->vcpus[0];
}

void vm_cpu_list(const struct vm *vm, char *out, size_t size)
{
	uint32_t cpus = 0;
	int n = snprintf(out, size, "CPU%s", vm->spread ? "s" : "");

	for (unsigned i = 0; i < vm->nvcpus; i++)
		cpus |= 1u << vm->vcpus[i].cpu;
	for (unsigned c = 0; c < 32 && n > 0 && (size_t)n < size; c++)
		if (cpus & (1u << c))
			n += snprintf(out + n, size - (size_t)n, "%s%u",
				      cpus & ((1u << c) - 1) ? "," : " ", c);
}

static bool halted_as(const struct vcpu *v, bool until_kick)
{
	return v->halted && v->halted_until_kick == until_kick;
}

unsigned vm_halted_list(const struct vm *vm, bool until_kick, char *out, size_t size)
{
	unsigned count = 0;
	int n = 0;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		count += halted_as(&vm->vcpus[i], until_kick);
	out[0] = '\0';
	if (count)
		n = snprintf(out, size, "vCPU%s", count > 1 ? "s" : "");
	for (unsigned i = 0, k = 0; i < vm->nvcpus && n > 0 && (size_t)n < size; i++)
		if (halted_as(&vm->vcpus[i], until_kick))
			n += snprintf(out + n, size - (size_t)n, "%s%u", k++ ? "," : " ", i);
	return count;
}

void vm_kick_cpus(struct vm *vm)
{
	uint32_t kicked = 1u << this_cpu()->index;

	if (!vm->spread)
		return;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		unsigned cpu = vm->vcpus[i].cpu;
		if (!(kicked & (1u << cpu)))
			smp_kick(cpu);
		kicked |= 1u << cpu;
	}
}

static void (*event_listener)(const struct vm *vm, enum vm_event event);

void vm_set_event_listener(void (*listener)(const struct vm *vm, enum vm_event event))
{
	event_listener = listener;
}

void vm_announce(const struct vm *vm, enum vm_event event)
{
	if (event_listener)
		event_listener(vm, event);
}

void vm_stop(struct vm *vm, enum vm_end end, const char *fmt, ...)
{
	va_list ap;

	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED)
		return;
	vm_kick_cpus(vm);
	uart_flush(&vm->uart);
	if (vm->vcon)
		virtio_console_flush(vm->vcon);
	vm->state = end == VM_END_CRASH ? VM_CRASHED : VM_SHUTDOWN;
	vm->end = end;
	va_start(ap, fmt);
	vsnprintf(vm->reason, sizeof(vm->reason), fmt, ap);
	va_end(ap);
	kprintf("pgvisor: vm %s: %s%s\n", vm->name, end == VM_END_CRASH ? "crashed: " : "",
		vm->reason);
	vm_announce(vm, end == VM_END_CRASH ? VM_EVENT_CRASHED : VM_EVENT_STOPPED);
}

void vm_pause(struct vm *vm, bool pause)
{
	bool locked = vm_lock(vm);

	if (vm->state != (pause ? VM_RUNNING : VM_PAUSED)) {
		kprintf("pgvisor: vm %s: is not %s\n", vm->name, pause ? "running" : "paused");
	} else {
		vm->state = pause ? VM_PAUSED : VM_RUNNING;
		vm_kick_cpus(vm);
		kprintf("pgvisor: vm %s: %s\n", vm->name, pause ? "paused" : "running again");
	}
	vm_unlock(vm, locked);
}

bool vm_succeeded(const struct vm *vm)
{
	switch (vm->end) {
	case VM_END_POWEROFF:
	case VM_END_HALTED:
		return true;
	case VM_END_DEBUG_EXIT:
		return vm->exit_value == 0;
	default:
		return false;
	}
}

void vm_exit_profile(const struct vm *vm, struct exit_profile *out)
{
	profile_reset(out);
	for (unsigned c = 0; c < vm->nvcpus; c++)
		profile_add(out, &vm->vcpus[c].prof);
}
