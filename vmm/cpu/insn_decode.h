/* A decoder for the x86 instructions that access device registers by
 * MMIO: the MOV forms, MOVZX/MOVSX, the ALU read-modify-write and compare
 * forms, TEST and XCHG, each with a memory operand (SDM Vol. 2 chapter 2
 * and appendix A). It is pure: it reads only the bytes it is given and
 * computes no address (the EPT-violation exit reports the guest-physical
 * address), but it walks ModRM, SIB and displacement to the end so that
 * the instruction length is exact. */
#ifndef PGVISOR_INSN_DECODE_H
#define PGVISOR_INSN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest legal instruction (SDM Vol. 2 2.3.11). */
#define INSN_MAX_LEN 15

/* The code segment's default operand and address size: CS.D selects 16-
 * or 32-bit code, CS.L with IA32_EFER.LMA 64-bit code (SDM Vol. 3 5.2.1). */
enum insn_mode { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };

/* What the instruction does with its memory operand. The first eight are
 * in the order of opcode bits 5:3 of 00-3F and of ModRM.reg in group 1
 * (80, 81, 83; SDM Vol. 2 table A-6). */
enum insn_op {
	INSN_ADD,
	INSN_OR,
	INSN_ADC,
	INSN_SBB,
	INSN_AND,
	INSN_SUB,
	INSN_XOR,
	INSN_CMP,
	INSN_TEST,
	INSN_MOV_LOAD,	/* reg = mem, also MOV AL/AX/EAX/RAX, moffs */
	INSN_MOV_STORE, /* mem = reg or imm */
	INSN_MOVZX,	/* reg = mem zero-extended */
	INSN_MOVSX,	/* reg = mem sign-extended */
	INSN_XCHG,
};

/* A segment-override prefix, numbered as the VMCS numbers segments. */
enum insn_seg {
	INSN_SEG_ES,
	INSN_SEG_CS,
	INSN_SEG_SS,
	INSN_SEG_DS,
	INSN_SEG_FS,
	INSN_SEG_GS,
	INSN_SEG_NONE,
};

struct insn {
	enum insn_op op;
	uint8_t len;	   /* in bytes, prefixes included */
	uint8_t size;	   /* operand size: 1, 2, 4 or 8 */
	uint8_t mem_size;  /* bytes of memory accessed: size, except MOVZX/MOVSX */
	uint8_t addr_size; /* 2, 4 or 8 */
	/* The register operand, 0-15 in encoding order (RAX for moffs); with
	 * high8 it is 0-3 for AH, CH, DH, BH. Unused when has_imm. */
	uint8_t reg;
	bool high8;
	bool has_imm;  /* the other operand is imm, not reg */
	bool reg_dest; /* ALU forms op r, r/m: the register is the destination */
	bool lock;
	bool rip_relative; /* ModRM addresses [rip + disp32] (64-bit mode) */
	enum insn_seg seg;
	uint64_t imm; /* sign-extended to 64 bits; used at the operand size */
};

/* Decodes the instruction at bytes[0..len). Returns 0 with *out filled,
 * or -1 when the bytes are truncated, longer than INSN_MAX_LEN, not one of
 * the forms above, have no memory operand, or are not a valid encoding
 * (e.g. LOCK on a MOV). */
int insn_decode(const uint8_t *bytes, size_t len, enum insn_mode mode, struct insn *out);

#endif
