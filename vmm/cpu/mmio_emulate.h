/* Emulation of a guest instruction whose memory operand is a device
 * register: the access exited with an EPT violation at a guest-physical
 * address an MMIO handler owns. The instruction is fetched and decoded
 * (vmm/cpu/insn_decode.h), the access goes to the handler, the result to the
 * guest's registers and flags, and RIP moves past the instruction.
 *
 * The computation is separate from the VMCS: mmio_execute and the helpers
 * below work on a struct mmio_cpu and are tested on the host; mmio_emulate
 * is the glue that loads and stores it. */
#ifndef PGVISOR_MMIO_EMULATE_H
#define PGVISOR_MMIO_EMULATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/cpu/insn_decode.h"
#include "vmm/dev/mmio.h"
#include "vmm/vm/vcpu.h"

/* The arithmetic flags (SDM Vol. 1 3.4.3.1). */
#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* The guest state an emulated instruction reads and writes; gpr[REG_RSP]
 * is the real RSP here. */
struct mmio_cpu {
	uint64_t gpr[GPR_COUNT];
	uint64_t rflags;
};

/* The low size bytes of value, zero- or sign-extended to 64 bits. */
uint64_t mmio_extend(uint64_t value, unsigned size, bool sign);
/* The operand a register holds: its low size bytes, or bits 15:8 with
 * high8 (AH, CH, DH, BH). */
uint64_t mmio_reg_read(uint64_t reg, unsigned size, bool high8);
/* The register after writing a size-byte value to it (SDM Vol. 1 3.4.1.1):
 * 8 bytes replace it, 4 bytes zero-extend to 64 bits, 1 and 2 bytes (and
 * high8) leave the other bits as they were. */
uint64_t mmio_reg_merge(uint64_t reg, uint64_t value, unsigned size, bool high8);
/* dst OP src at size bytes for op in INSN_ADD..INSN_TEST, with the
 * arithmetic flags of *rflags updated as the instruction does (ADC and SBB
 * read CF from it). Returns the result, zero-extended; CMP and TEST
 * return it too, and the caller does not store it. */
uint64_t mmio_alu(enum insn_op op, unsigned size, uint64_t dst, uint64_t src, uint64_t *rflags);
/* Performs the decoded instruction in on cpu, with its memory operand at
 * gpa in the range of h (a NULL read reads all ones, a NULL write drops
 * the value, as on the port bus). Returns 0, or -1, doing nothing, when
 * the access runs past the end of h's range. */
int mmio_execute(const struct insn *in, uint64_t gpa, const struct mmio_handler *h,
		 struct mmio_cpu *cpu);

/* Emulates the instruction at the guest's CS:RIP, which touched gpa in
 * h's range, and advances RIP; or stops the VM when it cannot. */
void mmio_emulate(struct vcpu *v, uint64_t gpa, const struct mmio_handler *h);

#endif
