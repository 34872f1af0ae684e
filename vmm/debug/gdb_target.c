/* A VM as the gdb stub's target (see gdbstub.h for the protocol side).
 *
 * A stop is served on the CPU of the vCPU that stopped, with its VMCS
 * current, before its next entry: the CPU polls COM2 until gdb resumes.
 * The VM's other vCPUs stop with it: on the same CPU they wait for it, on
 * others for the VM lock that a spread VM's exit handling holds. Other
 * VMs on other CPUs run on; other VMs on the same CPU wait too.
 *
 * Software breakpoints (Z0) are INT3 bytes written into guest memory, the
 * #BP exit intercepted through the exception bitmap (SDM Vol. 3 25.2: the
 * exit leaves RIP at the INT3). The stub's own memory reads show the
 * original byte. The guest cannot see a breakpoint while it is stopped
 * (gdb takes them out at every stop); while it runs, its own data reads
 * of a breakpoint's byte return 0xcc, and its writes there replace the
 * INT3 (the breakpoint is then lost): no EPT trick hides them.
 *
 * Hardware breakpoints and watchpoints (Z1, Z2, Z4) use DR0-DR3 and the
 * VMCS guest DR7 of every vCPU, replacing what the guest put there while
 * gdb is attached. Single-step sets RFLAGS.TF for one instruction and
 * takes the #DB (DR6.BS) it raises; a PUSHF stepped that way pushes TF
 * set, and an interrupt delivered at that entry is stepped into. The
 * monitor trap flag would hide both, but Bochs 2.7 (corei7_icelake_u, the
 * test machine that offers it) never delivered its exit: with the control
 * set (0xbe0065fa) the guest ran from the breakpoint on to its next I/O
 * exit. */
#include "vmm/debug/gdb_target.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/debug/gdbstub.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"

#define SW_BREAKPOINTS 32
#define INT3 0xcc
#define PAGE_BYTES 4096u
#define EXCEPTION_BITS ((1u << VEC_BP) | (1u << VEC_DB))
#define DR7_RESERVED_ONE (1ull << 10)
#define DR7_ENABLE_LOCAL(i) (1ull << (2 * (i)))
#define DR7_RW_SHIFT(i) (16 + 4 * (i))
#define DR7_LEN_SHIFT(i) (18 + 4 * (i))
#define DR7_RW_EXECUTE 0ull
#define DR7_RW_WRITE 1ull
#define DR7_RW_ACCESS 3ull
#define DB_QUAL_BREAKPOINTS 0xfull /* B0-B3 in the #DB exit qualification */
#define DB_QUAL_BS (1ull << 14)
#define RFLAGS_WRITABLE 0x3f7fd5ull /* the flags a guest can hold (SDM Vol. 1 3.4.3) */
#define RFLAGS_ONE (1ull << 1)

struct sw_breakpoint {
	bool used;
	uint64_t addr; /* guest-virtual, as gdb gave it */
	uint64_t gpa;  /* where the INT3 went */
	uint8_t original;
};

struct hw_breakpoint {
	bool used;
	enum gdb_break_kind kind;
	uint64_t addr, len;
};

static struct {
	struct vm *vm;
	bool attached;
	bool stop_requested;	 /* at the next entry: attach, Ctrl-C */
	struct gdb_stop request; /* the stop it reports */
	struct vcpu *stopped;	 /* the vCPU serving gdb, while stopped */
	struct vcpu *stepping;	 /* one instruction, then stop */
	bool guest_tf;		 /* the guest's own TF before that step */
	bool killed;
	struct sw_breakpoint sw[SW_BREAKPOINTS];
	struct hw_breakpoint hw[DR_ADDRESS_COUNT];
	/* The debug state each vCPU should have; a vCPU takes it before its
	 * next entry when its generation is behind. */
	unsigned generation;
	unsigned applied[VM_MAX_VCPUS];
	struct gdbstub stub;
} t;

static void com2_send(void *line, const char *bytes, size_t len)
{
	(void)line;
	for (size_t i = 0; i < len; i++)
		com2_putc(bytes[i]);
}

static struct vcpu *thread_vcpu(unsigned thread)
{
	/* Only the stopped vCPU's VMCS is current on this CPU. */
	if (!t.stopped || thread != t.stopped->id + 1)
		return NULL;
	return t.stopped;
}

/* --- registers --- */

/* gdb's order of the general-purpose registers, as pgvisor's gpr[]. */
static const enum gpr_index gdb_gpr[] = {
	[GDB_RAX] = REG_RAX, [GDB_RBX] = REG_RBX, [GDB_RCX] = REG_RCX, [GDB_RDX] = REG_RDX,
	[GDB_RSI] = REG_RSI, [GDB_RDI] = REG_RDI, [GDB_RBP] = REG_RBP, [GDB_RSP] = REG_RSP,
	[GDB_R8] = REG_R8,   [GDB_R9] = REG_R9,	  [GDB_R10] = REG_R10, [GDB_R11] = REG_R11,
	[GDB_R12] = REG_R12, [GDB_R13] = REG_R13, [GDB_R14] = REG_R14, [GDB_R15] = REG_R15,
};

static uint64_t guest_cr0_view(void)
{
	uint64_t mask = vmread(VMCS_CR0_GUEST_HOST_MASK);

	return (vmread(VMCS_GUEST_CR0) & ~mask) | (vmread(VMCS_CR0_READ_SHADOW) & mask);
}

static uint64_t guest_cr4_shadowed(void)
{
	uint64_t mask = vmread(VMCS_CR4_GUEST_HOST_MASK);

	return (vmread(VMCS_GUEST_CR4) & ~mask) | (vmread(VMCS_CR4_READ_SHADOW) & mask);
}

static bool target_read_regs(void *target, unsigned thread, struct gdb_regs *r)
{
	struct vcpu *v = thread_vcpu(thread);

	(void)target;
	if (!v)
		return false;
	for (unsigned n = GDB_RAX; n <= GDB_R15; n++)
		r->r[n] = v->regs.gpr[gdb_gpr[n]];
	r->r[GDB_RSP] = vmread(VMCS_GUEST_RSP);
	r->r[GDB_RIP] = vmread(VMCS_GUEST_RIP);
	r->r[GDB_EFLAGS] = vmread(VMCS_GUEST_RFLAGS);
	r->r[GDB_CS] = vmread(VMCS_GUEST_CS_SEL);
	r->r[GDB_SS] = vmread(VMCS_GUEST_SS_SEL);
	r->r[GDB_DS] = vmread(VMCS_GUEST_DS_SEL);
	r->r[GDB_ES] = vmread(VMCS_GUEST_ES_SEL);
	r->r[GDB_FS] = vmread(VMCS_GUEST_FS_SEL);
	r->r[GDB_GS] = vmread(VMCS_GUEST_GS_SEL);
	r->r[GDB_FS_BASE] = vmread(VMCS_GUEST_FS_BASE);
	r->r[GDB_GS_BASE] = vmread(VMCS_GUEST_GS_BASE);
	r->r[GDB_CR0] = guest_cr0_view();
	r->r[GDB_CR2] = v->regs.cr2;
	r->r[GDB_CR3] = vmread(VMCS_GUEST_CR3);
	r->r[GDB_CR4] = guest_cr4_shadowed();
	r->r[GDB_CR8] = vlapic_tpr(&v->lapic) >> 4;
	r->r[GDB_EFER] = vmread(VMCS_GUEST_IA32_EFER);
	return true;
}

/* The general-purpose registers, RIP and RFLAGS are gdb's to change; the
 * segment and control registers only as the guest itself changes them
 * (a write that changes one is refused whole). */
static bool target_write_regs(void *target, unsigned thread, const struct gdb_regs *r)
{
	struct vcpu *v = thread_vcpu(thread);
	struct gdb_regs now;

	if (!v || !target_read_regs(target, thread, &now))
		return false;
	for (unsigned n = GDB_CS; n < GDB_REG_COUNT; n++)
		if (r->r[n] != now.r[n])
			return false;
	for (unsigned n = GDB_RAX; n <= GDB_R15; n++)
		if (n != GDB_RSP)
			v->regs.gpr[gdb_gpr[n]] = r->r[n];
	vmwrite(VMCS_GUEST_RSP, r->r[GDB_RSP]);
	vmwrite(VMCS_GUEST_RIP, r->r[GDB_RIP]);
	vmwrite(VMCS_GUEST_RFLAGS, (r->r[GDB_EFLAGS] & RFLAGS_WRITABLE) | RFLAGS_ONE);
	return true;
}

/* --- memory --- */

/* Copies between buf and guest-virtual [addr, addr + len), a page at a
 * time through the guest's page tables. */
static bool copy_virtual(struct vcpu *v, uint64_t addr, uint8_t *buf, size_t len, bool write)
{
	while (len) {
		uint64_t gpa;
		uint32_t pf_error;
		size_t chunk = PAGE_BYTES - (addr & (PAGE_BYTES - 1));

		if (chunk > len)
			chunk = len;
		if (guest_linear_to_phys(v, addr, false, &gpa, &pf_error) != GVA_OK)
			return false;
		if (write ? guest_phys_write(v->vm, gpa, buf, chunk)
			  : guest_phys_read(v->vm, gpa, buf, chunk))
			return false;
		addr += chunk;
		buf += chunk;
		len -= chunk;
	}
	return true;
}

static bool target_read_mem(void *target, unsigned thread, uint64_t addr, uint8_t *buf, size_t len)
{
	(void)target;
	(void)thread;
	if (!t.stopped || addr + len < addr || !copy_virtual(t.stopped, addr, buf, len, false))
		return false;
	/* gdb sees the bytes under its breakpoints. */
	for (unsigned i = 0; i < SW_BREAKPOINTS; i++)
		if (t.sw[i].used && t.sw[i].addr - addr < len)
			buf[t.sw[i].addr - addr] = t.sw[i].original;
	return true;
}

static bool target_write_mem(void *target, unsigned thread, uint64_t addr, const uint8_t *buf,
			     size_t len)
{
	uint8_t copy[GDB_MEM_MAX];

	(void)target;
	(void)thread;
	if (!t.stopped || len > sizeof(copy) || addr + len < addr)
		return false;
	/* A breakpoint's byte keeps its INT3; the new byte is what the
	 * breakpoint puts back. */
	memcpy(copy, buf, len);
	for (unsigned i = 0; i < SW_BREAKPOINTS; i++) {
		if (t.sw[i].used && t.sw[i].addr - addr < len) {
			t.sw[i].original = copy[t.sw[i].addr - addr];
			copy[t.sw[i].addr - addr] = INT3;
		}
	}
	return copy_virtual(t.stopped, addr, copy, len, true);
}

/* --- breakpoints --- */

static enum gdb_break_result software_breakpoint(bool insert, uint64_t addr)
{
	struct sw_breakpoint *free = NULL;
	const uint8_t int3 = INT3;
	uint32_t pf_error;

	for (unsigned i = 0; i < SW_BREAKPOINTS; i++) {
		struct sw_breakpoint *b = &t.sw[i];

		if (b->used && b->addr == addr) {
			if (insert)
				return GDB_BREAK_OK;
			b->used = false;
			return guest_phys_write(t.vm, b->gpa, &b->original, 1) ? GDB_BREAK_FAILED
									       : GDB_BREAK_OK;
		}
		if (!b->used && !free)
			free = b;
	}
	if (!insert)
		return GDB_BREAK_OK; /* not there: nothing to take out */
	if (!free || !t.stopped ||
	    guest_linear_to_phys(t.stopped, addr, false, &free->gpa, &pf_error) != GVA_OK ||
	    guest_phys_read(t.vm, free->gpa, &free->original, 1) ||
	    guest_phys_write(t.vm, free->gpa, &int3, 1))
		return GDB_BREAK_FAILED;
	free->used = true;
	free->addr = addr;
	return GDB_BREAK_OK;
}

/* DR7's LEN encoding of 1, 2, 4 or 8 bytes (SDM Vol. 3 17.2.5); -1 for
 * anything else. */
static int dr7_len(uint64_t len)
{
	switch (len) {
	case 1:
		return 0;
	case 2:
		return 1;
	case 4:
		return 3;
	case 8:
		return 2;
	default:
		return -1;
	}
}

static enum gdb_break_result hardware_breakpoint(enum gdb_break_kind kind, bool insert,
						 uint64_t addr, uint64_t len)
{
	/* An execute breakpoint covers one byte whatever gdb's kind says. */
	if (kind == GDB_BREAK_HARDWARE)
		len = 1;
	if (dr7_len(len) < 0 || (addr & (len - 1)))
		return GDB_BREAK_FAILED;
	for (unsigned i = 0; i < DR_ADDRESS_COUNT; i++) {
		struct hw_breakpoint *b = &t.hw[i];

		if (!insert && b->used && b->kind == kind && b->addr == addr && b->len == len) {
			b->used = false;
			t.generation++;
			return GDB_BREAK_OK;
		}
		if (insert && !b->used) {
			*b = (struct hw_breakpoint){ true, kind, addr, len };
			t.generation++;
			return GDB_BREAK_OK;
		}
	}
	return insert ? GDB_BREAK_FAILED : GDB_BREAK_OK;
}

static enum gdb_break_result target_breakpoint(void *target, enum gdb_break_kind kind, bool insert,
					       uint64_t addr, uint64_t len)
{
	(void)target;
	switch (kind) {
	case GDB_BREAK_SOFTWARE:
		return software_breakpoint(insert, addr);
	case GDB_BREAK_HARDWARE:
	case GDB_WATCH_WRITE:
	case GDB_WATCH_ACCESS:
		return hardware_breakpoint(kind, insert, addr, len);
	default:
		return GDB_BREAK_UNSUPPORTED; /* x86 has no read-only watch */
	}
}

static uint64_t debugger_dr7(void)
{
	uint64_t dr7 = DR7_RESERVED_ONE;

	for (unsigned i = 0; i < DR_ADDRESS_COUNT; i++) {
		const struct hw_breakpoint *b = &t.hw[i];
		uint64_t rw = b->kind == GDB_WATCH_WRITE    ? DR7_RW_WRITE
			      : b->kind == GDB_WATCH_ACCESS ? DR7_RW_ACCESS
							    : DR7_RW_EXECUTE;

		if (!b->used)
			continue;
		dr7 |= DR7_ENABLE_LOCAL(i) | rw << DR7_RW_SHIFT(i) |
		       (uint64_t)dr7_len(b->len) << DR7_LEN_SHIFT(i);
	}
	return dr7;
}

/* Brings v's exception bitmap and debug registers to what the debugger
 * wants (nothing of it after a detach). v owns this CPU's debug
 * registers: the run loop made it current. */
static void apply_debug_state(struct vcpu *v)
{
	uint64_t bitmap = vmread(VMCS_EXCEPTION_BITMAP);

	if (t.applied[v->id] == t.generation)
		return;
	t.applied[v->id] = t.generation;
	vmwrite(VMCS_EXCEPTION_BITMAP,
		t.attached ? bitmap | EXCEPTION_BITS : bitmap & ~(uint64_t)EXCEPTION_BITS);
	for (unsigned i = 0; i < DR_ADDRESS_COUNT; i++)
		v->dbg.dr[i] = t.hw[i].used ? t.hw[i].addr : 0;
	debug_regs_load(&v->dbg);
	vmwrite(VMCS_GUEST_DR7, t.attached ? debugger_dr7() : DR7_RESERVED_ONE);
}

/* --- running and stopping --- */

static unsigned target_thread_count(void *target)
{
	(void)target;
	return t.vm->cfg.vcpus;
}

static void target_resume(void *target, unsigned step_thread)
{
	struct vcpu *v = t.stopped;

	(void)target;
	t.stepping = NULL;
	if (!v)
		return;
	if (step_thread) {
		/* Only the stopped vCPU can be stepped (the others' VMCSs are
		 * not current here): gdb steps the thread that stopped. */
		uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);

		t.stepping = v;
		t.guest_tf = rflags & RFLAGS_TF;
		vmwrite(VMCS_GUEST_RFLAGS, rflags | RFLAGS_TF);
	}
	/* Past an execute breakpoint at RIP without it firing again (SDM
	 * Vol. 3 17.3.1.1). */
	if (t.stub.last_stop.reason == GDB_STOP_HWBREAK)
		vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
}

static void target_interrupt(void *target)
{
	(void)target;
	t.stop_requested = true;
	t.request = (struct gdb_stop){ .signal = GDB_SIGINT };
}

static void remove_all_breakpoints(void)
{
	for (unsigned i = 0; i < SW_BREAKPOINTS; i++)
		if (t.sw[i].used)
			software_breakpoint(false, t.sw[i].addr);
	for (unsigned i = 0; i < DR_ADDRESS_COUNT; i++)
		t.hw[i].used = false;
}

static void target_detach(void *target)
{
	(void)target;
	remove_all_breakpoints();
	t.attached = false;
	t.stepping = NULL;
	t.generation++;
	kprintf("pgvisor: vm %s: gdb detached, the VM runs on\n", t.vm->name);
}

static void target_kill(void *target)
{
	(void)target;
	remove_all_breakpoints();
	t.attached = false;
	t.generation++;
	t.killed = true;
}

static const struct gdb_target_ops vm_target_ops = {
	.thread_count = target_thread_count,
	.read_regs = target_read_regs,
	.write_regs = target_write_regs,
	.read_mem = target_read_mem,
	.write_mem = target_write_mem,
	.breakpoint = target_breakpoint,
	.resume = target_resume,
	.interrupt = target_interrupt,
	.detach = target_detach,
	.kill = target_kill,
};

/* Serves gdb until it resumes the VM: v stopped, its VMCS current. */
static void serve_stop(struct vcpu *v, struct gdb_stop stop)
{
	stop.thread = v->id + 1;
	t.stopped = v;
	gdbstub_stopped(&t.stub, &stop);
	while (t.stub.running == false) {
		int c = com2_getc();

		if (c < 0)
			cpu_relax();
		else
			gdbstub_receive(&t.stub, (uint8_t)c);
	}
	t.stopped = NULL;
	apply_debug_state(v);
	if (t.killed)
		vm_stop(v->vm, VM_END_DESTROYED, "killed by gdb");
}

static void debugger_before_entry(struct vcpu *v)
{
	int c;

	apply_debug_state(v);
	if (!t.attached)
		return;
	/* Ctrl-C while the VM runs. */
	while ((c = com2_getc()) >= 0)
		gdbstub_receive(&t.stub, (uint8_t)c);
	if (t.stop_requested) {
		t.stop_requested = false;
		serve_stop(v, t.request);
	}
}

/* Hands a #BP or #DB that is the guest's own back to it. */
static void deliver_to_guest(struct vcpu *v, unsigned vector)
{
	if (vector == VEC_BP) {
		/* INT3 is a software exception: the entry needs its length
		 * (SDM 26.6.1.3). */
		vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, vmread(VMCS_EXIT_INSTRUCTION_LEN));
		vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_SW_EXCEPTION | VEC_BP);
		return;
	}
	/* A #DB exit leaves DR6 alone and reports its bits in the
	 * qualification (SDM 27.1). */
	v->dbg.dr6 = (v->dbg.dr6 & ~(DR6_BREAKPOINTS | DR6_BS)) |
		     (vmread(VMCS_EXIT_QUALIFICATION) & (DB_QUAL_BREAKPOINTS | DB_QUAL_BS));
	write_dr6(v->dbg.dr6);
	vmcs_inject_exception(VEC_DB, false, 0);
}

static void end_step(void)
{
	uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);

	vmwrite(VMCS_GUEST_RFLAGS, t.guest_tf ? rflags : rflags & ~RFLAGS_TF);
	t.stepping = NULL;
}

static bool own_software_breakpoint(uint64_t rip)
{
	for (unsigned i = 0; i < SW_BREAKPOINTS; i++)
		if (t.sw[i].used && t.sw[i].addr == rip)
			return true;
	return false;
}

static void debugger_debug_exit(struct vcpu *v, unsigned vector)
{
	struct gdb_stop stop = { .signal = GDB_SIGTRAP };
	uint64_t qual;

	if (!t.attached) {
		deliver_to_guest(v, vector);
		return;
	}
	if (vector == VEC_BP) {
		if (!own_software_breakpoint(vmread(VMCS_GUEST_RIP))) {
			deliver_to_guest(v, vector);
			return;
		}
		stop.reason = GDB_STOP_SWBREAK;
		serve_stop(v, stop);
		return;
	}
	qual = vmread(VMCS_EXIT_QUALIFICATION);
	for (unsigned i = 0; i < DR_ADDRESS_COUNT; i++) {
		if (!(qual & (1ull << i)) || !t.hw[i].used)
			continue;
		stop.reason = t.hw[i].kind == GDB_BREAK_HARDWARE ? GDB_STOP_HWBREAK
			      : t.hw[i].kind == GDB_WATCH_WRITE	 ? GDB_STOP_WATCH
								 : GDB_STOP_AWATCH;
		stop.addr = t.hw[i].addr;
		if (t.stepping == v)
			end_step();
		serve_stop(v, stop);
		return;
	}
	if ((qual & DB_QUAL_BS) && t.stepping == v) {
		end_step();
		serve_stop(v, stop);
		return;
	}
	deliver_to_guest(v, vector);
}

static const struct vm_debugger gdb_debugger = {
	.before_entry = debugger_before_entry,
	.debug_exit = debugger_debug_exit,
};

bool gdb_target_attached(void)
{
	return __atomic_load_n(&t.attached, __ATOMIC_ACQUIRE);
}

int gdb_target_attach(struct vm *vm, bool at_start, char *err, size_t errlen)
{
	if (t.attached) {
		snprintf(err, errlen, "gdb: already attached to vm %s", t.vm->name);
		return -1;
	}
	if (t.vm && t.vm != vm) {
		snprintf(err, errlen, "gdb: was attached to vm %s; only it can be debugged again",
			 t.vm->name);
		return -1;
	}
	if (!com2_init()) {
		snprintf(err, errlen,
			 "gdb: no COM2 (0x2f8) on this machine: vm %s runs without gdb", vm->name);
		return -1;
	}
	unsigned generation = t.generation;
	memset(&t, 0, sizeof(t));
	t.vm = vm;
	/* Ahead of every vCPU's applied one: each takes the new state. */
	t.generation = generation + 1;
	t.stop_requested = true;
	t.request = (struct gdb_stop){ .signal = GDB_SIGTRAP };
	gdbstub_init(&t.stub, &vm_target_ops, NULL, com2_send, NULL);
	vm->debugger = &gdb_debugger;
	__atomic_store_n(&t.attached, true, __ATOMIC_RELEASE);
	kprintf("pgvisor: vm %s: waiting for gdb on COM2 %s\n", vm->name,
		at_start ? "before its first instruction" : "(stopped at its next entry)");
	return 0;
}
