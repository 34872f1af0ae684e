#include "vmm/console/commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/page_alloc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "vmm/core/runqueue.h"
#include "vmm/core/sched.h"
#include "vmm/core/summary.h"
#include "vmm/core/vm_lifecycle.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/vcpu_state.h"
#include "vmm/debug/gdb_target.h"
#include "vmm/load/config.h"
#include "vmm/migrate/mem_image.h"
#include "vmm/migrate/migrate.h"
#include "vmm/migrate/migrate_remote.h"
#include "vmm/vmx/vmcs_fields.h"

#define DUMP_ROW 16 /* bytes per line of mem */
#define MIB_SHIFT 20
#define TENTHS 10
#define MS_PER_SECOND 1000
#define KIB_SHIFT 10
#define US_PER_SECOND 1000000
/* On pgvisor's command line: the test-only console commands (corrupt). */
#define IMAGE_TEST_SWITCH "image-test"

_Static_assert(TRACE_SHOW_MAX == EXIT_TRACE_LEN, "trace show reaches the whole ring");

static struct command_env env;
/* Host TSC at which a VM that was asked to shut down is destroyed (0:
 * none asked), by VM id; read and written on the VM's CPU. */
static uint64_t shutdown_due[MAX_VMS];
static unsigned shutdown_seconds[MAX_VMS];
static unsigned shutdowns_pending;

void commands_init(const struct command_env *e)
{
	env = *e;
}

/* The command does nothing: says why on the console and in res. */
static void __attribute__((format(printf, 2, 3)))
refuse(struct command_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
	res->failed = true;
	kprintf("pgvisor: %s\n", res->error);
}

const char *command_state_name(const struct vm *vm)
{
	switch (vm->state) {
	case VM_RUNNING:
		return "running";
	case VM_PAUSED:
		return "paused";
	case VM_SHUTDOWN:
		if (vm->end == VM_END_DESTROYED)
			return "destroyed";
		return vm->preserved ? "shutdown*" : "shutdown";
	default:
		return vm->preserved ? "crashed*" : "crashed";
	}
}

static void help(const struct command_request *req)
{
	enum command_id id;

	if (req->word[0] && command_find(req->word, &id)) {
		const struct command_info *c = command_info(id);
		kprintf("pgvisor: %s: %s\n", c->usage, c->summary);
		return;
	}
	kprintf("pgvisor: commands (help CMD for one; Ctrl-A three times moves the keyboard):\n");
	for (unsigned i = 0; i < CMD_COUNT; i++) {
		const struct command_info *c = command_info((enum command_id)i);
		kprintf("pgvisor:   %-26s %s\n", c->usage, c->summary);
	}
}

/* xl list's columns; the CPU time is the guest's and the hypervisor's
 * work for it, in seconds; * marks a VM preserved for inspection. */
static void list(struct json_writer *json)
{
	static struct exit_profile p; /* too big for the stack */
	uint64_t hz = tsc_hz() ? tsc_hz() : 1;

	if (json) {
		json_key(json, "vms");
		json_open(json, '[');
	}
	kprintf("pgvisor: %-16s %3s %6s %5s %-9s %8s %10s\n", "Name", "ID", "Mem", "VCPUs", "State",
		"Time(s)", "Exits");
	for (unsigned i = 0; i < vm_count(); i++) {
		struct vm *vm = vm_at(i);
		bool locked = vm_lock(vm);
		vm_exit_profile(vm, &p);
		uint64_t tenths = (p.guest_ticks + profile_root_ticks(&p)) * TENTHS / hz;
		char halted[VM_CPU_LIST_MAX], waiting[VM_CPU_LIST_MAX];
		bool running = vm->state == VM_RUNNING;
		bool any = running && vm_halted_list(vm, false, halted, sizeof(halted));
		bool kick = running && vm_halted_list(vm, true, waiting, sizeof(waiting));
		kprintf("pgvisor: %-16s %3u %6u %5u %-9s %6llu.%llu %10llu%s%s%s%s%s%s\n", vm->name,
			vm->id, vm->cfg.memory_mib, vm->nvcpus, command_state_name(vm),
			(unsigned long long)(tenths / TENTHS),
			(unsigned long long)(tenths % TENTHS),
			(unsigned long long)profile_total(&p), any ? "  " : "", any ? halted : "",
			any ? " halted" : "", kick ? ", " : "", kick ? waiting : "",
			kick ? " waiting for a PV kick" : "");
		if (json) {
			json_open(json, '{');
			json_key_uint(json, "id", vm->id);
			json_key_string(json, "name", vm->name);
			json_key_string(json, "state", command_state_name(vm));
			json_key_uint(json, "vcpus", vm->nvcpus);
			json_key_uint(json, "memory_mib", vm->cfg.memory_mib);
			json_key_uint(json, "cpu_ms", tenths * (MS_PER_SECOND / TENTHS));
			json_key_uint(json, "exits", profile_total(&p));
			json_close(json, '}');
		}
		vm_unlock(vm, locked);
	}
	if (json)
		json_close(json, ']');
}

/* A file among the boot files: its whole name, or the part after a '/'. */
static const struct boot_file *find_boot_file(const char *name)
{
	const struct boot_info *bi = env.boot;
	size_t n = strlen(name);

	for (unsigned i = 0; i < bi->nfiles; i++) {
		const char *f = bi->files[i].name;
		size_t len = strlen(f);
		if (!strcmp(f, name) ||
		    (len > n && f[len - n - 1] == '/' && !strcmp(f + len - n, name)))
			return &bi->files[i];
	}
	return NULL;
}

static void create(const char *file, struct command_result *res)
{
	static struct vm_config cfg; /* too big for the stack */
	const struct boot_file *f = find_boot_file(file);
	char err[200];

	if (!f) {
		refuse(res, "create: no boot file named '%s'", file);
		return;
	}
	if (config_parse((const char *)f->data, f->size, f->name, &cfg, err, sizeof(err))) {
		refuse(res, "create: config error: %.120s", err);
		return;
	}
	/* On this CPU: it is in its scheduler now, and will run the new vCPUs
	 * in the pass it is making (another CPU might be about to leave). */
	struct vm *vm = vm_create(&cfg, env.boot, 1u << this_cpu()->index);
	if (!vm) {
		refuse(res, "create: vm %s: not started (the console says why)", cfg.name);
		return;
	}
	kprintf("pgvisor: vm %s: created by the operator from %s\n", vm->name, f->name);
	if (res->json)
		json_key_string(res->json, "vm", vm->name);
}

static void shutdown(struct vm *vm, unsigned seconds, struct command_result *res)
{
	if (vm->state != VM_RUNNING) {
		refuse(res, "vm %s: is not running", vm->name);
		return;
	}
	acpi_pm_power_button(&vm->acpi_pm);
	if (!shutdown_due[vm->id])
		__atomic_fetch_add(&shutdowns_pending, 1, __ATOMIC_RELAXED);
	shutdown_due[vm->id] = rdtsc() + tsc_hz() * seconds;
	shutdown_seconds[vm->id] = seconds;
	kprintf("pgvisor: vm %s: power button pressed; destroyed if still running in %u s\n",
		vm->name, seconds);
}

static void reboot(struct vm *vm, struct command_result *res)
{
	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
		refuse(res, "vm %s: is not running", vm->name);
		return;
	}
	vm_stop(vm, VM_END_REBOOT, "rebooted by the operator");
}

void command_print_vcpu(struct vcpu *v)
{
	struct vcpu_state s;
	const char *name = v->vm->name;

	if (vcpu_state_read(v, &s)) {
		kprintf("pgvisor: vm %s vCPU %u: its state is gone (the VM was destroyed)\n", name,
			v->id);
		return;
	}
	const uint64_t *r = s.gpr;
	kprintf("pgvisor: vm %s vCPU %u (CPU %u): %s%s%s, RIP %#llx RFLAGS %#llx\n", name, v->id,
		v->cpu, vcpu_activity_name(s.activity), v->halted ? ", halted" : "",
		vcpu_start_runnable(&v->start) ? "" : ", waiting for INIT/SIPI",
		(unsigned long long)s.rip, (unsigned long long)s.rflags);
	kprintf("pgvisor:   RAX %016llx RBX %016llx RCX %016llx RDX %016llx\n",
		(unsigned long long)r[REG_RAX], (unsigned long long)r[REG_RBX],
		(unsigned long long)r[REG_RCX], (unsigned long long)r[REG_RDX]);
	kprintf("pgvisor:   RSI %016llx RDI %016llx RBP %016llx RSP %016llx\n",
		(unsigned long long)r[REG_RSI], (unsigned long long)r[REG_RDI],
		(unsigned long long)r[REG_RBP], (unsigned long long)r[REG_RSP]);
	kprintf("pgvisor:   R8  %016llx R9  %016llx R10 %016llx R11 %016llx\n",
		(unsigned long long)r[REG_R8], (unsigned long long)r[REG_R9],
		(unsigned long long)r[REG_R10], (unsigned long long)r[REG_R11]);
	kprintf("pgvisor:   R12 %016llx R13 %016llx R14 %016llx R15 %016llx\n",
		(unsigned long long)r[REG_R12], (unsigned long long)r[REG_R13],
		(unsigned long long)r[REG_R14], (unsigned long long)r[REG_R15]);
	kprintf("pgvisor:   CR0 %#llx CR2 %#llx CR3 %#llx CR4 %#llx EFER %#llx\n",
		(unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer);
	static const char *const seg[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS", "TR" };
	char line[320];
	int n = 0;
	for (unsigned i = 0; i < SEG_COUNT && n < (int)sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %04x:%#llx", seg[i],
			      s.sel[i], (unsigned long long)s.base[i]);
	kprintf("pgvisor:  %s GDTR %#llx IDTR %#llx\n", line, (unsigned long long)s.gdtr_base,
		(unsigned long long)s.idtr_base);
	char inject[32] = "none";
	if (s.entry_intr_info & INTR_INFO_VALID)
		snprintf(inject, sizeof(inject), "%#x", s.entry_intr_info);
	kprintf("pgvisor:   pending: injection %s, interruptibility %#x, debug %#llx, "
		"IRR words %#x, NMIs %u%s%s\n",
		inject, s.interruptibility, (unsigned long long)s.pending_dbg, v->lapic.irr_words,
		v->lapic.nmi_pending, v->window_exiting ? ", interrupt window asked" : "",
		v->nmi_window_exiting ? ", NMI window asked" : "");
}

static void info(struct vm *vm, struct command_result *res)
{
	if (!vm->vcpus[0].vmcs) {
		refuse(res, "vm %s: destroyed: no state left", vm->name);
		return;
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (vcpu_state_readable_here(v)) {
			command_print_vcpu(v);
		} else {
			/* Its VMCS is active on its own CPU: that CPU prints it. */
			__atomic_store_n(&v->info_requested, true, __ATOMIC_RELEASE);
			smp_kick(v->cpu);
		}
	}
}

static void trace(struct vm *vm, enum trace_op op, unsigned n)
{
	if (op != TRACE_SHOW) {
		for (unsigned i = 0; i < vm->nvcpus; i++)
			exit_trace_set(&vm->vcpus[i].trace, op == TRACE_ON);
		kprintf("pgvisor: vm %s: exit trace %s\n", vm->name, op == TRACE_ON ? "on" : "off");
		return;
	}
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		const struct exit_trace *t = &vm->vcpus[i].trace;
		unsigned k = exit_trace_available(t, n);
		kprintf("pgvisor: vm %s vCPU %u: the last %u of %llu exits traced (trace %s)\n",
			vm->name, i, k, (unsigned long long)t->total, t->on ? "on" : "off");
		for (unsigned j = 0; j < k; j++) {
			const struct exit_trace_entry *e = exit_trace_at(t, n, j);
			kprintf("pgvisor:   tsc %llu %s (%u) rip %#llx qualification %#llx\n",
				(unsigned long long)e->tsc, exit_reason_name(e->reason & 0xffff),
				e->reason, (unsigned long long)e->rip,
				(unsigned long long)e->qualification);
		}
	}
}

/* The bytes as one hex string, "bytes" (two digits a byte). */
static void mem_json(struct json_writer *json, struct vm *vm, uint64_t gpa, uint64_t len)
{
	static char hex[2 * MEM_DUMP_MAX + 1];
	uint8_t b;

	for (uint64_t i = 0; i < len; i++) {
		guest_phys_read(vm, gpa + i, &b, 1);
		snprintf(hex + 2 * i, 3, "%02x", b);
	}
	hex[2 * len] = '\0';
	json_key_uint(json, "gpa", gpa);
	json_key_string(json, "bytes", hex);
}

static void mem(struct vm *vm, uint64_t gpa, uint64_t len, struct command_result *res)
{
	uint8_t row[DUMP_ROW];

	if (!vm->ram.host) {
		refuse(res, "vm %s: destroyed: no memory left", vm->name);
		return;
	}
	/* The parser bounded len and kept gpa + len from wrapping; RAM is
	 * checked for the whole range before any byte is shown. */
	if (!guest_phys_ptr(vm, gpa, len)) {
		refuse(res, "vm %s: %#llx..%#llx is outside its RAM (%u MiB)", vm->name,
		       (unsigned long long)gpa, (unsigned long long)(gpa + len - 1),
		       vm->cfg.memory_mib);
		return;
	}
	if (res->json)
		mem_json(res->json, vm, gpa, len);
	for (uint64_t off = 0; off < len; off += DUMP_ROW) {
		unsigned n = len - off < DUMP_ROW ? (unsigned)(len - off) : DUMP_ROW;
		char hex[DUMP_ROW * 3 + 1], text[DUMP_ROW + 1];
		guest_phys_read(vm, gpa + off, row, n);
		for (unsigned i = 0; i < DUMP_ROW; i++) {
			if (i < n)
				snprintf(hex + i * 3, 4, " %02x", row[i]);
			else
				memcpy(hex + i * 3, "   ", 4);
			text[i] =
				i < n ? (row[i] >= ' ' && row[i] < 0x7f ? (char)row[i] : '.') : ' ';
		}
		text[DUMP_ROW] = '\0';
		kprintf("pgvisor: %016llx:%s  |%s|\n", (unsigned long long)(gpa + off), hex, text);
	}
}

/* pause and unpause: only from the state each leaves. */
static void pause_or_unpause(struct vm *vm, bool pause, struct command_result *res)
{
	if (vm->state != (pause ? VM_RUNNING : VM_PAUSED)) {
		refuse(res, "vm %s: is not %s", vm->name, pause ? "running" : "paused");
		return;
	}
	vm_pause(vm, pause);
}

/* exits: the profile on the console; the reply has the totals. */
static void exits(struct vm *vm, struct command_result *res)
{
	static struct exit_profile p; /* too big for the stack */

	summary_print_profile(vm);
	if (!res->json)
		return;
	vm_exit_profile(vm, &p);
	json_key_uint(res->json, "exits", profile_total(&p));
	json_key_uint(res->json, "guest_ticks", p.guest_ticks);
	json_key_uint(res->json, "hypervisor_ticks", profile_root_ticks(&p));
}

/* gdbserver: gdb takes COM2 and the VM stops at its next entry. */
static void gdbserver(struct vm *vm, struct command_result *res)
{
	char err[COMMAND_ERROR_MAX];

	if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
		refuse(res, "vm %s: is not running", vm->name);
		return;
	}
	if (gdb_target_attach(vm, false, err, sizeof(err)))
		refuse(res, "%s", err);
}

/* save: on vm's vCPU 0's CPU, under its lock, from that CPU's scheduler:
 * no vCPU of vm is in guest mode while its image is written. */
static void save(struct vm *vm, const char *name, struct command_result *res)
{
	char why[COMMAND_ERROR_MAX];
	uint64_t t0 = rdtsc();

	if (mem_image_save(vm, name, why, sizeof(why))) {
		refuse(res, "%s", why);
		return;
	}
	const struct mem_image *m = mem_image_find(name);
	uint64_t per_us = tsc_hz() / US_PER_SECOND;
	uint64_t us = (rdtsc() - t0) / (per_us ? per_us : 1);
	kprintf("pgvisor: vm %s: saved to mem:%s: %zu KiB, %llu pages of %llu, %llu us paused\n",
		vm->name, name, m->len >> KIB_SHIFT, (unsigned long long)m->guest_pages,
		(unsigned long long)(vm->ram.size / PAGE_SIZE), (unsigned long long)us);
	if (res->json) {
		json_key_string(res->json, "image", name);
		json_key_uint(res->json, "bytes", m->len);
		json_key_uint(res->json, "pages", m->guest_pages);
	}
}

/* restore: the new VM's vCPUs go to this CPU, as create's. */
static void restore(const char *name, const char *as, struct command_result *res)
{
	char why[COMMAND_ERROR_MAX];
	struct vm *vm = mem_image_restore(name, as[0] ? as : NULL, env.boot,
					  1u << this_cpu()->index, why, sizeof(why));

	if (!vm) {
		refuse(res, "restore: mem:%s: %s", name, why);
		return;
	}
	kprintf("pgvisor: vm %s: restored from mem:%s\n", vm->name, name);
	if (res->json)
		json_key_string(res->json, "vm", vm->name);
}

static void images(struct json_writer *json)
{
	const struct mem_image *m;

	if (json) {
		json_key(json, "images");
		json_open(json, '[');
	}
	kprintf("pgvisor: %-16s %-16s %10s %8s\n", "Image", "From VM", "KiB", "Pages");
	for (unsigned i = 0; (m = mem_image_at(i)); i++) {
		kprintf("pgvisor: mem:%-12s %-16s %10zu %8llu\n", m->name, m->vm,
			m->len >> KIB_SHIFT, (unsigned long long)m->guest_pages);
		if (json) {
			json_open(json, '{');
			json_key_string(json, "image", m->name);
			json_key_string(json, "vm", m->vm);
			json_key_uint(json, "bytes", m->len);
			json_key_uint(json, "pages", m->guest_pages);
			json_close(json, '}');
		}
	}
	if (json)
		json_close(json, ']');
}

static void drop(const char *name, struct command_result *res)
{
	if (mem_image_drop(name))
		refuse(res, "drop: no image mem:%s", name);
	else
		kprintf("pgvisor: image mem:%s dropped\n", name);
}

static void corrupt(const char *name, uint32_t type, uint64_t offset, struct command_result *res)
{
	uint64_t at;

	if (!strstr(env.boot->cmdline, IMAGE_TEST_SWITCH)) {
		refuse(res, "corrupt: only with %s on pgvisor's command line", IMAGE_TEST_SWITCH);
		return;
	}
	bool failed = mem_image_corrupt(name, type, offset, &at) != 0;
	if (failed && type)
		refuse(res, "corrupt: no image mem:%s, no record of type %#x or no byte %llu in it",
		       name, type, (unsigned long long)offset);
	else if (failed)
		refuse(res, "corrupt: no image mem:%s or no byte %llu in it", name,
		       (unsigned long long)offset);
	else if (type)
		kprintf("pgvisor: image mem:%s: byte %llu flipped (byte %llu of record type %#x)\n",
			name, (unsigned long long)at, (unsigned long long)offset, type);
	else
		kprintf("pgvisor: image mem:%s: byte %llu flipped\n", name, (unsigned long long)at);
}

/* migrate: on vm's vCPU 0's CPU, under its lock, as save. Within the
 * machine that CPU then does the copying between slices (migrate_poll),
 * to another the network's poll sends; the rounds and the result come
 * as it goes. */
static void migrate(struct vm *vm, const char *host, struct command_result *res)
{
	char why[COMMAND_ERROR_MAX];

	if (host[0] ? migrate_remote_start(vm, host, why, sizeof(why))
		    : migrate_start(vm, env.boot, why, sizeof(why)))
		refuse(res, "%s", why);
}

static void cancel_migration(struct vm *vm, struct command_result *res)
{
	if (migrate_cancel(vm))
		refuse(res, "vm %s: no migration in progress, or past its last bytes", vm->name);
}

void commands_poll_migration(void)
{
	migrate_poll();
}

void command_run(const struct command_request *req, struct vm *vm, struct command_result *res)
{
	bool locked = vm ? vm_lock(vm) : false;

	switch (req->id) {
	case CMD_HELP:
		help(req);
		break;
	case CMD_LIST:
		list(res->json);
		break;
	case CMD_CREATE:
		create(req->word, res);
		break;
	case CMD_CONSOLE:
		env.focus(vm);
		break;
	case CMD_PAUSE:
	case CMD_UNPAUSE:
		pause_or_unpause(vm, req->id == CMD_PAUSE, res);
		break;
	case CMD_DESTROY:
		vm_destroy(vm);
		break;
	case CMD_REBOOT:
		reboot(vm, res);
		break;
	case CMD_SHUTDOWN:
		shutdown(vm, req->count, res);
		break;
	case CMD_INFO:
		info(vm, res);
		break;
	case CMD_EXITS:
		exits(vm, res);
		break;
	case CMD_TRACE:
		trace(vm, req->trace, req->count);
		break;
	case CMD_MEM:
		mem(vm, req->gpa, req->len, res);
		break;
	case CMD_GDBSERVER:
		gdbserver(vm, res);
		break;
	case CMD_SAVE:
		save(vm, req->word, res);
		break;
	case CMD_RESTORE:
		restore(req->word, req->vm, res);
		break;
	case CMD_IMAGES:
		images(res->json);
		break;
	case CMD_DROP:
		drop(req->word, res);
		break;
	case CMD_CORRUPT:
		corrupt(req->word, req->record_type, req->offset, res);
		break;
	case CMD_MIGRATE:
		migrate(vm, req->word, res);
		break;
	case CMD_MIGRATE_CANCEL:
		cancel_migration(vm, res);
		break;
	case CMD_COUNT:
		break;
	}
	/* The VM's state after the command, for the control channel. */
	if (vm && res->json && !res->failed)
		json_key_string(res->json, "state", command_state_name(vm));
	if (vm)
		vm_unlock(vm, locked);
}

/* Whether this CPU acts on vm: the one that runs its vCPU 0, or any once
 * that one left its scheduler. */
static bool acts_on(const struct vm *vm)
{
	return vm->vcpus[0].cpu == this_cpu()->index || !sched_cpu_active(vm->vcpus[0].cpu);
}

void commands_check_shutdowns(void)
{
	if (!__atomic_load_n(&shutdowns_pending, __ATOMIC_RELAXED))
		return;
	uint64_t now = rdtsc();
	for (unsigned i = 0; i < vm_count(); i++) {
		struct vm *vm = vm_at(i);
		if (!shutdown_due[i] || !acts_on(vm))
			continue;
		bool locked = vm_lock(vm);
		if (vm->state != VM_RUNNING && vm->state != VM_PAUSED) {
			shutdown_due[i] = 0; /* it powered off (or ended otherwise) */
			__atomic_fetch_sub(&shutdowns_pending, 1, __ATOMIC_RELAXED);
		} else if (now >= shutdown_due[i]) {
			shutdown_due[i] = 0;
			__atomic_fetch_sub(&shutdowns_pending, 1, __ATOMIC_RELAXED);
			kprintf("pgvisor: vm %s: still running %u s after the power button\n",
				vm->name, shutdown_seconds[i]);
			vm_destroy(vm);
		}
		vm_unlock(vm, locked);
	}
}
