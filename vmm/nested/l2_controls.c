#include "vmm/nested/l2_controls.h"

#include <stddef.h>

#include "vmm/vmx/exit_reason.h"
#include "vmm/vmx/vmcs_fields.h"

/* Primary controls that only cause exits: L1's are added to VMCS02's. */
#define PROC_L1_EXITS                                                                              \
	(PROC_INTERRUPT_WINDOW_EXITING | PROC_HLT_EXITING | PROC_INVLPG_EXITING |                  \
	 PROC_MWAIT_EXITING | PROC_RDPMC_EXITING | PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING |    \
	 PROC_CR3_STORE_EXITING | PROC_NMI_WINDOW_EXITING | PROC_MOV_DR_EXITING |                  \
	 PROC_UNCONDITIONAL_IO_EXITING | PROC_MONITOR_EXITING | PROC_PAUSE_EXITING)
#define PROC2_L1_EXITS (PROC2_DESCRIPTOR_TABLE_EXITING | PROC2_WBINVD_EXITING)
/* L0 controls VMCS02 leaves out (see nested_l2_controls). */
#define PROC_L0_ONLY                                                                               \
	(PROC_USE_TPR_SHADOW | PROC_USE_MSR_BITMAPS | PROC_INTERRUPT_WINDOW_EXITING |              \
	 PROC_NMI_WINDOW_EXITING)
#define PROC2_L0_ONLY                                                                              \
	(PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_VPID | PROC2_VIRTUALIZE_APIC_ACCESSES |           \
	 PROC2_VIRTUALIZE_X2APIC | PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY |        \
	 PROC2_VMCS_SHADOWING)
/* L1's controls VMCS02 takes as they are: unrestricted guest (its EPT,
 * which the VM-entry checks demand with it, is composed). */
#define PROC2_L1_AS_IS PROC2_UNRESTRICTED_GUEST
/* What running L2 does not do yet. */
#define PROC2_NOT_YET                                                                              \
	(PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VIRTUALIZE_X2APIC | PROC2_APIC_REGISTER_VIRT |     \
	 PROC2_VIRTUAL_INTR_DELIVERY | PROC2_ENABLE_VMFUNC | PROC2_ENABLE_PML |                    \
	 (1u << 18) /* EPT-violation #VE */)

/* CR-access qualification (SDM Vol. 3 table 28-3). */
#define CRQ_NUMBER(q) ((q)&0xf)
#define CRQ_TYPE(q) (((q) >> 4) & 3)
#define CRQ_MOV_TO 0
#define CRQ_MOV_FROM 1
#define CRQ_CLTS 2
#define CRQ_LMSW 3
#define CRQ_LMSW_SOURCE(q) (((q) >> 16) & 0xffff)
#define CR0_PE 1ull
#define CR0_PG (1ull << 31)
#define CR0_TS (1ull << 3)
#define LMSW_BITS 0xfull
#define VECTOR_PF 14u

static uint32_t proc2_of(const struct nested_vmcs *v)
{
	uint32_t proc = (uint32_t)nested_vmcs_get(v, VMCS_PROC_BASED_CTLS);

	return proc & PROC_ACTIVATE_SECONDARY ? (uint32_t)nested_vmcs_get(v, VMCS_PROC_BASED_CTLS2)
					      : 0;
}

const char *nested_l2_unsupported(const struct nested_vmcs *v)
{
	uint32_t proc2 = proc2_of(v);

	if (proc2 & PROC2_NOT_YET)
		return "APIC virtualization, PML, VM functions or #VE";
	if (nested_vmcs_get(v, VMCS_PROC_BASED_CTLS) & PROC_USE_TPR_SHADOW)
		return "the TPR shadow";
	if (nested_vmcs_get(v, VMCS_ENTRY_MSR_LOAD_COUNT) ||
	    nested_vmcs_get(v, VMCS_EXIT_MSR_STORE_COUNT) ||
	    nested_vmcs_get(v, VMCS_EXIT_MSR_LOAD_COUNT))
		return "VM-entry or VM-exit MSR lists";
	return NULL;
}

void nested_l2_controls(const struct nested_l0_controls *l0, const struct nested_vmcs *v12,
			struct nested_l2_controls *out)
{
	uint32_t proc12 = (uint32_t)nested_vmcs_get(v12, VMCS_PROC_BASED_CTLS);
	uint32_t entry12 = (uint32_t)nested_vmcs_get(v12, VMCS_ENTRY_CTLS);
	uint64_t mask0 = nested_vmcs_get(v12, VMCS_CR0_GUEST_HOST_MASK);
	uint64_t mask4 = nested_vmcs_get(v12, VMCS_CR4_GUEST_HOST_MASK);

	out->pin = l0->pin;
	out->proc = (l0->proc & ~PROC_L0_ONLY) | (proc12 & PROC_L1_EXITS) | PROC_CR8_LOAD_EXITING |
		    PROC_CR8_STORE_EXITING;
	/* With L1's MSR bitmap, VMCS02 has one merging it with L0's. */
	if ((l0->proc & proc12) & PROC_USE_MSR_BITMAPS)
		out->proc |= PROC_USE_MSR_BITMAPS;
	out->proc2 =
		(l0->proc2 & ~PROC2_L0_ONLY) | (proc2_of(v12) & (PROC2_L1_EXITS | PROC2_L1_AS_IS));
	out->exit = l0->exit;
	out->entry = (l0->entry & ~ENTRY_IA32E_MODE_GUEST) | (entry12 & ENTRY_IA32E_MODE_GUEST);
	out->exception_bitmap =
		l0->exception_bitmap | (uint32_t)nested_vmcs_get(v12, VMCS_EXCEPTION_BITMAP);
	/* L2 reads L1's shadow where L1 owns a bit, its own value where
	 * only L0 does (the bits VMX fixes, which L2 holds anyway). */
	out->cr0_mask = l0->cr0_mask | mask0;
	/* L0 keeps CR0.PE and PG while L1 is in VMX operation; an
	 * unrestricted L2 may clear them (SDM 26.3.1.1). */
	if (out->proc2 & PROC2_UNRESTRICTED_GUEST)
		out->cr0_mask = (l0->cr0_mask & ~(CR0_PE | CR0_PG)) | mask0;
	out->cr4_mask = l0->cr4_mask | mask4;
	out->cr0_shadow = (nested_vmcs_get(v12, VMCS_CR0_READ_SHADOW) & mask0) |
			  (nested_vmcs_get(v12, VMCS_GUEST_CR0) & ~mask0);
	out->cr4_shadow = (nested_vmcs_get(v12, VMCS_CR4_READ_SHADOW) & mask4) |
			  (nested_vmcs_get(v12, VMCS_GUEST_CR4) & ~mask4);
	out->tsc_offset =
		l0->tsc_offset +
		(proc12 & PROC_USE_TSC_OFFSETTING ? nested_vmcs_get(v12, VMCS_TSC_OFFSET) : 0);
}

/* MOV to CR0/CR4, CLTS, LMSW: L1 takes it when it changes a bit L1
 * owns away from L1's read shadow (SDM 26.1.3). */
static bool l1_wants_cr(const struct nested_vmcs *v12, const struct nested_l2_exit *e)
{
	uint64_t q = e->qualification;
	uint32_t proc12 = (uint32_t)nested_vmcs_get(v12, VMCS_PROC_BASED_CTLS);
	uint64_t mask0 = nested_vmcs_get(v12, VMCS_CR0_GUEST_HOST_MASK);
	uint64_t shadow0 = nested_vmcs_get(v12, VMCS_CR0_READ_SHADOW);

	switch (CRQ_TYPE(q)) {
	case CRQ_MOV_TO:
		switch (CRQ_NUMBER(q)) {
		case 0:
			return (e->cr_value ^ shadow0) & mask0;
		case 3:
			return proc12 & PROC_CR3_LOAD_EXITING;
		case 4:
			return (e->cr_value ^ nested_vmcs_get(v12, VMCS_CR4_READ_SHADOW)) &
			       nested_vmcs_get(v12, VMCS_CR4_GUEST_HOST_MASK);
		case 8:
			return proc12 & PROC_CR8_LOAD_EXITING;
		default:
			return true;
		}
	case CRQ_MOV_FROM:
		if (CRQ_NUMBER(q) == 3)
			return proc12 & PROC_CR3_STORE_EXITING;
		return CRQ_NUMBER(q) != 8 || (proc12 & PROC_CR8_STORE_EXITING);
	case CRQ_CLTS:
		return (mask0 & CR0_TS) && (shadow0 & CR0_TS);
	default: /* LMSW: PE..TS; it cannot clear PE */
		return (mask0 & LMSW_BITS & ~CR0_PE & (CRQ_LMSW_SOURCE(q) ^ shadow0)) ||
		       (mask0 & CR0_PE & CRQ_LMSW_SOURCE(q) & ~shadow0);
	}
}

bool nested_exit_unconditional(uint32_t reason)
{
	switch (reason) {
	case EXIT_CPUID:
	case EXIT_GETSEC:
	case EXIT_INVD:
	case EXIT_XSETBV:
	case EXIT_VMCALL:
	case EXIT_VMCLEAR:
	case EXIT_VMLAUNCH:
	case EXIT_VMPTRLD:
	case EXIT_VMPTRST:
	case EXIT_VMRESUME:
	case EXIT_VMXOFF:
	case EXIT_VMXON:
	case EXIT_INVEPT:
	case EXIT_INVVPID:
		return true;
	default:
		return false;
	}
}

bool nested_l1_wants_exit(const struct nested_vmcs *v12, const struct nested_l2_exit *e)
{
	uint32_t proc12 = (uint32_t)nested_vmcs_get(v12, VMCS_PROC_BASED_CTLS);
	uint32_t proc2 = proc2_of(v12);

	switch (e->reason) {
	/* L0's own: the host's interrupts and timer, the VM's memory. */
	case EXIT_EXTERNAL_INTERRUPT:
	case EXIT_PREEMPTION_TIMER:
	case EXIT_EPT_VIOLATION:
	case EXIT_EPT_MISCONFIG:
		return false;
	case EXIT_EXCEPTION_NMI: {
		uint32_t vector = e->intr_info & INTR_INFO_VECTOR_MASK;
		/* An NMI that exits L2 is the host's (VMCS02 has L0's NMI
		 * exiting): L1's NMIs are the vLAPIC's, an exit to L1 or
		 * L2's before an entry (vmm/cpu/nested_interrupt.c). */
		if ((e->intr_info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI)
			return false;
		bool bit = (nested_vmcs_get(v12, VMCS_EXCEPTION_BITMAP) >> vector) & 1;
		if (vector == VECTOR_PF) {
			/* SDM 25.6.3: the bit, or its opposite on a mismatch. */
			uint32_t ec = e->error_code;
			bool match = (ec & nested_vmcs_get(v12, VMCS_PF_ERROR_CODE_MASK)) ==
				     nested_vmcs_get(v12, VMCS_PF_ERROR_CODE_MATCH);
			return bit == match;
		}
		return bit;
	}
	case EXIT_INTERRUPT_WINDOW:
		return proc12 & PROC_INTERRUPT_WINDOW_EXITING;
	case EXIT_NMI_WINDOW:
		return proc12 & PROC_NMI_WINDOW_EXITING;
	case EXIT_HLT:
		return proc12 & PROC_HLT_EXITING;
	case EXIT_INVLPG:
		return proc12 & PROC_INVLPG_EXITING;
	case EXIT_RDPMC:
		return proc12 & PROC_RDPMC_EXITING;
	case EXIT_RDTSC:
	case EXIT_RDTSCP:
		return proc12 & PROC_RDTSC_EXITING;
	case EXIT_MWAIT:
		return proc12 & PROC_MWAIT_EXITING;
	case EXIT_MONITOR:
		return proc12 & PROC_MONITOR_EXITING;
	case EXIT_PAUSE:
		return proc12 & PROC_PAUSE_EXITING;
	case EXIT_DR_ACCESS:
		return proc12 & PROC_MOV_DR_EXITING;
	case EXIT_WBINVD:
		return proc2 & PROC2_WBINVD_EXITING;
	case EXIT_GDTR_IDTR_ACCESS:
	case EXIT_LDTR_TR_ACCESS:
		return proc2 & PROC2_DESCRIPTOR_TABLE_EXITING;
	case EXIT_CR_ACCESS:
		return l1_wants_cr(v12, e);
	case EXIT_IO_INSTRUCTION:
		if (proc12 & PROC_USE_IO_BITMAPS)
			return e->bitmap_exit;
		return proc12 & PROC_UNCONDITIONAL_IO_EXITING;
	case EXIT_RDMSR:
	case EXIT_WRMSR:
		return !(proc12 & PROC_USE_MSR_BITMAPS) || e->bitmap_exit;
	default: /* CPUID, INVD, the VMX instructions, XSETBV, triple fault...: always */
		return true;
	}
}

/* With L1's NMI exiting (SDM 25.2): exit 0, after the delivery of an
 * event on its way in (as for interrupts). With "virtual NMIs" L2's
 * blocking by NMI is virtual-NMI blocking, which holds no NMI back (SDM
 * 26.7.1); without them it is the CPU's, which L2's IRET does not lift
 * under NMI exiting (SDM 25.3). Without NMI exiting the NMI is L2's
 * (L1 cannot set virtual NMIs then, so L2's blocking by NMI is the
 * CPU's, which its IRET ends): not into NMI or MOV-SS blocking nor with
 * an event on its way in (NMI window), nor into STI blocking, which some
 * CPUs refuse it (SDM 26.3.1.5) and the NMI window may not wait for
 * (interrupt window: IF is 1 under it). */
enum nested_nmi_route nested_l1_nmi_route(uint32_t pin12, uint32_t interruptibility, bool event)
{
	if (pin12 & PIN_NMI_EXITING) {
		if (!(pin12 & PIN_VIRTUAL_NMIS) && (interruptibility & INTERRUPTIBILITY_NMI))
			return NESTED_NMI_HELD;
		return event ? NESTED_NMI_EXIT_AFTER : NESTED_NMI_EXIT;
	}
	if (event || (interruptibility & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOV_SS)))
		return NESTED_NMI_WINDOW;
	if (interruptibility & INTERRUPTIBILITY_STI)
		return NESTED_NMI_INTERRUPT_WINDOW;
	return NESTED_NMI_INJECT;
}
