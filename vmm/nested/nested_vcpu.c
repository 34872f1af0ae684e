#include "vmm/nested/nested_vcpu.h"

#include <stddef.h>
#include <string.h>

void nested_vcpu_reset(struct nested_vcpu *n)
{
	n->vmxon = false;
	n->vmxon_region = NESTED_NO_VMCS;
	n->current = -1;
	n->use_clock = 0;
	n->shadow_live = false;	    /* VMCS01 was set up anew */
	vpid_map_reset(&n->vpids);  /* the tags flushed at their next use */
	vmcs02_cache_drop(&n->c02); /* L0's VMCS01 and bitmaps were set up anew */
	n->msr_words_of = 0;
	shadow_ept_invalidate(&n->shadow);
	for (unsigned i = 0; n->slots && i < NESTED_VMCS_CACHED; i++)
		n->slots[i].region = NESTED_NO_VMCS;
}

uint64_t nested_current_region(const struct nested_vcpu *n)
{
	return n->current < 0 ? NESTED_NO_VMCS : n->slots[n->current].region;
}

struct nested_vmcs_slot *nested_current(struct nested_vcpu *n)
{
	return n->current < 0 ? NULL : &n->slots[n->current];
}

struct nested_vmcs_slot *nested_find(struct nested_vcpu *n, uint64_t region)
{
	if (!n->slots)
		return NULL;
	for (unsigned i = 0; i < NESTED_VMCS_CACHED; i++)
		if (n->slots[i].region == region)
			return &n->slots[i];
	return NULL;
}

void nested_load(struct nested_vcpu *n, uint64_t region)
{
	struct nested_vmcs_slot *s = nested_find(n, region);

	if (!s) {
		int victim = -1;
		for (int i = 0; i < NESTED_VMCS_CACHED; i++) {
			if (i == n->current)
				continue;
			if (victim < 0 || n->slots[i].region == NESTED_NO_VMCS ||
			    (n->slots[victim].region != NESTED_NO_VMCS &&
			     n->slots[i].last_use < n->slots[victim].last_use))
				victim = i;
			if (n->slots[victim].region == NESTED_NO_VMCS)
				break;
		}
		s = &n->slots[victim];
		memset(&s->vmcs, 0, sizeof(s->vmcs));
		s->region = region;
		s->launched = false;
	}
	s->last_use = ++n->use_clock;
	n->current = (int)(s - n->slots);
}
