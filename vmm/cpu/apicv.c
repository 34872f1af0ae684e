#include "vmm/cpu/apicv.h"

#include <string.h>

#include "arch/x86/page_alloc.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/ept.h"
#include "vmm/vmx/msr_bitmap.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define X2APIC_MSR(reg) (X2APIC_MSR_FIRST + ((reg) >> 4))
#define X2APIC_TPR X2APIC_MSR(VLAPIC_REG_TPR)
#define X2APIC_EOI 0x80b
#define RVI_MASK 0xffu
#define SVI_SHIFT 8
#define EOI_EXIT_BITMAPS 4

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

/* The guest interrupt status (SDM 25.4.2): RVI, the highest vector handed
 * to the CPU, and SVI, the highest in service. */
static void write_intr_status(struct vcpu *v, int rvi, int svi)
{
	uint16_t status = (uint16_t)((rvi < 0 ? 0 : rvi) | (svi < 0 ? 0 : svi) << SVI_SHIFT);

	vmwrite(VMCS_GUEST_INTR_STATUS, status);
	v->rvi_set = rvi > 0;
}

/* EOIs of level-triggered vectors exit (EOI-induced, SDM 29.1.4): the
 * I/O APIC must see them. The bitmap follows the vLAPIC's TMR. */
static void update_eoi_exit(struct vcpu *v)
{
	for (unsigned i = 0; i < EOI_EXIT_BITMAPS; i++) {
		uint64_t want = vlapic_tmr_word(&v->lapic, 2 * i) |
				(uint64_t)vlapic_tmr_word(&v->lapic, 2 * i + 1) << 32;
		if (want != v->eoi_exit[i]) {
			v->eoi_exit[i] = want;
			vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * i, want);
		}
	}
}

/* Virtual-interrupt delivery on or off (SDM 29.2): on, the CPU takes the
 * vLAPIC's vectors from the page's IRR and virtualizes the guest's EOI
 * writes (MSR 0x80b), and no interrupt-window exits are needed. */
static void set_vid(struct vcpu *v, bool on)
{
	uint32_t proc2 = (uint32_t)vmread(VMCS_PROC_BASED_CTLS2);

	v->vid = on;
	vlapic_set_cpu_delivers(&v->lapic, on);
	vmwrite(VMCS_PROC_BASED_CTLS2,
		on ? proc2 | PROC2_VIRTUAL_INTR_DELIVERY : proc2 & ~PROC2_VIRTUAL_INTR_DELIVERY);
	/* The TPR threshold plays no part with it (SDM 29.1.2). */
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	v->tpr_threshold = 0;
	for (unsigned i = 0; i < EOI_EXIT_BITMAPS; i++) {
		v->eoi_exit[i] = 0;
		vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * i, 0);
	}
	if (!on) {
		write_intr_status(v, -1, -1);
		return;
	}
	update_eoi_exit(v);
	vlapic_post_pending(&v->lapic);
	write_intr_status(v, vlapic_page_highest(&v->lapic, false),
			  vlapic_page_highest(&v->lapic, true));
}

void apicv_before_entry(struct vcpu *v)
{
	struct vlapic *a = &v->lapic;

	update_eoi_exit(v);
	int posted = vlapic_post_pending(a);
	if (posted < 0 && !a->isr_changed)
		return;
	uint16_t status = (uint16_t)vmread(VMCS_GUEST_INTR_STATUS);
	int rvi = (int)(status & RVI_MASK), svi = status >> SVI_SHIFT;
	if (posted > rvi)
		rvi = posted;
	if (a->isr_changed) {
		/* A model EOI or acknowledge: RVI is the page's highest IRR
		 * again (SDM 29.2.2 keeps it so), SVI its highest ISR. */
		a->isr_changed = false;
		rvi = vlapic_page_highest(a, false);
		svi = vlapic_page_highest(a, true);
	}
	write_intr_status(v, rvi, svi);
}

bool apicv_read_rvi(struct vcpu *v)
{
	/* L2's VMCS is current: its RVI is not the one pgvisor wrote. */
	if (v->nested.in_l2)
		return false;
	v->rvi_set = (vmread(VMCS_GUEST_INTR_STATUS) & RVI_MASK) != 0;
	return v->rvi_set;
}

void handle_virtualized_eoi(struct vcpu *v)
{
	/* The CPU has EOIed it (ISR, SVI); the qualification names it. */
	vlapic_eoi_done(&v->lapic, (uint8_t)vmread(VMCS_EXIT_QUALIFICATION));
}

/* x2APIC virtualization for a vCPU whose vLAPIC is in x2APIC mode, and
 * the MSR bitmap to match. Outside x2APIC mode the control must be off
 * and the MSRs intercepted: with it on, RDMSR/WRMSR of the TPR would
 * reach the page even though the guest must get #GP (SDM 29.5). */
static void set_x2apic_mode(struct vcpu *v, bool on)
{
	uint8_t *bitmap = v->msr_bitmap;

	v->msr_bitmap_gen++;

	for (uint32_t msr = X2APIC_MSR_FIRST; msr <= X2APIC_MSR_LAST; msr++)
		msr_bitmap_set(bitmap, msr, true, true);
	if (on) {
		/* TPR reads and writes go to the page; without
		 * virtual-interrupt delivery a write lowering it below the TPR
		 * threshold exits after it (SDM 29.1.2). */
		msr_bitmap_set(bitmap, X2APIC_TPR, false, false);
		for (unsigned i = 0; vmx_controls.apic_reg_virt &&
				     i < sizeof(page_read_ranges) / sizeof(page_read_ranges[0]);
		     i++)
			for (uint32_t msr = page_read_ranges[i].first;
			     msr <= page_read_ranges[i].last; msr++)
				msr_bitmap_set(bitmap, msr, false, true);
		/* EOI writes are the CPU's with virtual-interrupt delivery. */
		if (vmx_controls.virtual_intr_delivery)
			msr_bitmap_set(bitmap, X2APIC_EOI, true, false);
	}
	uint32_t proc2 = (uint32_t)vmread(VMCS_PROC_BASED_CTLS2);
	vmwrite(VMCS_PROC_BASED_CTLS2,
		on ? proc2 | PROC2_VIRTUALIZE_X2APIC : proc2 & ~PROC2_VIRTUALIZE_X2APIC);
	if (vmx_controls.virtual_intr_delivery && on != v->vid)
		set_vid(v, on);
}

/* The VM's APIC-access page is mapped while every vCPU virtualizes its
 * xAPIC accesses: then a guest access there never reaches the page
 * itself. Once one does not (APIC disabled, x2APIC mode, page moved:
 * the address decodes to nothing, SDM 11.4.3, 11.12.2, 11.4.5), it is
 * taken out, and every vCPU's accesses there exit as EPT violations to
 * the MMIO path, which answers for each vCPU's own APIC. Other vCPUs
 * drop the old translation before they next run (flush_tlb); one running
 * elsewhere meanwhile still virtualizes its own accesses. */
static void update_apic_access_mapping(struct vm *vm)
{
	/* A nested guest runs on this EPT without the APIC-access control:
	 * the page must never be mapped there. */
	bool all = !vm->cfg.nested;

	for (unsigned i = 0; i < vm->nvcpus; i++)
		all &= vm->vcpus[i].apic_access;
	if (all == vm->apic_access_mapped)
		return;
	if (ept_set_page_perms(&vm->ept, VLAPIC_MMIO_BASE, all ? EPT_READ | EPT_WRITE : 0)) {
		vm_stop(vm, VM_END_CRASH, "its APIC-access page has no EPT entry");
		return;
	}
	vm->apic_access_mapped = all;
	if (all)
		return; /* nothing cached a not-present entry: no INVEPT */
	vmx_flush_guest(vm_eptp(vm), vm_vpid(vm));
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->vcpus[i].flush_tlb = true;
}

/* Virtualize APIC accesses (SDM 29.4) for a vCPU in xAPIC mode with its
 * page at the default base: reads of most registers come from the
 * virtual-APIC page, writes land there and exit after the fact (APIC
 * write, exit_apic_access.c), other accesses exit before (APIC access).
 * Never together with x2APIC virtualization (SDM 26.2.1.1). */
static void set_apic_access(struct vcpu *v)
{
	struct vlapic *a = &v->lapic;
	bool on = vmx_controls.apic_access && vlapic_hw_enabled(a) && !vlapic_x2apic(a) &&
		  vlapic_mmio_base(a) == VLAPIC_MMIO_BASE;
	uint32_t proc2 = (uint32_t)vmread(VMCS_PROC_BASED_CTLS2);

	v->apic_access = on;
	vmwrite(VMCS_PROC_BASED_CTLS2, on ? proc2 | PROC2_VIRTUALIZE_APIC_ACCESSES
					  : proc2 & ~PROC2_VIRTUALIZE_APIC_ACCESSES);
	update_apic_access_mapping(v->vm);
}

void apicv_setup(struct vcpu *v)
{
	/* The VM's MSR policy, with this vCPU's x2APIC MSRs on top. */
	memcpy(v->msr_bitmap, v->vm->msr_bitmap, PAGE_SIZE);
	v->msr_bitmap_gen++;
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)v->msr_bitmap);
	if (!vmx_controls.tpr_shadow)
		return;
	/* CR8 reads and writes go to the TPR in this page (SDM 29.3). */
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, (uint64_t)v->vapic_page);
	if (vmx_controls.apic_access)
		vmwrite(VMCS_APIC_ACCESS_ADDR, (uint64_t)v->vm->apic_access_page);
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	v->tpr_threshold = 0;
	if (vmx_controls.virtual_intr_delivery) {
		/* A fresh VMCS: delivery off until x2APIC mode turns it on. */
		v->vid = true;
		set_vid(v, false);
	}
	apicv_apic_mode_changed(v);
}

void apicv_apic_mode_changed(struct vcpu *v)
{
	/* Off first: the two controls are never on together. */
	if (vmx_controls.apic_access)
		set_apic_access(v);
	if (vmx_controls.x2apic_virt)
		set_x2apic_mode(v, vlapic_x2apic(&v->lapic));
}
