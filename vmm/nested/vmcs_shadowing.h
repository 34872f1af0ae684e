/* VMCS shadowing for a guest hypervisor (SDM Vol. 3 24.6.15, 24.10,
 * 25.3): which of the virtual VMCS's fields its VMREAD and VMWRITE reach
 * in a shadow VMCS without a VM exit, as the VMREAD and VMWRITE bitmaps
 * say, and which fields pgvisor copies between the shadow VMCS and its
 * virtual VMCS (vmm/cpu/vmcs_shadow.c does the copying). */
#ifndef PGVISOR_VMCS_SHADOWING_H
#define PGVISOR_VMCS_SHADOWING_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/nested/nested_vmcs.h"

#define VMCS_BITMAP_BYTES 4096

struct nested_shadowing {
	/* A set bit makes the VMREAD/VMWRITE of the field whose encoding's
	 * bits 14:0 are its index exit (SDM 24.6.15); pages of their own. */
	uint8_t vmread_bitmap[VMCS_BITMAP_BYTES];
	uint8_t vmwrite_bitmap[VMCS_BITMAP_BYTES];
	/* Let through: read (pgvisor writes them into the shadow VMCS) and
	 * written (pgvisor reads them back from it), by encoding and by slot
	 * of the virtual VMCS (struct nested_vmcs's field[]). */
	uint32_t read_fields[NESTED_VMCS_FIELDS], write_fields[NESTED_VMCS_FIELDS];
	uint8_t read_slots[NESTED_VMCS_FIELDS], write_slots[NESTED_VMCS_FIELDS];
	unsigned nread, nwrite;
};

/* Whether the host CPU can hold a field in a shadow VMCS: a VMWRITE of
 * it there from VMX root operation succeeds. */
typedef bool (*host_field_fn)(uint32_t encoding, void *ctx);

/* Every field of the virtual VMCS the host can hold is let through for
 * VMREAD (its high access too, for a 64-bit field); for VMWRITE those a
 * guest hypervisor writes around most exits (nested_vmcs.h's run of them),
 * never the read-only VM-exit information fields. Anything else exits,
 * so pgvisor answers it from its virtual VMCS as before: every
 * VMLAUNCH/VMRESUME reads back only the fields let through for VMWRITE. */
void nested_shadowing_build(struct nested_shadowing *s, host_field_fn host_has, void *ctx);

#endif
