/* The virtual VMCS a guest hypervisor works on: the hypervisor's own copy
 * of each field, reached by the field encodings of SDM Vol. 3 24.11.2 and
 * appendix B. The guest's VMCS region in its memory only carries the
 * revision identifier; nothing else is ever read back from it. */
#ifndef PGVISOR_NESTED_VMCS_H
#define PGVISOR_NESTED_VMCS_H

#include <stdbool.h>
#include <stdint.h>

/* Fields the virtual CPU supports (nested_vmcs.c's table). */
#define NESTED_VMCS_FIELDS 155

/* The storage of the fields (nested_vmcs.c's table) comes in runs, by
 * who changes them. The fields the guest hypervisor (L1) writes around
 * most exits of its guest (L2) are one run from NESTED_VMCS_WRITTEN_FIRST
 * (those KVM's shadow VMCS lets through, and those pgvisor's own exit
 * handlers write: L2's registers and event state, the CR read shadows,
 * the controls that open and close windows, the event to inject and the
 * TSC offset, the host RSP pgvisor writes before every entry): its
 * controls and host RSP, the preemption timer's value, then the part of
 * L2's state an exit copies as it is (PDPTEs, interruptibility,
 * activity, CRs, RSP, RIP, RFLAGS, pending debug exceptions). An exit
 * from L2 to L1 changes only fields from NESTED_VMCS_EXIT_FIRST on (but
 * for the event to inject, which it marks delivered): the timer's value,
 * the rest of L2's state (from NESTED_VMCS_L2_STATE_FIRST, in
 * NESTED_VMCS_L2_STATE_LIST's order), the exit information it writes
 * (from NESTED_VMCS_EXIT_INFO_FIRST, in NESTED_VMCS_EXIT_INFO_LIST's
 * order), the rest of it and the guest state an exit copies apart. */
#define NESTED_VMCS_WRITTEN_CONTROLS                                                               \
	0x2010, 0x4002, 0x4004, 0x4012, 0x4016, 0x4018, 0x401a, 0x401c, 0x401e, 0x6004, 0x6006,    \
		0x6c14,
#define NESTED_VMCS_WRITTEN_GUEST 0x482e,
#define NESTED_VMCS_L2_WRITTEN                                                                     \
	0x280a, 0x280c, 0x280e, 0x2810, 0x4824, 0x4826, 0x6800, 0x6802, 0x6804, 0x681c, 0x681e,    \
		0x6820, 0x6822,
#define NESTED_VMCS_L2_STATE_REST                                                                  \
	0x0800, 0x0802, 0x0804, 0x0806, 0x0808, 0x080a, 0x080c, 0x080e, 0x2800, 0x4800, 0x4802,    \
		0x4804, 0x4806, 0x4808, 0x480a, 0x480c, 0x480e, 0x4810, 0x4812, 0x4814, 0x4816,    \
		0x4818, 0x481a, 0x481c, 0x481e, 0x4820, 0x4822, 0x482a, 0x6806, 0x6808, 0x680a,    \
		0x680c, 0x680e, 0x6810, 0x6812, 0x6814, 0x6816, 0x6818, 0x6824, 0x6826,
#define NESTED_VMCS_EXIT_INFO_LIST                                                                 \
	0x4402, 0x6400, 0x640a, 0x2400, 0x4404, 0x4406, 0x4408, 0x440a, 0x440c, 0x440e,
#define NESTED_VMCS_L2_STATE_LIST NESTED_VMCS_L2_WRITTEN NESTED_VMCS_L2_STATE_REST
#define NESTED_VMCS_WRITTEN_LIST                                                                   \
	NESTED_VMCS_WRITTEN_CONTROLS NESTED_VMCS_WRITTEN_GUEST NESTED_VMCS_L2_WRITTEN
#define NESTED_VMCS_WRITTEN_CONTROLS_N 12 /* in NESTED_VMCS_WRITTEN_CONTROLS */
#define NESTED_VMCS_WRITTEN_GUEST_N 1	  /* in NESTED_VMCS_WRITTEN_GUEST */
#define NESTED_VMCS_L2_STATE 53		  /* in NESTED_VMCS_L2_STATE_LIST */
#define NESTED_VMCS_WRITTEN 26		  /* in NESTED_VMCS_WRITTEN_LIST */
#define NESTED_VMCS_EXIT_INFO 10	  /* in NESTED_VMCS_EXIT_INFO_LIST */
#define NESTED_VMCS_EXIT_TAIL 14	  /* the other exit information, 9 of guest state */
#define NESTED_VMCS_EXIT_INFO_FIRST                                                                \
	(NESTED_VMCS_FIELDS - NESTED_VMCS_EXIT_TAIL - NESTED_VMCS_EXIT_INFO)
#define NESTED_VMCS_L2_STATE_FIRST (NESTED_VMCS_EXIT_INFO_FIRST - NESTED_VMCS_L2_STATE)
#define NESTED_VMCS_EXIT_FIRST (NESTED_VMCS_L2_STATE_FIRST - NESTED_VMCS_WRITTEN_GUEST_N)
#define NESTED_VMCS_WRITTEN_FIRST (NESTED_VMCS_EXIT_FIRST - NESTED_VMCS_WRITTEN_CONTROLS_N)

struct nested_vmcs {
	uint64_t field[NESTED_VMCS_FIELDS];
};

/* What a VMREAD or VMWRITE of a field came to. */
enum nested_vmcs_access {
	NESTED_VMCS_OK,
	NESTED_VMCS_UNSUPPORTED, /* no such field: VM-instruction error 12 */
	NESTED_VMCS_READ_ONLY,	 /* a VM-exit information field: error 13 */
};

/* VMREAD: the field's value as the instruction returns it (a 16- or
 * 32-bit field zero-extended, the high half of a 64-bit field for its
 * "high" encoding). */
enum nested_vmcs_access nested_vmcs_read(const struct nested_vmcs *vmcs, uint64_t encoding,
					 uint64_t *value);

/* VMWRITE: value truncated to the field's width. The VM-exit information
 * fields are read-only (the virtual CPU's IA32_VMX_MISC bit 29 is clear). */
enum nested_vmcs_access nested_vmcs_write(struct nested_vmcs *vmcs, uint64_t encoding,
					  uint64_t value);

/* The whole value of a supported field by its full encoding, for the
 * virtual CPU's own use (checks, VM-instruction error); 0 for others. */
uint64_t nested_vmcs_get(const struct nested_vmcs *vmcs, uint32_t encoding);
void nested_vmcs_set(struct nested_vmcs *vmcs, uint32_t encoding, uint64_t value);

/* The encoding of the field in slot i (0 <= i < NESTED_VMCS_FIELDS), and
 * whether a field is guest state (type 2, SDM 24.11.2). */
uint32_t nested_vmcs_field(unsigned i);
/* The slot of a supported field by its full encoding, or -1. */
int nested_vmcs_slot(uint32_t encoding);
bool nested_vmcs_is_guest_state(uint32_t encoding);
/* Whether a field is 64 bits wide (it has a high access, encoding + 1),
 * and whether it is a VM-exit information field (read-only, type 1). */
bool nested_vmcs_is_64bit(uint32_t encoding);
bool nested_vmcs_is_read_only(uint32_t encoding);

/* IA32_VMX_VMCS_ENUM: the highest field index in the table, in bits 9:1. */
uint64_t nested_vmcs_enum(void);

#endif
