#include "vmm/vmx/vmx_caps.h"

#include <stdio.h>

#include "arch/x86/lib/name_list.h"
#include "vmm/vmx/vmcs_fields.h"

enum ctl_reg { CTL_PIN, CTL_PROC, CTL_PROC2, CTL_EXIT, CTL_ENTRY, CTL_REGS };

struct control_bit {
	enum ctl_reg reg;
	uint32_t bit;
	bool required;
	const char *name;
};

/* What pgvisor asks of VT-x. Optional bits are used when present. */
static const struct control_bit wanted_controls[] = {
	{ CTL_PIN, PIN_EXTERNAL_INTERRUPT_EXITING, true, "external-interrupt exiting" },
	{ CTL_PIN, PIN_NMI_EXITING, true, "NMI exiting" },
	/* Guest NMI blocking tracked by the CPU, so that a pending NMI waits
	 * for the guest handler's IRET (SDM 25.3, 26.7.1). */
	{ CTL_PIN, PIN_VIRTUAL_NMIS, true, "virtual NMIs" },
	{ CTL_PIN, PIN_PREEMPTION_TIMER, false, "VMX-preemption timer" },
	{ CTL_PROC, PROC_HLT_EXITING, true, "HLT exiting" },
	{ CTL_PROC, PROC_USE_IO_BITMAPS, true, "I/O bitmaps" },
	{ CTL_PROC, PROC_USE_MSR_BITMAPS, true, "MSR bitmaps" },
	{ CTL_PROC, PROC_ACTIVATE_SECONDARY, true, "secondary controls" },
	/* WRMSR to the TSC moves the offset (SDM 25.3); without it, #GP. */
	{ CTL_PROC, PROC_USE_TSC_OFFSETTING, false, "TSC offsetting" },
	/* CR8 and the guest's TPR in the virtual-APIC page, without exits
	 * (SDM 29.3); without it, CR8 accesses exit (below). */
	{ CTL_PROC, PROC_USE_TPR_SHADOW, false, "TPR shadow" },
	{ CTL_PROC2, PROC2_ENABLE_EPT, true, "EPT" },
	{ CTL_PROC2, PROC2_UNRESTRICTED_GUEST, true, "unrestricted guest" },
	{ CTL_PROC2, PROC2_ENABLE_VPID, false, "VPID" },
	{ CTL_PROC2, PROC2_ENABLE_RDTSCP, false, "RDTSCP" },
	{ CTL_PROC2, PROC2_ENABLE_INVPCID, false, "INVPCID" },
	{ CTL_PROC2, PROC2_ENABLE_XSAVES, false, "XSAVES" },
	/* x2APIC register reads from the virtual-APIC page (SDM 29.5); needs
	 * TPR shadow (SDM 26.2.1.1), dropped below without it. */
	{ CTL_PROC2, PROC2_APIC_REGISTER_VIRT, false, "APIC-register virtualization" },
	{ CTL_EXIT, EXIT_HOST_ADDRESS_SPACE_SIZE, true, "64-bit host" },
	/* The guest's DR7 and IA32_DEBUGCTL survive exits, which load DR7
	 * with 0x400 (SDM 27.3.1, 27.5.1, 26.3.2.1). */
	{ CTL_EXIT, EXIT_SAVE_DEBUG_CONTROLS, true, "save debug controls" },
	{ CTL_EXIT, EXIT_ACK_INTERRUPT_ON_EXIT, true, "acknowledge interrupt on exit" },
	{ CTL_EXIT, EXIT_SAVE_IA32_EFER, true, "save IA32_EFER on exit" },
	{ CTL_EXIT, EXIT_LOAD_IA32_EFER, true, "load IA32_EFER on exit" },
	{ CTL_EXIT, EXIT_SAVE_IA32_PAT, false, "save IA32_PAT on exit" },
	{ CTL_EXIT, EXIT_LOAD_IA32_PAT, false, "load IA32_PAT on exit" },
	{ CTL_EXIT, EXIT_SAVE_PREEMPTION_TIMER, false, "save preemption timer" },
	{ CTL_ENTRY, ENTRY_LOAD_IA32_EFER, true, "load IA32_EFER on entry" },
	{ CTL_ENTRY, ENTRY_LOAD_DEBUG_CONTROLS, true, "load debug controls" },
	{ CTL_ENTRY, ENTRY_LOAD_IA32_PAT, false, "load IA32_PAT on entry" },
};

static const char *const reg_names[CTL_REGS] = { "pin-based", "processor-based",
						 "secondary processor-based", "VM-exit",
						 "VM-entry" };

uint32_t vmx_adjust_control(uint32_t wanted, uint64_t cap_msr)
{
	return (wanted | (uint32_t)cap_msr) & (uint32_t)(cap_msr >> 32);
}

void vmx_caps_hide_apicv(struct vmx_caps *caps)
{
	uint64_t proc = (uint64_t)PROC_USE_TPR_SHADOW << 32;
	uint64_t proc2 = (uint64_t)(PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_VIRTUALIZE_X2APIC |
				    PROC2_APIC_REGISTER_VIRT | PROC2_VIRTUAL_INTR_DELIVERY)
			 << 32;

	caps->procbased &= ~proc;
	caps->true_procbased &= ~proc;
	caps->procbased2 &= ~proc2;
}

void vmx_caps_hide_vid(struct vmx_caps *caps)
{
	caps->procbased2 &= ~((uint64_t)PROC2_VIRTUAL_INTR_DELIVERY << 32);
}

void vmx_apic_format(const struct vmx_controls *c, char *buf, size_t len)
{
	const char *names[] = {
		c->tpr_shadow ? "TPR shadow" : NULL,
		c->x2apic_virt ? "x2APIC virtualization" : NULL,
		c->apic_reg_virt ? "APIC-register virtualization" : NULL,
		c->apic_access ? "APIC-access page" : NULL,
		c->virtual_intr_delivery ? "virtual-interrupt delivery" : NULL,
	};

	name_list_format(buf, len, names, sizeof(names) / sizeof(names[0]), ", ");
}

int vmx_compute_controls(const struct vmx_caps *caps, struct vmx_controls *out, char *err,
			 size_t errlen)
{
	/* Use the TRUE_* MSRs when BASIC bit 55 says they exist: they allow
	 * clearing default-1 controls such as CR3-load exiting (SDM A.2). */
	bool use_true = caps->basic & VMX_BASIC_TRUE_CTLS;
	uint64_t cap[CTL_REGS] = {
		use_true ? caps->true_pinbased : caps->pinbased,
		use_true ? caps->true_procbased : caps->procbased,
		caps->procbased2,
		use_true ? caps->true_exit : caps->exit,
		use_true ? caps->true_entry : caps->entry,
	};
	uint32_t wanted[CTL_REGS] = { 0 };

	/* Secondary controls only exist when the primary ones can enable them. */
	if (!((cap[CTL_PROC] >> 32) & PROC_ACTIVATE_SECONDARY))
		cap[CTL_PROC2] = 0;
	for (size_t i = 0; i < sizeof(wanted_controls) / sizeof(wanted_controls[0]); i++) {
		const struct control_bit *c = &wanted_controls[i];
		if (!((cap[c->reg] >> 32) & c->bit)) {
			if (!c->required)
				continue;
			snprintf(err, errlen, "VT-x lacks a required %s control: %s",
				 reg_names[c->reg], c->name);
			return -1;
		}
		wanted[c->reg] |= c->bit;
	}
	/* Turned on only while an NMI waits for the guest's NMI blocking to
	 * end (interrupts.c), but needed. */
	if (!((cap[CTL_PROC] >> 32) & PROC_NMI_WINDOW_EXITING)) {
		snprintf(err, errlen, "VT-x lacks a required %s control: %s", reg_names[CTL_PROC],
			 "NMI-window exiting");
		return -1;
	}
	/* Without TPR shadow a guest's MOV to CR8 would reach the host's own
	 * TPR (SDM 25.3): it must exit. */
	if (!(wanted[CTL_PROC] & PROC_USE_TPR_SHADOW)) {
		uint32_t cr8_exiting = PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING;
		if (((uint32_t)(cap[CTL_PROC] >> 32) & cr8_exiting) != cr8_exiting) {
			snprintf(err, errlen, "VT-x lacks a required %s control: %s",
				 reg_names[CTL_PROC], "TPR shadow or CR8 exiting");
			return -1;
		}
		wanted[CTL_PROC] |= cr8_exiting;
	}
	if (!(caps->ept_vpid & EPT_CAP_WALK_LENGTH_4) || !(caps->ept_vpid & EPT_CAP_MEMTYPE_WB)) {
		snprintf(err, errlen, "VT-x lacks 4-level write-back EPT");
		return -1;
	}
	if (!(caps->ept_vpid & EPT_CAP_INVEPT) || !(caps->ept_vpid & EPT_CAP_INVEPT_ALL)) {
		snprintf(err, errlen, "VT-x lacks INVEPT (all-context)");
		return -1;
	}

	*out = (struct vmx_controls){
		.pinbased = vmx_adjust_control(wanted[CTL_PIN], cap[CTL_PIN]),
		.procbased = vmx_adjust_control(wanted[CTL_PROC], cap[CTL_PROC]),
		.procbased2 = vmx_adjust_control(wanted[CTL_PROC2], cap[CTL_PROC2]),
		.exit = vmx_adjust_control(wanted[CTL_EXIT], cap[CTL_EXIT]),
		.entry = vmx_adjust_control(wanted[CTL_ENTRY], cap[CTL_ENTRY]),
		.preemption_shift = (unsigned)(caps->misc & VMX_MISC_PREEMPT_RATE_MASK),
		.ept_2mb = caps->ept_vpid & EPT_CAP_2MB_PAGES,
		.ept_1gb = caps->ept_vpid & EPT_CAP_1GB_PAGES,
		.ept_ad = caps->ept_vpid & EPT_CAP_ACCESSED_DIRTY,
		.invept_single = caps->ept_vpid & EPT_CAP_INVEPT_SINGLE,
		.activity_hlt = caps->misc & VMX_MISC_ACTIVITY_HLT,
	};
	out->preemption_timer = out->pinbased & PIN_PREEMPTION_TIMER;
	out->save_preemption_timer = out->exit & EXIT_SAVE_PREEMPTION_TIMER;
	out->rdtscp = out->procbased2 & PROC2_ENABLE_RDTSCP;
	out->invpcid = out->procbased2 & PROC2_ENABLE_INVPCID;
	out->xsaves = out->procbased2 & PROC2_ENABLE_XSAVES;
	out->tpr_shadow = out->procbased & PROC_USE_TPR_SHADOW;
	out->pml = out->ept_ad && ((cap[CTL_PROC2] >> 32) & PROC2_ENABLE_PML);
	/* L1's VMREAD/VMWRITE through a shadow VMCS (SDM 24.10), set per
	 * vCPU of a VM with nested VMX (vmm/cpu/vmcs_shadow.c). */
	out->vmcs_shadowing = (cap[CTL_PROC2] >> 32) & PROC2_VMCS_SHADOWING;
	/* The controls that work on the virtual-APIC page need TPR shadow
	 * (SDM 26.2.1.1). */
	out->x2apic_virt = out->tpr_shadow && ((cap[CTL_PROC2] >> 32) & PROC2_VIRTUALIZE_X2APIC);
	if (!out->tpr_shadow)
		out->procbased2 &= ~PROC2_APIC_REGISTER_VIRT | (uint32_t)cap[CTL_PROC2];
	out->apic_reg_virt = out->x2apic_virt && (out->procbased2 & PROC2_APIC_REGISTER_VIRT);
	/* The xAPIC page's reads from the virtual-APIC page and its writes as
	 * APIC-write exits (SDM 29.4): only with APIC-register
	 * virtualization, without which every access but the TPR's would
	 * exit as an APIC access, no cheaper than the EPT violation. */
	out->apic_access =
		out->apic_reg_virt && ((cap[CTL_PROC2] >> 32) & PROC2_VIRTUALIZE_APIC_ACCESSES);
	/* Virtual-interrupt delivery also needs external-interrupt exiting
	 * (SDM 26.2.1.1), which is required above; pgvisor uses it in
	 * x2APIC mode only, where EOIs are MSR writes it can let through. */
	out->virtual_intr_delivery =
		out->apic_reg_virt && ((cap[CTL_PROC2] >> 32) & PROC2_VIRTUAL_INTR_DELIVERY);
	if (!out->apic_reg_virt)
		out->procbased2 &= ~PROC2_APIC_REGISTER_VIRT | (uint32_t)cap[CTL_PROC2];
	/* PAT switching only when all three halves exist. */
	out->pat = (out->exit & EXIT_SAVE_IA32_PAT) && (out->exit & EXIT_LOAD_IA32_PAT) &&
		   (out->entry & ENTRY_LOAD_IA32_PAT);
	if (!out->pat) {
		out->exit &= ~(EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT) | (uint32_t)cap[CTL_EXIT];
		out->entry &= ~ENTRY_LOAD_IA32_PAT | (uint32_t)cap[CTL_ENTRY];
	}
	/* VPID is only worth having with INVVPID to flush it (SDM 29.4.3). */
	out->vpid = (out->procbased2 & PROC2_ENABLE_VPID) && (caps->ept_vpid & VPID_CAP_INVVPID) &&
		    (caps->ept_vpid & VPID_CAP_INVVPID_ALL);
	if (!out->vpid)
		out->procbased2 &= ~PROC2_ENABLE_VPID | (uint32_t)cap[CTL_PROC2];
	out->invvpid_single = out->vpid && (caps->ept_vpid & VPID_CAP_INVVPID_SINGLE);
	out->invvpid_address = out->vpid && (caps->ept_vpid & VPID_CAP_INVVPID_ADDRESS);
	return 0;
}
