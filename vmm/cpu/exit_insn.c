/* Instructions that exit unconditionally or by our choice and are
 * emulated in place: HLT, INVD/WBINVD, XSETBV, and the instructions of
 * features hidden from the guest, which raise #UD as they would on a CPU
 * without those features. */
#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "vmm/cpu/cpuid_policy.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_OPMASK (1ull << 5)
#define XCR0_ZMM_HI256 (1ull << 6)
#define XCR0_HI16_ZMM (1ull << 7)
#define XCR0_AVX512 (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)

void handle_hlt(struct vcpu *v)
{
	vmcs_skip_instruction();
	/* A PV kick that came first ends the HLT at once, as in KVM: the
	 * waiter and the lock holder that kicks it race. */
	if (v->pv_unhalted) {
		v->pv_unhalted = false;
		return;
	}
	bool intr_off = !(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF);
	/* Blocking by NMI lasts until the guest's IRET, which a halted vCPU
	 * does not run: an NMI held back by it wakes nothing, as on the bare
	 * CPU (else the vCPU would leave each HLT at once, forever). */
	v->halted_nmi_blocked = vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_NMI;
	bool nmi_wakes = v->lapic.nmi_pending && !v->halted_nmi_blocked;
	/* Linux's PV spinlocks wait in HLT with interrupts off for the
	 * holder's kick (KVM_HC_KICK_CPU), once it learnt they are offered. */
	if (intr_off && v->vm->pv_unhalt_known) {
		v->halted = true;
		v->halted_until_kick = true;
		return;
	}
	/* Otherwise, with interrupts off only an NMI could wake the vCPU:
	 * `cli; hlt` is how a guest stops for good. */
	if (intr_off && !nmi_wakes) {
		/* An AP that stops (as Linux's do at power-off) leaves the
		 * others running; INIT can start it again. */
		if (v->id != 0) {
			v->start.parked = true;
			return;
		}
		vm_stop(v->vm, VM_END_HALTED,
			"halted (HLT with interrupts disabled, nothing can wake it)");
		return;
	}
	/* The scheduler runs others until an interrupt is pending. */
	v->halted = true;
}

void handle_cache_flush(struct vcpu *v)
{
	(void)v;
	/* INVD would drop other VMs' and the host's dirty lines: write back
	 * instead, which is always a correct implementation of INVD. */
	__asm__ volatile("wbinvd" ::: "memory");
	vmcs_skip_instruction();
}

/* XSETBV's #GP conditions (SDM Vol. 1 13.3). */
static bool xcr0_valid(uint64_t value)
{
	if (!(value & XCR0_X87) || (value & ~cpuid_xcr0_offered()))
		return false;
	if ((value & XCR0_AVX) && !(value & XCR0_SSE))
		return false;
	if ((value & XCR0_AVX512) && (value & XCR0_AVX512) != XCR0_AVX512)
		return false;
	return !((value & XCR0_AVX512) && !(value & XCR0_AVX));
}

void handle_xsetbv(struct vcpu *v)
{
	uint64_t value = (v->regs.gpr[REG_RDX] << 32) | (uint32_t)v->regs.gpr[REG_RAX];

	if (!(vmread(VMCS_GUEST_CR4) & CR4_OSXSAVE)) {
		vmcs_inject_exception(VEC_UD, false, 0);
		return;
	}
	if ((uint32_t)v->regs.gpr[REG_RCX] != 0 || vmcs_guest_cpl() != 0 || !xcr0_valid(value)) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	/* The hypervisor uses no extended state, so the guest's XCR0 simply
	 * stays loaded; a vCPU switch saves and restores it. */
	v->xcr0 = value;
	fpu_set_xcr0(value);
	vmcs_skip_instruction();
}

void handle_undefined(struct vcpu *v)
{
	(void)v;
	vmcs_inject_exception(VEC_UD, false, 0);
}
