/* MMIO instruction emulation: the operations on values and flags, then
 * the glue that fetches the instruction and moves state in and out of the
 * VMCS (left out of the host unit tests, which have no VMCS). */
#include "vmm/cpu/mmio_emulate.h"

#include <string.h>

#ifndef HOST_TEST
#include <stdio.h>

#include "arch/x86/msr.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"
#endif

#define SIGN_BIT(size) (1ull << (8 * (size)-1))
#define AF_BIT 0x10   /* carry out of bit 3 shows in bit 4 of dst ^ src ^ result */
#define HIGH8_SHIFT 8 /* AH..BH are bits 15:8 */
#define HIGH8_MASK 0xff00ull

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t mmio_extend(uint64_t value, unsigned size, bool sign)
{
	value &= size_mask(size);
	if (sign && (value & SIGN_BIT(size)))
		value |= ~size_mask(size);
	return value;
}

uint64_t mmio_reg_read(uint64_t reg, unsigned size, bool high8)
{
	if (high8)
		return (reg & HIGH8_MASK) >> HIGH8_SHIFT;
	return reg & size_mask(size);
}

uint64_t mmio_reg_merge(uint64_t reg, uint64_t value, unsigned size, bool high8)
{
	if (high8)
		return (reg & ~HIGH8_MASK) | ((value << HIGH8_SHIFT) & HIGH8_MASK);
	if (size >= 4)
		return value & size_mask(size);
	return (reg & ~size_mask(size)) | (value & size_mask(size));
}

/* PF: set when the low byte of the result has an even number of ones. */
static bool parity_even(uint64_t res)
{
	uint8_t p = (uint8_t)res;

	p ^= p >> 4;
	p ^= p >> 2;
	p ^= p >> 1;
	return !(p & 1);
}

/* Flags as the instruction pages of SDM Vol. 2 define them: ADD/ADC/SUB/
 * SBB/CMP set all six from the result; AND/OR/XOR/TEST clear CF and OF and
 * leave AF undefined, which processors clear, and so do we. */
uint64_t mmio_alu(enum insn_op op, unsigned size, uint64_t dst, uint64_t src, uint64_t *rflags)
{
	uint64_t mask = size_mask(size), sign = SIGN_BIT(size);
	uint64_t carry = (op == INSN_ADC || op == INSN_SBB) && (*rflags & RFLAGS_CF);
	uint64_t res, flags = 0;
	bool arith = true;

	dst &= mask;
	src &= mask;
	if (op == INSN_ADD || op == INSN_ADC) {
		res = (dst + src + carry) & mask;
		/* Carry out: the sum wrapped below dst (or onto it, with the
		 * carry-in when src is all ones). */
		if (res < dst || (carry && res == dst))
			flags |= RFLAGS_CF;
		if ((dst ^ res) & (src ^ res) & sign)
			flags |= RFLAGS_OF;
	} else if (op == INSN_SUB || op == INSN_SBB || op == INSN_CMP) {
		res = (dst - src - carry) & mask;
		if (dst < src || (carry && dst == src))
			flags |= RFLAGS_CF;
		if ((dst ^ src) & (dst ^ res) & sign)
			flags |= RFLAGS_OF;
	} else {
		arith = false;
		if (op == INSN_OR)
			res = dst | src;
		else if (op == INSN_XOR)
			res = dst ^ src;
		else /* INSN_AND, INSN_TEST */
			res = dst & src;
	}
	if (arith && ((dst ^ src ^ res) & AF_BIT))
		flags |= RFLAGS_AF;
	if (!res)
		flags |= RFLAGS_ZF;
	if (res & sign)
		flags |= RFLAGS_SF;
	if (parity_even(res))
		flags |= RFLAGS_PF;
	*rflags = (*rflags & ~RFLAGS_ARITH) | flags;
	return res;
}

static uint64_t dev_read(const struct mmio_handler *h, uint64_t gpa, unsigned size)
{
	uint64_t ones = size_mask(size);

	return h->read ? h->read(h->dev, gpa, size) & ones : ones;
}

static void dev_write(const struct mmio_handler *h, uint64_t gpa, unsigned size, uint64_t value)
{
	if (h->write)
		h->write(h->dev, gpa, size, value & size_mask(size));
}

int mmio_execute(const struct insn *in, uint64_t gpa, const struct mmio_handler *h,
		 struct mmio_cpu *cpu)
{
	uint64_t *reg = &cpu->gpr[in->reg];
	uint64_t mem, other;

	/* Offset first: past the range, size - offset would wrap. */
	if (gpa < h->base || gpa - h->base >= h->size || in->mem_size > h->size - (gpa - h->base))
		return -1;
	switch (in->op) {
	case INSN_MOV_LOAD:
	case INSN_MOVZX:
	case INSN_MOVSX:
		/* MOVZX/MOVSX widen the memory operand (SDM Vol. 2 MOVZX, MOVSX). */
		mem = mmio_extend(dev_read(h, gpa, in->mem_size), in->mem_size,
				  in->op == INSN_MOVSX);
		*reg = mmio_reg_merge(*reg, mem, in->size, in->high8);
		return 0;
	case INSN_MOV_STORE:
		other = in->has_imm ? in->imm : mmio_reg_read(*reg, in->size, in->high8);
		dev_write(h, gpa, in->size, other);
		return 0;
	case INSN_XCHG:
		mem = dev_read(h, gpa, in->size);
		dev_write(h, gpa, in->size, mmio_reg_read(*reg, in->size, in->high8));
		*reg = mmio_reg_merge(*reg, mem, in->size, in->high8);
		return 0;
	default: /* INSN_ADD .. INSN_TEST */
		break;
	}
	mem = dev_read(h, gpa, in->size);
	other = in->has_imm ? in->imm : mmio_reg_read(*reg, in->size, in->high8);
	if (in->reg_dest) {
		uint64_t res = mmio_alu(in->op, in->size, other, mem, &cpu->rflags);
		if (in->op != INSN_CMP)
			*reg = mmio_reg_merge(*reg, res, in->size, in->high8);
	} else {
		uint64_t res = mmio_alu(in->op, in->size, mem, other, &cpu->rflags);
		if (in->op != INSN_CMP && in->op != INSN_TEST)
			dev_write(h, gpa, in->size, res);
	}
	return 0;
}

#ifndef HOST_TEST
/* Segment access rights in the VMCS (SDM Vol. 3 24.4.1 table 24-2). */
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
/* The smallest guest page: a fetch is translated one such page at a time. */
#define GUEST_PAGE_SIZE 4096u
#define MASK_32 0xffffffffull
#define MASK_16 0xffffull
#define HEX_BYTE_CHARS 3 /* " xx" */

/* The guest's code size: 64-bit when IA32_EFER.LMA and CS.L, else CS.D
 * (SDM Vol. 3 5.2.1; virtual-8086 and real-mode code segments have D 0). */
static enum insn_mode guest_mode(void)
{
	uint64_t ar = vmread(VMCS_GUEST_CS_AR);

	if ((vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA) && (ar & AR_L))
		return INSN_MODE_64;
	return (ar & AR_DB) ? INSN_MODE_32 : INSN_MODE_16;
}

/* Reads up to INSN_MAX_LEN code bytes at linear address lin (wrapping at
 * lin_mask), a page at a time so an instruction may cross into the next
 * page. Returns how many bytes could be read: a short count means the
 * next page is not mapped, which a short instruction does not need. */
static size_t fetch(struct vcpu *v, uint64_t lin, uint64_t lin_mask, uint8_t *buf)
{
	size_t got = 0;

	while (got < INSN_MAX_LEN) {
		uint64_t addr = (lin + got) & lin_mask, gpa;
		size_t chunk = GUEST_PAGE_SIZE - (addr & (GUEST_PAGE_SIZE - 1));
		uint32_t pf_error;

		if (chunk > INSN_MAX_LEN - got)
			chunk = INSN_MAX_LEN - got;
		if (guest_linear_to_phys(v, addr, false, &gpa, &pf_error) != GVA_OK ||
		    guest_phys_read(v->vm, gpa, buf + got, chunk))
			break;
		got += chunk;
	}
	return got;
}

static const char *mode_name(enum insn_mode mode)
{
	return mode == INSN_MODE_64 ? "64-bit" : mode == INSN_MODE_32 ? "32-bit" : "16-bit";
}

void mmio_emulate(struct vcpu *v, uint64_t gpa, const struct mmio_handler *h)
{
	enum insn_mode mode = guest_mode();
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	uint64_t ip_mask = mode == INSN_MODE_64 ? ~0ull : mode == INSN_MODE_32 ? MASK_32 : MASK_16;
	/* In 64-bit mode the CS base is ignored (SDM Vol. 3 3.4.4). */
	uint64_t lin = mode == INSN_MODE_64 ? rip : (vmread(VMCS_GUEST_CS_BASE) + rip) & MASK_32;
	uint8_t bytes[INSN_MAX_LEN];
	struct insn in;
	struct mmio_cpu cpu;
	size_t n = fetch(v, lin, mode == INSN_MODE_64 ? ~0ull : MASK_32, bytes);

	if (!n) {
		vm_stop(v->vm, VM_END_CRASH,
			"MMIO at %#llx (%s): the instruction at rip %#llx (linear %#llx) cannot be "
			"fetched",
			(unsigned long long)gpa, h->name, (unsigned long long)rip,
			(unsigned long long)lin);
		return;
	}
	if (insn_decode(bytes, n, mode, &in)) {
		char hex[INSN_MAX_LEN * HEX_BYTE_CHARS + 1];
		for (size_t i = 0; i < n; i++)
			snprintf(hex + i * HEX_BYTE_CHARS, sizeof(hex) - i * HEX_BYTE_CHARS,
				 " %02x", bytes[i]);
		vm_stop(v->vm, VM_END_CRASH,
			"MMIO at %#llx (%s) by an instruction pgvisor cannot emulate: bytes%s "
			"(%s code, rip %#llx%s)",
			(unsigned long long)gpa, h->name, hex, mode_name(mode),
			(unsigned long long)rip,
			n < INSN_MAX_LEN ? "; the next page could not be read" : "");
		return;
	}

	memcpy(cpu.gpr, v->regs.gpr, sizeof(cpu.gpr));
	cpu.gpr[REG_RSP] = vmread(VMCS_GUEST_RSP);
	cpu.rflags = vmread(VMCS_GUEST_RFLAGS);
	if (mmio_execute(&in, gpa, h, &cpu) != 0) {
		vm_stop(v->vm, VM_END_CRASH,
			"MMIO access of %u bytes at %#llx runs past the end of %s (rip %#llx)",
			in.mem_size, (unsigned long long)gpa, h->name, (unsigned long long)rip);
		return;
	}
	memcpy(v->regs.gpr, cpu.gpr, sizeof(cpu.gpr));
	vmwrite(VMCS_GUEST_RSP, cpu.gpr[REG_RSP]);
	vmwrite(VMCS_GUEST_RFLAGS, cpu.rflags);

	/* What vmcs_skip_instruction does, with the decoded length: the exit
	 * reports no instruction length for EPT violations (SDM 27.2.5). */
	vmwrite(VMCS_GUEST_RIP, (rip + in.len) & ip_mask);
	vmcs_complete_instruction();
}
#endif
