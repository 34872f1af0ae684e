/* I/O-instruction exits (SDM 27.2.1 table 27-5): IN/OUT and the string
 * forms INS/OUTS with or without REP, routed to the VM's port bus. */
#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/dev/uart.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define IOQ_SIZE_MASK 0x7
#define IOQ_IN (1u << 3)
#define IOQ_STRING (1u << 4)
#define IOQ_REP (1u << 5)
#define IOQ_IMMEDIATE (1u << 6) /* port from an imm8, not DX */
#define IOQ_PORT_SHIFT 16
/* OUT of one byte to COM1's data register (DX or imm8 form), as the
 * whole qualification reads: the hottest exit of every guest console. */
#define QUAL_OUT_BYTE_COM1 ((uint64_t)UART_COM1_BASE << IOQ_PORT_SHIFT)
#define INSN_INFO_ADDR_SIZE_SHIFT 7
#define INSN_INFO_SEG_SHIFT 15
#define RFLAGS_DF (1ull << 10)
#define VEC_PF 14
/* Iterations of one REP string instruction done per exit; the rest
 * continue after re-entry (RCX and RSI/RDI already advanced), so a long
 * REP cannot hold the CPU. */
#define STRING_IO_BATCH 1024

static void port_in(struct vcpu *v, uint16_t port, unsigned size)
{
	uint32_t value = io_bus_read(&v->vm->iobus, port, size);
	uint64_t *rax = &v->regs.gpr[REG_RAX];

	/* IN to AL/AX leaves the rest of RAX; IN to EAX zero-extends. */
	if (size == 4)
		*rax = value;
	else if (size == 2)
		*rax = (*rax & ~0xffffull) | (value & 0xffff);
	else
		*rax = (*rax & ~0xffull) | (value & 0xff);
}

static uint64_t segment_base(unsigned seg)
{
	/* Segment register numbering of the instruction-information field:
	 * ES, CS, SS, DS, FS, GS; their base fields are 2 apart. */
	return vmread(VMCS_GUEST_ES_BASE + 2 * seg);
}

/* Not inlined: the common IN/OUT path keeps a small frame. */
static __attribute__((noinline)) void string_io(struct vcpu *v, uint64_t qual, uint16_t port,
						unsigned size)
{
	bool in = qual & IOQ_IN, rep = qual & IOQ_REP;
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
	unsigned asize = (info >> INSN_INFO_ADDR_SIZE_SHIFT) & 7; /* 0: 16, 1: 32, 2: 64 */
	uint64_t amask = asize == 0 ? 0xffffull : asize == 1 ? 0xffffffffull : ~0ull;
	/* INS always writes ES:[rDI]; OUTS reads seg:[rSI], seg from the info. */
	unsigned seg = in ? 0 : (info >> INSN_INFO_SEG_SHIFT) & 7;
	uint64_t base = segment_base(seg);
	enum gpr_index idx = in ? REG_RDI : REG_RSI;
	int64_t step = (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
	uint64_t *rcx = &v->regs.gpr[REG_RCX];
	uint64_t count = rep ? (*rcx & amask) : 1;

	for (unsigned n = 0; count && n < STRING_IO_BATCH; n++) {
		uint64_t off = v->regs.gpr[idx] & amask;
		uint64_t gpa;
		uint32_t pf_error;
		uint32_t value = 0;

		enum gva_fault f = guest_linear_to_phys(v, base + off, in, &gpa, &pf_error);
		if (f == GVA_PAGE_FAULT) {
			vcpu_set_cr2(v, base + off);
			vmcs_inject_exception(VEC_PF, true, pf_error);
			return;
		}
		if (f == GVA_BAD_TABLE || (in ? 0 : guest_phys_read(v->vm, gpa, &value, size))) {
			vm_stop(v->vm, VM_END_CRASH,
				"string I/O on port %#x: guest address %#llx is outside its RAM",
				port, (unsigned long long)(base + off));
			return;
		}
		if (in) {
			value = io_bus_read(&v->vm->iobus, port, size);
			if (guest_phys_write(v->vm, gpa, &value, size)) {
				vm_stop(v->vm, VM_END_CRASH,
					"INS on port %#x: guest address %#llx is outside its RAM",
					port, (unsigned long long)gpa);
				return;
			}
		} else {
			io_bus_write(&v->vm->iobus, port, size, value);
		}
		v->regs.gpr[idx] = (v->regs.gpr[idx] & ~amask) | ((off + (uint64_t)step) & amask);
		count--;
		if (rep)
			*rcx = (*rcx & ~amask) | (count & amask);
		if (v->vm->state != VM_RUNNING)
			return;
	}
	if (!count)
		vmcs_skip_instruction();
}

/* IN/OUT of one port through the VM's port bus. Not inlined: handle_io's
 * fast path keeps a small frame. */
static __attribute__((noinline)) void port_io(struct vcpu *v, uint64_t qual)
{
	uint16_t port = (uint16_t)(qual >> IOQ_PORT_SHIFT);
	unsigned size = (unsigned)(qual & IOQ_SIZE_MASK) + 1;

	if (qual & IOQ_STRING) {
		string_io(v, qual, port, size);
		return;
	}
	if (qual & IOQ_IN)
		port_in(v, port, size);
	else
		io_bus_write(&v->vm->iobus, port, size, (uint32_t)v->regs.gpr[REG_RAX]);
	if (v->vm->iobus.touched_timed)
		vtime_reschedule(&v->vm->vtime);
	vmcs_skip_instruction();
}

void handle_io(struct vcpu *v)
{
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);

	profile_count_key(&v->prof.ports, (uint16_t)(qual >> IOQ_PORT_SHIFT));
	if ((qual & ~(uint64_t)IOQ_IMMEDIATE) == QUAL_OUT_BYTE_COM1 &&
	    uart_thr_write_fast(&v->vm->uart, (uint8_t)v->regs.gpr[REG_RAX])) {
		vmcs_skip_instruction();
		return;
	}
	port_io(v, qual);
}
