#include "vmm/cpu/vmcs_shadow.h"

#include "arch/x86/page_alloc.h"
#include "vmm/nested/vmcs02_cache.h"
#include "vmm/nested/vmcs_shadowing.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_caps.h"

/* A VMCS region's bit 31: a shadow VMCS (SDM 25.2). */
#define REVISION_SHADOW (1u << 31)
#define VMCS_LINK_NONE (~0ull)

/* The bitmaps and field lists, the same for every VM: the host's. */
static struct nested_shadowing shadowing __attribute__((aligned(PAGE_SIZE)));
static bool shadowing_ready;
/* The run of fields L1 writes often, in their slots' order. */
static const uint32_t written[NESTED_VMCS_WRITTEN] = { NESTED_VMCS_WRITTEN_LIST };
/* By slot of the virtual VMCS: the field's encoding where the shadow
 * VMCS holds it, else NOT_HELD. */
#define NOT_HELD (~0u)
static uint32_t shadow_field[NESTED_VMCS_FIELDS];

/* The probe: a field the host cannot hold fails the VMWRITE (error 12),
 * as do the read-only ones on a CPU whose IA32_VMX_MISC bit 29 is clear. */
static bool host_can_hold(uint32_t encoding, void *ctx)
{
	(void)ctx;
	return vmwrite(encoding, 0);
}

static uint32_t *new_shadow_region(void)
{
	uint32_t *page = page_alloc(1);

	if (page)
		page[0] = vmx_revision_id() | REVISION_SHADOW;
	return page;
}

void vmcs_shadow_init(void)
{
	if (!vmx_controls.vmcs_shadowing)
		return;
	uint32_t *page = new_shadow_region();
	if (!page)
		return;
	uint64_t pa = (uint64_t)(uintptr_t)page;
	if (!vmcs_clear(pa) && !vmcs_load(pa)) {
		nested_shadowing_build(&shadowing, host_can_hold, NULL);
		for (unsigned i = 0; i < NESTED_VMCS_FIELDS; i++)
			shadow_field[i] = NOT_HELD;
		for (unsigned i = 0; i < shadowing.nread; i++)
			shadow_field[shadowing.read_slots[i]] = shadowing.read_fields[i];
		shadowing_ready = shadowing.nread > 0;
	}
	vmcs_clear(pa);
	page_free(page, 1);
}

unsigned vmcs_shadow_fields(void)
{
	return shadowing_ready ? shadowing.nread : 0;
}

int vmcs_shadow_alloc(struct vcpu *v)
{
	if (!shadowing_ready)
		return 0;
	uint32_t *page = new_shadow_region();
	if (!page)
		return -1;
	v->nested.shadow_vmcs = (uint64_t)(uintptr_t)page;
	return 0;
}

void vmcs_shadow_free(struct vcpu *v)
{
	if (!v->nested.shadow_vmcs)
		return;
	vmcs_clear(v->nested.shadow_vmcs);
	page_free((void *)(uintptr_t)v->nested.shadow_vmcs, 1);
	v->nested.shadow_vmcs = 0;
	v->nested.shadow_live = false;
}

/* Makes the shadow VMCS current, VMCLEARed first until its first push
 * (once it is live, back() has left it clear); back() leaves it clear in
 * memory (so any CPU may take it next) and VMCS01 current again (SDM
 * 25.11.3). */
static bool to_shadow(struct vcpu *v)
{
	if ((v->nested.shadow_live || !vmcs_clear(v->nested.shadow_vmcs)) &&
	    !vmcs_load(v->nested.shadow_vmcs))
		return true;
	vmcs_load(v->vmcs);
	vm_stop(v->vm, VM_END_CRASH, "VMCLEAR/VMPTRLD of its shadow VMCS failed");
	return false;
}

static void back(struct vcpu *v)
{
	vmcs_clear(v->nested.shadow_vmcs);
	if (vmcs_load(v->vmcs))
		vm_stop(v->vm, VM_END_CRASH, "VMPTRLD of its own VMCS failed");
}

void vmcs_shadow_pull(struct vcpu *v)
{
	struct nested_vmcs_slot *cur = nested_current(&v->nested);

	if (!v->nested.shadow_live || !cur || !to_shadow(v))
		return;
	/* The CPU returns each field at its width. When the host holds every
	 * field of the run L1 writes often, VMREADs of immediates compared
	 * with the run, those that differ listed for VMCS02's diff (unrolled:
	 * Bochs counts each instruction of a loop's overhead, a tick apiece);
	 * else by slot, and the next diff compares everything. */
	struct vmcs02_cache *c02 = &v->nested.c02;
	c02->npulled = 0;
	if (shadowing.nwrite == NESTED_VMCS_WRITTEN) {
		uint64_t *run = &cur->vmcs.field[NESTED_VMCS_WRITTEN_FIRST];
#pragma GCC unroll 64
		for (unsigned k = 0; k < NESTED_VMCS_WRITTEN; k++) {
			uint64_t value = vmread(written[k]);
			if (__builtin_expect(value != run[k], 0)) {
				run[k] = value;
				c02->pulled[c02->npulled++] =
					(uint8_t)(NESTED_VMCS_WRITTEN_FIRST + k);
			}
		}
	} else {
#pragma GCC unroll 8
		for (unsigned i = 0; i < shadowing.nwrite; i++)
			cur->vmcs.field[shadowing.write_slots[i]] =
				vmread(shadowing.write_fields[i]);
		c02->synced = false;
	}
	back(v);
}

void vmcs_shadow_push(struct vcpu *v)
{
	struct nested_vcpu *n = &v->nested;
	struct nested_vmcs_slot *cur = nested_current(n);
	uint32_t proc2 = (uint32_t)vmread(VMCS_PROC_BASED_CTLS2);

	if (!n->shadow_vmcs)
		return;
	if (!cur) {
		/* VMREAD/VMWRITE exit, and fail for want of a current VMCS. */
		if (n->shadow_live) {
			vmwrite(VMCS_PROC_BASED_CTLS2, proc2 & ~PROC2_VMCS_SHADOWING);
			vmwrite(VMCS_LINK_POINTER, VMCS_LINK_NONE);
			n->shadow_live = false;
		}
		return;
	}
	if (!to_shadow(v))
		return;
	for (unsigned i = 0; i < shadowing.nread; i++)
		vmwrite(shadowing.read_fields[i], cur->vmcs.field[shadowing.read_slots[i]]);
	back(v);
	if (!n->shadow_live) {
		vmwrite(VMCS_VMREAD_BITMAP, (uint64_t)(uintptr_t)shadowing.vmread_bitmap);
		vmwrite(VMCS_VMWRITE_BITMAP, (uint64_t)(uintptr_t)shadowing.vmwrite_bitmap);
		vmwrite(VMCS_LINK_POINTER, n->shadow_vmcs);
		vmwrite(VMCS_PROC_BASED_CTLS2, proc2 | PROC2_VMCS_SHADOWING);
		n->shadow_live = true;
	}
}

bool vmcs_shadow_push_changed(struct vcpu *v, struct nested_vmcs_slot *cur,
			      struct nested_vmcs *before, unsigned first)
{
	struct nested_vcpu *n = &v->nested;

	if (!n->shadow_live || !cur) {
		vmcs_shadow_push(v);
		return false;
	}
	if (!to_shadow(v))
		return false;
	for (unsigned i = nested_vmcs_next_difference(before, &cur->vmcs, first);
	     i < NESTED_VMCS_FIELDS; i = nested_vmcs_next_difference(before, &cur->vmcs, i + 1)) {
		if (shadow_field[i] != NOT_HELD)
			vmwrite(shadow_field[i], cur->vmcs.field[i]);
		before->field[i] = cur->vmcs.field[i];
	}
	back(v);
	return true;
}
