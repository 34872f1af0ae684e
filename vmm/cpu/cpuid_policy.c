/* CPUID as guests see it. Every CPUID exits (SDM 25.1.2), so the guest sees
 * exactly what this policy returns: the host's values with features the
 * hypervisor cannot virtualize cleared, VMX hidden, and the hypervisor
 * leaves (0x40000000) present, the convention KVM, Xen and Hyper-V share. */
#include <string.h>

#include "vmm/cpu/cpuid_policy.h"

#include "arch/x86/cpu.h"
#include "vmm/abi/hypercall_abi.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/kvm_pv.h"
#include "vmm/cpu/msr_policy.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/cpu/xsave_layout.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define LEAF_MAX_BASIC 0xd /* leaves above are not offered ... */
/* ... but for the TSC and frequency leaves where the CPU has them. */
#define LEAF_TSC_CRYSTAL 0x15
#define LEAF_FREQUENCY 0x16
#define LEAF_MAX_TIMING LEAF_FREQUENCY
#define HZ_PER_MHZ 1000000
#define LEAF_HYPERVISOR_MAX PGVISOR_CPUID_TIMING_LEAF
#define HZ_PER_KHZ 1000
#define LEAF_EXT_BASE 0x80000000u
#define LEAF_EXT_MAX 0x80000008u

/* Leaf 1 ECX: keep SSE3..AVX and friends, x2APIC and TSC-deadline (the
 * virtual local APIC has both); drop MONITOR, VMX, SMX, EST, TM2, SDBG,
 * PDCM and DCA. VMX returns for a VM with nested = 1. */
#define L1_ECX_DROP                                                                                \
	((1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 11) | (1u << 15) |     \
	 (1u << 18))
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_TSC_DEADLINE (1u << 24)
#define L1_ECX_OSXSAVE (1u << 27)
/* Leaf 1 EDX: drop MCE, MTRR, MCA, DS, ACPI thermal, TM, PBE: those MSRs
 * are not virtualized. APIC follows the virtual local APIC's IA32_APIC_BASE.EN. */
#define L1_EDX_DROP                                                                                \
	((1u << 7) | (1u << 12) | (1u << 14) | (1u << 21) | (1u << 22) | (1u << 29) | (1u << 31))
#define L1_EDX_APIC (1u << 9)
/* Leaf 7.0 EBX allow-list: FSGSBASE, BMI1, AVX2, FDP_EXCPTN_ONLY, SMEP,
 * BMI2, ERMS, FPU CS/DS deprecation, AVX-512 F/DQ, RDSEED, ADX, SMAP,
 * AVX-512 IFMA, CLFLUSHOPT, CLWB, AVX-512 CD, SHA, AVX-512 BW/VL. */
#define L7_EBX_ALLOW                                                                               \
	((1u << 0) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 9) |       \
	 (1u << 13) | (1u << 16) | (1u << 17) | (1u << 18) | (1u << 19) | (1u << 20) |             \
	 (1u << 21) | (1u << 23) | (1u << 24) | (1u << 28) | (1u << 29) | (1u << 30) | (1u << 31))
#define L7_EBX_INVPCID (1u << 10)
/* IA32_TSC_ADJUST, emulated (msr_policy.c): with an invariant TSC it
 * lets Linux trust the TSC without its clocksource watchdog, a timer
 * that would wake an idle guest twice a second. */
#define L7_EBX_TSC_ADJUST (1u << 1)
/* Leaf 7.0 ECX allow-list: AVX-512 VBMI, UMIP, GFNI, VAES, VPCLMULQDQ,
 * AVX-512 VNNI/BITALG/VPOPCNTDQ. */
#define L7_ECX_ALLOW                                                                               \
	((1u << 1) | (1u << 2) | (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11) | (1u << 12) |    \
	 (1u << 14))
#define L7_ECX_RDPID (1u << 22)
#define L7_ECX_UMIP (1u << 2)
#define L7_EDX_ALLOW (1u << 4) /* fast short REP MOV */
#define EXT1_EDX_RDTSCP (1u << 27)
#define EXT7_EDX_INVARIANT_TSC (1u << 8)
#define LEAF_XSAVE 0xd
/* XSAVE components whose features the guest may be offered (leaf 1 AVX,
 * leaf 7 AVX-512 F): x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM. Not
 * MPX, PKRU or AMX, whose feature flags are hidden. */
#define XCR0_ALLOWED                                                                               \
	((1ull << 0) | (1ull << 1) | (1ull << 2) | (1ull << 5) | (1ull << 6) | (1ull << 7))
#define LEAF1_EBX_APIC_ID_SHIFT 24
#define LEAF1_EBX_COUNT_SHIFT 16
/* Leaf 0xB, extended topology (SDM Vol. 2A, CPUID): level types in
 * ECX[15:8], the x2APIC ID in EDX. Each vCPU is a core of one thread. */
#define LEAF_TOPOLOGY 0xb
#define TOPO_LEVEL_SMT 1u
#define TOPO_LEVEL_CORE 2u
#define TOPO_TYPE_SHIFT 8

/* The leaves offered: the host's, capped. */
static uint32_t max_basic, max_ext;
/* The answers that depend on neither the vCPU nor the subleaf, computed
 * once: a CPUID exit for them is a table lookup, not a host CPUID. */
static struct cpuid_regs fixed_basic[LEAF_MAX_TIMING + 1];
static struct cpuid_regs fixed_ext[LEAF_EXT_MAX - LEAF_EXT_BASE + 1];
static struct xsave_layout xsave;

static void signature(struct cpuid_regs *r)
{
	const char *sig = PGVISOR_CPUID_SIGNATURE;

	r->eax = LEAF_HYPERVISOR_MAX;
	memcpy(&r->ebx, sig, 4);
	memcpy(&r->ecx, sig + 4, 4);
	memcpy(&r->edx, sig + 8, 4);
}

/* Leaves 1 and 0xB carry the vCPU's APIC ID (and leaf 1 CR4.OSXSAVE and
 * IA32_APIC_BASE.EN); 4, 7, 0xB and 0xd have subleaves; 0x15 and 0x16 the
 * VM's clocks. */
static bool leaf_varies(uint32_t leaf)
{
	return leaf == 1 || leaf == 4 || leaf == 7 || leaf == LEAF_TOPOLOGY || leaf == LEAF_XSAVE ||
	       leaf == LEAF_TSC_CRYSTAL || leaf == LEAF_FREQUENCY;
}

/* Bits of the x2APIC ID that number n vCPUs: ceil(log2(n)). */
static uint32_t id_bits(uint32_t n)
{
	uint32_t bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

/* Leaf 0xB: one thread per core, the VM's vCPUs as the cores of one
 * package; the levels past those are invalid (type 0). */
static struct cpuid_regs topology(const struct vcpu *v, uint32_t subleaf)
{
	struct cpuid_regs r = { 0, 0, subleaf & 0xff, v->id };

	if (subleaf == 0) {
		r.ebx = 1;
		r.ecx |= TOPO_LEVEL_SMT << TOPO_TYPE_SHIFT;
	} else if (subleaf == 1) {
		r.eax = id_bits(v->vm->nvcpus);
		r.ebx = v->vm->nvcpus;
		r.ecx |= TOPO_LEVEL_CORE << TOPO_TYPE_SHIFT;
	}
	return r;
}

static struct xsave_component_info host_xsave_component(unsigned i)
{
	struct cpuid_regs r = cpuid(LEAF_XSAVE, i);

	return (struct xsave_component_info){ r.eax, r.ebx, r.ecx };
}

/* Leaf 0xD from the components offered (xsave_layout.h): sizes for the
 * vCPU's XCR0 computed, not the host's, so that they always agree with
 * the subleaves. XSAVES where VMX lets the guest run it, but no
 * supervisor component (subleaf 1 ECX:EDX 0): IA32_XSS stays 0
 * (msr_policy.c), so the compacted size is XSAVEC's and XSAVES's alike,
 * and the guest takes the instructions it would take on the bare CPU. */
static struct cpuid_regs xsave_leaf(const struct vcpu *v, uint32_t subleaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if (subleaf == 0) {
		r.eax = (uint32_t)xsave.offered;
		r.edx = (uint32_t)(xsave.offered >> 32);
		r.ebx = xsave_standard_size(&xsave, v->xcr0);
		r.ecx = xsave_standard_size(&xsave, xsave.offered);
	} else if (subleaf == 1) {
		r.eax = cpuid(LEAF_XSAVE, 1).eax;
		if (!vmx_controls.xsaves)
			r.eax &= ~CPUID_0D_1_EAX_XSAVES;
		r.ebx = xsave_compacted_size(&xsave, v->xcr0);
	} else if (subleaf < XSAVE_COMPONENTS && (xsave.offered & (1ull << subleaf))) {
		r = cpuid(LEAF_XSAVE, subleaf);
	}
	return r;
}

uint64_t cpuid_xcr0_offered(void)
{
	return xsave.offered;
}

/* The answer for an offered leaf (at most max_basic or max_ext). */
static struct cpuid_regs answer(struct vcpu *v, uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	switch (leaf) {
	case 0:
		r = cpuid(0, 0);
		r.eax = max_basic;
		break;
	case 1:
		r = cpuid(1, 0);
		r.ecx &= ~L1_ECX_DROP;
		r.ecx |= CPUID_1_ECX_HYPERVISOR;
		/* OSXSAVE mirrors the guest's CR4, not the host's. */
		r.ecx &= ~L1_ECX_OSXSAVE;
		if (vmread(VMCS_GUEST_CR4) & CR4_OSXSAVE)
			r.ecx |= L1_ECX_OSXSAVE;
		r.edx &= ~(L1_EDX_DROP | L1_EDX_APIC);
		/* Clearing IA32_APIC_BASE.EN clears CPUID's APIC flag (SDM
		 * 11.4.3). */
		if (vlapic_hw_enabled(&v->lapic))
			r.edx |= L1_EDX_APIC;
		r.ecx |= L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE;
		if (v->vm->cfg.nested)
			r.ecx |= CPUID_1_ECX_VMX;
		r.ebx = (r.ebx & 0xffff) | (v->id << LEAF1_EBX_APIC_ID_SHIFT) |
			(v->vm->nvcpus << LEAF1_EBX_COUNT_SHIFT);
		break;
	case 2:
		r = cpuid(2, 0); /* cache descriptors */
		break;
	case 4:
		r = cpuid(4, subleaf);
		r.eax &= 0x3ff; /* cache type and level; no sharing, one core */
		break;
	case 7:
		if (subleaf == 0) {
			struct cpuid_regs h = cpuid(7, 0);
			r.ebx = h.ebx & L7_EBX_ALLOW;
			if (vmx_controls.invpcid)
				r.ebx |= h.ebx & L7_EBX_INVPCID;
			if (msr_tsc_adjust_offered())
				r.ebx |= L7_EBX_TSC_ADJUST;
			r.ecx = h.ecx & L7_ECX_ALLOW;
			if (vmx_controls.rdtscp)
				r.ecx |= h.ecx & L7_ECX_RDPID;
			/* The "umip" trap emulates it where the CPU lacks it. */
			if (v->vm->cfg.traps & TRAP_BIT(TRAP_UMIP))
				r.ecx |= L7_ECX_UMIP;
			r.edx = h.edx & L7_EDX_ALLOW;
		}
		break;
	case LEAF_TOPOLOGY:
		r = topology(v, subleaf);
		break;
	case LEAF_TSC_CRYSTAL: {
		/* TSC = ECX * EBX / EAX (SDM Vol. 2A, CPUID leaf 15H), the
		 * crystal being the local APIC timer's clock, as on the CPUs
		 * that have this leaf and as Linux assumes (it sets its APIC
		 * timer from ECX). The TSC rate pgvisor measured need not be
		 * a whole multiple of the crystal's: it is off by less than
		 * EBX Hz. */
		uint64_t tsc = v->vm->vtime.tsc_hz, crystal = v->lapic.timer_hz;
		if (crystal && tsc >= crystal)
			r = (struct cpuid_regs){ 1, (uint32_t)(tsc / crystal), (uint32_t)crystal,
						 0 };
		break;
	}
	case LEAF_FREQUENCY:
		/* Base and maximum MHz (the TSC's), bus MHz (SDM leaf 16H). */
		r.eax = r.ebx = (uint32_t)(v->vm->vtime.tsc_hz / HZ_PER_MHZ);
		r.ecx = (uint32_t)(v->lapic.timer_hz / HZ_PER_MHZ);
		break;
	case LEAF_XSAVE:
		r = xsave_leaf(v, subleaf);
		break;
	case LEAF_EXT_BASE:
		r = cpuid(LEAF_EXT_BASE, 0);
		r.eax = max_ext;
		break;
	case 0x80000001u:
		r = cpuid(leaf, 0);
		if (!vmx_controls.rdtscp)
			r.edx &= ~EXT1_EDX_RDTSCP;
		break;
	case 0x80000007u:
		/* Only the invariant TSC: the guest's TSC is the host's plus an
		 * offset, so it runs at the host's constant rate through power
		 * states and VM switches (SDM Vol. 3 18.17.1). Linux then
		 * keeps it as its clock. */
		r.edx = cpuid(leaf, 0).edx & EXT7_EDX_INVARIANT_TSC;
		break;
	case 0x80000002u:
	case 0x80000003u:
	case 0x80000004u: /* brand string */
	case 0x80000006u: /* L2 cache */
	case 0x80000008u: /* address sizes */
		r = cpuid(leaf, 0);
		break;
	default:
		break; /* 3, 5, 6, 8-0xa, 0xc, 0xe-0x14, 0x80000005: nothing offered */
	}
	return r;
}

void cpuid_policy_init(void)
{
	max_basic = cpuid(0, 0).eax;
	max_ext = cpuid(LEAF_EXT_BASE, 0).eax;
	/* Where the CPU has the TSC leaf, the guest gets it (and 0x16 when
	 * the CPU has that): leaves 0xe-0x14 then read as empty. */
	if (max_basic > LEAF_MAX_TIMING)
		max_basic = LEAF_MAX_TIMING;
	else if (max_basic > LEAF_MAX_BASIC && max_basic < LEAF_TSC_CRYSTAL)
		max_basic = LEAF_MAX_BASIC;
	if (max_ext > LEAF_EXT_MAX)
		max_ext = LEAF_EXT_MAX;
	if (max_basic >= LEAF_XSAVE) {
		struct cpuid_regs x = cpuid(LEAF_XSAVE, 0);
		xsave_layout_init(&xsave, (uint64_t)x.edx << 32 | x.eax, XCR0_ALLOWED,
				  host_xsave_component);
	}
	for (uint32_t leaf = 0; leaf <= max_basic; leaf++)
		if (!leaf_varies(leaf))
			fixed_basic[leaf] = answer(NULL, leaf, 0);
	for (uint32_t leaf = LEAF_EXT_BASE; leaf <= max_ext; leaf++)
		fixed_ext[leaf - LEAF_EXT_BASE] = answer(NULL, leaf, 0);
}

/* Every leaf but the table's basic ones. Not inlined: handle_cpuid's
 * common case then saves no registers for it. */
static __attribute__((noinline)) struct cpuid_regs policy(struct vcpu *v, uint32_t leaf,
							  uint32_t subleaf)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };

	if (leaf >= 0x40000000u && leaf < LEAF_EXT_BASE) {
		if (kvm_pv_cpuid_leaf(leaf))
			return kvm_pv_cpuid(v, leaf);
		if (leaf == 0x40000000u)
			signature(&r);
		else if (leaf == 0x40000001u)
			r.eax = HC_ABI_VERSION;
		else if (leaf == PGVISOR_CPUID_TIMING_LEAF) {
			r.eax = (uint32_t)(v->vm->vtime.tsc_hz / HZ_PER_KHZ);
			r.ebx = (uint32_t)(v->lapic.timer_hz / HZ_PER_KHZ);
		}
		return r;
	}
	/* Intel: a leaf above the maximum returns the highest basic leaf. */
	if (leaf >= LEAF_EXT_BASE ? leaf > max_ext : leaf > max_basic)
		leaf = max_basic;
	if (leaf >= LEAF_EXT_BASE)
		return fixed_ext[leaf - LEAF_EXT_BASE];
	return leaf_varies(leaf) ? answer(v, leaf, subleaf) : fixed_basic[leaf];
}

void handle_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->regs.gpr[REG_RAX];
	uint32_t subleaf = (uint32_t)v->regs.gpr[REG_RCX];
	/* The common case first: an offered basic leaf from the table. */
	struct cpuid_regs r = leaf <= max_basic && !leaf_varies(leaf) ? fixed_basic[leaf]
								      : policy(v, leaf, subleaf);

	/* CPUID writes all four registers and clears their upper halves. */
	v->regs.gpr[REG_RAX] = r.eax;
	v->regs.gpr[REG_RBX] = r.ebx;
	v->regs.gpr[REG_RCX] = r.ecx;
	v->regs.gpr[REG_RDX] = r.edx;
	vmcs_skip_instruction();
}
