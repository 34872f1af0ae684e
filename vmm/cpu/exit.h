/* VM-exit handling: one handler per basic exit reason, found through a
 * table indexed by the reason (like ACRN's dispatch table). A handler
 * emulates what the guest did and returns; to end the VM it calls
 * vm_stop(). Reasons without a handler stop the VM, never the hypervisor. */
#ifndef PGVISOR_EXIT_H
#define PGVISOR_EXIT_H

#include "vmm/vm/vcpu.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

typedef void (*exit_handler_fn)(struct vcpu *v);

/* The handler of each basic exit reason; handle_unexpected for a reason
 * pgvisor never enables (the VM stops). */
extern const exit_handler_fn exit_handlers[EXIT_REASON_COUNT];
/* An exit reason with flag bits (a failed entry: bit 31) or past the
 * table: counts it, then handles it or stops the VM. */
void exit_dispatch_unusual(struct vcpu *v, uint32_t exit_reason);

/* exit_nested.c: a nested guest's exit, to its guest hypervisor or
 * handled here; entering the nested guest (0, or -1 after stopping the
 * VM); the guest hypervisor's state loaded from cur's host-state area
 * (exit_vmx.c; -1 after stopping the VM). */
void nested_l2_exit(struct vcpu *v, uint32_t reason);
int nested_enter_l2(struct vcpu *v, struct nested_vmcs_slot *cur);
/* What changed in cur since VMCS02 last took it (vmcs02_cache.h's
 * VMCS02_*), for VMLAUNCH/VMRESUME's checks and the entry that follows;
 * everything for a launch. */
unsigned nested_vmcs02_diff(struct vcpu *v, struct nested_vmcs_slot *cur, bool launch);
/* An exit to L1 of pgvisor's making, no exit of L2's behind it: L2's
 * state into L1's VMCS, the exit information all 0 but the reason and
 * the interruption information, L1's host state loaded. */
void nested_exit_to_l1(struct vcpu *v, uint32_t reason, uint32_t intr_info);
/* nested_interrupt.c: before an entry to L2, an interrupt for L1, which
 * L1 asked to exit on (external-interrupt exiting), is a VM exit to L1
 * now (SDM 26.2, 27.2.2); one L1 did not ask for is L2's. */
void nested_l1_interrupt(struct vcpu *v);
/* The moment the run loop arms the VMX-preemption timer for, until,
 * brought forward to L1's timer for L2 while L2 runs with one (SDM
 * 25.5.1), to now for an exit right after an event's delivery
 * (exit_after_delivery); never before now. Inline: before every entry. */
static inline uint64_t nested_timer_until(const struct vcpu *v, uint64_t now, uint64_t until)
{
	if (__builtin_expect(!v->nested.in_l2, 1))
		return until;
	return nested_l2_timer_until(&v->nested, now, until);
}
/* The L1-physical address of L2-physical gpa2 while L2 runs under L1's
 * EPT (gpa2 itself otherwise); false when L1's tables do not map it. */
bool nested_l2_phys(struct vcpu *v, uint64_t gpa2, uint64_t *gpa1);
/* The guest hypervisor takes a VM exit: its host state loaded; flush: its
 * translations go (without VPID in its controls, SDM 28.3.3.1). Returns
 * -1 after stopping the VM. */
int nested_load_host_state(struct vcpu *v, const struct nested_host_load *h, bool flush);
/* The VPID the vCPU's nested guest runs with (VMCS02's, with VPID on the
 * host): one of the vCPU's own per VPID of its guest hypervisor's, apart
 * from every VM's and every other vCPU's. */
uint16_t nested_l2_vpid(const struct vcpu *v);
/* INVVPID types (SDM 30.3 INVVPID): individual-address, single-context,
 * all-context, single-context retaining globals. */
#define NESTED_INVVPID_ADDRESS 0u
#define NESTED_INVVPID_SINGLE 1u
#define NESTED_INVVPID_ALL 2u
#define NESTED_INVVPID_SINGLE_GLOBALS 3u
/* The guest hypervisor's valid INVVPID of type, for its VPID vpid12 (and
 * linear, individual-address), on the host VPIDs its VPIDs map to. */
void nested_invvpid(struct vcpu *v, unsigned type, uint16_t vpid12, uint64_t linear);
/* The VPID whose translations the vCPU's guest now makes: L2's or the VM's. */
uint16_t vcpu_vpid(const struct vcpu *v);
/* Before an entry into L2 (VMCS02 current): the host VPID for L1's VPID
 * vpid12 (0: none) in VMCS02, its translations flushed where they must
 * go; emptied: the shadow EPT tables under eptp were emptied
 * (nested_vpid.c). */
void nested_l2_flush(struct vcpu *v, uint64_t eptp, uint16_t vpid12, bool emptied);

/* Counts the exit in the vCPU's exit profile and runs its handler.
 * Inline: it runs on every exit. */
static inline void exit_dispatch(struct vcpu *v, uint32_t exit_reason)
{
	struct exit_profile *p = &v->prof;

	p->guest_ticks += v->regs.exit_tsc - v->regs.entry_tsc;
	if (__builtin_expect(v->trace.on, 0))
		exit_trace_record(&v->trace, exit_reason, vmread(VMCS_GUEST_RIP),
				  vmread(VMCS_EXIT_QUALIFICATION), v->regs.exit_tsc);
	/* The flags share the field with the basic reason (SDM 25.9.1): one
	 * compare sends any set flag, like an unknown reason, aside. */
	if (exit_reason >= EXIT_REASON_COUNT) {
		exit_dispatch_unusual(v, exit_reason);
		return;
	}
	p->count[exit_reason]++;
	v->prof_reason = (uint16_t)exit_reason;
	if (__builtin_expect(v->nested.in_l2, 0)) {
		nested_l2_exit(v, exit_reason);
		return;
	}
	exit_handlers[exit_reason](v);
}
/* Called right after an entry returned: charges the time from the exit
 * before it (at prev_exit_tsc) to that exit's reason. Inline: it runs on
 * every exit. */
static inline void exit_account_entry(struct vcpu *v, uint64_t prev_exit_tsc)
{
	struct exit_profile *p = &v->prof;

	if (v->prof_reason == PROFILE_NO_REASON)
		return;
	uint64_t ticks = v->regs.entry_tsc - prev_exit_tsc;
	p->ticks[v->prof_reason] += ticks;
	p->timed[v->prof_reason]++;
}

/* Handlers, each in the file of its concept. */
void handle_io(struct vcpu *v);		      /* exit_io.c */
void handle_cpuid(struct vcpu *v);	      /* cpuid_policy.c */
void handle_rdmsr(struct vcpu *v);	      /* msr_policy.c */
void handle_wrmsr(struct vcpu *v);	      /* msr_policy.c */
void handle_cr_access(struct vcpu *v);	      /* exit_cr.c */
void handle_vmcall(struct vcpu *v);	      /* hypercall.c */
void handle_hlt(struct vcpu *v);	      /* exit_insn.c */
void handle_cache_flush(struct vcpu *v);      /* exit_insn.c: INVD, WBINVD */
void handle_xsetbv(struct vcpu *v);	      /* exit_insn.c */
void handle_undefined(struct vcpu *v);	      /* exit_insn.c: #UD for hidden features */
void handle_gdtr_idtr_access(struct vcpu *v); /* exit_desc.c: SGDT SIDT LGDT LIDT */
void handle_ldtr_tr_access(struct vcpu *v);   /* exit_desc.c: SLDT STR LLDT LTR */
void handle_rdtsc(struct vcpu *v);	      /* exit_trap.c */
void handle_rdtscp(struct vcpu *v);	      /* exit_trap.c */
void handle_invlpg(struct vcpu *v);	      /* exit_trap.c */
void handle_dr_access(struct vcpu *v);	      /* exit_trap.c: MOV DR */
void handle_rdpmc(struct vcpu *v);	      /* exit_trap.c */
void handle_hint(struct vcpu *v);	      /* exit_trap.c: PAUSE MONITOR MWAIT */
void handle_ept_violation(struct vcpu *v);    /* exit_ept.c */
void handle_ept_misconfig(struct vcpu *v);    /* exit_ept.c */
void handle_pml_full(struct vcpu *v);	      /* dirty_vcpu.c */
void handle_apic_access(struct vcpu *v);      /* exit_apic_access.c */
void handle_apic_write(struct vcpu *v);	      /* exit_apic_access.c */
void handle_triple_fault(struct vcpu *v);     /* exit_fatal.c */
void handle_entry_failure(struct vcpu *v, uint32_t exit_reason); /* exit_fatal.c */
void handle_external_interrupt(struct vcpu *v);			 /* exit_event.c */
void handle_exception_nmi(struct vcpu *v);			 /* exit_event.c */
/* Ends v's VM for the watchdog (vmm/core/watchdog.c), on v's own CPU. */
void vcpu_watchdog_stop(struct vcpu *v);
void handle_preemption_timer(struct vcpu *v); /* exit_event.c */
void handle_interrupt_window(struct vcpu *v); /* interrupts.c */
void handle_nmi_window(struct vcpu *v);	      /* interrupts.c */
void handle_tpr_below_threshold(struct vcpu *v);
void handle_virtualized_eoi(struct vcpu *v); /* apicv.c */ /* interrupts.c */
void handle_unexpected(struct vcpu *v);			   /* exit.c */

/* exit_vmx.c: the VMX instructions of a guest with nested VMX. */
void handle_vmxon(struct vcpu *v);
void handle_vmxoff(struct vcpu *v);
void handle_vmclear(struct vcpu *v);
void handle_vmptrld(struct vcpu *v);
void handle_vmptrst(struct vcpu *v);
void handle_vmread(struct vcpu *v);
void handle_vmwrite(struct vcpu *v);
void handle_vmlaunch(struct vcpu *v);
void handle_vmresume(struct vcpu *v);
void handle_invept(struct vcpu *v);
void handle_invvpid(struct vcpu *v);

/* CR0 bits VMX operation fixes to 1 (IA32_VMX_CR0_FIXED0 of every CPU):
 * a guest in VMX operation may not clear them (exit_cr.c). */
#define VMX_OPERATION_CR0 (CR0_PE | CR0_NE | CR0_PG)

/* exit_cr.c: with EPT, PAE paging takes its PDPTEs from the VMCS (SDM
 * 26.3.2.4); a CR0/CR4 the hypervisor writes for the guest that enables
 * PAE paging outside long mode loads them from CR3 as the CPU would.
 * false when CR3 points outside the VM's RAM. */
bool cr_load_pdptes(struct vcpu *v, uint64_t cr0, uint64_t cr4);

#endif
