/* VMCS02 kept between a guest hypervisor's (L1's) entries into its guest
 * (L2): the values of L1's VMCS (VMCS12) that VMCS02 was last made from,
 * or, for L2's state, that L2's last exit left in both. An entry with the
 * same VMCS12 on the same host CPU finds what L1 changed since, so it
 * rewrites only that and repeats only the checks of SDM 26.2 and 26.3
 * those fields take part in (every entry makes them; a field that did not
 * change passes as it did). Pure computation, so the host unit tests
 * check it. */
#ifndef PGVISOR_NESTED_VMCS02_CACHE_H
#define PGVISOR_NESTED_VMCS02_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/nested/nested_vmcs.h"

struct vmcs02_cache {
	bool built;    /* VMCS02 holds a VMCS12 (else: build anew, all zero at first) */
	int slot;      /* the slot of that VMCS12 */
	bool launched; /* VMCS02's launch state */
	unsigned cpu;  /* the host CPU VMCS02 is active on */
	struct nested_vmcs held;
	/* held equals the VMCS12 but in the slots pulled lists (those of the
	 * run L1 writes often, NESTED_VMCS_WRITTEN_FIRST on, that a pull from
	 * the shadow VMCS found changed): set when held takes the whole
	 * VMCS12 or L2's exit brought them level, cleared by anything else
	 * that may write the VMCS12 (a VMX instruction that leaves L1 in L1, a
	 * pull that compares nothing). A diff then looks at those slots
	 * alone; else it compares every field. */
	bool synced;
	unsigned npulled;
	uint8_t pulled[NESTED_VMCS_WRITTEN];
	/* The last diff: what changed, and the guest-state fields among it
	 * (slots), for the entry to copy into VMCS02. */
	unsigned changed;
	unsigned nguest, ndiff;
	uint8_t guest[NESTED_VMCS_FIELDS];
	uint8_t diff[NESTED_VMCS_FIELDS]; /* every slot that differs */
};

/* What a diff found changed (vmcs02_cache_diff): a control or host-state
 * field (the checks of SDM 26.2); a field the guest-state checks of
 * 26.3.1 read (guest state, and the controls they depend on), or an event
 * to inject (26.2.1.3, 26.3.1.5); RIP, whose one check is its own
 * (26.3.1.4); the host RSP, which no check reads (26.2.2) and only the
 * exit loads. */
#define VMCS02_CONTROLS (1u << 0)
#define VMCS02_GUEST_CHECK (1u << 1)
#define VMCS02_RIP (1u << 2)
#define VMCS02_HOST_RSP (1u << 3)
#define VMCS02_ALL (VMCS02_CONTROLS | VMCS02_GUEST_CHECK | VMCS02_RIP | VMCS02_HOST_RSP)

/* The first slot from `from` on where a and b differ, or
 * NESTED_VMCS_FIELDS. Inline: the exits to L1 and the entries into L2
 * call it once a field that differs, and once more. */
static inline unsigned nested_vmcs_next_difference(const struct nested_vmcs *a,
						   const struct nested_vmcs *b, unsigned from)
{
	if (from >= NESTED_VMCS_FIELDS)
		return NESTED_VMCS_FIELDS;
	const uint64_t *pa = &a->field[from], *pb = &b->field[from];
	size_t left = NESTED_VMCS_FIELDS - from;
	bool same;

	/* REPE CMPSQ: Bochs counts it one instruction an element, where a
	 * C loop takes six; it stops past the first pair that differs. */
	__asm__("repe cmpsq" : "+S"(pa), "+D"(pb), "+c"(left), "=@ccz"(same) : : "memory");
	return same ? NESTED_VMCS_FIELDS : (unsigned)(pa - a->field) - 1;
}

/* What changed in v12 since c->held, into c->changed (returned) and
 * c->guest: VMCS02_ALL when c holds no VMCS12 or another slot's; only the
 * slots c->pulled lists when c->synced. The
 * VM-exit information fields, the VM-entry event fields (VMCS02 takes
 * them at every entry; a valid event counts as VMCS02_CONTROLS and
 * VMCS02_GUEST_CHECK) and the preemption timer's value (counted from
 * every entry) are no change; nor is RSP, which no check reads. */
unsigned vmcs02_cache_diff(struct vmcs02_cache *c, int slot, const struct nested_vmcs *v12);

/* VMCS02 made from v12 (slot) at an entry, or both holding L2's state
 * after its exit: held is v12 now. */
void vmcs02_cache_take(struct vmcs02_cache *c, int slot, const struct nested_vmcs *v12);

/* The same after a diff of v12 found VMCS02 holding it (not
 * VMCS02_ALL): only the slots that differed are copied (held is v12 now,
 * synced). */
void vmcs02_cache_take_diff(struct vmcs02_cache *c, const struct nested_vmcs *v12);

/* VMCS02 cleared: the next entry builds it anew. */
void vmcs02_cache_drop(struct vmcs02_cache *c);

#endif
