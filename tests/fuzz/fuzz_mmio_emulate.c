/* libFuzzer harness: MMIO emulation (vmm/cpu/mmio_emulate.c) of the
 * instruction a guest's access faulted on, against a 4 KiB device register
 * file, as vmm/cpu/exit_ept.c runs it. Input: the CPU mode, the offset of
 * the faulting address in the device page, the 16 general registers and
 * RFLAGS, then the instruction bytes. No access may leave the device's
 * range. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/cpu/insn_decode.h"
#include "vmm/cpu/mmio_emulate.h"

#define MODES 3
#define DEV_BASE 0xfee00000ull
#define DEV_SIZE 0x1000u
/* The offset reaches past the page now and then: the access must be
 * refused, not performed. */
#define OFFSET_SPAN 0x1010u

static uint8_t regs[DEV_SIZE];

static void check_access(uint64_t addr, unsigned size)
{
	if (addr < DEV_BASE || addr - DEV_BASE + size > DEV_SIZE ||
	    (size != 1 && size != 2 && size != 4 && size != 8))
		abort();
}

static uint64_t dev_read(void *dev, uint64_t addr, unsigned size)
{
	uint64_t v = 0;

	(void)dev;
	check_access(addr, size);
	memcpy(&v, regs + (addr - DEV_BASE), size);
	return v;
}

static void dev_write(void *dev, uint64_t addr, unsigned size, uint64_t value)
{
	(void)dev;
	check_access(addr, size);
	memcpy(regs + (addr - DEV_BASE), &value, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mmio_handler dev = { DEV_BASE,  DEV_SIZE, dev_read,
						 dev_write, NULL,     "fuzz" };
	struct fuzz_in in = fuzz_in(data, size);
	struct mmio_cpu cpu;
	struct insn insn;

	enum insn_mode mode = (enum insn_mode)(fuzz_u8(&in) % MODES);
	uint64_t gpa = DEV_BASE + fuzz_u16(&in) % OFFSET_SPAN;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		cpu.gpr[i] = fuzz_u64(&in);
	cpu.rflags = fuzz_u64(&in);
	for (unsigned i = 0; i < DEV_SIZE; i += 8)
		memcpy(regs + i, &gpa, 8);
	uint8_t *bytes = fuzz_copy(in.p, in.left);
	if (insn_decode(bytes, in.left, mode, &insn) == 0)
		mmio_execute(&insn, gpa, &dev, &cpu);
	free(bytes);
	return 0;
}
