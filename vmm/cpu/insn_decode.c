/* Instruction decoding for MMIO emulation (SDM Vol. 2 chapter 2: prefixes
 * 2.1.1, REX 2.2.1, ModRM/SIB tables 2-1 to 2-3; opcode map appendix A). */
#include "vmm/cpu/insn_decode.h"

#include <string.h>

/* Legacy prefixes (SDM Vol. 2 2.1.1). */
#define PFX_LOCK 0xf0
#define PFX_REPNE 0xf2
#define PFX_REP 0xf3
#define PFX_ES 0x26
#define PFX_CS 0x2e
#define PFX_SS 0x36
#define PFX_DS 0x3e
#define PFX_FS 0x64
#define PFX_GS 0x65
#define PFX_OPSIZE 0x66
#define PFX_ADDRSIZE 0x67

/* REX (SDM Vol. 2 2.2.1): 0100WRXB, only in 64-bit mode. */
#define REX_MASK 0xf0
#define REX_BASE 0x40
#define REX_W 0x08
#define REX_R 0x04

/* Opcodes (SDM Vol. 2 tables ). */
#define OP_ALU_LAST 0x3f   /* 00-3F: ALU ops, bits 5:3 the op */
#define OP_ALU_FORM_MASK 7 /* low bits 0-3: Eb,Gb  Ev,Gv  Gb,Eb  Gv,Ev */
#define OP_ALU_FORMS 4
#define OP_ALU_SHIFT 3
#define OP_WORD_BIT 0x01     /* 0: byte operands, 1: word/dword/qword */
#define OP_DIR_REG_DEST 0x02 /* ALU: the register is the destination */
#define OP_GRP1_EB_IB 0x80
#define OP_GRP1_EV_IZ 0x81
#define OP_GRP1_EV_IB 0x83
#define OP_TEST_EB_GB 0x84
#define OP_TEST_EV_GV 0x85
#define OP_XCHG_EB_GB 0x86
#define OP_XCHG_EV_GV 0x87
#define OP_MOV_EB_GB 0x88
#define OP_MOV_EV_GV 0x89
#define OP_MOV_GB_EB 0x8a
#define OP_MOV_GV_EV 0x8b
#define OP_MOV_AL_OB 0xa0
#define OP_MOV_AX_OV 0xa1
#define OP_MOV_OB_AL 0xa2
#define OP_MOV_OV_AX 0xa3
#define OP_GRP11_EB_IB 0xc6
#define OP_GRP11_EV_IZ 0xc7
#define OP_GRP3_EB 0xf6
#define OP_GRP3_EV 0xf7
#define OP_TWO_BYTE 0x0f
#define OP2_MOVZX_GV_EB 0xb6
#define OP2_MOVZX_GV_EW 0xb7
#define OP2_MOVSX_GV_EB 0xbe
#define OP2_MOVSX_GV_EW 0xbf

/* ModRM fields (SDM Vol. 2 2.1.5). */
#define MODRM_MOD(b) ((b) >> 6)
#define MODRM_REG(b) (((b) >> 3) & 7)
#define MODRM_RM(b) ((b)&7)
#define MOD_NO_DISP 0
#define MOD_DISP8 1
#define MOD_DISP_FULL 2
#define MOD_REGISTER 3
#define RM_SIB 4      /* 32/64-bit addressing: a SIB byte follows */
#define RM_DISP32 5   /* mod 00: disp32 (RIP-relative in 64-bit mode) */
#define RM16_DISP16 6 /* 16-bit addressing, mod 00: disp16 */
#define SIB_BASE(b) ((b)&7)
#define SIB_BASE_NONE 5 /* with mod 00: no base, disp32 */
/* ModRM.reg values of the group opcodes that have a memory form we emulate. */
#define GRP11_MOV 0
#define GRP3_TEST 0
/* Without REX, byte register numbers 4-7 are AH, CH, DH, BH (table 3-1). */
#define REG_HIGH8_FIRST 4

/* The decoder's state: the bytes, read in order and never past the
 * input or the architectural limit, and what the prefixes said. */
struct dec {
	const uint8_t *bytes;
	size_t len, pos;
	enum insn_mode mode;
	uint8_t rex;
};

/* Little-endian n bytes into *v; -1 when they are not there. */
static int take(struct dec *d, unsigned n, uint64_t *v)
{
	if (n > d->len - d->pos)
		return -1;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)d->bytes[d->pos + i] << (8 * i);
	d->pos += n;
	return 0;
}

static int take8(struct dec *d, uint8_t *b)
{
	uint64_t v;

	if (take(d, 1, &v))
		return -1;
	*b = (uint8_t)v;
	return 0;
}

static uint64_t sign_extend(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

/* Records one legacy prefix; false when b is not one. */
static bool legacy_prefix(uint8_t b, struct insn *out, bool *opsize, bool *addrsize)
{
	switch (b) {
	case PFX_LOCK:
		out->lock = true;
		return true;
	case PFX_REPNE:
	case PFX_REP:
		return true; /* no meaning for these instructions */
	case PFX_OPSIZE:
		*opsize = true;
		return true;
	case PFX_ADDRSIZE:
		*addrsize = true;
		return true;
	case PFX_ES:
		out->seg = INSN_SEG_ES;
		return true;
	case PFX_CS:
		out->seg = INSN_SEG_CS;
		return true;
	case PFX_SS:
		out->seg = INSN_SEG_SS;
		return true;
	case PFX_DS:
		out->seg = INSN_SEG_DS;
		return true;
	case PFX_FS:
		out->seg = INSN_SEG_FS;
		return true;
	case PFX_GS:
		out->seg = INSN_SEG_GS;
		return true;
	default:
		return false;
	}
}

/* Consumes ModRM and whatever SIB and displacement it calls for (tables
 * 2-1 to 2-3, 2.2.1.6). Only memory operands are accepted: a register
 * operand (mod 11) cannot be what faulted. *reg_field is ModRM.reg. */
static int modrm(struct dec *d, struct insn *out, unsigned *reg_field)
{
	uint8_t m, sib;
	uint64_t disp;
	unsigned mod, rm, disp_bytes = 0;

	if (take8(d, &m))
		return -1;
	mod = MODRM_MOD(m);
	rm = MODRM_RM(m);
	*reg_field = MODRM_REG(m);
	if (mod == MOD_REGISTER)
		return -1;
	if (out->addr_size == 2) {
		if (mod == MOD_DISP8)
			disp_bytes = 1;
		else if (mod == MOD_DISP_FULL || (mod == MOD_NO_DISP && rm == RM16_DISP16))
			disp_bytes = 2;
		return take(d, disp_bytes, &disp);
	}
	/* 32- and 64-bit addressing; REX.B does not change these cases. */
	if (mod == MOD_DISP8) {
		disp_bytes = 1;
	} else if (mod == MOD_DISP_FULL) {
		disp_bytes = 4;
	} else if (rm == RM_DISP32) {
		disp_bytes = 4;
		out->rip_relative = d->mode == INSN_MODE_64;
	}
	if (rm == RM_SIB) {
		if (take8(d, &sib))
			return -1;
		if (mod == MOD_NO_DISP && SIB_BASE(sib) == SIB_BASE_NONE)
			disp_bytes = 4;
	}
	return take(d, disp_bytes, &disp);
}

/* The register operand ModRM.reg names, extended by REX.R. */
static void set_reg(const struct dec *d, struct insn *out, unsigned reg_field)
{
	unsigned reg = reg_field | ((d->rex & REX_R) ? 8 : 0);

	if (out->size == 1 && !d->rex && reg >= REG_HIGH8_FIRST) {
		out->high8 = true;
		reg -= REG_HIGH8_FIRST;
	}
	out->reg = (uint8_t)reg;
}

/* An immediate of n bytes, sign-extended. */
static int imm(struct dec *d, struct insn *out, unsigned n)
{
	uint64_t v;

	if (take(d, n, &v))
		return -1;
	out->imm = sign_extend(v, n);
	out->has_imm = true;
	return 0;
}

/* Ib for byte operands; Iz: 16 bits for 16-bit operands, else 32
 * (sign-extended for 64; SDM Vol. 2 A.2.2). */
static unsigned imm_z(const struct insn *out)
{
	return out->size == 1 ? 1 : out->size == 2 ? 2 : 4;
}

/* The two-byte opcodes 0F xx: MOVZX and MOVSX (SDM Vol. 2 table A-3). */
static int two_byte(struct dec *d, struct insn *out)
{
	uint8_t op;
	unsigned reg;

	if (take8(d, &op))
		return -1;
	switch (op) {
	case OP2_MOVZX_GV_EB:
	case OP2_MOVZX_GV_EW:
		out->op = INSN_MOVZX;
		break;
	case OP2_MOVSX_GV_EB:
	case OP2_MOVSX_GV_EW:
		out->op = INSN_MOVSX;
		break;
	default:
		return -1;
	}
	out->mem_size = (op & OP_WORD_BIT) ? 2 : 1;
	if (modrm(d, out, &reg))
		return -1;
	set_reg(d, out, reg);
	return 0;
}

/* MOV with a moffs operand, A0-A3: the address is an immediate of the
 * address size; the register is always AL/AX/EAX/RAX. */
static int moffs(struct dec *d, struct insn *out, uint8_t op)
{
	uint64_t offset;

	if (op == OP_MOV_AL_OB || op == OP_MOV_OB_AL)
		out->size = 1;
	out->op = (op == OP_MOV_AL_OB || op == OP_MOV_AX_OV) ? INSN_MOV_LOAD : INSN_MOV_STORE;
	return take(d, out->addr_size, &offset);
}

/* The one-byte opcodes with a ModRM memory operand (SDM Vol. 2 table A-2;
 * groups 1, 3 and 11 in table A-6). */
static int one_byte(struct dec *d, struct insn *out, uint8_t op)
{
	unsigned reg;

	/* 00-3F with low bits 4-7: AL/rAX,imm forms, segment PUSH/POP, BCD. */
	if (op <= OP_ALU_LAST && (op & OP_ALU_FORM_MASK) >= OP_ALU_FORMS)
		return -1;
	if (!(op & OP_WORD_BIT))
		out->size = 1;
	if (modrm(d, out, &reg))
		return -1;
	if (op <= OP_ALU_LAST) {
		out->op = (enum insn_op)(op >> OP_ALU_SHIFT);
		out->reg_dest = op & OP_DIR_REG_DEST;
		set_reg(d, out, reg);
		return 0;
	}
	switch (op) {
	case OP_GRP1_EB_IB:
	case OP_GRP1_EV_IZ:
	case OP_GRP1_EV_IB:
		out->op = (enum insn_op)reg;
		return imm(d, out, op == OP_GRP1_EV_IZ ? imm_z(out) : 1);
	case OP_GRP11_EB_IB:
	case OP_GRP11_EV_IZ:
		if (reg != GRP11_MOV)
			return -1;
		out->op = INSN_MOV_STORE;
		return imm(d, out, imm_z(out));
	case OP_GRP3_EB:
	case OP_GRP3_EV:
		if (reg != GRP3_TEST)
			return -1;
		out->op = INSN_TEST;
		return imm(d, out, imm_z(out));
	case OP_TEST_EB_GB:
	case OP_TEST_EV_GV:
		out->op = INSN_TEST;
		break;
	case OP_XCHG_EB_GB:
	case OP_XCHG_EV_GV:
		out->op = INSN_XCHG;
		break;
	case OP_MOV_EB_GB:
	case OP_MOV_EV_GV:
		out->op = INSN_MOV_STORE;
		break;
	case OP_MOV_GB_EB:
	case OP_MOV_GV_EV:
		out->op = INSN_MOV_LOAD;
		break;
	default:
		return -1;
	}
	set_reg(d, out, reg);
	return 0;
}

/* LOCK is legal only on a read-modify-write of memory (SDM Vol. 2 LOCK:
 * ADD, OR, ADC, SBB, AND, SUB, XOR with a memory destination, and XCHG);
 * elsewhere the CPU raises #UD. */
static bool lock_allowed(const struct insn *in)
{
	if (in->op == INSN_XCHG)
		return true;
	return in->op < INSN_CMP && !in->reg_dest;
}

int insn_decode(const uint8_t *bytes, size_t len, enum insn_mode mode, struct insn *out)
{
	struct dec d = { bytes, len < INSN_MAX_LEN ? len : INSN_MAX_LEN, 0, mode, 0 };
	bool opsize = false, addrsize = false;
	uint8_t op;
	int err;

	memset(out, 0, sizeof(*out));
	out->seg = INSN_SEG_NONE;
	/* Prefixes in any order; a REX counts only right before the opcode
	 * (SDM Vol. 2 2.2.1: one followed by a legacy prefix is ignored). */
	for (;;) {
		if (take8(&d, &op))
			return -1;
		if (mode == INSN_MODE_64 && (op & REX_MASK) == REX_BASE) {
			d.rex = op;
			continue;
		}
		if (!legacy_prefix(op, out, &opsize, &addrsize))
			break;
		d.rex = 0;
	}

	/* Operand and address size (SDM Vol. 1 3.6 table 3-4; Vol. 2 2.2.1.2). */
	if (d.rex & REX_W)
		out->size = 8;
	else
		out->size = (mode == INSN_MODE_16) != opsize ? 2 : 4;
	if (mode == INSN_MODE_64)
		out->addr_size = addrsize ? 4 : 8;
	else
		out->addr_size = (mode == INSN_MODE_16) != addrsize ? 2 : 4;

	if (op == OP_TWO_BYTE)
		err = two_byte(&d, out);
	else if (op >= OP_MOV_AL_OB && op <= OP_MOV_OV_AX)
		err = moffs(&d, out, op);
	else
		err = one_byte(&d, out, op);
	if (err || (out->lock && !lock_allowed(out)))
		return -1;
	if (out->op != INSN_MOVZX && out->op != INSN_MOVSX)
		out->mem_size = out->size;
	out->len = (uint8_t)d.pos;
	return 0;
}
