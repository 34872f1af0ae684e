/* Operands of instructions that exited: general registers (RSP is in the
 * VMCS), memory operands described by the VM-exit instruction-information
 * field (SDM Vol. 3 27.2.5), and guest-linear memory accesses through the
 * guest's page tables that inject #PF as the CPU would. */
#ifndef PGVISOR_EXIT_OPERAND_H
#define PGVISOR_EXIT_OPERAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/vm/vcpu.h"

#define VEC_NP 11
#define VEC_PF 14

uint64_t operand_gpr_read(struct vcpu *v, unsigned n);
void operand_gpr_write(struct vcpu *v, unsigned n, uint64_t value);

/* CR4 as the guest reads it: masked bits from the read shadow (SDM Vol. 3
 * 25.6.6). */
uint64_t guest_cr4_view(void);
/* CR0 likewise. */
uint64_t guest_cr0_view(void);

/* Whether the guest runs 64-bit code (EFER.LMA and CS.L). */
bool operand_long_mode(void);

/* The linear address of a memory operand: segment base + base register +
 * index register * scale + displacement (the exit qualification),
 * truncated to the address size. Segment limits are not checked: pgvisor's
 * guests use flat segments. */
uint64_t operand_linear_address(struct vcpu *v, uint32_t info, uint64_t displacement);

/* Reads or writes len (at most 16) bytes at a guest-linear address.
 * Returns 0; or -1 after injecting #PF (CR2 set) or stopping the VM (a
 * table or the data outside its RAM): the caller just returns. */
int operand_read(struct vcpu *v, uint64_t linear, void *buf, size_t len);
int operand_write(struct vcpu *v, uint64_t linear, const void *buf, size_t len);

#endif
