#include "vmm/migrate/dirty_track.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/page_alloc.h"
#include "vmm/cpu/dirty_vcpu.h"
#include "vmm/migrate/vcpu_capture.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_caps.h"

enum dirty_mode dirty_track_choose(const char *asked, char *why, size_t whylen)
{
	enum dirty_mode best = vmx_controls.pml	     ? DIRTY_PML
			       : vmx_controls.ept_ad ? DIRTY_AD
						     : DIRTY_WP;
	enum dirty_mode want = best;

	if (!strcmp(asked, "pml"))
		want = DIRTY_PML;
	else if (!strcmp(asked, "ad"))
		want = DIRTY_AD;
	else if (!strcmp(asked, "wp"))
		want = DIRTY_WP;
	else if (asked[0]) {
		snprintf(why, whylen, "dirty=%s: expected pml, ad or wp", asked);
		return DIRTY_OFF;
	}
	if (want > best) {
		snprintf(why, whylen, "dirty=%s: this CPU offers at most %s", asked,
			 dirty_mode_name(best));
		return DIRTY_OFF;
	}
	return want;
}

struct apply_result {
	int err;
};

static void apply(struct vcpu *v, void *arg)
{
	struct apply_result *r = arg;

	r->err |= dirty_vcpu_apply(v);
}

static void drain(struct vcpu *v, void *arg)
{
	(void)arg;
	dirty_vcpu_drain(v);
}

/* Every vCPU's VMCS follows vm->dirty.mode; their translations go at
 * their next entry. */
static int apply_all(struct vm *vm)
{
	struct apply_result r = { 0 };

	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (vcpu_with_vmcs(v, v->released, apply, &r))
			r.err = -1;
		v->flush_tlb = true;
	}
	return r.err;
}

int dirty_track_start(struct vm *vm, enum dirty_mode mode, char *why, size_t whylen)
{
	uint64_t pages = vm->ram.size >> DIRTY_PAGE_SHIFT;

	if (ept_split(&vm->ept, 0, vm->ram.size) || dirty_log_init(&vm->dirty, mode, pages)) {
		snprintf(why, whylen, "not enough memory for the dirty log");
		return -1;
	}
	if (mode == DIRTY_WP)
		dirty_ept_write_perm(&vm->ept, pages, NULL, false);
	else
		dirty_ept_clear_ad(&vm->ept, pages);
	if (apply_all(vm)) {
		dirty_track_stop(vm);
		snprintf(why, whylen, "not enough memory for a PML log");
		return -1;
	}
	return 0;
}

uint64_t dirty_track_collect(struct vm *vm, uint64_t *out)
{
	struct dirty_log *d = &vm->dirty;

	if (d->mode == DIRTY_PML)
		for (unsigned i = 0; i < vm->nvcpus; i++)
			vcpu_with_vmcs(&vm->vcpus[i], vm->vcpus[i].released, drain, NULL);
	else if (d->mode == DIRTY_AD)
		dirty_ept_scan_ad(d, &vm->ept);
	uint64_t n = dirty_log_take(d, out);
	if (d->mode == DIRTY_WP)
		dirty_ept_write_perm(&vm->ept, d->pages, out, false);
	/* Write permission taken away, or dirty flags cleared: the CPU may
	 * hold the old translations until INVEPT (SDM 29.4.3.3). */
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vm->vcpus[i].flush_tlb = true;
	return n;
}

void dirty_track_stop(struct vm *vm)
{
	if (vm->dirty.mode == DIRTY_WP)
		dirty_ept_write_perm(&vm->ept, vm->dirty.pages, NULL, true);
	dirty_log_free(&vm->dirty);
	apply_all(vm);
}

void dirty_track_drop(struct vm *vm)
{
	if (vm->dirty.mode == DIRTY_WP && vm->ept.pml4)
		dirty_ept_write_perm(&vm->ept, vm->dirty.pages, NULL, true);
	dirty_log_free(&vm->dirty);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (v->pml_page)
			page_free(v->pml_page, 1);
		v->pml_page = NULL;
	}
}
