/* Building a vCPU's VMCS: execution controls, host state and the initial
 * guest state. */
#ifndef PGVISOR_VMCS_H
#define PGVISOR_VMCS_H

#include "arch/x86/cpu.h"
#include "vmm/vm/vcpu.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

/* How a vCPU starts: the register state a boot protocol promises. */
struct vcpu_boot_state {
	/* false: 32-bit protected mode, flat segments, paging off (Multiboot);
	 * true: 64-bit mode with the loader's page tables and GDT (Linux). */
	bool long_mode;
	/* An AP after its start-up IPI: real mode at sipi_vector * 4096
	 * (SDM Vol. 3 9.4.4.1, Table 9-1). */
	bool real_mode;
	uint8_t sipi_vector;
	uint64_t rip, rsp;
	uint64_t rax, rbx, rsi;
	uint64_t cr3;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint16_t cs_sel, ds_sel;
};

/* Allocates (once) and fills the VMCS of v for a guest starting in state s,
 * and leaves it current on this CPU (vmcs_release to hand it to another). Returns 0 or -1 with err
 * filled. */
int vmcs_setup(struct vcpu *v, const struct vcpu_boot_state *s, char *err, unsigned errlen);

/* Writes the host state of the calling CPU (its GS base, TSS, GDT, control
 * registers) into the current VMCS: a VMCS made current on another CPU
 * than the one that set it up exits to that CPU's state otherwise. */
void vmcs_write_host_state(void);
/* VMCLEARs v's VMCS, which must be active on this CPU (or on none), so
 * that another CPU can load it (SDM 25.11.1: a VMCS is active on one CPU
 * at a time). */
void vmcs_release(struct vcpu *v);

/* The guest CPL (SS.DPL; SDM 25.4.1). */
static inline unsigned vmcs_guest_cpl(void)
{
	return (vmread(VMCS_GUEST_SS_AR) >> 5) & 3;
}
/* The single-step trap of an instruction pgvisor completed for a guest
 * running with RFLAGS.TF (SDM Vol. 3 17.3.1.4): a #DB with DR6.BS. */
void vmcs_single_step_trap(void);
/* An emulated instruction is done, RIP already past it: ends the STI/MOV-SS
 * blocking it may have had (SDM 27.2.5) and traps if single-stepping. */
static inline void vmcs_complete_instruction(void)
{
	uint64_t intr = vmread(VMCS_GUEST_INTERRUPTIBILITY);
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
			intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	if (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF)
		vmcs_single_step_trap();
}
/* Advances the guest RIP past the instruction that exited and completes
 * it (vmcs_complete_instruction). Inline: most exits end with it. */
static inline void vmcs_skip_instruction(void)
{
	vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTRUCTION_LEN));
	vmcs_complete_instruction();
}
/* Queues a hardware exception for the next VM entry (SDM 26.6). A fault
 * pushes RFLAGS with RF set, as the CPU does (SDM Vol. 3 17.3.1.1). */
void vmcs_inject_exception(unsigned vector, bool has_error, uint32_t error);

#define VEC_DB 1
#define VEC_BP 3
#define VEC_OF 4
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_MC 18

#endif
