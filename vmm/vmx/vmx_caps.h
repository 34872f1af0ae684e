/* VMX capability MSRs and the VMCS control values pgvisor derives from
 * them. Pure computation over the MSR values, so the host unit tests feed
 * it the capability sets of real and emulated CPUs. */
#ifndef PGVISOR_VMX_CAPS_H
#define PGVISOR_VMX_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vmx_caps {
	uint64_t basic;
	uint64_t pinbased, procbased, exit, entry; /* legacy MSRs */
	uint64_t true_pinbased, true_procbased, true_exit, true_entry;
	uint64_t procbased2; /* 0 when the primary controls can't enable it */
	uint64_t misc;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_vpid;
	uint64_t vmcs_enum;
	uint64_t vmfunc; /* 0 when the secondary controls can't enable VM functions */
};

/* IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3 A.10) */
#define EPT_CAP_WALK_LENGTH_4 (1ull << 6)
#define EPT_CAP_MEMTYPE_WB (1ull << 14)
#define EPT_CAP_2MB_PAGES (1ull << 16)
#define EPT_CAP_1GB_PAGES (1ull << 17)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_ACCESSED_DIRTY (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)
#define VPID_CAP_INVVPID (1ull << 32)
#define VPID_CAP_INVVPID_ADDRESS (1ull << 40)
#define VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define VPID_CAP_INVVPID_ALL (1ull << 42)

/* IA32_VMX_MISC bits */
#define VMX_MISC_PREEMPT_RATE_MASK 0x1full
#define VMX_MISC_ACTIVITY_HLT (1ull << 6)
#define VMX_MISC_ACTIVITY_WAIT_SIPI (1ull << 8)

struct vmx_controls {
	uint32_t pinbased, procbased, procbased2, exit, entry;
	bool preemption_timer;	   /* PIN_PREEMPTION_TIMER usable */
	unsigned preemption_shift; /* timer ticks = TSC >> shift */
	bool vpid;
	bool ept_2mb, ept_1gb, ept_ad;
	/* PROC2_ENABLE_PML can be set (with the EPT A/D flags it needs,
	 * SDM 26.2.1.1): dirty logging turns it on per vCPU. */
	bool pml;
	bool invept_single, invvpid_single, invvpid_address;
	bool rdtscp, invpcid, xsaves;
	bool save_preemption_timer;
	bool pat; /* save/load IA32_PAT on exit and entry */
	bool activity_hlt;
	bool tpr_shadow;     /* PROC_USE_TPR_SHADOW: CR8 without exits */
	bool vmcs_shadowing; /* PROC2_VMCS_SHADOWING can be set (not in procbased2) */
	/* PROC2_VIRTUALIZE_X2APIC can be set, for a vCPU in x2APIC mode (not
	 * in procbased2: vmm/cpu/apicv.c sets it per vCPU). */
	bool x2apic_virt;
	bool apic_reg_virt; /* PROC2_APIC_REGISTER_VIRT, in procbased2 */
	/* PROC2_VIRTUALIZE_APIC_ACCESSES can be set, with APIC-register
	 * virtualization, for a vCPU whose xAPIC page is at the default
	 * base (per vCPU: vmm/cpu/apicv.c). */
	bool apic_access;
	/* PROC2_VIRTUAL_INTR_DELIVERY can be set, with x2APIC
	 * virtualization (per vCPU, like it). */
	bool virtual_intr_delivery;
};

/* A control setting honouring a capability MSR: bits that must be 1 (low
 * half) are set, bits that may not be 1 (high half) cleared (SDM A.3). */
uint32_t vmx_adjust_control(uint32_t wanted, uint64_t cap_msr);

/* Computes every control pgvisor runs guests with. Returns 0, or -1 with
 * one line in err naming the first required feature the CPU lacks. */
int vmx_compute_controls(const struct vmx_caps *caps, struct vmx_controls *out, char *err,
			 size_t errlen);

/* Removes the APIC virtualization controls from caps, as if the CPU
 * lacked them (pgvisor's "no-apicv"): the vLAPIC is then wholly emulated. */
void vmx_caps_hide_apicv(struct vmx_caps *caps);
/* Removes virtual-interrupt delivery alone ("no-vid"), as on CPUs with
 * TPR shadow and x2APIC virtualization but without it. */
void vmx_caps_hide_vid(struct vmx_caps *caps);

/* Names the APIC virtualization features c uses ("TPR shadow", ...), or
 * "none" when the vLAPIC is wholly emulated. Names that do not fit are
 * left out. */
void vmx_apic_format(const struct vmx_controls *c, char *buf, size_t len);

#endif
