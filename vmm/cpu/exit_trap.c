/* Instructions that exit only under a trap policy (trap_policy.h), each
 * emulated so the guest sees what the bare machine would show it: RDTSC,
 * RDTSCP, INVLPG, MOV DR, RDPMC, PAUSE, MONITOR and MWAIT. Privilege
 * checks (#GP or #UD at CPL > 0) come before these exits (SDM Vol. 3
 * 25.1.1); they are repeated where they cost nothing. */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu.h"
#include "arch/x86/lib/canonical.h"
#include "arch/x86/msr.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/exit_operand.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define CR4_TSD (1ull << 2)
#define CR4_DE (1ull << 3)
#define CR4_PCE (1ull << 8)
/* MOV DR exit qualification (SDM Vol. 3 table 27-4). */
#define DRQ_NUMBER_MASK 0x7u
#define DRQ_FROM_DR (1u << 4)
#define DRQ_GPR_SHIFT 8
#define DRQ_GPR_MASK 0xfu
#define DR6_FIXED_ONES 0xffff0ff0ull
#define DR7_FIXED_ONES 0x400ull
#define DR7_RESERVED_ZEROS 0xd000ull /* bits 12, 14, 15 */
/* RDPMC's counter index (SDM Vol. 2 RDPMC) and CPUID leaf 0xA. */
#define PMC_FIXED (1u << 30)
#define PMC_INDEX_MASK 0x3fffffffu
#define CPUID_PERFMON_LEAF 0xa

static void set_edx_eax(struct vcpu *v, uint64_t value)
{
	v->regs.gpr[REG_RAX] = (uint32_t)value;
	v->regs.gpr[REG_RDX] = value >> 32;
}

/* The guest's TSC: the host's plus the VMCS offset when offsetting is on
 * (SDM 25.3). */
static uint64_t guest_tsc(void)
{
	uint64_t tsc = rdtsc();

	if (vmread(VMCS_PROC_BASED_CTLS) & PROC_USE_TSC_OFFSETTING)
		tsc += vmread(VMCS_TSC_OFFSET);
	return tsc;
}

static bool tsc_denied(void)
{
	return (guest_cr4_view() & CR4_TSD) && vmcs_guest_cpl() != 0;
}

void handle_rdtsc(struct vcpu *v)
{
	if (tsc_denied()) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	set_edx_eax(v, guest_tsc());
	vmcs_skip_instruction();
}

void handle_rdtscp(struct vcpu *v)
{
	if (tsc_denied()) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	set_edx_eax(v, guest_tsc());
	/* IA32_TSC_AUX is the guest's while its vCPU runs (msr_policy.c). */
	v->regs.gpr[REG_RCX] = (uint32_t)rdmsr(MSR_IA32_TSC_AUX);
	vmcs_skip_instruction();
}

void handle_invlpg(struct vcpu *v)
{
	/* The qualification is INVLPG's linear address (SDM 27.2.1); the
	 * guest's translations of it are tagged with its VPID, on this CPU
	 * only, as INVLPG's are. A non-canonical address is a NOP in 64-bit
	 * mode. Without VPID every VM entry flushes them anyway (SDM
	 * 28.3.3.1). */
	uint64_t linear = vmread(VMCS_EXIT_QUALIFICATION);

	if (vmx_controls.vpid && canonical_address(linear))
		vmx_invvpid_address(vcpu_vpid(v), linear);
	vmcs_skip_instruction();
}

/* Debug registers DR0-DR3 and DR6 are not switched by VMX; the host does
 * not use them, so the guest's values live in the real registers. */
static uint64_t read_dr(unsigned n)
{
	uint64_t value = 0;

	switch (n) {
	case 0:
		__asm__ volatile("mov %%dr0, %0" : "=r"(value));
		break;
	case 1:
		__asm__ volatile("mov %%dr1, %0" : "=r"(value));
		break;
	case 2:
		__asm__ volatile("mov %%dr2, %0" : "=r"(value));
		break;
	case 3:
		__asm__ volatile("mov %%dr3, %0" : "=r"(value));
		break;
	case 6:
		__asm__ volatile("mov %%dr6, %0" : "=r"(value));
		break;
	case 7:
		value = vmread(VMCS_GUEST_DR7);
		break;
	}
	return value;
}

static void write_dr(unsigned n, uint64_t value)
{
	switch (n) {
	case 0:
		__asm__ volatile("mov %0, %%dr0" : : "r"(value));
		break;
	case 1:
		__asm__ volatile("mov %0, %%dr1" : : "r"(value));
		break;
	case 2:
		__asm__ volatile("mov %0, %%dr2" : : "r"(value));
		break;
	case 3:
		__asm__ volatile("mov %0, %%dr3" : : "r"(value));
		break;
	case 6:
		value = (value | DR6_FIXED_ONES) & 0xffffffffull;
		__asm__ volatile("mov %0, %%dr6" : : "r"(value));
		break;
	case 7:
		vmwrite(VMCS_GUEST_DR7, (value | DR7_FIXED_ONES) & ~DR7_RESERVED_ZEROS);
		break;
	}
}

/* MOV DR (SDM Vol. 2 MOV-Move to/from Debug Registers). DR4/DR5 alias
 * DR6/DR7 unless CR4.DE makes them #UD. DR7.GD (#DB) is not emulated. */
void handle_dr_access(struct vcpu *v)
{
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned n = qual & DRQ_NUMBER_MASK;
	unsigned gpr = (qual >> DRQ_GPR_SHIFT) & DRQ_GPR_MASK;
	bool wide = operand_long_mode();

	if (vmcs_guest_cpl() != 0) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	if (n == 4 || n == 5) {
		if (guest_cr4_view() & CR4_DE) {
			vmcs_inject_exception(VEC_UD, false, 0);
			return;
		}
		n += 2;
	}
	if (qual & DRQ_FROM_DR) {
		operand_gpr_write(v, gpr, read_dr(n));
	} else {
		uint64_t value = operand_gpr_read(v, gpr);
		if (!wide)
			value = (uint32_t)value;
		else if ((n == 6 || n == 7) && (value >> 32)) {
			vmcs_inject_exception(VEC_GP, true, 0);
			return;
		}
		write_dr(n, value);
	}
	vmcs_skip_instruction();
}

/* RDPMC reads the host's counter after checking the index the CPU would
 * (SDM Vol. 2 RDPMC): a bad one must be the guest's #GP, never the
 * hypervisor's. */
void handle_rdpmc(struct vcpu *v)
{
	uint32_t index = (uint32_t)v->regs.gpr[REG_RCX];
	struct cpuid_regs pm = cpuid(CPUID_PERFMON_LEAF, 0);
	unsigned general = (pm.eax >> 8) & 0xff, fixed = pm.edx & 0x1f;
	bool valid = (index & PMC_FIXED) ? (index & PMC_INDEX_MASK) < fixed
					 : !(index & ~PMC_INDEX_MASK) && index < general;

	if ((!(guest_cr4_view() & CR4_PCE) && vmcs_guest_cpl() != 0) || (pm.eax & 0xff) == 0 ||
	    !valid) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	uint32_t lo, hi;
	__asm__ volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(index));
	set_edx_eax(v, ((uint64_t)hi << 32) | lo);
	vmcs_skip_instruction();
}

/* PAUSE is a hint; MONITOR only arms a wake-up; MWAIT may end at any time
 * (SDM Vol. 2 MWAIT: it can wake spuriously): returning at once keeps
 * the physical CPU with the scheduler. */
void handle_hint(struct vcpu *v)
{
	(void)v;
	vmcs_skip_instruction();
}
