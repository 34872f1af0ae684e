/* Unit tests for vmm/cpu/insn_decode.c: real encodings (from GNU as, with the
 * objdump line they came from), every truncation of each, and encodings
 * the decoder must refuse. Inputs live in buffers of their exact size so
 * ASan catches any read past the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/cpu/insn_decode.h"
#include "vmm/vm/vcpu.h"

#define M16 INSN_MODE_16
#define M32 INSN_MODE_32
#define M64 INSN_MODE_64

/* Expected flags of a row. */
#define F_HIGH8 (1u << 0)
#define F_IMM (1u << 1)
#define F_REG_DEST (1u << 2)
#define F_LOCK (1u << 3)
#define F_RIPREL (1u << 4)

/* The bytes of a string literal and their count. */
#define B(s) (const uint8_t *)(s), sizeof(s) - 1

struct row {
	const char *what; /* objdump's disassembly of the bytes */
	enum insn_mode mode;
	const uint8_t *bytes;
	size_t n;
	enum insn_op op;
	uint8_t len, size, mem_size, addr_size, reg;
	unsigned flags;
	uint64_t imm;
	enum insn_seg seg;
};

#define NOSEG INSN_SEG_NONE

static const struct row rows[] = {
	/* 64-bit code. */
	{ "mov 0x12345678(%rip),%eax", M64, B("\x8b\x05\x78\x56\x34\x12"), INSN_MOV_LOAD, 6, 4, 4,
	  8, REG_RAX, F_RIPREL, 0, NOSEG },
	{ "mov %edx,0xb0(%rax)", M64, B("\x89\x90\xb0\x00\x00\x00"), INSN_MOV_STORE, 6, 4, 4, 8,
	  REG_RDX, 0, 0, NOSEG },
	{ "movl $0xdeadbeef,0x100(%rip)", M64, B("\xc7\x05\x00\x01\x00\x00\xef\xbe\xad\xde"),
	  INSN_MOV_STORE, 10, 4, 4, 8, 0, F_IMM | F_RIPREL, 0xffffffffdeadbeefull, NOSEG },
	{ "mov 0xfffffffffee00020,%rax", M64, B("\x48\x8b\x04\x25\x20\x00\xe0\xfe"), INSN_MOV_LOAD,
	  8, 8, 8, 8, REG_RAX, 0, 0, NOSEG },
	{ "mov %r8d,0x20(%rax)", M64, B("\x44\x89\x40\x20"), INSN_MOV_STORE, 4, 4, 4, 8, REG_R8, 0,
	  0, NOSEG },
	{ "mov %ax,(%rbx)", M64, B("\x66\x89\x03"), INSN_MOV_STORE, 3, 2, 2, 8, REG_RAX, 0, 0,
	  NOSEG },
	{ "mov %ah,(%rdi)", M64, B("\x88\x27"), INSN_MOV_STORE, 2, 1, 1, 8, REG_RAX, F_HIGH8, 0,
	  NOSEG },
	{ "mov (%rax),%ah", M64, B("\x8a\x20"), INSN_MOV_LOAD, 2, 1, 1, 8, REG_RAX, F_HIGH8, 0,
	  NOSEG },
	{ "xchg %bh,(%rdx)", M64, B("\x86\x3a"), INSN_XCHG, 2, 1, 1, 8, REG_RBX, F_HIGH8, 0,
	  NOSEG },
	{ "mov %spl,(%rax)", M64, B("\x40\x88\x20"), INSN_MOV_STORE, 3, 1, 1, 8, REG_RSP, 0, 0,
	  NOSEG },
	{ "mov %sil,(%rax)", M64, B("\x40\x88\x30"), INSN_MOV_STORE, 3, 1, 1, 8, REG_RSI, 0, 0,
	  NOSEG },
	{ "mov 0x8(%r13),%r9b", M64, B("\x45\x8a\x4d\x08"), INSN_MOV_LOAD, 4, 1, 1, 8, REG_R9, 0, 0,
	  NOSEG },
	{ "mov 0x300(%r12),%r13", M64, B("\x4d\x8b\xac\x24\x00\x03\x00\x00"), INSN_MOV_LOAD, 8, 8,
	  8, 8, REG_R13, 0, 0, NOSEG },
	{ "mov 0x10(%r13,%r14,8),%r10w", M64, B("\x66\x47\x8b\x54\xf5\x10"), INSN_MOV_LOAD, 6, 2, 2,
	  8, REG_R10, 0, 0, NOSEG },
	{ "mov 0x7fff(%rsp,%rbp,8),%esp", M64, B("\x8b\xa4\xec\xff\x7f\x00\x00"), INSN_MOV_LOAD, 7,
	  4, 4, 8, REG_RSP, 0, 0, NOSEG },
	{ "movzwl 0x10(%rdx),%eax", M64, B("\x0f\xb7\x42\x10"), INSN_MOVZX, 4, 4, 2, 8, REG_RAX, 0,
	  0, NOSEG },
	{ "movsbq (%rsi),%rcx", M64, B("\x48\x0f\xbe\x0e"), INSN_MOVSX, 4, 8, 1, 8, REG_RCX, 0, 0,
	  NOSEG },
	{ "movswl -0x4(%rbp),%r15d", M64, B("\x44\x0f\xbf\x7d\xfc"), INSN_MOVSX, 5, 4, 2, 8,
	  REG_R15, 0, 0, NOSEG },
	{ "orl $0x1,0x10(%rax)", M64, B("\x83\x48\x10\x01"), INSN_OR, 4, 4, 4, 8, 0, F_IMM, 1,
	  NOSEG },
	{ "lock orl $0x80000000,(%rbx)", M64, B("\xf0\x81\x0b\x00\x00\x00\x80"), INSN_OR, 7, 4, 4,
	  8, 0, F_IMM | F_LOCK, 0xffffffff80000000ull, NOSEG },
	{ "movq $0xffffffffffffffff,0x8(%rcx)", M64, B("\x48\xc7\x41\x08\xff\xff\xff\xff"),
	  INSN_MOV_STORE, 8, 8, 8, 8, 0, F_IMM, ~0ull, NOSEG },
	{ "movw $0x1234,0x2(%rax)", M64, B("\x66\xc7\x40\x02\x34\x12"), INSN_MOV_STORE, 6, 2, 2, 8,
	  0, F_IMM, 0x1234, NOSEG },
	{ "movb $0x5a,0x11223344(%rax,%rcx,2)", M64, B("\xc6\x84\x48\x44\x33\x22\x11\x5a"),
	  INSN_MOV_STORE, 8, 1, 1, 8, 0, F_IMM, 0x5a, NOSEG },
	{ "movabs 0xfee00020,%rax", M64, B("\x48\xa1\x20\x00\xe0\xfe\x00\x00\x00\x00"),
	  INSN_MOV_LOAD, 10, 8, 8, 8, REG_RAX, 0, 0, NOSEG },
	{ "movabs 0xfec00000,%eax", M64, B("\xa1\x00\x00\xc0\xfe\x00\x00\x00\x00"), INSN_MOV_LOAD,
	  9, 4, 4, 8, REG_RAX, 0, 0, NOSEG },
	{ "movabs %al,0xfec00010", M64, B("\xa2\x10\x00\xc0\xfe\x00\x00\x00\x00"), INSN_MOV_STORE,
	  9, 1, 1, 8, REG_RAX, 0, 0, NOSEG },
	{ "movabs %rax,0xfee000b0", M64, B("\x48\xa3\xb0\x00\xe0\xfe\x00\x00\x00\x00"),
	  INSN_MOV_STORE, 10, 8, 8, 8, REG_RAX, 0, 0, NOSEG },
	{ "addr32 mov 0xfee00020,%eax", M64, B("\x67\xa1\x20\x00\xe0\xfe"), INSN_MOV_LOAD, 6, 4, 4,
	  4, REG_RAX, 0, 0, NOSEG },
	{ "andl $0xfffffeff,0xf0(%rax)", M64, B("\x81\xa0\xf0\x00\x00\x00\xff\xfe\xff\xff"),
	  INSN_AND, 10, 4, 4, 8, 0, F_IMM, 0xfffffffffffffeffull, NOSEG },
	{ "andb $0x7f,0x3(%rax)", M64, B("\x80\x60\x03\x7f"), INSN_AND, 4, 1, 1, 8, 0, F_IMM, 0x7f,
	  NOSEG },
	{ "addb $0xff,(%rax)", M64, B("\x80\x00\xff"), INSN_ADD, 3, 1, 1, 8, 0, F_IMM, ~0ull,
	  NOSEG },
	{ "and %ah,(%rcx)", M64, B("\x20\x21"), INSN_AND, 2, 1, 1, 8, REG_RAX, F_HIGH8, 0, NOSEG },
	{ "or (%rcx),%bh", M64, B("\x0a\x39"), INSN_OR, 2, 1, 1, 8, REG_RBX, F_HIGH8 | F_REG_DEST,
	  0, NOSEG },
	{ "xor %ecx,(%rax,%rbx,4)", M64, B("\x31\x0c\x98"), INSN_XOR, 3, 4, 4, 8, REG_RCX, 0, 0,
	  NOSEG },
	{ "xor %r10,0x12(%rip)", M64, B("\x4c\x31\x15\x12\x00\x00\x00"), INSN_XOR, 7, 8, 8, 8,
	  REG_R10, F_RIPREL, 0, NOSEG },
	{ "add 0x10(%rax),%edx", M64, B("\x03\x50\x10"), INSN_ADD, 3, 4, 4, 8, REG_RDX, F_REG_DEST,
	  0, NOSEG },
	{ "sub %rdx,(%r11)", M64, B("\x49\x29\x13"), INSN_SUB, 3, 8, 8, 8, REG_RDX, 0, 0, NOSEG },
	{ "adc %eax,(%rbx)", M64, B("\x11\x03"), INSN_ADC, 2, 4, 4, 8, REG_RAX, 0, 0, NOSEG },
	{ "sbbl $0x1,(%rbx)", M64, B("\x83\x1b\x01"), INSN_SBB, 3, 4, 4, 8, 0, F_IMM, 1, NOSEG },
	{ "lock sbbb $0x1,(%rbx)", M64, B("\xf0\x80\x1b\x01"), INSN_SBB, 4, 1, 1, 8, 0,
	  F_IMM | F_LOCK, 1, NOSEG },
	{ "lock addq $0xffffffffffffff80,0x8(%rsp)", M64, B("\xf0\x48\x83\x44\x24\x08\x80"),
	  INSN_ADD, 7, 8, 8, 8, 0, F_IMM | F_LOCK, 0xffffffffffffff80ull, NOSEG },
	{ "cmp %eax,0x20(%rax)", M64, B("\x39\x40\x20"), INSN_CMP, 3, 4, 4, 8, REG_RAX, 0, 0,
	  NOSEG },
	{ "cmp 0x20(%rax),%eax", M64, B("\x3b\x40\x20"), INSN_CMP, 3, 4, 4, 8, REG_RAX, F_REG_DEST,
	  0, NOSEG },
	{ "cmpl $0x0,0x20(%rax)", M64, B("\x83\x78\x20\x00"), INSN_CMP, 4, 4, 4, 8, 0, F_IMM, 0,
	  NOSEG },
	{ "cmpb $0x80,-0x80(%rax)", M64, B("\x80\x78\x80\x80"), INSN_CMP, 4, 1, 1, 8, 0, F_IMM,
	  0xffffffffffffff80ull, NOSEG },
	{ "test %ecx,(%rax)", M64, B("\x85\x08"), INSN_TEST, 2, 4, 4, 8, REG_RCX, 0, 0, NOSEG },
	{ "testl $0x1000,0x300(%rax)", M64, B("\xf7\x80\x00\x03\x00\x00\x00\x10\x00\x00"),
	  INSN_TEST, 10, 4, 4, 8, 0, F_IMM, 0x1000, NOSEG },
	{ "testb $0x1,(%rax)", M64, B("\xf6\x00\x01"), INSN_TEST, 3, 1, 1, 8, 0, F_IMM, 1, NOSEG },
	{ "xchg %eax,0x10(%rdx)", M64, B("\x87\x42\x10"), INSN_XCHG, 3, 4, 4, 8, REG_RAX, 0, 0,
	  NOSEG },
	{ "lock xchg %ecx,(%rdi)", M64, B("\xf0\x87\x0f"), INSN_XCHG, 3, 4, 4, 8, REG_RCX, F_LOCK,
	  0, NOSEG },
	{ "mov %fs:0x10,%eax", M64, B("\x64\x8b\x04\x25\x10\x00\x00\x00"), INSN_MOV_LOAD, 8, 4, 4,
	  8, REG_RAX, 0, 0, INSN_SEG_FS },
	{ "mov %gs:(%rax),%ecx", M64, B("\x65\x8b\x08"), INSN_MOV_LOAD, 3, 4, 4, 8, REG_RCX, 0, 0,
	  INSN_SEG_GS },
	{ "mov (%eax),%edx", M64, B("\x67\x8b\x10"), INSN_MOV_LOAD, 3, 4, 4, 4, REG_RDX, 0, 0,
	  NOSEG },
	{ "mov 0x10(%eip),%edx", M64, B("\x67\x8b\x15\x10\x00\x00\x00"), INSN_MOV_LOAD, 7, 4, 4, 4,
	  REG_RDX, F_RIPREL, 0, NOSEG },
	{ "mov %ax,0x10(%rip)", M64, B("\x66\x89\x05\x10\x00\x00\x00"), INSN_MOV_STORE, 7, 2, 2, 8,
	  REG_RAX, F_RIPREL, 0, NOSEG },
	/* A REX followed by a legacy prefix is ignored (SDM Vol. 2 2.2.1). */
	{ "rex.W data16 mov %ax,(%rbx)", M64, B("\x48\x66\x89\x03"), INSN_MOV_STORE, 4, 2, 2, 8,
	  REG_RAX, 0, 0, NOSEG },
	/* REX.W wins over 66; the last segment prefix counts; F3 is ignored. */
	{ "data16 mov %rax,%gs:(%rbx)", M64, B("\x66\x64\xf3\x65\x48\x89\x03"), INSN_MOV_STORE, 7,
	  8, 8, 8, REG_RAX, 0, 0, INSN_SEG_GS },
	/* Fifteen bytes is the limit, and allowed. */
	{ "13 x data16, mov %ax,(%rbx)", M64,
	  B("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x89\x03"), INSN_MOV_STORE, 15, 2,
	  2, 8, REG_RAX, 0, 0, NOSEG },

	/* 32-bit code. */
	{ "mov 0xfee00020,%eax", M32, B("\xa1\x20\x00\xe0\xfe"), INSN_MOV_LOAD, 5, 4, 4, 4, REG_RAX,
	  0, 0, NOSEG },
	{ "mov 0xfee00020,%ecx", M32, B("\x8b\x0d\x20\x00\xe0\xfe"), INSN_MOV_LOAD, 6, 4, 4, 4,
	  REG_RCX, 0, 0, NOSEG },
	{ "mov %edx,0xb0(%eax)", M32, B("\x89\x90\xb0\x00\x00\x00"), INSN_MOV_STORE, 6, 4, 4, 4,
	  REG_RDX, 0, 0, NOSEG },
	{ "movl $0x12345678,0xfec00000", M32, B("\xc7\x05\x00\x00\xc0\xfe\x78\x56\x34\x12"),
	  INSN_MOV_STORE, 10, 4, 4, 4, 0, F_IMM, 0x12345678, NOSEG },
	{ "mov (%esi,%edi,2),%ax", M32, B("\x66\x8b\x04\x7e"), INSN_MOV_LOAD, 4, 2, 2, 4, REG_RAX,
	  0, 0, NOSEG },
	{ "mov (%bx,%si),%eax", M32, B("\x67\x8b\x00"), INSN_MOV_LOAD, 3, 4, 4, 2, REG_RAX, 0, 0,
	  NOSEG },
	{ "movw $0x1234,0x0(%bp)", M32, B("\x67\x66\xc7\x46\x00\x34\x12"), INSN_MOV_STORE, 7, 2, 2,
	  2, 0, F_IMM, 0x1234, NOSEG },
	{ "movzbl 0x8(%ebp),%eax", M32, B("\x0f\xb6\x45\x08"), INSN_MOVZX, 4, 4, 1, 4, REG_RAX, 0,
	  0, NOSEG },
	{ "lock andl $0xfffffffe,0x300(%ebx)", M32, B("\xf0\x83\xa3\x00\x03\x00\x00\xfe"), INSN_AND,
	  8, 4, 4, 4, 0, F_IMM | F_LOCK, 0xfffffffffffffffeull, NOSEG },
	{ "mov %es:(%edi),%ecx", M32, B("\x26\x8b\x0f"), INSN_MOV_LOAD, 3, 4, 4, 4, REG_RCX, 0, 0,
	  INSN_SEG_ES },
	{ "mov %ss:(%edi),%eax", M32, B("\x36\x8b\x07"), INSN_MOV_LOAD, 3, 4, 4, 4, REG_RAX, 0, 0,
	  INSN_SEG_SS },
	{ "mov %cs:(%edi),%eax", M32, B("\x2e\x8b\x07"), INSN_MOV_LOAD, 3, 4, 4, 4, REG_RAX, 0, 0,
	  INSN_SEG_CS },
	{ "mov %ds:(%edi),%eax", M32, B("\x3e\x8b\x07"), INSN_MOV_LOAD, 3, 4, 4, 4, REG_RAX, 0, 0,
	  INSN_SEG_DS },
	{ "mov 0x10(%esp),%dl", M32, B("\x8a\x54\x24\x10"), INSN_MOV_LOAD, 4, 1, 1, 4, REG_RDX, 0,
	  0, NOSEG },
	{ "mov 0x0(%ebp),%eax", M32, B("\x8b\x45\x00"), INSN_MOV_LOAD, 3, 4, 4, 4, REG_RAX, 0, 0,
	  NOSEG },
	{ "mov 0x0(,%ecx,4),%eax", M32, B("\x8b\x04\x8d\x00\x00\x00\x00"), INSN_MOV_LOAD, 7, 4, 4,
	  4, REG_RAX, 0, 0, NOSEG },
	/* Without REX, 0x40-0x4f are not prefixes here: 0x8b 0x05 is mov absolute. */
	{ "mov 0x12345678,%eax", M32, B("\x8b\x05\x78\x56\x34\x12"), INSN_MOV_LOAD, 6, 4, 4, 4,
	  REG_RAX, 0, 0, NOSEG },

	/* 16-bit code. */
	{ "mov (%bx,%si),%ax", M16, B("\x8b\x00"), INSN_MOV_LOAD, 2, 2, 2, 2, REG_RAX, 0, 0,
	  NOSEG },
	{ "mov 0x1234,%ax", M16, B("\xa1\x34\x12"), INSN_MOV_LOAD, 3, 2, 2, 2, REG_RAX, 0, 0,
	  NOSEG },
	{ "mov 0x1234,%si", M16, B("\x8b\x36\x34\x12"), INSN_MOV_LOAD, 4, 2, 2, 2, REG_RSI, 0, 0,
	  NOSEG },
	{ "mov %ax,0x10(%bp,%di)", M16, B("\x89\x43\x10"), INSN_MOV_STORE, 3, 2, 2, 2, REG_RAX, 0,
	  0, NOSEG },
	{ "mov 0x1234(%bx),%cl", M16, B("\x8a\x8f\x34\x12"), INSN_MOV_LOAD, 4, 1, 1, 2, REG_RCX, 0,
	  0, NOSEG },
	{ "movl $0x12345678,(%di)", M16, B("\x66\xc7\x05\x78\x56\x34\x12"), INSN_MOV_STORE, 7, 4, 4,
	  2, 0, F_IMM, 0x12345678, NOSEG },
	{ "movw $0x5678,0x7f(%si)", M16, B("\xc7\x44\x7f\x78\x56"), INSN_MOV_STORE, 5, 2, 2, 2, 0,
	  F_IMM, 0x5678, NOSEG },
	{ "mov %eax,(%bx)", M16, B("\x66\x89\x07"), INSN_MOV_STORE, 3, 4, 4, 2, REG_RAX, 0, 0,
	  NOSEG },
	{ "mov (%eax),%eax", M16, B("\x67\x66\x8b\x00"), INSN_MOV_LOAD, 4, 4, 4, 4, REG_RAX, 0, 0,
	  NOSEG },
	{ "mov 0x10(%ecx,%edx,4),%dx", M16, B("\x67\x8b\x54\x91\x10"), INSN_MOV_LOAD, 5, 2, 2, 4,
	  REG_RDX, 0, 0, NOSEG },
	{ "orb $0x80,0x2(%bx)", M16, B("\x80\x4f\x02\x80"), INSN_OR, 4, 1, 1, 2, 0, F_IMM,
	  0xffffffffffffff80ull, NOSEG },
	{ "mov 0xb000,%al", M16, B("\xa0\x00\xb0"), INSN_MOV_LOAD, 3, 1, 1, 2, REG_RAX, 0, 0,
	  NOSEG },
	{ "addr32 mov 0xfee00020,%eax", M16, B("\x67\x66\xa1\x20\x00\xe0\xfe"), INSN_MOV_LOAD, 7, 4,
	  4, 4, REG_RAX, 0, 0, NOSEG },
};

#define CHECK(r, field, got, want)                                                                 \
	do {                                                                                       \
		if ((uint64_t)(got) != (uint64_t)(want))                                           \
			fail_msg("%s: %s is %#llx, expected %#llx", (r)->what, field,              \
				 (unsigned long long)(got), (unsigned long long)(want));           \
	} while (0)

/* A heap copy of exactly n bytes: ASan reports any read past it. */
static uint8_t *exact_copy(const uint8_t *bytes, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, bytes, n);
	return p;
}

static void check_row(const struct row *r, const struct insn *in)
{
	CHECK(r, "op", in->op, r->op);
	CHECK(r, "len", in->len, r->len);
	CHECK(r, "size", in->size, r->size);
	CHECK(r, "mem_size", in->mem_size, r->mem_size);
	CHECK(r, "addr_size", in->addr_size, r->addr_size);
	if (!(r->flags & F_IMM))
		CHECK(r, "reg", in->reg, r->reg);
	CHECK(r, "high8", in->high8, !!(r->flags & F_HIGH8));
	CHECK(r, "has_imm", in->has_imm, !!(r->flags & F_IMM));
	CHECK(r, "reg_dest", in->reg_dest, !!(r->flags & F_REG_DEST));
	CHECK(r, "lock", in->lock, !!(r->flags & F_LOCK));
	CHECK(r, "rip_relative", in->rip_relative, !!(r->flags & F_RIPREL));
	CHECK(r, "seg", in->seg, r->seg);
	CHECK(r, "imm", in->imm, r->imm);
}

static void test_encodings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		uint8_t *p = exact_copy(r->bytes, r->n);
		struct insn in;

		CHECK(r, "row length", r->n, r->len);
		if (insn_decode(p, r->n, r->mode, &in))
			fail_msg("%s: not decoded", r->what);
		check_row(r, &in);
		free(p);
	}
}

/* Bytes after the instruction do not change it. */
static void test_trailing_bytes_ignored(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		uint8_t buf[INSN_MAX_LEN + 4];
		struct insn in;

		memset(buf, 0x90, sizeof(buf));
		memcpy(buf, r->bytes, r->n);
		if (insn_decode(buf, sizeof(buf), r->mode, &in))
			fail_msg("%s: not decoded with trailing bytes", r->what);
		check_row(r, &in);
	}
}

/* Every proper prefix of every encoding is refused, reading only what it
 * was given. */
static void test_truncated(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		for (size_t n = 0; n < r->n; n++) {
			uint8_t *p = exact_copy(r->bytes, n);
			struct insn in;

			if (insn_decode(p, n, r->mode, &in) == 0)
				fail_msg("%s: its first %zu bytes decoded", r->what, n);
			free(p);
		}
	}
}

struct bad {
	const char *what;
	enum insn_mode mode;
	const uint8_t *bytes;
	size_t n;
};

static const struct bad bad[] = {
	{ "mov %eax,%eax (no memory operand)", M64, B("\x89\xc0") },
	{ "movzbl %al,%eax (no memory operand)", M64, B("\x0f\xb6\xc0") },
	{ "orl $1,%eax (no memory operand)", M64, B("\x83\xc8\x01") },
	{ "lock mov %eax,(%rbx)", M64, B("\xf0\x89\x03") },
	{ "lock mov (%rbx),%eax", M64, B("\xf0\x8b\x03") },
	{ "lock cmp %eax,(%rbx)", M64, B("\xf0\x39\x03") },
	{ "lock cmpl $1,(%rbx)", M64, B("\xf0\x83\x3b\x01") },
	{ "lock test %eax,(%rbx)", M64, B("\xf0\x85\x03") },
	{ "lock add (%rbx),%eax", M64, B("\xf0\x03\x03") },
	{ "lock movzbl (%rbx),%eax", M64, B("\xf0\x0f\xb6\x03") },
	{ "lock mov 0x1234,%al", M16, B("\xf0\xa0\x34\x12") },
	{ "c7 /1 (not MOV)", M64, B("\xc7\x08\x01\x00\x00\x00") },
	{ "c6 /7 (not MOV)", M64, B("\xc6\x38\x01") },
	{ "notl (%rax) (f7 /2)", M64, B("\xf7\x10") },
	{ "negb (%rax) (f6 /3)", M64, B("\xf6\x18") },
	{ "add $1,%al (no ModRM)", M64, B("\x04\x01") },
	{ "add $1,%eax (no ModRM)", M64, B("\x05\x01\x00\x00\x00") },
	{ "push %es", M32, B("\x06") },
	{ "82 /0 (alias of 80)", M32, B("\x82\x00\x01") },
	{ "nop", M64, B("\x90") },
	{ "syscall", M64, B("\x0f\x05") },
	{ "movnti %eax,(%rbx)", M64, B("\x0f\xc3\x03") },
	{ "dec %eax in 32-bit code", M32, B("\x48\x8b\x03") },
	{ "only prefixes", M64, B("\x66\x67\xf0\x48") },
	{ "16 bytes: 14 x data16, mov %ax,(%rbx)", M64,
	  B("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x89\x03") },
	{ "15 bytes of prefixes before a disp32", M64,
	  B("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x8b\x05\x00\x00\x00\x00") },
};

static void test_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *p = exact_copy(bad[i].bytes, bad[i].n);
		struct insn in;

		if (insn_decode(p, bad[i].n, bad[i].mode, &in) == 0)
			fail_msg("%s: decoded", bad[i].what);
		free(p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_trailing_bytes_ignored),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
