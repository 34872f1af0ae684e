#include "vmm/console/console_input.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/page_alloc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/spinlock.h"
#include "drivers/byte_ring.h"
#include "drivers/console.h"
#include "drivers/ps2kbd.h"
#include "drivers/serial.h"
#include "vmm/console/command_parse.h"
#include "vmm/console/commands.h"
#include "vmm/console/control_channel.h"
#include "vmm/core/sched.h"
#include "vmm/vm/vm.h"

#define FOCUS_HYPERVISOR (-1)
#define VM_INPUT_BYTES 4096u  /* typed for a VM, not yet taken by it: a page */
#define LINE_INPUT_BYTES 4096 /* typed at the command line, not yet read */

static int focus = FOCUS_HYPERVISOR;
static unsigned escapes; /* Ctrl-A pressed in a row so far */
/* Each VM's typed bytes, by VM id (the buffer allocated at its first key),
 * fed to its UART or virtio console as the guest takes them, and whether
 * its last key found the buffer full. */
static struct byte_ring vm_input[MAX_VMS];
static bool vm_input_full[MAX_VMS];
static uint8_t line_input_buf[LINE_INPUT_BYTES];
static struct byte_ring line_input = { line_input_buf, LINE_INPUT_BYTES, 0, 0, 0 };
static char line[COMMAND_LINE_MAX];
static unsigned line_len;
static bool line_too_long;
/* A parsed command waiting for console_input_run, one from each source:
 * the typed line and the control channel. */
enum request_source { FROM_CONSOLE, FROM_CONTROL, SOURCES };
struct pending {
	struct control_request req; /* req.cmd the command; the id for a reply */
	struct vm *vm;
	bool ready;
	bool kicked; /* its VM's CPU was told */
};
static struct pending pending[SOURCES];
/* Held while a command runs: the two sources' commands run one at a time
 * (they share the runner's buffers), on whatever CPUs. */
static struct spinlock command_lock;
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
	line_len = 0;
	line_too_long = false;
	announce();
}

/* The console command: the keyboard goes to vm. */
static void focus_on(struct vm *vm)
{
	if (!can_have_focus(vm)) {
		kprintf("pgvisor: vm %s: is not running\n", vm->name);
		return;
	}
	spin_lock(&input_lock);
	focus = (int)vm->id;
	announce();
	spin_unlock(&input_lock);
}

void console_input_init(const struct boot_info *bi)
{
	const struct command_env env = { bi, focus_on };

	commands_init(&env);
	control_channel_init();
	focus = vm_count() ? 0 : FOCUS_HYPERVISOR;
	if (focus == 0 && !can_have_focus(vm_at(0)))
		move_focus();
	else
		announce();
}

/* A VM is changed only by the CPU that runs it, or by any CPU once that
 * one has left its scheduler (none of its VMs can run any more). */
static bool runs_here(const struct vm *vm)
{
	return vm->vcpus[0].cpu == this_cpu()->index || !sched_cpu_active(vm->vcpus[0].cpu);
}

/* A finished line: parsed here, run by console_input_run on the right
 * CPU. What is wrong with it is said at once, and nothing happens. */
static void submit_line(void)
{
	char err[160];

	line[line_len] = '\0';
	if (line_too_long) {
		kprintf("pgvisor: the line is longer than %u characters; ignored\n",
			COMMAND_LINE_MAX - 1);
	} else if (line_len) {
		struct pending *p = &pending[FROM_CONSOLE];
		kprintf("pgvisor> %s\n", line);
		if (command_parse(line, &p->req.cmd, err, sizeof(err))) {
			kprintf("pgvisor: %s\n", err);
		} else if (command_names_vm(p->req.cmd.id) && !(p->vm = vm_named(p->req.cmd.vm))) {
			kprintf("pgvisor: no vm named '%s'\n", p->req.cmd.vm);
		} else {
			if (!command_names_vm(p->req.cmd.id))
				p->vm = NULL;
			p->ready = true;
		}
	}
	line_len = 0;
	line_too_long = false;
}

static void hypervisor_key(uint8_t c)
{
	if (c == '\r' || c == '\n') {
		submit_line();
	} else if ((c == 0x7f || c == '\b') && line_len) {
		line_len--;
	} else if (c >= ' ' && c < 0x7f) {
		if (line_len + 1 < COMMAND_LINE_MAX)
			line[line_len++] = (char)c;
		else
			line_too_long = true;
	}
}

/* Bytes for the command line wait in their ring while a command does. */
static void read_command_line(void)
{
	int c;

	while (!pending[FROM_CONSOLE].ready && (c = byte_ring_get(&line_input)) >= 0)
		hypervisor_key((uint8_t)c);
}

/* The next request on the control channel, once the last one ran. */
static void read_control_channel(void)
{
	struct pending *p = &pending[FROM_CONTROL];
	char err[COMMAND_ERROR_MAX];

	while (control_channel_poll(&p->req, !p->ready)) {
		p->vm = NULL;
		if (command_names_vm(p->req.cmd.id) && !(p->vm = vm_named(p->req.cmd.vm))) {
			snprintf(err, sizeof(err), "no vm named '%s'", p->req.cmd.vm);
			control_channel_refuse(&p->req, err);
			continue;
		}
		kprintf("pgvisor: control channel: %s%s%s\n", command_info(p->req.cmd.id)->name,
			p->vm ? " " : "", p->vm ? p->vm->name : "");
		p->ready = true;
	}
}

static void queue_for_guest(unsigned id, uint8_t c)
{
	struct byte_ring *r = &vm_input[id];

	if (!r->buf) {
		uint8_t *buf = page_alloc(1);
		if (!buf) {
			kprintf("pgvisor: vm %s: no memory for its typed input; key dropped\n",
				vm_at(id)->name);
			return;
		}
		byte_ring_init(r, buf, VM_INPUT_BYTES);
	}
	bool taken = byte_ring_put(r, c);
	if (!taken && !vm_input_full[id])
		kprintf("pgvisor: vm %s: %u typed bytes wait for the guest; dropping keys\n",
			vm_at(id)->name, VM_INPUT_BYTES);
	vm_input_full[id] = !taken;
}

static void deliver(uint8_t c)
{
	if (focus == FOCUS_HYPERVISOR) {
		if (!byte_ring_put(&line_input, c) && line_input.dropped == 1)
			kprintf("pgvisor: console: the command line's input is full; dropping "
				"keys\n");
	} else {
		queue_for_guest((unsigned)focus, c);
	}
}

/* The keys go to the VM's virtio console rather than its COM1 once the
 * guest's driver is live and has posted receive buffers (until the device
 * is reset: a driver that unloads gives COM1 the keys back). */
static bool takes_keys_on_hvc(struct vm *vm)
{
	return vm->vcon && virtio_console_reading(vm->vcon);
}

/* Feeds vm as much of its typed bytes as its UART or virtio console
 * takes now; the rest waits for the next look. */
static void drain_to_guest(struct vm *vm, struct byte_ring *r)
{
	bool locked = vm_lock(vm);

	if (!can_have_focus(vm)) {
		byte_ring_clear(r); /* it stopped: nothing is read any more */
	} else if (takes_keys_on_hvc(vm)) {
		/* The console keeps what the guest cannot take yet. */
		const uint8_t *run;
		unsigned n;
		while ((n = byte_ring_run(r, &run))) {
			virtio_console_input(vm->vcon, run, n);
			byte_ring_skip(r, n);
		}
	} else {
		while (r->count && uart_receive(&vm->uart, (uint8_t)byte_ring_peek(r)))
			byte_ring_get(r);
	}
	vm_unlock(vm, locked);
}

static void drain_all(void)
{
	for (unsigned i = 0; i < vm_count(); i++) {
		struct vm *vm = vm_at(i);
		if (vm_input[i].count && runs_here(vm))
			drain_to_guest(vm, &vm_input[i]);
	}
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

/* The CPU the request must run on: its VM's, or any for the others. */
static bool request_runs_here(struct pending *p)
{
	if (!p->vm || runs_here(p->vm))
		return true;
	if (!p->kicked)
		smp_kick(p->vm->vcpus[0].cpu);
	p->kicked = true;
	return false;
}

static void run_pending(enum request_source source)
{
	struct pending *p = &pending[source];
	struct control_request req;
	struct command_result res = { 0 };
	struct vm *vm;

	if (!__atomic_load_n(&p->ready, __ATOMIC_ACQUIRE))
		return;
	/* Waited for, not tried: in Bochs the CPUs run in lockstep, and a
	 * CPU that must not run the command (it only kicks the right one)
	 * held the lock at the very moment the right one tried, every
	 * slice, so the command never ran. Nobody holds the lock long. */
	/* Tried: the other source's command runs elsewhere; this one stays
	 * ready for the next pass. */
	if (!spin_trylock(&command_lock))
		return;
	spin_lock(&input_lock);
	if (!p->ready || !request_runs_here(p)) {
		spin_unlock(&input_lock);
		spin_unlock(&command_lock);
		return;
	}
	req = p->req;
	vm = p->vm;
	p->ready = false;
	p->kicked = false;
	spin_unlock(&input_lock);
	if (source == FROM_CONTROL)
		control_channel_begin_reply(&req, &res);
	command_run(&req.cmd, vm, &res);
	if (source == FROM_CONTROL)
		control_channel_finish_reply(&req, &res);
	spin_unlock(&command_lock);
}

void console_input_run(void)
{
	commands_check_shutdowns();
	commands_poll_migration();
	run_pending(FROM_CONSOLE);
	run_pending(FROM_CONTROL);
}

void console_input_vcpu_info(struct vcpu *v)
{
	command_print_vcpu(v);
}

/* The next byte typed on the serial line or the PS/2 keyboard. */
static int read_key(void)
{
	int c = serial_getc();

	return c >= 0 ? c : ps2kbd_getc();
}

bool console_input_polled(void)
{
	/* The keyboard is only looked at between slices: a machine whose
	 * console it is keeps them short. */
	return control_channel_open() || (ps2kbd_present() && !serial_present());
}

void console_input_poll(void)
{
	int c;

	/* Whoever holds the lock reads the keys; the bytes keep meanwhile
	 * in the serial driver's ring (a pump costs a port read). */
	if (!spin_trylock(&input_lock)) {
		serial_rx_pump();
		return;
	}
	while ((c = read_key()) >= 0) {
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
	read_command_line();
	read_control_channel();
	drain_all();
	spin_unlock(&input_lock);
}
