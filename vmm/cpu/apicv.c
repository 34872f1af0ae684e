#include "vmm/cpu/apicv.h"

#include <string.h>

#include "arch/x86/page_alloc.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/msr_bitmap.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define X2APIC_MSR(reg) (X2APIC_MSR_FIRST + ((reg) >> 4))
#define X2APIC_TPR X2APIC_MSR(VLAPIC_REG_TPR)

/* x2APIC registers whose reads come from the virtual-APIC page, where
 * the vLAPIC keeps their values (vlapic.c): ID, version, LDR, SVR, ISR,
 * TMR, IRR, ESR, the LVTs, the timer's initial count and divider. Reads of
 * any other x2APIC MSR exit: the page holds nothing for them, or a stale
 * value (PPR, the ICR, the timer's current count), or they must #GP
 * (EOI, SELF IPI, reserved MSRs). */
static const struct {
	uint16_t first, last;
} page_read_ranges[] = {
	{ 0x802, 0x803 }, /* ID, version */
	{ 0x80d, 0x80d }, /* LDR */
	{ 0x80f, 0x828 }, /* SVR, ISR, TMR, IRR, ESR */
	{ 0x82f, 0x82f }, /* LVT CMCI */
	{ 0x832, 0x838 }, /* LVT timer .. error, initial count */
	{ 0x83e, 0x83e }, /* divide configuration */
};

/* x2APIC virtualization for a vCPU whose vLAPIC is in x2APIC mode, and
 * the MSR bitmap to match. Outside x2APIC mode the control must be off
 * and the MSRs intercepted: with it on, RDMSR/WRMSR of the TPR would
 * reach the page even though the guest must get #GP (SDM 29.5). */
static void set_x2apic_mode(struct vcpu *v, bool on)
{
	uint8_t *bitmap = v->msr_bitmap;

	for (uint32_t msr = X2APIC_MSR_FIRST; msr <= X2APIC_MSR_LAST; msr++)
		msr_bitmap_set(bitmap, msr, true, true);
	if (on) {
		/* TPR reads and writes go to the page; a write lowering it
		 * below the TPR threshold exits after it (SDM 29.1.2). */
		msr_bitmap_set(bitmap, X2APIC_TPR, false, false);
		for (unsigned i = 0; vmx_controls.apic_reg_virt &&
				     i < sizeof(page_read_ranges) / sizeof(page_read_ranges[0]);
		     i++)
			for (uint32_t msr = page_read_ranges[i].first;
			     msr <= page_read_ranges[i].last; msr++)
				msr_bitmap_set(bitmap, msr, false, true);
	}
	uint32_t proc2 = (uint32_t)vmread(VMCS_PROC_BASED_CTLS2);
	vmwrite(VMCS_PROC_BASED_CTLS2,
		on ? proc2 | PROC2_VIRTUALIZE_X2APIC : proc2 & ~PROC2_VIRTUALIZE_X2APIC);
}

void apicv_setup(struct vcpu *v)
{
	/* The VM's MSR policy, with this vCPU's x2APIC MSRs on top. */
	memcpy(v->msr_bitmap, v->vm->msr_bitmap, PAGE_SIZE);
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)v->msr_bitmap);
	if (!vmx_controls.tpr_shadow)
		return;
	/* CR8 reads and writes go to the TPR in this page (SDM 29.3). */
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, (uint64_t)v->vapic_page);
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	v->tpr_threshold = 0;
	apicv_apic_mode_changed(v);
}

void apicv_apic_mode_changed(struct vcpu *v)
{
	if (vmx_controls.x2apic_virt)
		set_x2apic_mode(v, vlapic_x2apic(&v->lapic));
}
