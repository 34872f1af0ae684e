/* A VM as the gdb stub's target (see gdbstub.h for the protocol side).
 *
 * A stop holds every vCPU of the VM and no other VM. The vCPU that hits a
 * breakpoint (or every vCPU, on Ctrl-C) marks the VM stopping and kicks
 * the VM's other CPUs; each vCPU, at its CPU's next look at it (halted or
 * not), saves its registers and paging state and is held: its CPU goes on
 * scheduling other VMs. Once all are held, gdb is told. The stub reads
 * COM2 from those same looks (and before every entry while the VM runs),
 * so it is served between other VMs' slices, not by a blocking loop; it
 * answers from the saved state, and a vCPU takes gdb's register changes
 * back into its VMCS when it is released.
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
 * takes the #DB (DR6.BS) it raises; a stepped PUSHF has the TF taken out
 * of its pushed image again. The monitor trap flag would need neither,
 * but Bochs 2.7 (corei7_icelake_u, the test machine that offers it)
 * implements its VM exit only after an injected event (SDM Vol. 3 25.5.2's
 * other cases came later: stlintel/Bochs issue 29): with the control
 * allowed, set in the VMCS and kept at every entry, the guest ran on
 * through 115 I/O exits to its end without one MTF exit, so an MTF path
 * could not be tested here. While one vCPU steps the others stay held. */
#include "vmm/debug/gdb_target.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "drivers/console.h"
#include "drivers/serial.h"
#include "vmm/cpu/exit_operand.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/debug/gdbstub.h"
#include "vmm/vm/vcpu_start.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

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
#define INSN_MAX_BYTES 15 /* SDM Vol. 2A 2.3.11 */
#define OPCODE_PUSHF 0x9c
#define PREFIX_OPERAND_SIZE 0x66
#define REX_MASK 0xf0
#define REX_BASE 0x40

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

/* A vCPU held for gdb: what it had at its last exit. */
struct vcpu_hold {
	bool parked;
	bool regs_written; /* gdb changed them: back into the VMCS at release */
	struct gdb_regs regs;
	struct guest_paging paging; /* its page-table walks, from any CPU */
};

/* Under the VM lock where the VM is spread over CPUs: every hook runs in
 * that VM's exit handling or at its scheduler's look at one of its vCPUs. */
static struct {
	struct vm *vm;
	bool attached;
	bool stopping;		 /* every vCPU but stepping is to be held */
	bool reported;		 /* gdb was told of this stop */
	struct gdb_stop pending; /* the stop to report; thread 0: the first held */
	struct vcpu *stepping;	 /* released for one instruction */
	bool step_armed;	 /* its TF is set */
	bool guest_tf;		 /* the guest's own TF before a TF step */
	bool step_pushf;	 /* the stepped instruction is PUSHF */
	struct sw_breakpoint sw[SW_BREAKPOINTS];
	struct hw_breakpoint hw[DR_ADDRESS_COUNT];
	/* The debug state each vCPU should have; a vCPU takes it before its
	 * next entry when its generation is behind. */
	unsigned generation;
	unsigned applied[VM_MAX_VCPUS];
	struct vcpu_hold hold[VM_MAX_VCPUS];
	struct gdbstub stub;
} t;

static void com2_send(void *line, const char *bytes, size_t len)
{
	(void)line;
	for (size_t i = 0; i < len; i++)
		com2_putc(bytes[i]);
}

/* A held vCPU's saved state, NULL for a thread that is not held. */
static struct vcpu_hold *thread_hold(unsigned thread)
{
	if (thread < 1 || thread > t.vm->nvcpus || !t.hold[thread - 1].parked)
		return NULL;
	return &t.hold[thread - 1];
}

/* --- registers --- */

/* gdb's order of the general-purpose registers, as pgvisor's gpr[]. */
static const enum gpr_index gdb_gpr[] = {
	[GDB_RAX] = REG_RAX, [GDB_RBX] = REG_RBX, [GDB_RCX] = REG_RCX, [GDB_RDX] = REG_RDX,
	[GDB_RSI] = REG_RSI, [GDB_RDI] = REG_RDI, [GDB_RBP] = REG_RBP, [GDB_RSP] = REG_RSP,
	[GDB_R8] = REG_R8,   [GDB_R9] = REG_R9,	  [GDB_R10] = REG_R10, [GDB_R11] = REG_R11,
	[GDB_R12] = REG_R12, [GDB_R13] = REG_R13, [GDB_R14] = REG_R14, [GDB_R15] = REG_R15,
};

/* v's registers from its VMCS (current on this CPU). */
static void save_regs(struct vcpu *v, struct gdb_regs *r)
{
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
	r->r[GDB_CR4] = guest_cr4_view();
	r->r[GDB_CR8] = vlapic_tpr(&v->lapic) >> 4;
	r->r[GDB_EFER] = vmread(VMCS_GUEST_IA32_EFER);
}

static bool target_read_regs(void *target, unsigned thread, struct gdb_regs *r)
{
	const struct vcpu_hold *h = thread_hold(thread);

	(void)target;
	if (h) {
		*r = h->regs;
		return true;
	}
	/* A vCPU still waiting for INIT and SIPI has run nothing: zeros. */
	if (thread >= 1 && thread <= t.vm->nvcpus &&
	    !vcpu_start_runnable(&t.vm->vcpus[thread - 1].start)) {
		memset(r, 0, sizeof(*r));
		return true;
	}
	return false;
}

/* The general-purpose registers, RIP and RFLAGS are gdb's to change; the
 * segment and control registers only as the guest itself changes them
 * (a write that changes one is refused whole). */
static bool target_write_regs(void *target, unsigned thread, const struct gdb_regs *r)
{
	struct vcpu_hold *h = thread_hold(thread);

	(void)target;
	if (!h)
		return false;
	for (unsigned n = GDB_CS; n < GDB_REG_COUNT; n++)
		if (r->r[n] != h->regs.r[n])
			return false;
	/* The vCPU is held: its GPRs are live nowhere else. */
	struct vcpu *v = &t.vm->vcpus[thread - 1];
	for (unsigned n = GDB_RAX; n <= GDB_R15; n++)
		if (n != GDB_RSP)
			v->regs.gpr[gdb_gpr[n]] = r->r[n];
	h->regs = *r;
	h->regs.r[GDB_EFLAGS] = (r->r[GDB_EFLAGS] & RFLAGS_WRITABLE) | RFLAGS_ONE;
	h->regs_written = true;
	return true;
}

/* --- memory --- */

/* Copies between buf and guest-virtual [addr, addr + len), a page at a
 * time through the page tables of the held vCPU h. */
static bool copy_virtual(const struct vcpu_hold *h, uint64_t addr, uint8_t *buf, size_t len,
			 bool write)
{
	while (len) {
		uint64_t gpa;
		uint32_t pf_error;
		size_t chunk = PAGE_BYTES - (addr & (PAGE_BYTES - 1));

		if (chunk > len)
			chunk = len;
		if (guest_paging_walk(t.vm, &h->paging, addr, false, &gpa, &pf_error) != GVA_OK)
			return false;
		if (write ? guest_phys_write(t.vm, gpa, buf, chunk)
			  : guest_phys_read(t.vm, gpa, buf, chunk))
			return false;
		addr += chunk;
		buf += chunk;
		len -= chunk;
	}
	return true;
}

static bool target_read_mem(void *target, unsigned thread, uint64_t addr, uint8_t *buf, size_t len)
{
	const struct vcpu_hold *h = thread_hold(thread);

	(void)target;
	if (!h || addr + len < addr || !copy_virtual(h, addr, buf, len, false))
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
	const struct vcpu_hold *h = thread_hold(thread);
	uint8_t copy[GDB_MEM_MAX];

	(void)target;
	if (!h || len > sizeof(copy) || addr + len < addr)
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
	return copy_virtual(h, addr, copy, len, true);
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
	/* Through the page tables of the thread gdb looks at. */
	const struct vcpu_hold *h = thread_hold(t.stub.regs_thread);
	if (!free || !h ||
	    guest_paging_walk(t.vm, &h->paging, addr, false, &free->gpa, &pf_error) != GVA_OK ||
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

/* Marks the VM stopping: every vCPU is held at its CPU's next look, and
 * gdb hears of stop once all are. Its other CPUs look now. */
static void begin_stop(const struct gdb_stop *stop)
{
	t.stopping = true;
	t.reported = false;
	t.stepping = NULL;
	t.pending = *stop;
	vm_kick_cpus(t.vm);
}

static unsigned target_thread_count(void *target)
{
	(void)target;
	return t.vm->nvcpus;
}

static void target_resume(void *target, unsigned step_thread)
{
	(void)target;
	if (step_thread && thread_hold(step_thread)) {
		/* Only it runs, for one instruction; the others stay held. */
		t.stepping = &t.vm->vcpus[step_thread - 1];
	} else {
		t.stopping = false;
	}
	vm_kick_cpus(t.vm);
}

static void target_interrupt(void *target)
{
	(void)target;
	begin_stop(&(struct gdb_stop){ .signal = GDB_SIGINT });
}

static void remove_all_breakpoints(void)
{
	for (unsigned i = 0; i < SW_BREAKPOINTS; i++)
		if (t.sw[i].used)
			software_breakpoint(false, t.sw[i].addr);
	for (unsigned i = 0; i < DR_ADDRESS_COUNT; i++)
		t.hw[i].used = false;
}

static void end_session(void)
{
	remove_all_breakpoints();
	t.attached = false;
	t.stopping = false;
	t.stepping = NULL;
	t.generation++;
	vm_kick_cpus(t.vm);
}

static void target_detach(void *target)
{
	(void)target;
	end_session();
	kprintf("pgvisor: vm %s: gdb detached, the VM runs on\n", t.vm->name);
}

/* Runs in one of the VM's hooks, on its vCPU's CPU. */
static void target_kill(void *target)
{
	(void)target;
	end_session();
	vm_stop(t.vm, VM_END_DESTROYED, "killed by gdb");
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

/* Reads or writes guest-linear [addr, addr + len) within one page
 * through the current VMCS's page tables; false when unmapped. Nothing is
 * injected: the debugger's own access. */
static bool linear_access(struct vcpu *v, uint64_t addr, uint8_t *buf, size_t len, bool write)
{
	uint64_t gpa;
	uint32_t pf_error;

	if (guest_linear_to_phys(v, addr, write, &gpa, &pf_error) != GVA_OK)
		return false;
	return !(write ? guest_phys_write(v->vm, gpa, buf, len)
		       : guest_phys_read(v->vm, gpa, buf, len));
}

/* Whether the instruction at RIP is PUSHF (9C, after operand-size and, in
 * 64-bit code, REX prefixes; SDM Vol. 2B PUSHF). */
static bool at_pushf(struct vcpu *v)
{
	uint64_t rip = vmread(VMCS_GUEST_CS_BASE) + vmread(VMCS_GUEST_RIP);
	bool long_mode = operand_long_mode();

	for (unsigned i = 0; i < INSN_MAX_BYTES; i++) {
		uint8_t byte;

		if (!linear_access(v, rip + i, &byte, 1, false))
			return false;
		if (byte == OPCODE_PUSHF)
			return true;
		if (byte != PREFIX_OPERAND_SIZE && !(long_mode && (byte & REX_MASK) == REX_BASE))
			return false;
	}
	return false;
}

/* One instruction for v, then a #DB: RFLAGS.TF (see the top of the file
 * for why not the monitor trap flag). A PUSHF stepped that way pushes the
 * TF the debugger set: end_step takes it out of the pushed image again,
 * so the guest sees its own flags. */
static void arm_step(struct vcpu *v)
{
	uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);

	t.guest_tf = rflags & RFLAGS_TF;
	t.step_pushf = !t.guest_tf && at_pushf(v);
	vmwrite(VMCS_GUEST_RFLAGS, rflags | RFLAGS_TF);
	t.step_armed = true;
}

static void end_step(struct vcpu *v)
{
	uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);

	vmwrite(VMCS_GUEST_RFLAGS, t.guest_tf ? rflags : rflags & ~RFLAGS_TF);
	if (t.step_pushf) {
		/* TF is bit 0 of the image's second byte, whatever its size. */
		uint64_t image = vmread(VMCS_GUEST_SS_BASE) + vmread(VMCS_GUEST_RSP);
		uint8_t byte;

		if (linear_access(v, image + 1, &byte, 1, false)) {
			byte &= (uint8_t) ~(RFLAGS_TF >> 8);
			linear_access(v, image + 1, &byte, 1, true);
		}
	}
	t.step_armed = false;
}

static bool execute_breakpoint_at(uint64_t rip)
{
	for (unsigned i = 0; i < DR_ADDRESS_COUNT; i++)
		if (t.hw[i].used && t.hw[i].kind == GDB_BREAK_HARDWARE && t.hw[i].addr == rip)
			return true;
	return false;
}

/* v is held from now: its state saved for gdb. */
static void park(struct vcpu *v)
{
	struct vcpu_hold *h = &t.hold[v->id];

	save_regs(v, &h->regs);
	guest_paging_read(&h->paging);
	h->regs_written = false;
	h->parked = true;
}

/* v runs again: gdb's register changes go into its VMCS. */
static void release(struct vcpu *v)
{
	struct vcpu_hold *h = &t.hold[v->id];

	if (h->regs_written) {
		vmwrite(VMCS_GUEST_RSP, h->regs.r[GDB_RSP]);
		vmwrite(VMCS_GUEST_RIP, h->regs.r[GDB_RIP]);
		vmwrite(VMCS_GUEST_RFLAGS, h->regs.r[GDB_EFLAGS]);
	}
	/* Past an execute breakpoint at RIP without it firing again (SDM
	 * Vol. 3 17.3.1.1). */
	if (t.attached && execute_breakpoint_at(vmread(VMCS_GUEST_RIP)))
		vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) | RFLAGS_RF);
	if (t.attached && v == t.stepping && !t.step_armed)
		arm_step(v);
	h->parked = false;
}

/* Tells gdb of the stop once every vCPU that can run is held (v the one
 * held last, the thread of a stop that names none). */
static void report_when_all_held(struct vcpu *v)
{
	if (!t.stopping || t.reported)
		return;
	for (unsigned i = 0; i < t.vm->nvcpus; i++)
		if (!t.hold[i].parked && vcpu_start_runnable(&t.vm->vcpus[i].start))
			return;
	if (!t.pending.thread)
		t.pending.thread = v->id + 1;
	t.reported = true;
	gdbstub_stopped(&t.stub, &t.pending);
}

/* What gdb sent on COM2: packets while the VM is stopped, Ctrl-C while
 * it runs. Not between a stop and its report: gdb then reads state the
 * vCPUs have all saved. */
static void poll_gdb(void)
{
	int c;

	if (t.stopping && !t.reported)
		return;
	while (t.attached && (c = com2_getc()) >= 0)
		gdbstub_receive(&t.stub, (uint8_t)c);
}

static bool debugger_before_entry(struct vcpu *v)
{
	struct vcpu_hold *h = &t.hold[v->id];

	apply_debug_state(v);
	if (t.attached)
		poll_gdb();
	if (v->vm->state != VM_RUNNING)
		return true; /* killed by gdb */
	if (!t.attached || !t.stopping || v == t.stepping) {
		if (h->parked)
			release(v);
		return false;
	}
	if (!h->parked)
		park(v);
	report_when_all_held(v);
	return true;
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

static bool own_software_breakpoint(uint64_t rip)
{
	for (unsigned i = 0; i < SW_BREAKPOINTS; i++)
		if (t.sw[i].used && t.sw[i].addr == rip)
			return true;
	return false;
}

/* v stopped for gdb (its own breakpoint, watchpoint or step). A stop
 * already on its way keeps its reason: a breakpoint v hit meanwhile
 * faults again when v runs. */
static void stop_at(struct vcpu *v, struct gdb_stop stop)
{
	if (t.stepping == v && t.step_armed)
		end_step(v);
	if (t.stopping && t.stepping != v)
		return;
	stop.thread = v->id + 1;
	begin_stop(&stop);
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
		stop_at(v, stop);
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
		stop_at(v, stop);
		return;
	}
	if ((qual & DB_QUAL_BS) && t.stepping == v && t.step_armed) {
		stop_at(v, stop);
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
	/* The VM gdb last debugged keeps this debugger, which its vCPUs look
	 * at before each entry, until it has finished for good: only then can
	 * another VM (a new one under its name, too) have it. */
	if (t.vm && t.vm != vm) {
		if (!vm_finished(t.vm)) {
			snprintf(err, errlen,
				 "gdb: was attached to vm %s, which still runs; only it can be "
				 "debugged until it ends",
				 t.vm->name);
			return -1;
		}
		t.vm->debugger = NULL;
	}
	if (!com2_init()) {
		snprintf(err, errlen,
			 "gdb: no COM2 (0x2f8) on this machine: vm %s runs without gdb", vm->name);
		return -1;
	}
	bool locked = vm_lock(vm);
	unsigned generation = t.generation;
	memset(&t, 0, sizeof(t));
	t.vm = vm;
	/* Ahead of every vCPU's applied one: each takes the new state. */
	t.generation = generation + 1;
	gdbstub_init(&t.stub, &vm_target_ops, NULL, com2_send, NULL);
	begin_stop(&(struct gdb_stop){ .signal = GDB_SIGTRAP });
	vm->debugger = &gdb_debugger;
	__atomic_store_n(&t.attached, true, __ATOMIC_RELEASE);
	vm_unlock(vm, locked);
	kprintf("pgvisor: vm %s: waiting for gdb on COM2 %s\n", vm->name,
		at_start ? "before its first instruction" : "(stopped at its next entry)");
	return 0;
}
