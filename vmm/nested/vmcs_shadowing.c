#include "vmm/nested/vmcs_shadowing.h"

#include <string.h>

#include "vmm/vmx/vmcs_fields.h"

_Static_assert(NESTED_VMCS_FIELDS <= 256, "slots fit a byte");

#define BITS_PER_BYTE 8u
#define ENC_HIGH 1u

/* The fields a guest hypervisor writes around most exits of its guest:
 * the run of the virtual VMCS from NESTED_VMCS_WRITTEN_FIRST
 * (nested_vmcs.h says which). VMCS shadowing lets their VMWRITE through,
 * so every VMLAUNCH/VMRESUME reads them back from the shadow VMCS; a
 * VMWRITE of any other field (host state, addresses, the rest of the
 * guest state: set up once) exits and lands in the virtual VMCS at once. */
static bool is_written_often(unsigned slot)
{
	return slot >= NESTED_VMCS_WRITTEN_FIRST &&
	       slot < NESTED_VMCS_WRITTEN_FIRST + NESTED_VMCS_WRITTEN;
}

static void let_through(uint8_t *bitmap, uint32_t encoding)
{
	bitmap[encoding / BITS_PER_BYTE] &= (uint8_t) ~(1u << (encoding % BITS_PER_BYTE));
}

void nested_shadowing_build(struct nested_shadowing *s, host_field_fn host_has, void *ctx)
{
	memset(s->vmread_bitmap, 0xff, sizeof(s->vmread_bitmap));
	memset(s->vmwrite_bitmap, 0xff, sizeof(s->vmwrite_bitmap));
	s->nread = s->nwrite = 0;
	for (unsigned i = 0; i < NESTED_VMCS_FIELDS; i++) {
		uint32_t f = nested_vmcs_field(i);
		if (!host_has(f, ctx))
			continue;
		bool wide = nested_vmcs_is_64bit(f);
		s->read_slots[s->nread] = (uint8_t)i;
		s->read_fields[s->nread++] = f;
		let_through(s->vmread_bitmap, f);
		if (wide)
			let_through(s->vmread_bitmap, f | ENC_HIGH);
		if (nested_vmcs_is_read_only(f) || !is_written_often(i))
			continue;
		s->write_slots[s->nwrite] = (uint8_t)i;
		s->write_fields[s->nwrite++] = f;
		let_through(s->vmwrite_bitmap, f);
		if (wide)
			let_through(s->vmwrite_bitmap, f | ENC_HIGH);
	}
}
