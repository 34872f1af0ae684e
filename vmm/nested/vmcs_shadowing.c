#include "vmm/nested/vmcs_shadowing.h"

#include <string.h>

#include "vmm/vmx/vmcs_fields.h"

_Static_assert(NESTED_VMCS_FIELDS <= 256, "slots fit a byte");

#define BITS_PER_BYTE 8u
#define ENC_HIGH 1u

/* The fields a guest hypervisor writes around most exits of its guest
 * (as KVM's shadow VMCS lets through, and pgvisor's own exit handlers
 * write): its guest's registers and event state, the CR masks and read
 * shadows, the controls that open and close windows, the event to inject
 * and the TSC offset; and the host RSP, which pgvisor writes before every
 * VMLAUNCH/VMRESUME (vmx_entry.S). VMCS shadowing lets their VMWRITE through, so every
 * VMLAUNCH/VMRESUME reads them back from the shadow VMCS; a VMWRITE of
 * any other field (host state, addresses, the rest of the guest state:
 * set up once) exits and lands in the virtual VMCS at once. */
static const uint16_t written_often[] = {
	VMCS_GUEST_RIP,
	VMCS_GUEST_RSP,
	VMCS_GUEST_RFLAGS,
	VMCS_GUEST_CR0,
	VMCS_GUEST_CR3,
	VMCS_GUEST_CR4,
	VMCS_GUEST_DR7,
	VMCS_GUEST_INTERRUPTIBILITY,
	VMCS_GUEST_ACTIVITY_STATE,
	VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
	VMCS_GUEST_IA32_EFER,
	VMCS_GUEST_IA32_PAT,
	VMCS_GUEST_IA32_DEBUGCTL,
	VMCS_GUEST_PDPTE0,
	VMCS_GUEST_PDPTE0 + 2,
	VMCS_GUEST_PDPTE0 + 4,
	VMCS_GUEST_PDPTE0 + 6,
	VMCS_GUEST_SYSENTER_CS,
	VMCS_GUEST_SYSENTER_ESP,
	VMCS_GUEST_SYSENTER_EIP,
	VMCS_PREEMPTION_TIMER_VALUE,
	VMCS_PIN_BASED_CTLS,
	VMCS_PROC_BASED_CTLS,
	VMCS_PROC_BASED_CTLS2,
	VMCS_ENTRY_CTLS,
	VMCS_EXCEPTION_BITMAP,
	VMCS_ENTRY_INTR_INFO,
	VMCS_ENTRY_EXCEPTION_ERROR_CODE,
	VMCS_ENTRY_INSTRUCTION_LEN,
	VMCS_TPR_THRESHOLD,
	VMCS_TSC_OFFSET,
	VMCS_CR0_GUEST_HOST_MASK,
	VMCS_CR4_GUEST_HOST_MASK,
	VMCS_CR0_READ_SHADOW,
	VMCS_CR4_READ_SHADOW,
	VMCS_HOST_RSP,
};

static bool is_written_often(uint32_t encoding)
{
	for (unsigned i = 0; i < sizeof(written_often) / sizeof(written_often[0]); i++)
		if (written_often[i] == encoding)
			return true;
	return false;
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
		if (nested_vmcs_is_read_only(f) || !is_written_often(f))
			continue;
		s->write_slots[s->nwrite] = (uint8_t)i;
		s->write_fields[s->nwrite++] = f;
		let_through(s->vmwrite_bitmap, f);
		if (wide)
			let_through(s->vmwrite_bitmap, f | ENC_HIGH);
	}
}
