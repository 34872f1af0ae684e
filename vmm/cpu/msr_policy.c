/* RDMSR/WRMSR policy. An allow-list: MSRs the guest reaches without an exit
 * are those VMX keeps per guest (SYSENTER_*, FS/GS base: in the VMCS) or
 * that are switched with the vCPU (syscall MSRs, TSC_AUX). Exiting ones are
 * emulated here; every other MSR raises #GP as on hardware without it.
 *
 * IA32_TSC_AUX is switched lazily, not through the VMCS MSR-load areas:
 * RDTSCP and RDPID read the real MSR without an exit, so the guest's value
 * must be in it while the guest runs, and the host never reads it (it has
 * no RDTSCP or RDPID of its own); the lazy switch costs two WRMSRs per
 * vCPU switch, the load areas one per exit and entry. Reads pass through;
 * writes exit, to refuse the reserved bits 63:32 (SDM Vol. 4 2.1, #GP),
 * which some CPUs (Bochs) would silently drop. */
#include <stdbool.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "arch/x86/msr.h"
#include "vmm/cpu/apicv.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/kvm_pv.h"
#include "vmm/cpu/msr_policy.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define BITMAP_READ_LOW 0
#define BITMAP_READ_HIGH 1024
#define BITMAP_WRITE_LOW 2048
#define BITMAP_WRITE_HIGH 3072
#define MSR_HIGH_BASE 0xc0000000u
#define MSR_RANGE 0x2000u
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_BTS_UNAVAILABLE (1ull << 11)
#define MISC_ENABLE_PEBS_UNAVAILABLE (1ull << 12)
#define MISC_ENABLE_DEFAULT                                                                        \
	(MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_BTS_UNAVAILABLE | MISC_ENABLE_PEBS_UNAVAILABLE)
#define PAT_VALID_TYPES 0xf3u /* memory types 0, 1, 4, 5, 6, 7 */
#define TSC_AUX_BITS 32	      /* bits 63:32 are reserved */

static const uint32_t passthrough[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,   MSR_IA32_SYSENTER_EIP, MSR_IA32_FS_BASE,
	MSR_IA32_GS_BASE,     MSR_IA32_KERNEL_GS_BASE, MSR_IA32_STAR,	      MSR_IA32_LSTAR,
	MSR_IA32_CSTAR,	      MSR_IA32_FMASK,
};

/* Passed through, but not part of the VMCS: switched lazily with the
 * vCPU (LAZY_MSR_COUNT entries). */
static const uint32_t lazy_msrs[LAZY_MSR_COUNT] = {
	MSR_IA32_KERNEL_GS_BASE, MSR_IA32_STAR,	 MSR_IA32_LSTAR,
	MSR_IA32_CSTAR,		 MSR_IA32_FMASK, MSR_IA32_TSC_AUX,
};

void msr_lazy_save(uint64_t *values)
{
	for (unsigned i = 0; i < LAZY_MSR_COUNT; i++)
		values[i] = rdmsr(lazy_msrs[i]);
}

void msr_lazy_load(const uint64_t *values)
{
	for (unsigned i = 0; i < LAZY_MSR_COUNT; i++)
		wrmsr(lazy_msrs[i], values[i]);
}

static void allow(uint8_t *bitmap, uint32_t msr, bool read, bool write)
{
	uint32_t base = msr >= MSR_HIGH_BASE ? msr - MSR_HIGH_BASE : msr;
	unsigned rd = msr >= MSR_HIGH_BASE ? BITMAP_READ_HIGH : BITMAP_READ_LOW;
	unsigned wr = msr >= MSR_HIGH_BASE ? BITMAP_WRITE_HIGH : BITMAP_WRITE_LOW;

	if (read)
		bitmap[rd + base / 8] &= (uint8_t) ~(1u << (base % 8));
	if (write)
		bitmap[wr + base / 8] &= (uint8_t) ~(1u << (base % 8));
}

void msr_bitmap_init(uint8_t *bitmap)
{
	memset(bitmap, 0xff, 4096);
	for (unsigned i = 0; i < sizeof(passthrough) / sizeof(passthrough[0]); i++)
		allow(bitmap, passthrough[i], true, true);
	/* TSC reads go straight to the (offset) TSC; writes set the offset. */
	allow(bitmap, MSR_IA32_TSC, true, false);
	allow(bitmap, MSR_IA32_TSC_AUX, true, false);
	allow(bitmap, MSR_IA32_EFER, true, false);
}

static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++)
		if (!(PAT_VALID_TYPES & (1u << ((pat >> (8 * i)) & 0xff))) ||
		    ((pat >> (8 * i)) & 0xf8))
			return false;
	return true;
}

static bool efer_valid(uint64_t value)
{
	uint64_t allowed = EFER_SCE | EFER_LME | EFER_LMA;

	if (cpuid(0x80000001, 0).edx & (1u << 20))
		allowed |= EFER_NXE;
	return !(value & ~allowed);
}

/* Reads an emulated MSR; false: no such MSR (the guest gets #GP). */
/* IA32_APIC_BASE, the x2APIC registers and IA32_TSC_DEADLINE belong to
 * the vCPU's local APIC. */
static bool is_lapic_msr(uint32_t msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST);
}

static bool msr_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	if (is_lapic_msr(msr))
		return vlapic_msr_read(&v->lapic, msr, value) == 0;
	if (kvm_pv_owns_msr(v, msr)) {
		*value = kvm_pv_msr_read(v, msr);
		return true;
	}
	switch (msr) {
	case MSR_IA32_TSC:
		*value = rdtsc() + vmread(VMCS_TSC_OFFSET);
		return true;
	case MSR_IA32_TSC_ADJUST:
		*value = v->tsc_adjust;
		return msr_tsc_adjust_offered();
	case MSR_IA32_FEATURE_CONTROL:
		/* Locked; VMX outside SMX enabled only where the guest has VMX. */
		*value = FEATURE_CONTROL_LOCKED |
			 (v->vm->cfg.nested ? FEATURE_CONTROL_VMX_OUTSIDE_SMX : 0);
		return true;
	case MSR_IA32_BIOS_SIGN_ID:
		*value = 0;
		return true;
	case MSR_IA32_MISC_ENABLE:
		*value = v->misc_enable;
		return true;
	case MSR_IA32_PAT:
		*value = vmread(VMCS_GUEST_IA32_PAT);
		return vmx_controls.pat;
	case MSR_IA32_EFER:
		*value = vmread(VMCS_GUEST_IA32_EFER);
		return true;
	case MSR_IA32_XSS:
		/* No supervisor state component is offered (cpuid_policy.c). */
		*value = 0;
		return vmx_controls.xsaves;
	default:
		/* The VMX capability MSRs of a guest with VMX (nested_caps.h). */
		return v->vm->cfg.nested && nested_caps_read(&v->vm->nested_caps, msr, value);
	}
}

bool msr_tsc_adjust_offered(void)
{
	return vmx_controls.procbased & PROC_USE_TSC_OFFSETTING;
}

/* Adds delta to v's TSC and to its TSC_ADJUST, which moves with every
 * write to either (SDM Vol. 3 18.17.3). Per vCPU, like each CPU's TSC;
 * the vLAPIC's TSC deadline is compared with the new value from now on. */
static void move_tsc(struct vcpu *v, uint64_t delta)
{
	v->tsc_adjust += delta;
	v->lapic.tsc_offset += delta;
	vmwrite(VMCS_TSC_OFFSET, v->lapic.tsc_offset);
	kvm_pv_tsc_changed(v);
	vtime_reschedule(&v->vm->vtime);
}

static bool msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	if (is_lapic_msr(msr)) {
		if (vlapic_msr_write(&v->lapic, msr, value))
			return false;
		if (msr == MSR_IA32_APIC_BASE) {
			/* A PV EOI offered before is settled while the vLAPIC
			 * still owns ISR: with virtual-interrupt delivery the
			 * guest's EOIs become the CPU's. */
			if (v->pv_eoi_pending)
				kvm_pv_eoi_collect(v);
			apicv_apic_mode_changed(v);
		}
		vtime_reschedule(&v->vm->vtime); /* the APIC timer may have moved */
		return true;
	}
	if (kvm_pv_owns_msr(v, msr))
		return kvm_pv_msr_write(v, msr, value);
	switch (msr) {
	case MSR_IA32_TSC:
		if (!(vmx_controls.procbased & PROC_USE_TSC_OFFSETTING))
			return false;
		/* TSC_ADJUST moves by what the write moved the TSC. */
		move_tsc(v, value - (rdtsc() + v->lapic.tsc_offset));
		return true;
	case MSR_IA32_TSC_ADJUST:
		if (!msr_tsc_adjust_offered())
			return false;
		move_tsc(v, value - v->tsc_adjust);
		return true;
	case MSR_IA32_TSC_AUX:
		/* It exists with RDTSCP (and RDPID, offered only with it). This
		 * vCPU owns the CPU's lazy MSRs while its exit is handled. */
		if (!vmx_controls.rdtscp || (value >> TSC_AUX_BITS))
			return false;
		wrmsr(MSR_IA32_TSC_AUX, value);
		return true;
	case MSR_IA32_BIOS_SIGN_ID:
		return true; /* a microcode update request: nothing to update */
	case MSR_IA32_MISC_ENABLE:
		/* Only the fast-strings bit is the guest's to change. */
		if ((value ^ v->misc_enable) & ~MISC_ENABLE_FAST_STRINGS)
			return false;
		v->misc_enable = value;
		return true;
	case MSR_IA32_PAT:
		if (!vmx_controls.pat || !pat_valid(value))
			return false;
		vmwrite(VMCS_GUEST_IA32_PAT, value);
		return true;
	case MSR_IA32_EFER: {
		uint64_t cur = vmread(VMCS_GUEST_IA32_EFER);
		/* Changing LME with paging on is #GP (SDM 9.8.5). */
		if (!efer_valid(value) ||
		    ((vmread(VMCS_GUEST_CR0) & CR0_PG) && ((value ^ cur) & EFER_LME)))
			return false;
		/* LMA is the CPU's to set (SDM 9.8.5): keep the current one. */
		uint64_t lma = cur & EFER_LMA;
		vmwrite(VMCS_GUEST_IA32_EFER, (value & ~EFER_LMA) | lma);
		return true;
	}
	case MSR_IA32_XSS:
		/* XSAVES runs with the host's IA32_XSS, which stays 0 (SDM
		 * 13.11): a guest may write only that. */
		return vmx_controls.xsaves && value == 0;
	default:
		return false;
	}
}

void handle_rdmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs.gpr[REG_RCX];
	uint64_t value;

	profile_count_key(&v->prof.msrs, msr);
	if (!msr_read(v, msr, &value)) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	v->regs.gpr[REG_RAX] = (uint32_t)value;
	v->regs.gpr[REG_RDX] = value >> 32;
	vmcs_skip_instruction();
}

void handle_wrmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs.gpr[REG_RCX];
	uint64_t value = (v->regs.gpr[REG_RDX] << 32) | (uint32_t)v->regs.gpr[REG_RAX];

	profile_count_key(&v->prof.msrs, msr);
	if (!msr_write(v, msr, value)) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	vmcs_skip_instruction();
}

uint64_t msr_misc_enable_default(void)
{
	return MISC_ENABLE_DEFAULT;
}
