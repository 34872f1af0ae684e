/* The vCPU record's codec: fields one by one, fixed widths, in the order
 * docs/STATE_STREAM.md lists them. */
#include "vmm/migrate/vcpu_record.h"

#define ACTIVITY_WAIT_SIPI 3u	       /* the highest activity state (SDM 25.4.2) */
#define INTERRUPTIBILITY_BITS 0x1fu    /* STI, MOV SS, SMI, NMI, enclave (SDM 25.4.2) */
#define INTR_INFO_RESERVED 0x7ffff000u /* bits 30:12 of the entry field (SDM 24.8.3) */
#define INSN_LEN_MAX 15u
#define XCR0_X87 1u
#define HIGH_HALF 0xffffffff00000000ull /* DR6 and DR7 bits 63:32 are reserved */

static void put_segment(struct state_writer *w, const struct vcpu_record_segment *s)
{
	state_put_u16(w, s->selector);
	state_put_u64(w, s->base);
	state_put_u32(w, s->limit);
	state_put_u32(w, s->access);
}

static void get_segment(struct state_reader *r, struct vcpu_record_segment *s)
{
	s->selector = state_get_u16(r);
	s->base = state_get_u64(r);
	s->limit = state_get_u32(r);
	s->access = state_get_u32(r);
}

void vcpu_record_save(const struct vcpu_record *rec, struct state_writer *w)
{
	state_put_u32(w, rec->id);
	for (unsigned i = 0; i < VCPU_RECORD_GPRS; i++)
		state_put_u64(w, rec->gpr[i]);
	state_put_u64(w, rec->rip);
	state_put_u64(w, rec->rflags);
	state_put_u64(w, rec->cr0);
	state_put_u64(w, rec->cr0_shadow);
	state_put_u64(w, rec->cr2);
	state_put_u64(w, rec->cr3);
	state_put_u64(w, rec->cr4);
	state_put_u64(w, rec->cr4_shadow);
	state_put_u64(w, rec->dr7);
	state_put_u64(w, rec->debugctl);
	for (unsigned i = 0; i < VREC_SEGMENTS; i++)
		put_segment(w, &rec->seg[i]);
	state_put_u64(w, rec->gdtr_base);
	state_put_u32(w, rec->gdtr_limit);
	state_put_u64(w, rec->idtr_base);
	state_put_u32(w, rec->idtr_limit);
	state_put_u32(w, rec->sysenter_cs);
	state_put_u64(w, rec->sysenter_esp);
	state_put_u64(w, rec->sysenter_eip);
	state_put_u64(w, rec->efer);
	state_put_u64(w, rec->pat);
	state_put_bool(w, rec->ia32e_mode);
	for (unsigned i = 0; i < VCPU_RECORD_PDPTES; i++)
		state_put_u64(w, rec->pdpte[i]);
	state_put_u32(w, rec->activity);
	state_put_u32(w, rec->interruptibility);
	state_put_u64(w, rec->pending_dbg);
	state_put_u32(w, rec->entry_intr_info);
	state_put_u32(w, rec->entry_error_code);
	state_put_u32(w, rec->entry_insn_len);
	state_put_u16(w, rec->intr_status);
	for (unsigned i = 0; i < VCPU_RECORD_DR_ADDRS; i++)
		state_put_u64(w, rec->dr[i]);
	state_put_u64(w, rec->dr6);
	state_put_u64(w, rec->xcr0);
	state_put_u64(w, rec->misc_enable);
	state_put_u64(w, rec->tsc_adjust);
	for (unsigned i = 0; i < VCPU_RECORD_LAZY_MSRS; i++)
		state_put_u64(w, rec->lazy_msrs[i]);
	state_put_u64(w, rec->kvmclock_msr);
	state_put_u32(w, rec->kvmclock_version);
	state_put_u64(w, rec->steal_msr);
	state_put_u32(w, rec->steal_version);
	state_put_u64(w, rec->steal_ns);
	state_put_u64(w, rec->pv_eoi_msr);
	state_put_u64(w, rec->tsc_at_clock_zero);
	state_put_bool(w, rec->halted);
	state_put_bool(w, rec->halted_until_kick);
	state_put_bool(w, rec->pv_unhalted);
	state_put_bool(w, rec->wait_sipi);
	state_put_bool(w, rec->parked);
	state_put_bool(w, rec->init_pending);
	state_put_bool(w, rec->sipi_pending);
	state_put_u8(w, rec->sipi_vector);
	state_put_bytes(w, rec->fpu, VCPU_RECORD_FPU_SIZE);
}

/* What no vCPU can hold, whatever the CPU: the host-dependent checks
 * (XCR0 against what the CPU offers, the guest-state checks of a VM
 * entry) come when the record is applied. */
static void check(const struct vcpu_record *rec, struct state_reader *r)
{
	if (rec->activity > ACTIVITY_WAIT_SIPI)
		state_refuse(r, "vCPU activity state out of range");
	if (rec->interruptibility & ~INTERRUPTIBILITY_BITS)
		state_refuse(r, "vCPU interruptibility has reserved bits set");
	if (rec->entry_intr_info & INTR_INFO_RESERVED)
		state_refuse(r, "vCPU pending event has reserved bits set");
	if (rec->entry_insn_len > INSN_LEN_MAX)
		state_refuse(r, "vCPU pending event: instruction length over 15");
	if ((rec->dr6 | rec->dr7) & HIGH_HALF)
		state_refuse(r, "vCPU DR6/DR7 bits 63:32 set");
	if (!(rec->xcr0 & XCR0_X87))
		state_refuse(r, "vCPU XCR0 without x87 state");
	if (rec->parked && rec->wait_sipi)
		state_refuse(r, "vCPU both parked and waiting for SIPI");
}

int vcpu_record_load(struct vcpu_record *rec, struct state_reader *r)
{
	rec->id = state_get_u32(r);
	for (unsigned i = 0; i < VCPU_RECORD_GPRS; i++)
		rec->gpr[i] = state_get_u64(r);
	rec->rip = state_get_u64(r);
	rec->rflags = state_get_u64(r);
	rec->cr0 = state_get_u64(r);
	rec->cr0_shadow = state_get_u64(r);
	rec->cr2 = state_get_u64(r);
	rec->cr3 = state_get_u64(r);
	rec->cr4 = state_get_u64(r);
	rec->cr4_shadow = state_get_u64(r);
	rec->dr7 = state_get_u64(r);
	rec->debugctl = state_get_u64(r);
	for (unsigned i = 0; i < VREC_SEGMENTS; i++)
		get_segment(r, &rec->seg[i]);
	rec->gdtr_base = state_get_u64(r);
	rec->gdtr_limit = state_get_u32(r);
	rec->idtr_base = state_get_u64(r);
	rec->idtr_limit = state_get_u32(r);
	rec->sysenter_cs = state_get_u32(r);
	rec->sysenter_esp = state_get_u64(r);
	rec->sysenter_eip = state_get_u64(r);
	rec->efer = state_get_u64(r);
	rec->pat = state_get_u64(r);
	rec->ia32e_mode = state_get_bool(r);
	for (unsigned i = 0; i < VCPU_RECORD_PDPTES; i++)
		rec->pdpte[i] = state_get_u64(r);
	rec->activity = state_get_u32(r);
	rec->interruptibility = state_get_u32(r);
	rec->pending_dbg = state_get_u64(r);
	rec->entry_intr_info = state_get_u32(r);
	rec->entry_error_code = state_get_u32(r);
	rec->entry_insn_len = state_get_u32(r);
	rec->intr_status = state_get_u16(r);
	for (unsigned i = 0; i < VCPU_RECORD_DR_ADDRS; i++)
		rec->dr[i] = state_get_u64(r);
	rec->dr6 = state_get_u64(r);
	rec->xcr0 = state_get_u64(r);
	rec->misc_enable = state_get_u64(r);
	rec->tsc_adjust = state_get_u64(r);
	for (unsigned i = 0; i < VCPU_RECORD_LAZY_MSRS; i++)
		rec->lazy_msrs[i] = state_get_u64(r);
	rec->kvmclock_msr = state_get_u64(r);
	rec->kvmclock_version = state_get_u32(r);
	rec->steal_msr = state_get_u64(r);
	rec->steal_version = state_get_u32(r);
	rec->steal_ns = state_get_u64(r);
	rec->pv_eoi_msr = state_get_u64(r);
	rec->tsc_at_clock_zero = state_get_u64(r);
	rec->halted = state_get_bool(r);
	rec->halted_until_kick = state_get_bool(r);
	rec->pv_unhalted = state_get_bool(r);
	rec->wait_sipi = state_get_bool(r);
	rec->parked = state_get_bool(r);
	rec->init_pending = state_get_bool(r);
	rec->sipi_pending = state_get_bool(r);
	rec->sipi_vector = state_get_u8(r);
	state_get_bytes(r, rec->fpu, VCPU_RECORD_FPU_SIZE);
	if (!r->refused)
		check(rec, r);
	return state_reader_done(r);
}
