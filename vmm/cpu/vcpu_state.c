#include "vmm/cpu/vcpu_state.h"

#include "arch/x86/percpu.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define ACTIVITY_STATES 4

static const uint32_t selector_fields[SEG_COUNT] = {
	VMCS_GUEST_ES_SEL, VMCS_GUEST_CS_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL,
	VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL, VMCS_GUEST_TR_SEL,
};
static const uint32_t base_fields[SEG_COUNT] = {
	VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE, VMCS_GUEST_DS_BASE,
	VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_TR_BASE,
};

bool vcpu_state_readable_here(const struct vcpu *v)
{
	return v->cpu == this_cpu()->index || v->released;
}

static void read_current(const struct vcpu *v, struct vcpu_state *s)
{
	for (unsigned i = 0; i < GPR_COUNT; i++)
		s->gpr[i] = v->regs.gpr[i];
	s->gpr[REG_RSP] = vmread(VMCS_GUEST_RSP);
	s->rip = vmread(VMCS_GUEST_RIP);
	s->rflags = vmread(VMCS_GUEST_RFLAGS);
	/* CR0 and CR4 as the guest sees them: its own bits, and the read
	 * shadow's where pgvisor owns the bit (SDM 25.6.6). */
	uint64_t cr0_mask = vmread(VMCS_CR0_GUEST_HOST_MASK);
	uint64_t cr4_mask = vmread(VMCS_CR4_GUEST_HOST_MASK);
	s->cr0 = (vmread(VMCS_GUEST_CR0) & ~cr0_mask) | (vmread(VMCS_CR0_READ_SHADOW) & cr0_mask);
	s->cr4 = (vmread(VMCS_GUEST_CR4) & ~cr4_mask) | (vmread(VMCS_CR4_READ_SHADOW) & cr4_mask);
	s->cr2 = v->regs.cr2;
	s->cr3 = vmread(VMCS_GUEST_CR3);
	s->efer = vmread(VMCS_GUEST_IA32_EFER);
	for (unsigned i = 0; i < SEG_COUNT; i++) {
		s->sel[i] = (uint16_t)vmread(selector_fields[i]);
		s->base[i] = vmread(base_fields[i]);
	}
	s->gdtr_base = vmread(VMCS_GUEST_GDTR_BASE);
	s->idtr_base = vmread(VMCS_GUEST_IDTR_BASE);
	s->activity = (uint32_t)vmread(VMCS_GUEST_ACTIVITY_STATE);
	s->interruptibility = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
	s->entry_intr_info = (uint32_t)vmread(VMCS_ENTRY_INTR_INFO);
	s->pending_dbg = vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
}

int vcpu_state_read(struct vcpu *v, struct vcpu_state *s)
{
	struct cpu *c = this_cpu();

	if (!v->vmcs)
		return -1;
	if (c->loaded_vcpu == v) {
		read_current(v, s);
		/* The CPU's CR2 is the guest's while it owns the lazy state. */
		if (c->fpu_owner == v)
			s->cr2 = read_cr2();
		return 0;
	}
	/* Made current for the reads, then the CPU's own VMCS again. A
	 * released VMCS is cleared once more, so that it stays active on no
	 * CPU (whichever CPU frees or reloads it may then do so). */
	if (vmcs_load(v->vmcs))
		return -1;
	read_current(v, s);
	if (c->fpu_owner == v)
		s->cr2 = read_cr2();
	if (v->released)
		vmcs_clear(v->vmcs);
	if (c->loaded_vcpu && vmcs_load(c->loaded_vcpu->vmcs))
		c->loaded_vcpu = NULL; /* the next switch_to loads it again */
	return 0;
}

const char *vcpu_activity_name(uint32_t activity)
{
	static const char *const names[ACTIVITY_STATES] = { "active", "HLT", "shutdown",
							    "wait-for-SIPI" };

	return activity < ACTIVITY_STATES ? names[activity] : "unknown";
}
