/* Descriptor-table exiting (trap "descriptor-tables"): SGDT, SIDT, LGDT,
 * LIDT (exit reason 46) and SLDT, STR, LLDT, LTR (47) exit and are
 * emulated here from the VM-exit instruction-information field (SDM Vol.
 * 3 27.2.5, tables 27-10 and 27-11) and the instructions' definitions in
 * SDM Vol. 2. The privilege checks of the L* forms come before the exit
 * (SDM 25.1.1) but are repeated here: they cost nothing. */
#include <stdbool.h>
#include <stdint.h>

#include "vmm/cpu/exit.h"
#include "vmm/cpu/exit_operand.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define INFO_OPERAND_32 (1u << 11) /* table 27-10; 64-bit mode ignores it */
#define INFO_REGISTER (1u << 10)   /* table 27-11: register operand */
#define INFO_REG1_SHIFT 3
#define INFO_REG_MASK 0xfu
#define INFO_IDENTITY_SHIFT 28
#define INFO_IDENTITY_MASK 0x3u
#define ID_SGDT 0
#define ID_SIDT 1
#define ID_LGDT 2
#define ID_LIDT 3
#define ID_SLDT 0
#define ID_STR 1
#define ID_LLDT 2
#define ID_LTR 3

/* Segment descriptors (SDM Vol. 3 3.4.5, 7.2.2). */
#define SEL_TI (1u << 2)
#define SEL_INDEX_MASK 0xfff8u
#define SEL_RPL_MASK 0x3u
#define DESC_TYPE_SHIFT 40
#define DESC_TYPE_MASK 0xfull
#define DESC_S (1ull << 44)
#define DESC_P (1ull << 47)
#define DESC_G (1ull << 55)
#define DESC_AR_SHIFT 40
#define DESC_AR_MASK 0xf0ffull /* type, S, DPL, P; AVL, L, D/B, G */
#define TYPE_LDT 0x2
#define TYPE_TSS16_AVAILABLE 0x1
#define TYPE_TSS32_AVAILABLE 0x9
#define TYPE_TSS_BUSY_BIT 0x2
#define TSS_BUSY_BYTE 5 /* the type nibble's byte in the descriptor */
#define AR_UNUSABLE_BIT (1u << 16)
#define AR_CS_DB (1u << 14)
#define CR4_UMIP (1ull << 11)

/* CR4.UMIP: SGDT, SIDT, SLDT, SMSW and STR #GP(0) at CPL > 0 (SDM Vol. 3
 * 2.5). With the "umip" trap the guest may set it where the CPU lacks it;
 * SMSW cannot be made to exit, so it stays readable. */
static bool umip_denies(void)
{
	return (guest_cr4_view() & CR4_UMIP) && vmcs_guest_cpl() != 0;
}

static bool is_null_selector(uint16_t sel)
{
	return !(sel & ~SEL_RPL_MASK);
}

static void gp(uint32_t error)
{
	vmcs_inject_exception(VEC_GP, true, error);
}

/* SGDT/SIDT/LGDT/LIDT: a 6-byte (10 in 64-bit mode) limit and base. */
void handle_gdtr_idtr_access(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
	unsigned id = (info >> INFO_IDENTITY_SHIFT) & INFO_IDENTITY_MASK;
	bool idt = id == ID_SIDT || id == ID_LIDT;
	uint32_t base_field = idt ? VMCS_GUEST_IDTR_BASE : VMCS_GUEST_GDTR_BASE;
	uint32_t limit_field = idt ? VMCS_GUEST_IDTR_LIMIT : VMCS_GUEST_GDTR_LIMIT;
	bool wide = operand_long_mode();
	size_t len = wide ? 10 : 6;
	uint64_t la = operand_linear_address(v, info, vmread(VMCS_EXIT_QUALIFICATION));
	uint8_t m[10] = { 0 };

	if (id == ID_SGDT || id == ID_SIDT) {
		if (umip_denies()) {
			gp(0);
			return;
		}
		/* The whole 32-bit base whatever the operand size (SDM Vol. 2 SGDT). */
		uint16_t limit = (uint16_t)vmread(limit_field);
		uint64_t base = vmread(base_field);
		m[0] = (uint8_t)limit;
		m[1] = (uint8_t)(limit >> 8);
		for (size_t i = 2; i < len; i++)
			m[i] = (uint8_t)(base >> (8 * (i - 2)));
		if (operand_write(v, la, m, len))
			return;
	} else {
		if (vmcs_guest_cpl() != 0) {
			gp(0);
			return;
		}
		if (operand_read(v, la, m, len))
			return;
		uint64_t base = 0;
		for (size_t i = 2; i < len; i++)
			base |= (uint64_t)m[i] << (8 * (i - 2));
		/* A 16-bit operand loads 24 bits of base (SDM Vol. 2 LGDT). */
		if (!wide && !(info & INFO_OPERAND_32))
			base &= 0xffffff;
		vmwrite(limit_field, (uint32_t)m[0] | (uint32_t)m[1] << 8);
		vmwrite(base_field, base);
	}
	vmcs_skip_instruction();
}

/* The selector operand of LLDT/LTR, or -1 after a #PF. */
static int read_selector(struct vcpu *v, uint32_t info, uint16_t *sel)
{
	if (info & INFO_REGISTER) {
		*sel = (uint16_t)operand_gpr_read(v, (info >> INFO_REG1_SHIFT) & INFO_REG_MASK);
		return 0;
	}
	uint64_t la = operand_linear_address(v, info, vmread(VMCS_EXIT_QUALIFICATION));
	return operand_read(v, la, sel, sizeof(*sel));
}

/* SLDT/STR: a register gets the selector zero-extended (16-bit code
 * keeps the upper half), memory gets 16 bits (SDM Vol. 2 SLDT). */
static void store_selector(struct vcpu *v, uint32_t info, uint16_t sel)
{
	if (umip_denies()) {
		gp(0);
		return;
	}
	if (info & INFO_REGISTER) {
		unsigned r = (info >> INFO_REG1_SHIFT) & INFO_REG_MASK;
		uint64_t old = operand_gpr_read(v, r);
		bool code16 = !operand_long_mode() && !(vmread(VMCS_GUEST_CS_AR) & AR_CS_DB);
		operand_gpr_write(v, r, code16 ? (old & ~0xffffull) | sel : sel);
	} else {
		uint64_t la = operand_linear_address(v, info, vmread(VMCS_EXIT_QUALIFICATION));
		if (operand_write(v, la, &sel, sizeof(sel)))
			return;
	}
	vmcs_skip_instruction();
}

/* The GDT descriptor sel names (16 bytes for system descriptors in 64-bit
 * mode), or -1 after injecting #GP(sel) (outside the GDT) or a #PF. */
static int read_gdt_descriptor(struct vcpu *v, uint16_t sel, uint64_t desc[2])
{
	unsigned size = operand_long_mode() ? 16 : 8;
	uint32_t offset = sel & SEL_INDEX_MASK;

	desc[1] = 0;
	if ((sel & SEL_TI) || offset + size - 1 > vmread(VMCS_GUEST_GDTR_LIMIT)) {
		gp(sel & ~SEL_RPL_MASK);
		return -1;
	}
	return operand_read(v, vmread(VMCS_GUEST_GDTR_BASE) + offset, desc, size);
}

static uint64_t desc_base(const uint64_t desc[2])
{
	return ((desc[0] >> 16) & 0xffffff) | ((desc[0] >> 56) << 24) | (desc[1] << 32);
}

static uint32_t desc_limit(uint64_t d)
{
	uint32_t limit = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 48) & 0xf) << 16;
	return (d & DESC_G) ? (limit << 12) | 0xfff : limit;
}

/* LLDT/LTR: #GP(sel) for a wrong type, #NP(sel) if not present (SDM Vol. 2
 * LLDT, LTR). */
static void load_system_segment(struct vcpu *v, uint32_t info, bool tr)
{
	uint16_t sel;
	uint64_t desc[2];

	if (vmcs_guest_cpl() != 0) {
		gp(0);
		return;
	}
	if (read_selector(v, info, &sel))
		return;
	if (is_null_selector(sel)) {
		if (tr) {
			gp(0);
			return;
		}
		/* A null LDT selector leaves LDTR unusable. */
		vmwrite(VMCS_GUEST_LDTR_SEL, sel);
		vmwrite(VMCS_GUEST_LDTR_AR, AR_UNUSABLE_BIT);
		vmcs_skip_instruction();
		return;
	}
	if (read_gdt_descriptor(v, sel, desc))
		return;
	unsigned type = (desc[0] >> DESC_TYPE_SHIFT) & DESC_TYPE_MASK;
	bool type_ok = tr ? type == TYPE_TSS32_AVAILABLE ||
				       (type == TYPE_TSS16_AVAILABLE && !operand_long_mode())
			  : type == TYPE_LDT;
	if ((desc[0] & DESC_S) || !type_ok) {
		gp(sel & ~SEL_RPL_MASK);
		return;
	}
	if (!(desc[0] & DESC_P)) {
		vmcs_inject_exception(VEC_NP, true, sel & ~SEL_RPL_MASK);
		return;
	}
	if (tr) {
		/* LTR marks the TSS busy in the GDT. */
		desc[0] |= (uint64_t)TYPE_TSS_BUSY_BIT << DESC_TYPE_SHIFT;
		uint8_t byte = (uint8_t)(desc[0] >> (8 * TSS_BUSY_BYTE));
		if (operand_write(v,
				  vmread(VMCS_GUEST_GDTR_BASE) + (sel & SEL_INDEX_MASK) +
					  TSS_BUSY_BYTE,
				  &byte, 1))
			return;
	}
	vmwrite(tr ? VMCS_GUEST_TR_SEL : VMCS_GUEST_LDTR_SEL, sel);
	vmwrite(tr ? VMCS_GUEST_TR_BASE : VMCS_GUEST_LDTR_BASE, desc_base(desc));
	vmwrite(tr ? VMCS_GUEST_TR_LIMIT : VMCS_GUEST_LDTR_LIMIT, desc_limit(desc[0]));
	vmwrite(tr ? VMCS_GUEST_TR_AR : VMCS_GUEST_LDTR_AR,
		(desc[0] >> DESC_AR_SHIFT) & DESC_AR_MASK);
	vmcs_skip_instruction();
}

void handle_ldtr_tr_access(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);

	switch ((info >> INFO_IDENTITY_SHIFT) & INFO_IDENTITY_MASK) {
	case ID_SLDT:
		store_selector(v, info, (uint16_t)vmread(VMCS_GUEST_LDTR_SEL));
		break;
	case ID_STR:
		store_selector(v, info, (uint16_t)vmread(VMCS_GUEST_TR_SEL));
		break;
	case ID_LLDT:
		load_system_segment(v, info, false);
		break;
	case ID_LTR:
		load_system_segment(v, info, true);
		break;
	}
}
