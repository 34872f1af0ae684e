#include "vmm/nested/vmcs02_cache.h"

#include <string.h>

#include "vmm/vmx/vmcs_fields.h"

/* How a field takes part in an entry once it changed. */
static unsigned change_of(uint32_t f)
{
	if (nested_vmcs_is_read_only(f) || f == VMCS_PREEMPTION_TIMER_VALUE ||
	    f == VMCS_ENTRY_INTR_INFO || f == VMCS_ENTRY_EXCEPTION_ERROR_CODE ||
	    f == VMCS_ENTRY_INSTRUCTION_LEN)
		return 0;
	if (f == VMCS_HOST_RSP)
		return VMCS02_HOST_RSP;
	/* The guest-state checks read the controls too (IA-32e mode guest,
	 * unrestricted guest, virtual NMIs, the event to inject). */
	if (!nested_vmcs_is_guest_state(f))
		return VMCS02_CONTROLS | VMCS02_GUEST_CHECK;
	if (f == VMCS_GUEST_RSP)
		return 0;
	return f == VMCS_GUEST_RIP ? VMCS02_RIP : VMCS02_GUEST_CHECK;
}

/* By slot, listed at the first diff (every CPU that races to it writes
 * the same): each field's change_of, with bit 7 for guest state. */
#define GUEST_STATE 0x80u
static uint8_t slot_class[NESTED_VMCS_FIELDS];
static int intr_info_slot;
static bool classes_listed;

static void list_classes(void)
{
	if (__atomic_load_n(&classes_listed, __ATOMIC_ACQUIRE))
		return;
	for (unsigned i = 0; i < NESTED_VMCS_FIELDS; i++) {
		uint32_t f = nested_vmcs_field(i);
		slot_class[i] =
			(uint8_t)(change_of(f) | (nested_vmcs_is_guest_state(f) ? GUEST_STATE : 0));
	}
	intr_info_slot = nested_vmcs_slot(VMCS_ENTRY_INTR_INFO);
	__atomic_store_n(&classes_listed, true, __ATOMIC_RELEASE);
}

/* A slot that differs: listed, and its class. */
static unsigned note(struct vmcs02_cache *c, unsigned i)
{
	c->diff[c->ndiff++] = (uint8_t)i;
	if (slot_class[i] & GUEST_STATE)
		c->guest[c->nguest++] = (uint8_t)i;
	return slot_class[i] & ~GUEST_STATE;
}

unsigned vmcs02_cache_diff(struct vmcs02_cache *c, int slot, const struct nested_vmcs *v12)
{
	unsigned changed = 0;

	list_classes();
	c->nguest = c->ndiff = 0;
	if (!c->built || c->slot != slot) {
		c->changed = VMCS02_ALL;
		return c->changed;
	}
	if (c->synced) {
		/* In sync but for what the pull found L1 had written. */
		for (unsigned k = 0; k < c->npulled; k++)
			changed |= note(c, c->pulled[k]);
	} else {
		for (unsigned i = nested_vmcs_next_difference(&c->held, v12, 0);
		     i < NESTED_VMCS_FIELDS; i = nested_vmcs_next_difference(&c->held, v12, i + 1))
			changed |= note(c, i);
	}
	/* An event to inject is checked whether or not it changed. */
	if (v12->field[intr_info_slot] & INTR_INFO_VALID)
		changed |= VMCS02_CONTROLS | VMCS02_GUEST_CHECK;
	c->changed = changed;
	return changed;
}

void vmcs02_cache_take(struct vmcs02_cache *c, int slot, const struct nested_vmcs *v12)
{
	c->built = true;
	c->slot = slot;
	c->synced = true;
	c->npulled = 0;
	memcpy(&c->held, v12, sizeof(c->held));
}

void vmcs02_cache_take_diff(struct vmcs02_cache *c, const struct nested_vmcs *v12)
{
	for (unsigned k = 0; k < c->ndiff; k++)
		c->held.field[c->diff[k]] = v12->field[c->diff[k]];
	c->synced = true;
	c->npulled = 0;
}

void vmcs02_cache_drop(struct vmcs02_cache *c)
{
	c->built = false;
	c->launched = false;
	c->synced = false;
}
