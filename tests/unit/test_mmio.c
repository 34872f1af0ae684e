/* Unit tests for vmm/dev/mmio.c (the MMIO bus) and the VMCS-free part of
 * vmm/cpu/mmio_emulate.c: extension and register merging, the ALU and its
 * flags (a table of known results, then a comparison with this host CPU's
 * own instructions), and whole instructions decoded from real encodings
 * and executed against a recording device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/cpu/insn_decode.h"
#include "vmm/cpu/mmio_emulate.h"
#include "vmm/dev/mmio.h"

/* ---- The bus ---- */

static uint64_t nop_read(void *dev, uint64_t addr, unsigned size)
{
	(void)dev;
	(void)addr;
	(void)size;
	return 0;
}

static void test_bus_register_find(void **state)
{
	(void)state;
	struct mmio_bus bus;
	int a, b;

	memset(&bus, 0, sizeof(bus));
	assert_int_equal(mmio_bus_register(&bus, 0xfee00000, 0x1000, nop_read, NULL, &a, "lapic"),
			 0);
	assert_int_equal(mmio_bus_register(&bus, 0xfec00000, 0x20, nop_read, NULL, &b, "ioapic"),
			 0);
	assert_int_equal(bus.nhandlers, 2);
	assert_null(mmio_bus_find(&bus, 0xfedfffff));
	assert_ptr_equal(mmio_bus_find(&bus, 0xfee00000)->dev, &a);
	assert_ptr_equal(mmio_bus_find(&bus, 0xfee00fff)->dev, &a);
	assert_null(mmio_bus_find(&bus, 0xfee01000));
	assert_ptr_equal(mmio_bus_find(&bus, 0xfec0001f)->dev, &b);
	assert_string_equal(mmio_bus_find(&bus, 0xfec00010)->name, "ioapic");
	assert_null(mmio_bus_find(&bus, 0xfec00020));
	assert_null(mmio_bus_find(&bus, 0));
}

static void test_bus_refusals(void **state)
{
	(void)state;
	struct mmio_bus bus;

	memset(&bus, 0, sizeof(bus));
	assert_int_equal(mmio_bus_register(&bus, 0x1000, 0x100, nop_read, NULL, NULL, "a"), 0);
	/* Identical, inside, straddling either end, enclosing. */
	assert_int_equal(mmio_bus_register(&bus, 0x1000, 0x100, nop_read, NULL, NULL, "x"), -1);
	assert_int_equal(mmio_bus_register(&bus, 0x1080, 1, nop_read, NULL, NULL, "x"), -1);
	assert_int_equal(mmio_bus_register(&bus, 0xf00, 0x101, nop_read, NULL, NULL, "x"), -1);
	assert_int_equal(mmio_bus_register(&bus, 0x10ff, 2, nop_read, NULL, NULL, "x"), -1);
	assert_int_equal(mmio_bus_register(&bus, 0, 0x10000, nop_read, NULL, NULL, "x"), -1);
	/* Empty, and wrapping past the top of the address space. */
	assert_int_equal(mmio_bus_register(&bus, 0x5000, 0, nop_read, NULL, NULL, "x"), -1);
	assert_int_equal(mmio_bus_register(&bus, ~0ull - 0xf, 0x11, nop_read, NULL, NULL, "x"), -1);
	assert_int_equal(bus.nhandlers, 1);
	/* Adjacent on both sides, and the very top of the space, are fine. */
	assert_int_equal(mmio_bus_register(&bus, 0xf00, 0x100, nop_read, NULL, NULL, "b"), 0);
	assert_int_equal(mmio_bus_register(&bus, 0x1100, 0x100, nop_read, NULL, NULL, "c"), 0);
	assert_int_equal(mmio_bus_register(&bus, ~0ull - 0xf, 0x10, nop_read, NULL, NULL, "t"), 0);
	assert_string_equal(mmio_bus_find(&bus, ~0ull)->name, "t");
	assert_string_equal(mmio_bus_find(&bus, 0x10ff)->name, "a");
	assert_string_equal(mmio_bus_find(&bus, 0x1100)->name, "c");
	/* A range overlapping the top one from below. */
	assert_int_equal(mmio_bus_register(&bus, ~0ull - 0x1f, 0x11, nop_read, NULL, NULL, "x"),
			 -1);
	/* Until the bus is full. */
	for (uint64_t i = bus.nhandlers; i < MMIO_MAX_HANDLERS; i++)
		assert_int_equal(mmio_bus_register(&bus, 0x100000 * (i + 1), 0x10, nop_read, NULL,
						   NULL, "f"),
				 0);
	assert_int_equal(mmio_bus_register(&bus, 0x40000000, 0x10, nop_read, NULL, NULL, "x"), -1);
	assert_int_equal(bus.nhandlers, MMIO_MAX_HANDLERS);
}

/* ---- Extension and register merging ---- */

static void test_extend(void **state)
{
	(void)state;
	assert_int_equal(mmio_extend(0x1234567880, 1, false), 0x80);
	assert_int_equal(mmio_extend(0x1234567880, 1, true), 0xffffffffffffff80ull);
	assert_int_equal(mmio_extend(0x7f, 1, true), 0x7f);
	assert_int_equal(mmio_extend(0xffff8000, 2, true), 0xffffffffffff8000ull);
	assert_int_equal(mmio_extend(0xffff8000, 2, false), 0x8000);
	assert_int_equal(mmio_extend(0x7fff, 2, true), 0x7fff);
	assert_int_equal(mmio_extend(0x80000000, 4, true), 0xffffffff80000000ull);
	assert_int_equal(mmio_extend(0xab80000000, 4, false), 0x80000000);
	assert_int_equal(mmio_extend(0x8000000000000000ull, 8, true), 0x8000000000000000ull);
	assert_int_equal(mmio_extend(~0ull, 8, false), ~0ull);
}

static void test_reg_read_merge(void **state)
{
	(void)state;
	const uint64_t r = 0x1122334455667788ull;

	assert_int_equal(mmio_reg_read(r, 1, false), 0x88);
	assert_int_equal(mmio_reg_read(r, 1, true), 0x77);
	assert_int_equal(mmio_reg_read(r, 2, false), 0x7788);
	assert_int_equal(mmio_reg_read(r, 4, false), 0x55667788);
	assert_int_equal(mmio_reg_read(r, 8, false), r);

	/* 8- and 16-bit writes keep the rest; 32-bit ones zero-extend. */
	assert_int_equal(mmio_reg_merge(r, 0xaabb, 1, false), 0x11223344556677bbull);
	assert_int_equal(mmio_reg_merge(r, 0xaabb, 1, true), 0x112233445566bb88ull);
	assert_int_equal(mmio_reg_merge(r, 0xccddaabb, 2, false), 0x112233445566aabbull);
	assert_int_equal(mmio_reg_merge(r, 0xffffffffccddaabbull, 4, false), 0xccddaabbull);
	assert_int_equal(mmio_reg_merge(r, 0xccddaabb, 8, false), 0xccddaabbull);
}

/* ---- The ALU ---- */

#define RFLAGS_RESERVED1 (1ull << 1) /* always 1 */
#define RFLAGS_IF (1ull << 9)
#define BASE_FLAGS (RFLAGS_RESERVED1 | RFLAGS_IF)

struct alu_case {
	enum insn_op op;
	unsigned size;
	uint64_t dst, src, flags_in, result, flags_out;
};

#define CF RFLAGS_CF
#define PF RFLAGS_PF
#define AF RFLAGS_AF
#define ZF RFLAGS_ZF
#define SF RFLAGS_SF
#define OF RFLAGS_OF

static const struct alu_case alu_cases[] = {
	{ INSN_ADD, 4, 0xffffffff, 1, OF | SF, 0, CF | PF | AF | ZF },
	{ INSN_ADD, 1, 0x7f, 1, 0, 0x80, OF | SF | AF },
	{ INSN_ADD, 2, 0x8000, 0x8000, 0, 0, CF | ZF | PF | OF },
	{ INSN_ADD, 8, 0x7fffffffffffffffull, 1, 0, 0x8000000000000000ull, OF | SF | AF | PF },
	{ INSN_ADD, 4, 0x100, 0x23, CF, 0x123, 0 },
	{ INSN_ADC, 4, 0xffffffff, 0, CF, 0, CF | ZF | PF | AF },
	{ INSN_ADC, 8, 5, ~0ull, CF, 5, CF | AF | PF },
	{ INSN_ADC, 1, 5, 3, 0, 8, 0 },
	{ INSN_SUB, 4, 0, 1, 0, 0xffffffff, CF | SF | AF | PF },
	{ INSN_SUB, 1, 0x80, 1, 0, 0x7f, OF | AF },
	{ INSN_SUB, 2, 0x1234, 0x1234, CF | SF, 0, ZF | PF },
	{ INSN_SBB, 1, 0, 0, CF, 0xff, CF | SF | AF | PF },
	{ INSN_SBB, 2, 3, 3, CF, 0xffff, CF | SF | AF | PF },
	{ INSN_SBB, 2, 3, 3, 0, 0, ZF | PF },
	{ INSN_CMP, 2, 5, 5, 0, 0, ZF | PF },
	{ INSN_CMP, 4, 1, 2, 0, 0xffffffff, CF | SF | AF | PF },
	{ INSN_CMP, 8, 0x8000000000000000ull, 1, 0, 0x7fffffffffffffffull, OF | AF | PF },
	{ INSN_AND, 4, 0xf0f0, 0x0ff0, CF | OF | AF, 0xf0, PF },
	{ INSN_AND, 4, 0x12345678, 0xfffffeff, 0, 0x12345678, PF },
	{ INSN_OR, 8, 0x8000000000000000ull, 1, ZF, 0x8000000000000001ull, SF },
	{ INSN_OR, 4, 0x100, 1, 0, 0x101, 0 },
	{ INSN_XOR, 2, 0xffff, 0xffff, CF, 0, ZF | PF },
	{ INSN_TEST, 1, 0x80, 0x80, 0, 0x80, SF },
	{ INSN_TEST, 4, 0x1000, 0x0fff, AF, 0, ZF | PF },
	/* Operands are used at the size: high bits do not leak in. */
	{ INSN_ADD, 1, 0xff01, 0xff01, 0, 2, 0 },
};

static void test_alu_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(alu_cases) / sizeof(alu_cases[0]); i++) {
		const struct alu_case *c = &alu_cases[i];
		uint64_t fl = BASE_FLAGS | c->flags_in;
		uint64_t res = mmio_alu(c->op, c->size, c->dst, c->src, &fl);

		if (res != c->result || fl != (BASE_FLAGS | c->flags_out))
			fail_msg("case %zu: result %#llx flags %#llx, expected %#llx flags %#llx",
				 i, (unsigned long long)res, (unsigned long long)fl,
				 (unsigned long long)c->result,
				 (unsigned long long)(BASE_FLAGS | c->flags_out));
	}
}

/* The host's own instruction on the same operands and flags. The stack
 * pointer steps over the red zone before PUSHF/POPF touch the stack. */
#define HOST_OP(name, insn, type)                                                                  \
	static uint64_t name(uint64_t d, uint64_t s, uint64_t *fl)                                 \
	{                                                                                          \
		type dd = (type)d, ss = (type)s;                                                   \
		uint64_t f = *fl;                                                                  \
		__asm__ volatile("lea -128(%%rsp), %%rsp\n\t"                                      \
				 "push %[f]\n\t"                                                   \
				 "popfq\n\t" insn " %[s], %[d]\n\t"                                \
				 "pushfq\n\t"                                                      \
				 "pop %[f]\n\t"                                                    \
				 "lea 128(%%rsp), %%rsp"                                           \
				 : [d] "+q"(dd), [f] "+r"(f)                                       \
				 : [s] "q"(ss)                                                     \
				 : "cc", "memory");                                                \
		*fl = f;                                                                           \
		return dd;                                                                         \
	}
#define HOST_OPS(op)                                                                               \
	HOST_OP(host_##op##b, #op "b", uint8_t)                                                    \
	HOST_OP(host_##op##w, #op "w", uint16_t)                                                   \
	HOST_OP(host_##op##l, #op "l", uint32_t)                                                   \
	HOST_OP(host_##op##q, #op "q", uint64_t)
HOST_OPS(add)
HOST_OPS(or)
HOST_OPS(adc)
HOST_OPS(sbb)
HOST_OPS(and)
HOST_OPS(sub)
HOST_OPS(xor)
HOST_OPS(cmp)
HOST_OPS(test)

typedef uint64_t (*host_op_fn)(uint64_t d, uint64_t s, uint64_t *fl);
#define HOST_ROW(op)                                                                               \
	{                                                                                          \
		host_##op##b, host_##op##w, host_##op##l, host_##op##q                             \
	}
/* Indexed by enum insn_op (INSN_ADD .. INSN_TEST), then log2 of the size. */
static const host_op_fn host_ops[][4] = {
	HOST_ROW(add), HOST_ROW(or),  HOST_ROW(adc), HOST_ROW(sbb),  HOST_ROW(and),
	HOST_ROW(sub), HOST_ROW(xor), HOST_ROW(cmp), HOST_ROW(test),
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64 */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random operands, half of them from the values where flags change. */
static uint64_t operand(void)
{
	static const uint64_t edges[] = {
		0,
		1,
		2,
		0xf,
		0x10,
		0x7f,
		0x80,
		0xff,
		0x7fff,
		0x8000,
		0xffff,
		0x7fffffff,
		0x80000000,
		0xffffffff,
		0x7fffffffffffffffull,
		0x8000000000000000ull,
		~0ull,
	};
	uint64_t r = rng();

	return (r & 1) ? edges[(r >> 1) % (sizeof(edges) / sizeof(edges[0]))] : rng();
}

#define HOST_ROUNDS 4000

static void test_alu_matches_host(void **state)
{
	(void)state;
	for (unsigned op = INSN_ADD; op <= INSN_TEST; op++) {
		for (unsigned lg = 0; lg < 4; lg++) {
			unsigned size = 1u << lg;
			for (unsigned n = 0; n < HOST_ROUNDS; n++) {
				uint64_t d = operand(), s = operand();
				uint64_t fl_in = BASE_FLAGS | (rng() & RFLAGS_ARITH);
				uint64_t want_fl = fl_in, got_fl = fl_in;
				uint64_t want = host_ops[op][lg](d, s, &want_fl);
				uint64_t got = mmio_alu((enum insn_op)op, size, d, s, &got_fl);
				bool stores = op != INSN_CMP && op != INSN_TEST;

				if ((stores && got != want) || got_fl != want_fl)
					fail_msg(
						"op %u size %u: %#llx, %#llx with flags %#llx: got "
						"%#llx/%#llx, host %#llx/%#llx",
						op, size, (unsigned long long)d,
						(unsigned long long)s, (unsigned long long)fl_in,
						(unsigned long long)got, (unsigned long long)got_fl,
						(unsigned long long)want,
						(unsigned long long)want_fl);
			}
		}
	}
}

/* ---- Whole instructions ---- */

#define DEV_BASE 0xfee00000ull
#define DEV_SIZE 0x100

/* A device with byte-addressed little-endian registers that records the
 * accesses it gets. */
struct fake_dev {
	uint8_t mem[DEV_SIZE];
	unsigned reads, writes;
	uint64_t addr;
	unsigned size;
	uint64_t value; /* last written */
};

static struct fake_dev dev;
static struct mmio_handler handler;
static struct mmio_cpu cpu;

static uint64_t dev_read(void *p, uint64_t addr, unsigned size)
{
	struct fake_dev *d = p;
	uint64_t v = 0;

	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(addr >= DEV_BASE && addr - DEV_BASE + size <= DEV_SIZE);
	memcpy(&v, d->mem + (addr - DEV_BASE), size);
	d->reads++;
	d->addr = addr;
	d->size = size;
	return v;
}

static void dev_write(void *p, uint64_t addr, unsigned size, uint64_t value)
{
	struct fake_dev *d = p;

	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(addr >= DEV_BASE && addr - DEV_BASE + size <= DEV_SIZE);
	if (size < 8)
		assert_true(value >> (8 * size) == 0);
	memcpy(d->mem + (addr - DEV_BASE), &value, size);
	d->writes++;
	d->addr = addr;
	d->size = size;
	d->value = value;
}

static int setup(void **state)
{
	(void)state;
	memset(&dev, 0, sizeof(dev));
	memset(&cpu, 0, sizeof(cpu));
	cpu.rflags = BASE_FLAGS;
	handler = (struct mmio_handler){ DEV_BASE, DEV_SIZE, dev_read, dev_write, &dev, "fake" };
	return 0;
}

static void dev_set(unsigned off, uint64_t v, unsigned size)
{
	memcpy(dev.mem + off, &v, size);
}

static uint64_t dev_get(unsigned off, unsigned size)
{
	uint64_t v = 0;

	memcpy(&v, dev.mem + off, size);
	return v;
}

/* Decodes bytes (which must be one whole instruction) and executes it with
 * its memory operand at DEV_BASE + off. */
#define RUN(mode, s, off) run(mode, (const uint8_t *)(s), sizeof(s) - 1, off)
static int run(enum insn_mode mode, const uint8_t *bytes, size_t n, unsigned off)
{
	struct insn in;

	assert_int_equal(insn_decode(bytes, n, mode, &in), 0);
	assert_int_equal(in.len, n);
	return mmio_execute(&in, DEV_BASE + off, &handler, &cpu);
}

static void test_loads(void **state)
{
	(void)state;
	/* mov 0x12345678(%rip),%eax: 32 bits zero-extend into RAX. */
	cpu.gpr[REG_RAX] = ~0ull;
	dev_set(0x20, 0xdeadbeef, 4);
	assert_int_equal(RUN(INSN_MODE_64, "\x8b\x05\x78\x56\x34\x12", 0x20), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0xdeadbeef);
	assert_int_equal(dev.reads, 1);
	assert_int_equal(dev.addr, DEV_BASE + 0x20);
	assert_int_equal(dev.size, 4);
	assert_int_equal(dev.writes, 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS);

	/* mov (%rbx),%ax keeps bits 63:16. */
	cpu.gpr[REG_RAX] = 0x1111222233334444ull;
	dev_set(0x10, 0xbeef, 2);
	assert_int_equal(RUN(INSN_MODE_64, "\x66\x8b\x03", 0x10), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0x111122223333beefull);

	/* mov (%rax),%ah writes bits 15:8 only. */
	dev_set(0x30, 0x5a, 1);
	assert_int_equal(RUN(INSN_MODE_64, "\x8a\x20", 0x30), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0x1111222233335aefull);
	assert_int_equal(dev.size, 1);

	/* mov 0x8(%r13),%r9b */
	cpu.gpr[REG_R9] = 0xffffffffffffffffull;
	assert_int_equal(RUN(INSN_MODE_64, "\x45\x8a\x4d\x08", 0x30), 0);
	assert_int_equal(cpu.gpr[REG_R9], 0xffffffffffffff5aull);

	/* mov 0x300(%r12),%r13: all 64 bits. */
	dev_set(0x40, 0x0123456789abcdefull, 8);
	assert_int_equal(RUN(INSN_MODE_64, "\x4d\x8b\xac\x24\x00\x03\x00\x00", 0x40), 0);
	assert_int_equal(cpu.gpr[REG_R13], 0x0123456789abcdefull);
	assert_int_equal(dev.size, 8);

	/* mov 0x7fff(%rsp,%rbp,8),%esp: RSP is a register like the others. */
	cpu.gpr[REG_RSP] = 0xffff8000deadb000ull;
	assert_int_equal(RUN(INSN_MODE_64, "\x8b\xa4\xec\xff\x7f\x00\x00", 0x40), 0);
	assert_int_equal(cpu.gpr[REG_RSP], 0x89abcdef);

	/* movabs 0xfec00000,%eax and mov 0xb000,%al in 16-bit code. */
	cpu.gpr[REG_RAX] = ~0ull;
	assert_int_equal(RUN(INSN_MODE_64, "\xa1\x00\x00\xc0\xfe\x00\x00\x00\x00", 0x40), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0x89abcdef);
	assert_int_equal(RUN(INSN_MODE_16, "\xa0\x00\xb0", 0x20), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0x89abcdef);
	dev_set(0x21, 0x77, 1);
	assert_int_equal(RUN(INSN_MODE_16, "\xa0\x00\xb0", 0x21), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0x89abcd77);

	/* mov (%bx,%si),%ax in 16-bit code. */
	assert_int_equal(RUN(INSN_MODE_16, "\x8b\x00", 0x20), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0x89ab77ef);
}

static void test_extending_loads(void **state)
{
	(void)state;
	dev_set(0x10, 0x8080, 2);
	/* movzwl 0x10(%rdx),%eax */
	cpu.gpr[REG_RAX] = ~0ull;
	assert_int_equal(RUN(INSN_MODE_64, "\x0f\xb7\x42\x10", 0x10), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0x8080);
	assert_int_equal(dev.size, 2);
	/* movsbq (%rsi),%rcx */
	assert_int_equal(RUN(INSN_MODE_64, "\x48\x0f\xbe\x0e", 0x10), 0);
	assert_int_equal(cpu.gpr[REG_RCX], 0xffffffffffffff80ull);
	assert_int_equal(dev.size, 1);
	/* movswl -0x4(%rbp),%r15d: sign-extends to 32, then zero to 64. */
	cpu.gpr[REG_R15] = 0x1234567800000000ull;
	assert_int_equal(RUN(INSN_MODE_64, "\x44\x0f\xbf\x7d\xfc", 0x10), 0);
	assert_int_equal(cpu.gpr[REG_R15], 0xffff8080ull);
	/* movzbw (%rax),%dx in 64-bit code (66 0f b6 10) keeps bits 63:16. */
	cpu.gpr[REG_RDX] = 0xaaaaaaaaaaaaaaaaull;
	assert_int_equal(RUN(INSN_MODE_64, "\x66\x0f\xb6\x10", 0x10), 0);
	assert_int_equal(cpu.gpr[REG_RDX], 0xaaaaaaaaaaaa0080ull);
	/* movzbl 0x8(%ebp),%eax in 32-bit code. */
	assert_int_equal(RUN(INSN_MODE_32, "\x0f\xb6\x45\x08", 0x11), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0x80);
	assert_int_equal(dev.writes, 0);
}

static void test_stores(void **state)
{
	(void)state;
	/* mov %edx,0xb0(%rax) */
	cpu.gpr[REG_RDX] = 0xaaaaaaaa12345678ull;
	assert_int_equal(RUN(INSN_MODE_64, "\x89\x90\xb0\x00\x00\x00", 0xb0), 0);
	assert_int_equal(dev.writes, 1);
	assert_int_equal(dev.size, 4);
	assert_int_equal(dev.value, 0x12345678);
	assert_int_equal(dev.addr, DEV_BASE + 0xb0);
	assert_int_equal(dev.reads, 0);

	/* mov %ah,(%rdi); mov %sil,(%rax); mov %ax,(%rbx) */
	cpu.gpr[REG_RAX] = 0x1234;
	assert_int_equal(RUN(INSN_MODE_64, "\x88\x27", 0), 0);
	assert_int_equal(dev.value, 0x12);
	assert_int_equal(dev.size, 1);
	cpu.gpr[REG_RSI] = 0xfedcba98;
	assert_int_equal(RUN(INSN_MODE_64, "\x40\x88\x30", 1), 0);
	assert_int_equal(dev.value, 0x98);
	assert_int_equal(RUN(INSN_MODE_64, "\x66\x89\x03", 2), 0);
	assert_int_equal(dev.value, 0x1234);
	assert_int_equal(dev.size, 2);
	assert_int_equal(dev_get(0, 4), 0x12349812);

	/* movl $0xdeadbeef,0x100(%rip); movq $-1,0x8(%rcx); movw; movb. */
	assert_int_equal(RUN(INSN_MODE_64, "\xc7\x05\x00\x01\x00\x00\xef\xbe\xad\xde", 0x10), 0);
	assert_int_equal(dev.value, 0xdeadbeef);
	assert_int_equal(dev.size, 4);
	assert_int_equal(RUN(INSN_MODE_64, "\x48\xc7\x41\x08\xff\xff\xff\xff", 0x18), 0);
	assert_int_equal(dev.value, ~0ull);
	assert_int_equal(dev.size, 8);
	assert_int_equal(RUN(INSN_MODE_64, "\x66\xc7\x40\x02\x34\x12", 0x20), 0);
	assert_int_equal(dev.value, 0x1234);
	assert_int_equal(RUN(INSN_MODE_64, "\xc6\x84\x48\x44\x33\x22\x11\x5a", 0x22), 0);
	assert_int_equal(dev.value, 0x5a);
	assert_int_equal(dev.size, 1);

	/* movabs %al,0xfec00010 and movabs %rax,0xfee000b0 */
	cpu.gpr[REG_RAX] = 0x0102030405060708ull;
	assert_int_equal(RUN(INSN_MODE_64, "\xa2\x10\x00\xc0\xfe\x00\x00\x00\x00", 0x30), 0);
	assert_int_equal(dev.value, 0x08);
	assert_int_equal(RUN(INSN_MODE_64, "\x48\xa3\xb0\x00\xe0\xfe\x00\x00\x00\x00", 0x38), 0);
	assert_int_equal(dev.value, 0x0102030405060708ull);
	/* movl $0x12345678,(%di) in 16-bit code */
	assert_int_equal(RUN(INSN_MODE_16, "\x66\xc7\x05\x78\x56\x34\x12", 0x40), 0);
	assert_int_equal(dev.value, 0x12345678);
	assert_int_equal(dev.size, 4);
	assert_int_equal(dev.reads, 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS);
}

static void test_read_modify_write(void **state)
{
	(void)state;
	/* orl $0x1,0x10(%rax) */
	dev_set(0x10, 0x100, 4);
	cpu.rflags = BASE_FLAGS | CF | OF | ZF;
	assert_int_equal(RUN(INSN_MODE_64, "\x83\x48\x10\x01", 0x10), 0);
	assert_int_equal(dev.reads, 1);
	assert_int_equal(dev.writes, 1);
	assert_int_equal(dev_get(0x10, 4), 0x101);
	assert_int_equal(cpu.rflags, BASE_FLAGS);

	/* lock orl $0x80000000,(%rbx) */
	assert_int_equal(RUN(INSN_MODE_64, "\xf0\x81\x0b\x00\x00\x00\x80", 0x10), 0);
	assert_int_equal(dev_get(0x10, 4), 0x80000101);
	assert_int_equal(dev.value, 0x80000101);
	assert_int_equal(cpu.rflags, BASE_FLAGS | SF);

	/* andl $0xfffffeff,0xf0(%rax) */
	dev_set(0xf0, 0x1ff, 4);
	assert_int_equal(RUN(INSN_MODE_64, "\x81\xa0\xf0\x00\x00\x00\xff\xfe\xff\xff", 0xf0), 0);
	assert_int_equal(dev_get(0xf0, 4), 0xff);
	assert_int_equal(cpu.rflags, BASE_FLAGS | PF);

	/* sub %rdx,(%r11) */
	dev_set(0x20, 5, 8);
	cpu.gpr[REG_RDX] = 7;
	assert_int_equal(RUN(INSN_MODE_64, "\x49\x29\x13", 0x20), 0);
	assert_int_equal(dev_get(0x20, 8), 0xfffffffffffffffeull);
	assert_int_equal(dev.size, 8);
	assert_int_equal(cpu.rflags, BASE_FLAGS | CF | SF | AF);

	/* adc %eax,(%rbx) with CF in */
	dev_set(0x30, 0xfffffffe, 4);
	cpu.gpr[REG_RAX] = 1;
	cpu.rflags = BASE_FLAGS | CF;
	assert_int_equal(RUN(INSN_MODE_64, "\x11\x03", 0x30), 0);
	assert_int_equal(dev_get(0x30, 4), 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS | CF | ZF | PF | AF);

	/* and %ah,(%rcx) */
	dev_set(0x40, 0xf0, 1);
	cpu.gpr[REG_RAX] = 0x3c00;
	assert_int_equal(RUN(INSN_MODE_64, "\x20\x21", 0x40), 0);
	assert_int_equal(dev_get(0x40, 1), 0x30);
	assert_int_equal(dev.size, 1);
}

static void test_register_destination(void **state)
{
	(void)state;
	/* add 0x10(%rax),%edx: the 32-bit result zero-extends. */
	dev_set(0x10, 0xffffffff, 4);
	cpu.gpr[REG_RDX] = 0xffffffff00000001ull;
	assert_int_equal(RUN(INSN_MODE_64, "\x03\x50\x10", 0x10), 0);
	assert_int_equal(cpu.gpr[REG_RDX], 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS | CF | ZF | PF | AF);
	assert_int_equal(dev.writes, 0);

	/* or (%rcx),%bh */
	dev_set(0x20, 0x81, 1);
	cpu.gpr[REG_RBX] = 0xffff0000000002ffull;
	assert_int_equal(RUN(INSN_MODE_64, "\x0a\x39", 0x20), 0);
	assert_int_equal(cpu.gpr[REG_RBX], 0xffff0000000083ffull);
	assert_int_equal(cpu.rflags, BASE_FLAGS | SF);
	assert_int_equal(dev.writes, 0);
}

static void test_compare_and_test(void **state)
{
	(void)state;
	/* cmp %eax,0x20(%rax) computes mem - eax; cmp 0x20(%rax),%eax the
	 * reverse. Neither writes. */
	dev_set(0x20, 1, 4);
	cpu.gpr[REG_RAX] = 2;
	assert_int_equal(RUN(INSN_MODE_64, "\x39\x40\x20", 0x20), 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS | CF | SF | AF | PF);
	assert_int_equal(RUN(INSN_MODE_64, "\x3b\x40\x20", 0x20), 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS);
	assert_int_equal(cpu.gpr[REG_RAX], 2);
	/* cmpl $0x0,0x20(%rax) */
	assert_int_equal(RUN(INSN_MODE_64, "\x83\x78\x20\x00", 0x20), 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS);
	dev_set(0x20, 0, 4);
	assert_int_equal(RUN(INSN_MODE_64, "\x83\x78\x20\x00", 0x20), 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS | ZF | PF);

	/* testl $0x1000,0x300(%rax); test %ecx,(%rax); testb $0x1,(%rax) */
	dev_set(0x30, 0x1001, 4);
	assert_int_equal(RUN(INSN_MODE_64, "\xf7\x80\x00\x03\x00\x00\x00\x10\x00\x00", 0x30), 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS | PF); /* 0x1000: low byte even */
	cpu.gpr[REG_RCX] = 0x0ffe;
	assert_int_equal(RUN(INSN_MODE_64, "\x85\x08", 0x30), 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS | ZF | PF);
	assert_int_equal(RUN(INSN_MODE_64, "\xf6\x00\x01", 0x30), 0);
	assert_int_equal(cpu.rflags, BASE_FLAGS);
	assert_int_equal(dev.writes, 0);
	assert_int_equal(dev.reads, 7);
}

static void test_xchg(void **state)
{
	(void)state;
	/* xchg %eax,0x10(%rdx) */
	dev_set(0x10, 0xcafef00d, 4);
	cpu.gpr[REG_RAX] = 0xffffffff12345678ull;
	assert_int_equal(RUN(INSN_MODE_64, "\x87\x42\x10", 0x10), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0xcafef00d);
	assert_int_equal(dev_get(0x10, 4), 0x12345678);
	/* xchg %bh,(%rdx) */
	cpu.gpr[REG_RBX] = 0xa5b6;
	assert_int_equal(RUN(INSN_MODE_64, "\x86\x3a", 0x10), 0);
	assert_int_equal(cpu.gpr[REG_RBX], 0x78b6);
	assert_int_equal(dev_get(0x10, 4), 0x123456a5);
	assert_int_equal(cpu.rflags, BASE_FLAGS);
}

static void test_access_past_range(void **state)
{
	(void)state;
	struct mmio_cpu before;

	cpu.gpr[REG_RDX] = 0x12345678;
	before = cpu;
	/* A 4-byte store at the last 2 bytes of the range: refused, untouched. */
	assert_int_equal(RUN(INSN_MODE_64, "\x89\x90\xb0\x00\x00\x00", DEV_SIZE - 2), -1);
	assert_int_equal(RUN(INSN_MODE_64, "\x83\x48\x10\x01", DEV_SIZE - 3), -1);
	assert_int_equal(dev.reads + dev.writes, 0);
	assert_memory_equal(&cpu, &before, sizeof(cpu));
	/* The last 4 bytes are fine. */
	assert_int_equal(RUN(INSN_MODE_64, "\x89\x90\xb0\x00\x00\x00", DEV_SIZE - 4), 0);
	assert_int_equal(dev.writes, 1);
}

/* An address past the end of the range (found by fuzz_mmio_emulate): the
 * room left, size - (gpa - base), must not wrap into a huge number. */
static void test_access_beyond_range(void **state)
{
	(void)state;
	struct mmio_cpu before = cpu;

	assert_int_equal(RUN(INSN_MODE_64, "\x00\x00", DEV_SIZE), -1);	   /* add %al,(%rax) */
	assert_int_equal(RUN(INSN_MODE_64, "\x8b\x00", DEV_SIZE + 8), -1); /* mov (%rax),%eax */
	assert_int_equal(dev.reads + dev.writes, 0);
	assert_memory_equal(&cpu, &before, sizeof(cpu));
}

static void test_missing_callbacks(void **state)
{
	(void)state;
	handler.read = NULL;
	handler.write = NULL;
	/* Reads are all ones at the size; writes vanish. */
	cpu.gpr[REG_RAX] = 0;
	assert_int_equal(RUN(INSN_MODE_64, "\x8b\x05\x78\x56\x34\x12", 0), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0xffffffff);
	assert_int_equal(RUN(INSN_MODE_64, "\x66\x8b\x03", 0), 0);
	assert_int_equal(cpu.gpr[REG_RAX], 0xffffffff);
	cpu.gpr[REG_RAX] = 0;
	assert_int_equal(RUN(INSN_MODE_64, "\x48\x0f\xbe\x06", 0), 0); /* movsbq (%rsi),%rax */
	assert_int_equal(cpu.gpr[REG_RAX], ~0ull);
	assert_int_equal(RUN(INSN_MODE_64, "\x83\x48\x10\x01", 0), 0);
	assert_int_equal(dev.reads + dev.writes, 0);
}

/* Memory with nothing behind it (vmm/cpu/exit_ept.c): one handler over the
 * whole address space with no callbacks, anywhere below 4 GiB and above. */
static void test_unbacked_memory(void **state)
{
	(void)state;
	const struct mmio_handler unbacked = { 0, ~0ull, NULL, NULL, NULL, "unbacked memory" };
	static const uint64_t addrs[] = { 0x400000,   0xc0000000, 0xfed00000,
					  0xff000000, 0xfffffffc, 0x100000000ull };
	struct insn in;

	for (unsigned i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		/* mov (%eax),%al: AL all ones, the rest of RAX kept. */
		cpu.gpr[REG_RAX] = 0x12345600;
		assert_int_equal(insn_decode((const uint8_t *)"\x8a\x00", 2, INSN_MODE_32, &in), 0);
		assert_int_equal(mmio_execute(&in, addrs[i], &unbacked, &cpu), 0);
		assert_int_equal(cpu.gpr[REG_RAX], 0x123456ff);
		/* movl $0,(%eax): dropped, nothing to fail. */
		assert_int_equal(insn_decode((const uint8_t *)"\xc7\x00\x00\x00\x00\x00", 6,
					     INSN_MODE_32, &in),
				 0);
		assert_int_equal(mmio_execute(&in, addrs[i], &unbacked, &cpu), 0);
		/* cmpl $-1,(%eax): equal, ZF set. */
		assert_int_equal(insn_decode((const uint8_t *)"\x83\x38\xff", 3, INSN_MODE_32, &in),
				 0);
		assert_int_equal(mmio_execute(&in, addrs[i], &unbacked, &cpu), 0);
		assert_true(cpu.rflags & RFLAGS_ZF);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus_register_find),
		cmocka_unit_test(test_bus_refusals),
		cmocka_unit_test(test_extend),
		cmocka_unit_test(test_reg_read_merge),
		cmocka_unit_test(test_alu_table),
		cmocka_unit_test(test_alu_matches_host),
		cmocka_unit_test_setup(test_loads, setup),
		cmocka_unit_test_setup(test_extending_loads, setup),
		cmocka_unit_test_setup(test_stores, setup),
		cmocka_unit_test_setup(test_read_modify_write, setup),
		cmocka_unit_test_setup(test_register_destination, setup),
		cmocka_unit_test_setup(test_compare_and_test, setup),
		cmocka_unit_test_setup(test_xchg, setup),
		cmocka_unit_test_setup(test_access_past_range, setup),
		cmocka_unit_test_setup(test_access_beyond_range, setup),
		cmocka_unit_test_setup(test_missing_callbacks, setup),
		cmocka_unit_test_setup(test_unbacked_memory, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
