/* A vCPU's virtual VMX state (nested VMX): whether its guest is in VMX
 * operation, its VMXON region, the current VMCS, and the hypervisor's
 * copies of the VMCSs it has loaded. */
#ifndef PGVISOR_NESTED_VCPU_H
#define PGVISOR_NESTED_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/nested/host_state.h"
#include "vmm/nested/l2_controls.h"
#include "vmm/nested/nested_vmcs.h"
#include "vmm/nested/shadow_ept.h"
#include "vmm/nested/vmcs02_cache.h"
#include "vmm/nested/vpid_map.h"

/* VMCSs kept per vCPU: a guest hypervisor with more in turn loses the
 * contents of the one it loaded least recently (its region is then
 * treated as a fresh one, all fields 0, launch state clear). */
#define NESTED_VMCS_CACHED 4
/* The current-VMCS pointer when there is none (SDM 30.3 VMXON). */
#define NESTED_NO_VMCS (~0ull)
/* 64-bit words in a 4 KiB bitmap. */
#define PAGE_WORDS_MAX 512

struct nested_vmcs_slot {
	uint64_t region;   /* guest-physical address; NESTED_NO_VMCS when free */
	bool launched;	   /* launch state "launched" (else "clear") */
	uint64_t last_use; /* for eviction */
	struct nested_vmcs vmcs;
};

struct nested_vcpu {
	bool vmxon;	       /* in VMX (root) operation */
	uint64_t vmxon_region; /* VMXON's operand */
	int current;	       /* slot of the current VMCS, or -1 */
	uint64_t use_clock;
	/* NESTED_VMCS_CACHED slots (NESTED_SLOTS_BYTES), given only to the
	 * vCPUs of a VM with nested VMX (vm_lifecycle.c); NULL otherwise. */
	struct nested_vmcs_slot *slots;
	/* Running L1's guest (L2): the vCPU's VMCS is then vmcs02, built
	 * from the current VMCS (vmm/cpu/exit_nested.c), and its own VMCS
	 * (vmcs01) waits with its launch state. */
	bool in_l2;
	/* Interrupt-window exiting is on in VMCS02 for an interrupt of L1's
	 * that L2 is to take (L1 did not ask to exit on it) once it can. */
	bool l2_window;
	/* NMI-window exiting is on in VMCS02 for an NMI of L1's that L2 is
	 * to take (L1 did not ask to exit on NMIs) once L2's NMI or MOV-SS
	 * blocking ends. */
	bool l2_nmi_window;
	/* The next entry to L2 delivers an event (L1's, or one whose delivery
	 * an exit cut short) while an interrupt waits that L1 exits on: VMCS02's
	 * preemption timer is armed at 0 for it, so L2 exits after the
	 * delivery, before its first instruction (SDM 26.7.4), and the
	 * interrupt is exit 1 then, as on the CPU; likewise an NMI that L1
	 * exits on (exit 0). Cleared at L2's exits. */
	bool exit_after_delivery;
	uint64_t vmcs01, vmcs02; /* physical addresses; vmcs02 with the slots */
	bool l1_launched;
	/* L2's EPT when L1 runs it with EPT (tables freed with vmcs02). */
	struct shadow_ept shadow;
	uint64_t shadow_fills; /* pages filled on L2's EPT violations */
	/* L1's VMX-preemption timer for L2: the host TSC at which it fires
	 * (its value at the entry, scaled by the rate, counted from then). */
	bool l2_timer;
	uint64_t l2_timer_deadline;
	/* VMCS02's MSR bitmap when L1 uses one: L0's and L1's ORed, so an
	 * MSR both let through costs no exit (a page, freed with vmcs02). */
	uint8_t *msr_bitmap02;
	/* The 64-bit words of that bitmap where L0's lets an MSR through:
	 * elsewhere it is all ones whatever L1's says, so an entry merges
	 * only these. */
	uint16_t msr_words[PAGE_WORDS_MAX];
	unsigned nmsr_words;
	uint64_t msr_words_of;	/* the L0 bitmap they were listed from (0: none) */
	uint32_t msr_words_gen; /* its msr_bitmap_gen then */
	/* L1's bitmap last merged: its L1-physical address, where it is. */
	uint64_t msr_l1_gpa;
	const uint64_t *msr_l1;
	/* VMCS02 as it was left (vmcs02_cache.h): kept between entries,
	 * with L0's controls and MSR bitmap it was made from and its own. */
	struct vmcs02_cache c02;
	struct nested_l0_controls l0_02;
	uint64_t l0_msr_bitmap02;
	struct nested_l2_controls l2c;
	/* What L2's exit to L1 loads (host_state.h), made at an entry whose
	 * controls or host state changed, or L1's IA32_EFER (efer01). */
	struct nested_host_load host_load;
	uint64_t host_load_efer;
	uint16_t entry_vpid12; /* the VPID in L1's controls at the entry (0: none) */
	/* VMCS shadowing (vmm/cpu/vmcs_shadow.c): the shadow VMCS's page (0
	 * without), and whether it holds the current VMCS, VMCS01 letting
	 * L1's VMREAD/VMWRITE reach it. */
	uint64_t shadow_vmcs;
	bool shadow_live;
	/* VPID for L2 (vpid_map.h): L1's VPIDs' host VPIDs, and the one of
	 * the last entry into L2, which VMCS02 holds (vpid02). */
	struct vpid_map vpids;
	uint16_t vpid02;
	/* Entries into L2 that flushed the host VPID of one of L1's VPIDs;
	 * L1's individual-address INVVPIDs done on the host VPID in place. */
	uint64_t vpid_flushes, vpid_address_flushes;
	uint64_t l2_entries, l2_flushes; /* entries into L2; those that dropped its
					  * translations */
};

/* The moment to arm the VMX-preemption timer for before an entry to L2,
 * until being pgvisor's own (>= now): L1's timer's deadline when it runs
 * and comes first (SDM 25.5.1), now for an exit right after an event's
 * delivery (exit_after_delivery: a timer of 0); never before now. */
static inline uint64_t nested_l2_timer_until(const struct nested_vcpu *n, uint64_t now,
					     uint64_t until)
{
	if (n->exit_after_delivery)
		return now;
	if (!n->l2_timer)
		return until;
	if (n->l2_timer_deadline < until)
		until = n->l2_timer_deadline;
	return until < now ? now : until;
}

#define NESTED_SLOTS_BYTES (sizeof(struct nested_vmcs_slot) * NESTED_VMCS_CACHED)

/* Out of VMX operation, nothing cached (reset, INIT); keeps the slots,
 * vmcs02 and the shadow EPT's pages (emptied at their next use). Never
 * called in L2. */
void nested_vcpu_reset(struct nested_vcpu *n);

/* The current VMCS's region, or NESTED_NO_VMCS. */
uint64_t nested_current_region(const struct nested_vcpu *n);
/* The current VMCS, or NULL. */
struct nested_vmcs_slot *nested_current(struct nested_vcpu *n);

/* The slot caching region, or NULL (also without slots). */
struct nested_vmcs_slot *nested_find(struct nested_vcpu *n, uint64_t region);

/* Makes region current (VMPTRLD): its cached copy, or a fresh one taking
 * the least recently used slot that is not current. Needs the slots. */
void nested_load(struct nested_vcpu *n, uint64_t region);

#endif
