#include "vmm/console/console_input.h"

#include <stdbool.h>
#include <string.h>

#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/spinlock.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "vmm/core/sched.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/vm/vm.h"

#define PENDING_MAX 256
#define COMMAND_MAX 64
#define FOCUS_HYPERVISOR (-1)

static int focus = FOCUS_HYPERVISOR;
static unsigned escapes;	     /* Ctrl-A pressed in a row so far */
static uint8_t pending[PENDING_MAX]; /* typed, not yet taken by the guest */
static unsigned pending_head, pending_count;
static char command[COMMAND_MAX];
static unsigned command_len;
static bool command_ready;  /* a whole line waits for console_input_run */
static bool command_kicked; /* its VM's CPU was told */
/* All of the above is shared by the CPUs. A VM's UART and lifecycle are
 * touched by the CPU that runs its vCPU 0 (vcpus[0].cpu): input is
 * drained, and commands run, there (under the VM lock when the VM is
 * spread over CPUs). */
static struct spinlock input_lock;

static bool can_have_focus(const struct vm *vm)
{
	return vm->state == VM_RUNNING || vm->state == VM_PAUSED;
}

static void announce(void)
{
	if (focus == FOCUS_HYPERVISOR)
		kprintf("pgvisor: console: input goes to the pgvisor command line (type help); "
			"Ctrl-A three times switches\n");
	else
		kprintf("pgvisor: console: input goes to vm %s; Ctrl-A three times switches\n",
			vm_at((unsigned)focus)->name);
}

static void move_focus(void)
{
	/* The order: VM 0, 1, ..., then the hypervisor, then VM 0 again. */
	int next = focus;

	do {
		next = next == FOCUS_HYPERVISOR ? 0 : next + 1;
		if (next >= (int)vm_count())
			next = FOCUS_HYPERVISOR;
	} while (next != FOCUS_HYPERVISOR && !can_have_focus(vm_at((unsigned)next)));
	focus = next;
	pending_count = 0;
	command_len = 0;
	announce();
}

void console_input_init(void)
{
	focus = vm_count() ? 0 : FOCUS_HYPERVISOR;
	if (focus == 0 && !can_have_focus(vm_at(0)))
		move_focus();
	else
		announce();
}

static struct vm *vm_for_command(const char *name)
{
	struct vm *vm = vm_named(name);

	if (!vm)
		kprintf("pgvisor: no vm named '%s'\n", name);
	return vm;
}

static const char *state_name(const struct vm *vm)
{
	switch (vm->state) {
	case VM_RUNNING:
		return "running";
	case VM_PAUSED:
		return "paused";
	case VM_SHUTDOWN:
		return vm->preserved ? "shut down (preserved)" : "shut down";
	default:
		return vm->preserved ? "crashed (preserved)" : "crashed";
	}
}

static void run_command(char *line)
{
	char *arg = strchr(line, ' ');
	struct vm *vm;

	if (arg)
		*arg++ = '\0';
	kprintf("pgvisor> %s%s%s\n", line, arg ? " " : "", arg ? arg : "");
	if (!strcmp(line, "help") || !line[0]) {
		kprintf("pgvisor: commands: list, pause VM, unpause VM, destroy VM\n");
	} else if (!strcmp(line, "list")) {
		for (unsigned i = 0; i < vm_count(); i++) {
			uint64_t exits = 0;
			for (unsigned c = 0; c < vm_at(i)->nvcpus; c++)
				exits += profile_total(&vm_at(i)->vcpus[c].prof);
			char halted[VM_CPU_LIST_MAX], waiting[VM_CPU_LIST_MAX];
			bool running = vm_at(i)->state == VM_RUNNING;
			bool any =
				running && vm_halted_list(vm_at(i), false, halted, sizeof(halted));
			bool kick =
				running && vm_halted_list(vm_at(i), true, waiting, sizeof(waiting));
			kprintf("pgvisor:   %s: %s, %llu exits%s%s%s%s%s%s\n", vm_at(i)->name,
				state_name(vm_at(i)), (unsigned long long)exits, any ? ", " : "",
				any ? halted : "", any ? " halted" : "", kick ? ", " : "",
				kick ? waiting : "", kick ? " waiting for a PV kick" : "");
		}
	} else if (!strcmp(line, "pause") && arg && (vm = vm_for_command(arg))) {
		vm_pause(vm, true);
	} else if (!strcmp(line, "unpause") && arg && (vm = vm_for_command(arg))) {
		vm_pause(vm, false);
	} else if (!strcmp(line, "destroy") && arg && (vm = vm_for_command(arg))) {
		vm_destroy(vm);
	} else if (strcmp(line, "pause") && strcmp(line, "unpause") && strcmp(line, "destroy")) {
		kprintf("pgvisor: unknown command '%s' (try help)\n", line);
	} else if (!arg) {
		kprintf("pgvisor: %s needs a VM name\n", line);
	}
}

static void hypervisor_key(uint8_t c)
{
	if (command_ready)
		return; /* one command at a time: the next waits in the UART */
	if (c == '\r' || c == '\n') {
		command[command_len] = '\0';
		command_ready = command_len != 0;
		command_len = 0;
	} else if ((c == 0x7f || c == '\b') && command_len) {
		command_len--;
	} else if (c >= ' ' && c < 0x7f && command_len + 1 < COMMAND_MAX) {
		command[command_len++] = (char)c;
	}
}

static void queue_for_guest(uint8_t c)
{
	if (pending_count < PENDING_MAX)
		pending[(pending_head + pending_count++) % PENDING_MAX] = c;
}

static void deliver(uint8_t c)
{
	if (focus == FOCUS_HYPERVISOR)
		hypervisor_key(c);
	else
		queue_for_guest(c);
}

/* A VM is changed only by the CPU that runs it, or by any CPU once that
 * one has left its scheduler (none of its VMs can run any more). */
static bool runs_here(const struct vm *vm)
{
	return vm->vcpus[0].cpu == this_cpu()->index || !sched_cpu_active(vm->vcpus[0].cpu);
}

/* The keys go to the VM's virtio console rather than its COM1 once the
 * guest's driver is live and has posted receive buffers (until the device
 * is reset: a driver that unloads gives COM1 the keys back). */
static bool takes_keys_on_hvc(struct vm *vm)
{
	return vm->vcon && virtio_console_reading(vm->vcon);
}

static void drain_to_guest(void)
{
	if (focus == FOCUS_HYPERVISOR)
		return;
	struct vm *vm = vm_at((unsigned)focus);
	if (!can_have_focus(vm)) {
		move_focus();
		return;
	}
	if (!runs_here(vm))
		return;
	bool locked = vm_lock(vm);
	if (pending_count && takes_keys_on_hvc(vm)) {
		/* The console keeps what the guest cannot take yet. */
		while (pending_count) {
			unsigned run = PENDING_MAX - pending_head;
			if (run > pending_count)
				run = pending_count;
			virtio_console_input(vm->vcon, pending + pending_head, run);
			pending_head = (pending_head + run) % PENDING_MAX;
			pending_count -= run;
		}
	}
	while (pending_count && uart_receive(&vm->uart, pending[pending_head])) {
		pending_head = (pending_head + 1) % PENDING_MAX;
		pending_count--;
	}
	vm_unlock(vm, locked);
}

/* Every vCPU of vm waits (halted, or for SIPI): a partial line it left
 * is a prompt. A vCPU on another CPU may be in the middle of a line. */
static bool guest_waits(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		if (!vm->vcpus[i].halted && vcpu_start_runnable(&vm->vcpus[i].start))
			return false;
	return true;
}

void console_input_idle(void)
{
	if (!spin_trylock(&input_lock))
		return;
	struct vm *vm = focus == FOCUS_HYPERVISOR ? NULL : vm_at((unsigned)focus);
	if (vm && runs_here(vm) && can_have_focus(vm)) {
		bool locked = vm_lock(vm);
		if (guest_waits(vm)) {
			uart_flush(&vm->uart);
			if (vm->cfg.virtio_console)
				virtio_console_flush(vm->vcon);
		}
		vm_unlock(vm, locked);
	}
	spin_unlock(&input_lock);
}

/* The CPU a command must run on: its VM's, or any for the others. */
static bool command_runs_here(void)
{
	const char *arg = strchr(command, ' ');

	if (!arg)
		return true;
	for (unsigned i = 0; i < vm_count(); i++) {
		struct vm *vm = vm_at(i);
		if (strcmp(vm->name, arg + 1))
			continue;
		if (runs_here(vm))
			return true;
		if (!command_kicked)
			smp_kick(vm->vcpus[0].cpu);
		command_kicked = true;
		return false;
	}
	return true;
}

void console_input_run(void)
{
	char line[COMMAND_MAX];

	if (!command_ready)
		return;
	/* Waited for, not tried: in Bochs the CPUs run in lockstep, and a
	 * CPU that must not run the command (it only kicks the right one)
	 * held the lock at the very moment the right one tried, every
	 * slice, so the command never ran. Nobody holds the lock long. */
	spin_lock(&input_lock);
	if (!command_ready || !command_runs_here()) {
		spin_unlock(&input_lock);
		return;
	}
	memcpy(line, command, sizeof(line));
	command_ready = false;
	command_kicked = false;
	spin_unlock(&input_lock);
	run_command(line);
}

void console_input_poll(void)
{
	int c;

	/* Another CPU is reading the console: it gets the bytes. */
	if (!spin_trylock(&input_lock))
		return;
	while (!command_ready && (c = serial_getc()) >= 0) {
		if (c == CONSOLE_ESCAPE) {
			if (++escapes == CONSOLE_ESCAPE_COUNT) {
				escapes = 0;
				move_focus();
			}
			continue;
		}
		/* One or two Ctrl-A were meant for the guest after all. */
		for (; escapes; escapes--)
			deliver(CONSOLE_ESCAPE);
		deliver((uint8_t)c);
	}
	drain_to_guest();
	spin_unlock(&input_lock);
}
