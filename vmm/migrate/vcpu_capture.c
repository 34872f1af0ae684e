#include "vmm/migrate/vcpu_capture.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "arch/x86/debug_regs.h"
#include "arch/x86/fpu.h"
#include "arch/x86/percpu.h"
#include "vmm/cpu/apicv.h"
#include "vmm/cpu/msr_policy.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

_Static_assert(VCPU_RECORD_GPRS == GPR_COUNT, "one record slot per GPR");
_Static_assert(VCPU_RECORD_LAZY_MSRS == LAZY_MSR_COUNT, "one record slot per lazy MSR");
_Static_assert(VCPU_RECORD_FPU_SIZE == FPU_AREA_SIZE, "the record holds the whole FPU area");
_Static_assert(VCPU_RECORD_DR_ADDRS == DR_ADDRESS_COUNT, "DR0-DR3");

/* The segment fields of ES, CS, SS, DS, FS, GS, LDTR, TR (SDM Appendix B):
 * each kind is 2 apart in that order. */
#define SEGMENT_FIELD_STEP 2
#define PDPTE_FIELD_STEP 2

static void read_segment(unsigned i, struct vcpu_record_segment *s)
{
	unsigned off = SEGMENT_FIELD_STEP * i;

	s->selector = (uint16_t)vmread(VMCS_GUEST_ES_SEL + off);
	s->base = vmread(VMCS_GUEST_ES_BASE + off);
	s->limit = (uint32_t)vmread(VMCS_GUEST_ES_LIMIT + off);
	s->access = (uint32_t)vmread(VMCS_GUEST_ES_AR + off);
}

static void write_segment(unsigned i, const struct vcpu_record_segment *s)
{
	unsigned off = SEGMENT_FIELD_STEP * i;

	vmwrite(VMCS_GUEST_ES_SEL + off, s->selector);
	vmwrite(VMCS_GUEST_ES_BASE + off, s->base);
	vmwrite(VMCS_GUEST_ES_LIMIT + off, s->limit);
	vmwrite(VMCS_GUEST_ES_AR + off, s->access);
}

/* The guest-state area of the current VMCS (SDM 25.4) into rec. */
static void read_vmcs(const struct vcpu *v, struct vcpu_record *rec)
{
	rec->gpr[REG_RSP] = vmread(VMCS_GUEST_RSP);
	rec->rip = vmread(VMCS_GUEST_RIP);
	rec->rflags = vmread(VMCS_GUEST_RFLAGS);
	rec->cr0 = vmread(VMCS_GUEST_CR0);
	rec->cr0_shadow = vmread(VMCS_CR0_READ_SHADOW);
	rec->cr3 = vmread(VMCS_GUEST_CR3);
	rec->cr4 = vmread(VMCS_GUEST_CR4);
	rec->cr4_shadow = vmread(VMCS_CR4_READ_SHADOW);
	rec->dr7 = vmread(VMCS_GUEST_DR7);
	rec->debugctl = vmread(VMCS_GUEST_IA32_DEBUGCTL);
	for (unsigned i = 0; i < VREC_SEGMENTS; i++)
		read_segment(i, &rec->seg[i]);
	rec->gdtr_base = vmread(VMCS_GUEST_GDTR_BASE);
	rec->gdtr_limit = (uint32_t)vmread(VMCS_GUEST_GDTR_LIMIT);
	rec->idtr_base = vmread(VMCS_GUEST_IDTR_BASE);
	rec->idtr_limit = (uint32_t)vmread(VMCS_GUEST_IDTR_LIMIT);
	rec->sysenter_cs = (uint32_t)vmread(VMCS_GUEST_SYSENTER_CS);
	rec->sysenter_esp = vmread(VMCS_GUEST_SYSENTER_ESP);
	rec->sysenter_eip = vmread(VMCS_GUEST_SYSENTER_EIP);
	rec->efer = vmread(VMCS_GUEST_IA32_EFER);
	rec->pat = vmx_controls.pat ? vmread(VMCS_GUEST_IA32_PAT) : 0;
	rec->ia32e_mode = vmread(VMCS_ENTRY_CTLS) & ENTRY_IA32E_MODE_GUEST;
	for (unsigned i = 0; i < VCPU_RECORD_PDPTES; i++)
		rec->pdpte[i] = vmread(VMCS_GUEST_PDPTE0 + PDPTE_FIELD_STEP * i);
	rec->activity = (uint32_t)vmread(VMCS_GUEST_ACTIVITY_STATE);
	rec->interruptibility = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
	rec->pending_dbg = vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	rec->entry_intr_info = (uint32_t)vmread(VMCS_ENTRY_INTR_INFO);
	rec->entry_error_code = (uint32_t)vmread(VMCS_ENTRY_EXCEPTION_ERROR_CODE);
	rec->entry_insn_len = (uint32_t)vmread(VMCS_ENTRY_INSTRUCTION_LEN);
	rec->intr_status = v->vid ? (uint16_t)vmread(VMCS_GUEST_INTR_STATUS) : 0;
}

static void write_vmcs(struct vcpu *v, const struct vcpu_record *rec)
{
	vmwrite(VMCS_GUEST_RSP, rec->gpr[REG_RSP]);
	vmwrite(VMCS_GUEST_RIP, rec->rip);
	vmwrite(VMCS_GUEST_RFLAGS, rec->rflags);
	vmwrite(VMCS_GUEST_CR0, rec->cr0);
	vmwrite(VMCS_CR0_READ_SHADOW, rec->cr0_shadow);
	vmwrite(VMCS_GUEST_CR3, rec->cr3);
	vmwrite(VMCS_GUEST_CR4, rec->cr4);
	vmwrite(VMCS_CR4_READ_SHADOW, rec->cr4_shadow);
	vmwrite(VMCS_GUEST_DR7, rec->dr7);
	vmwrite(VMCS_GUEST_IA32_DEBUGCTL, rec->debugctl);
	for (unsigned i = 0; i < VREC_SEGMENTS; i++)
		write_segment(i, &rec->seg[i]);
	vmwrite(VMCS_GUEST_GDTR_BASE, rec->gdtr_base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, rec->gdtr_limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, rec->idtr_base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, rec->idtr_limit);
	vmwrite(VMCS_GUEST_SYSENTER_CS, rec->sysenter_cs);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, rec->sysenter_esp);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, rec->sysenter_eip);
	vmwrite(VMCS_GUEST_IA32_EFER, rec->efer);
	if (vmx_controls.pat)
		vmwrite(VMCS_GUEST_IA32_PAT, rec->pat);
	uint64_t entry = vmread(VMCS_ENTRY_CTLS);
	vmwrite(VMCS_ENTRY_CTLS, rec->ia32e_mode ? entry | ENTRY_IA32E_MODE_GUEST
						 : entry & ~(uint64_t)ENTRY_IA32E_MODE_GUEST);
	for (unsigned i = 0; i < VCPU_RECORD_PDPTES; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + PDPTE_FIELD_STEP * i, rec->pdpte[i]);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, rec->activity);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, rec->interruptibility);
	vmwrite(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, rec->pending_dbg);
	vmwrite(VMCS_ENTRY_INTR_INFO, rec->entry_intr_info);
	vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, rec->entry_error_code);
	vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, rec->entry_insn_len);
	vmwrite(VMCS_TSC_OFFSET, v->lapic.tsc_offset);
	/* The vLAPIC (loaded before the vCPUs) decides x2APIC virtualization
	 * and virtual-interrupt delivery; then RVI/SVI as they were. */
	apicv_apic_mode_changed(v);
	if (v->vid) {
		vmwrite(VMCS_GUEST_INTR_STATUS, rec->intr_status);
		v->rvi_set = true; /* the run loop reads it before it trusts it */
	}
}

int vcpu_with_vmcs(struct vcpu *v, bool inactive, void (*fn)(struct vcpu *v, void *arg), void *arg)
{
	struct cpu *c = this_cpu();

	if (c->loaded_vcpu == v) {
		fn(v, arg);
		return 0;
	}
	if (vmcs_load(v->vmcs))
		return -1;
	fn(v, arg);
	if (inactive)
		vmcs_clear(v->vmcs);
	if (c->loaded_vcpu && vmcs_load(c->loaded_vcpu->vmcs))
		c->loaded_vcpu = NULL; /* the next switch_to loads it again */
	return 0;
}

static void capture_vmcs(struct vcpu *v, void *arg)
{
	read_vmcs(v, arg);
}

int vcpu_capture(struct vcpu *v, struct vcpu_record *rec)
{
	struct cpu *c = this_cpu();

	memset(rec, 0, sizeof(*rec));
	if (!v->vmcs)
		return -1;
	/* The lazy state of the vCPU that owns this CPU is live in it: into
	 * the vCPU's copies first (it stays the owner; nothing changes). */
	if (c->fpu_owner == v) {
		fpu_save(v->fpu_area, v->xcr0);
		msr_lazy_save(v->lazy_msrs);
		v->regs.cr2 = read_cr2();
		debug_regs_save(&v->dbg);
	}
	if (vcpu_with_vmcs(v, v->released, capture_vmcs, rec))
		return -1;
	rec->id = v->id;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		if (i != REG_RSP)
			rec->gpr[i] = v->regs.gpr[i];
	rec->cr2 = v->regs.cr2;
	memcpy(rec->dr, v->dbg.dr, sizeof(rec->dr));
	rec->dr6 = v->dbg.dr6;
	rec->xcr0 = v->xcr0;
	rec->misc_enable = v->misc_enable;
	rec->tsc_adjust = v->tsc_adjust;
	memcpy(rec->lazy_msrs, v->lazy_msrs, sizeof(rec->lazy_msrs));
	rec->kvmclock_msr = v->kvmclock_msr;
	rec->kvmclock_version = v->kvmclock_version;
	rec->steal_msr = v->steal_msr;
	rec->steal_version = v->steal_version;
	rec->steal_ns = v->steal_ns;
	rec->pv_eoi_msr = v->pv_eoi_msr;
	rec->tsc_at_clock_zero = v->vm->vtime.start_tsc + v->lapic.tsc_offset;
	rec->halted = v->halted;
	rec->halted_until_kick = v->halted_until_kick;
	rec->pv_unhalted = v->pv_unhalted;
	rec->wait_sipi = v->start.wait_sipi;
	rec->parked = v->start.parked;
	rec->init_pending = v->start.init_pending;
	rec->sipi_pending = v->start.sipi_pending;
	rec->sipi_vector = v->start.sipi_vector;
	memcpy(rec->fpu, v->fpu_area, sizeof(rec->fpu));
	return 0;
}

static void apply_vmcs(struct vcpu *v, void *arg)
{
	write_vmcs(v, arg);
}

int vcpu_apply(struct vcpu *v, const struct vcpu_record *rec, char *why, size_t whylen)
{
	if (rec->xcr0 & ~fpu_xcr0_supported()) {
		snprintf(why, whylen, "vCPU %u: XCR0 %#llx has state this CPU lacks", v->id,
			 (unsigned long long)rec->xcr0);
		return -1;
	}
	for (unsigned i = 0; i < GPR_COUNT; i++)
		v->regs.gpr[i] = i == REG_RSP ? 0 : rec->gpr[i];
	v->regs.cr2 = rec->cr2;
	memcpy(v->dbg.dr, rec->dr, sizeof(rec->dr));
	v->dbg.dr6 = rec->dr6;
	v->xcr0 = rec->xcr0;
	v->misc_enable = rec->misc_enable;
	v->tsc_adjust = rec->tsc_adjust;
	memcpy(v->lazy_msrs, rec->lazy_msrs, sizeof(rec->lazy_msrs));
	v->kvmclock_msr = rec->kvmclock_msr;
	v->kvmclock_version = rec->kvmclock_version;
	v->steal_msr = rec->steal_msr;
	v->steal_version = rec->steal_version;
	v->steal_ns = rec->steal_ns;
	v->steal_since_tsc = 0;
	v->pv_eoi_msr = rec->pv_eoi_msr;
	v->pv_eoi_pending = false;
	/* The guest TSC goes on from where it stopped (docs/STATE_STREAM.md). */
	v->lapic.tsc_offset = rec->tsc_at_clock_zero - v->vm->vtime.start_tsc;
	v->halted = rec->halted;
	v->halted_until_kick = rec->halted_until_kick;
	v->pv_unhalted = rec->pv_unhalted;
	v->start = (struct vcpu_start){ .wait_sipi = rec->wait_sipi,
					.parked = rec->parked,
					.init_pending = rec->init_pending,
					.sipi_pending = rec->sipi_pending,
					.sipi_vector = rec->sipi_vector };
	memcpy(v->fpu_area, rec->fpu, sizeof(rec->fpu));
	if (vcpu_with_vmcs(v, true, apply_vmcs, (void *)rec)) {
		snprintf(why, whylen, "vCPU %u: its VMCS cannot be loaded", v->id);
		return -1;
	}
	return 0;
}
