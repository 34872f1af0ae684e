/* Running a nested guest (L2) for a guest hypervisor (L1): the VM entry
 * that switches the vCPU to a VMCS built from L1's (VMCS02), and every
 * L2 exit: to L1 when its controls ask for it (the exit written into its
 * VMCS, its host state loaded), else handled by pgvisor on L2's state as
 * for any guest. L2 runs on L1's guest-physical memory under the VM's
 * own EPT, or, when L1 runs it with EPT, under shadow EPT tables that
 * compose L1's with the VM's (vmm/nested/shadow_ept.h), filled here as
 * L2's EPT violations find pages missing. */
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "arch/x86/page_alloc.h"
#include "arch/x86/percpu.h"
#include "vmm/cpu/apicv.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/exit_operand.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/interrupts.h"
#include "vmm/cpu/nested_interrupt.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/cpu/vmcs_shadow.h"
#include "vmm/nested/l2_controls.h"
#include "vmm/nested/nested_ept.h"
#include "vmm/nested/shadow_ept.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/exit_reason.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vmx/vmx_caps.h"

#include <string.h>

/* Guest-state fields VMCS02 does not take from L1's VMCS as they are. */
#define VMCS_GUEST_PERF_GLOBAL_CTRL 0x2808u
#define VMCS_GUEST_BNDCFGS 0x2812u
#define VMCS_GUEST_SMBASE 0x4828u
/* Exit-information fields copied to L1 (SDM 27.2), in their slots' order
 * from NESTED_VMCS_EXIT_INFO_FIRST (nested_vmcs.h). */
static const uint32_t exit_info_fields[NESTED_VMCS_EXIT_INFO] = { NESTED_VMCS_EXIT_INFO_LIST };
/* I/O qualification (SDM table 28-5) and the MSR bitmap's layout (25.6.9). */
#define IOQ_SIZE_MASK 7u
#define IOQ_PORT_SHIFT 16
#define PORT_MAX 0xffffu
#define IO_BITMAP_B_FIRST 0x8000u
#define MSR_HIGH_FIRST 0xc0000000u
#define MSR_RANGE_SIZE 0x2000u
#define MSR_BITMAP_HIGH 1024u
#define MSR_BITMAP_WRITE 2048u
#define BITS_PER_BYTE 8u
#define CRQ_GPR_SHIFT 8
#define CRQ_GPR_MASK 0xfu
#define CRQ_TYPE_MOV_TO_MASK 0x30u
#define IOQ_STRING (1u << 4)
#define CPUID_ADDRESS_SIZES 0x80000008u
#define CPUID_PA_BITS_MASK 0xffu

/* What memory outside the VM's RAM reads as, for a nested guest its
 * guest hypervisor maps there: mapped read-only, shared by every VM. */
static const uint8_t ones_page[PAGE_SIZE]
	__attribute__((aligned(PAGE_SIZE))) = { [0 ... PAGE_SIZE - 1] = 0xff };

static bool l1_uses_ept(const struct nested_vmcs *v12)
{
	return (nested_vmcs_get(v12, VMCS_PROC_BASED_CTLS) & PROC_ACTIVATE_SECONDARY) &&
	       (nested_vmcs_get(v12, VMCS_PROC_BASED_CTLS2) & PROC2_ENABLE_EPT);
}

/* An entry of L1's EPT, from its RAM only. */
static int read_l1_entry(void *vm, uint64_t gpa, uint64_t *entry)
{
	return guest_phys_read(vm, gpa, entry, sizeof(*entry));
}

static void l1_ept_env(struct vcpu *v, struct nested_ept_env *env)
{
	uint64_t cap = 0;

	nested_caps_read(&v->vm->nested_caps, MSR_IA32_VMX_EPT_VPID_CAP, &cap);
	*env = (struct nested_ept_env){
		.read = read_l1_entry,
		.ctx = v->vm,
		.pa_bits = cpuid(CPUID_ADDRESS_SIZES, 0).eax & CPUID_PA_BITS_MASK,
		.ept_cap = cap,
	};
}

bool nested_l2_phys(struct vcpu *v, uint64_t gpa2, uint64_t *gpa1)
{
	struct nested_vmcs_slot *cur = nested_current(&v->nested);
	struct nested_ept_env env;
	struct nested_ept_walk w;

	*gpa1 = gpa2;
	if (!v->nested.in_l2 || !cur || !l1_uses_ept(&cur->vmcs))
		return true;
	l1_ept_env(v, &env);
	if (nested_ept_walk(&env, nested_vmcs_get(&cur->vmcs, VMCS_EPT_POINTER), gpa2, EPT_READ,
			    &w) != NESTED_EPT_OK)
		return false;
	*gpa1 = w.gpa1 | (gpa2 & (PAGE_SIZE - 1));
	return true;
}

/* The guest-state fields VMCS02 and L1's VMCS exchange as they are, in
 * their slots' order from NESTED_VMCS_L2_STATE_FIRST (nested_vmcs.h):
 * constants, so the copies are VMREADs and VMWRITEs of immediates. */
static const uint32_t l2_state[NESTED_VMCS_L2_STATE] = { NESTED_VMCS_L2_STATE_LIST };

/* The slots of the exit-information fields and of
 * the fields the entry and the exit read or write by name: listed at the
 * first use (every CPU that races to it writes the same), so the entries
 * into L2 and the exits from it look no field up by its encoding. */
enum hot_field {
	HOT_PIN,
	HOT_PROC,
	HOT_PROC2,
	HOT_EXIT,
	HOT_ENTRY,
	HOT_VPID,
	HOT_EPTP,
	HOT_MSR_BITMAP,
	HOT_ENTRY_INTR_INFO,
	HOT_ENTRY_ERROR_CODE,
	HOT_ENTRY_INSN_LEN,
	HOT_TIMER,
	HOT_EFER,
	HOT_PAT,
	HOT_DR7,
	HOT_DEBUGCTL,
	HOT_CR0,
	HOT_CR4,
	HOT_FIELDS
};
static const uint32_t hot_fields[HOT_FIELDS] = {
	[HOT_PIN] = VMCS_PIN_BASED_CTLS,
	[HOT_PROC] = VMCS_PROC_BASED_CTLS,
	[HOT_PROC2] = VMCS_PROC_BASED_CTLS2,
	[HOT_EXIT] = VMCS_EXIT_CTLS,
	[HOT_ENTRY] = VMCS_ENTRY_CTLS,
	[HOT_VPID] = VMCS_VPID,
	[HOT_EPTP] = VMCS_EPT_POINTER,
	[HOT_MSR_BITMAP] = VMCS_MSR_BITMAP,
	[HOT_ENTRY_INTR_INFO] = VMCS_ENTRY_INTR_INFO,
	[HOT_ENTRY_ERROR_CODE] = VMCS_ENTRY_EXCEPTION_ERROR_CODE,
	[HOT_ENTRY_INSN_LEN] = VMCS_ENTRY_INSTRUCTION_LEN,
	[HOT_TIMER] = VMCS_PREEMPTION_TIMER_VALUE,
	[HOT_EFER] = VMCS_GUEST_IA32_EFER,
	[HOT_PAT] = VMCS_GUEST_IA32_PAT,
	[HOT_DR7] = VMCS_GUEST_DR7,
	[HOT_DEBUGCTL] = VMCS_GUEST_IA32_DEBUGCTL,
	[HOT_CR0] = VMCS_GUEST_CR0,
	[HOT_CR4] = VMCS_GUEST_CR4,
};
static uint8_t hot_slot[HOT_FIELDS];
static bool slots_listed;

/* A field of L1's VMCS by its slot: every hot field is one the virtual
 * VMCS has, and the CPU's VMREAD returns each at its width. */
#define HOT(v12, h) ((v12)->field[hot_slot[h]])

static void list_slots(void)
{
	if (__atomic_load_n(&slots_listed, __ATOMIC_ACQUIRE))
		return;
	for (unsigned h = 0; h < HOT_FIELDS; h++)
		hot_slot[h] = (uint8_t)nested_vmcs_slot(hot_fields[h]);
	__atomic_store_n(&slots_listed, true, __ATOMIC_RELEASE);
}

/* The VPID L1 runs L2 with: 0 without "enable VPID" in its controls. */
static uint16_t l1_vpid(const struct nested_vmcs *v12)
{
	if (!(HOT(v12, HOT_PROC) & PROC_ACTIVATE_SECONDARY) ||
	    !(HOT(v12, HOT_PROC2) & PROC2_ENABLE_VPID))
		return 0;
	return (uint16_t)HOT(v12, HOT_VPID);
}

/* A bit of one of L1's bitmaps in its memory; a bitmap outside its RAM
 * reads all-ones, as on the bare machine. */
static bool l1_bitmap_bit(struct vcpu *v, uint64_t page, uint32_t bit)
{
	uint8_t byte;

	if (guest_phys_read(v->vm, page + bit / BITS_PER_BYTE, &byte, 1))
		return true;
	return (byte >> (bit % BITS_PER_BYTE)) & 1;
}

/* Whether L1's I/O bitmaps ask for an exit on any port of the access. */
static bool io_bitmap_exit(struct vcpu *v, const struct nested_vmcs *v12, uint64_t qual)
{
	uint32_t port = (uint32_t)(qual >> IOQ_PORT_SHIFT) & PORT_MAX;
	unsigned size = (unsigned)(qual & IOQ_SIZE_MASK) + 1;

	for (unsigned i = 0; i < size; i++) {
		uint32_t p = port + i;
		if (p > PORT_MAX)
			return true; /* wraps around: an exit (SDM 26.1.3) */
		uint64_t page = nested_vmcs_get(v12, p < IO_BITMAP_B_FIRST ? VMCS_IO_BITMAP_A
									   : VMCS_IO_BITMAP_B);
		if (l1_bitmap_bit(v, page, p % IO_BITMAP_B_FIRST))
			return true;
	}
	return false;
}

/* Whether L1's MSR bitmap asks for an exit on ECX (SDM 25.6.9). */
static bool msr_bitmap_exit(struct vcpu *v, const struct nested_vmcs *v12, bool write)
{
	uint32_t msr = (uint32_t)v->regs.gpr[REG_RCX];
	uint32_t bit;

	if (msr < MSR_RANGE_SIZE)
		bit = msr;
	else if (msr >= MSR_HIGH_FIRST && msr < MSR_HIGH_FIRST + MSR_RANGE_SIZE)
		bit = MSR_BITMAP_HIGH * BITS_PER_BYTE + (msr - MSR_HIGH_FIRST);
	else
		return true;
	if (write)
		bit += MSR_BITMAP_WRITE * BITS_PER_BYTE;
	return l1_bitmap_bit(v, nested_vmcs_get(v12, VMCS_MSR_BITMAP), bit);
}

/* VMCS02's MSR bitmap: an MSR exits if L0's or L1's bitmap says so
 * (SDM 25.6.9); L1's outside its RAM makes every MSR exit. L1 may change
 * its bitmap between entries (SDM 25.11.4), so each entry merges it
 * again, but only in the words where L0's lets an MSR through (listed
 * when VMCS02 is built, or L0's bitmap is another or changed: its
 * msr_bitmap_gen, as L1's local APIC enters or leaves x2APIC mode):
 * elsewhere the merge is all ones. Returns its address, or 0 out of
 * memory. */
static uint64_t merge_msr_bitmaps(struct vcpu *v, const uint64_t *l0, uint64_t l1_gpa, bool build)
{
	struct nested_vcpu *n = &v->nested;
	uint64_t *out;

	if (!n->msr_bitmap02 && !(n->msr_bitmap02 = page_alloc(1)))
		return 0;
	/* Where L1's bitmap is: the VM's RAM does not move. */
	if (build || !n->msr_l1 || l1_gpa != n->msr_l1_gpa) {
		n->msr_l1_gpa = l1_gpa;
		n->msr_l1 = guest_phys_ptr(v->vm, l1_gpa, PAGE_SIZE);
	}
	const uint64_t *l1 = n->msr_l1;
	out = (uint64_t *)n->msr_bitmap02;
	if (build || n->msr_words_of != (uint64_t)(uintptr_t)l0 ||
	    n->msr_words_gen != v->msr_bitmap_gen) {
		n->msr_words_of = (uint64_t)(uintptr_t)l0;
		n->msr_words_gen = v->msr_bitmap_gen;
		n->nmsr_words = 0;
		for (unsigned i = 0; i < PAGE_SIZE / sizeof(uint64_t); i++) {
			if (l0[i] != ~0ull)
				n->msr_words[n->nmsr_words++] = (uint16_t)i;
			else
				out[i] = ~0ull;
		}
	}
	if (!l1) {
		for (unsigned k = 0; k < n->nmsr_words; k++)
			out[n->msr_words[k]] = ~0ull;
		return (uint64_t)(uintptr_t)out;
	}
	/* Unrolled: Bochs counts each instruction of a loop's overhead. */
#pragma GCC unroll 8
	for (unsigned k = 0; k < n->nmsr_words; k++) {
		unsigned i = n->msr_words[k];
		out[i] = l0[i] | l1[i];
	}
	return (uint64_t)(uintptr_t)out;
}

unsigned nested_vmcs02_diff(struct vcpu *v, struct nested_vmcs_slot *cur, bool launch)
{
	struct nested_vcpu *n = &v->nested;

	/* A launch builds VMCS02 anew (its checks all made). */
	if (launch)
		vmcs02_cache_drop(&n->c02);
	return vmcs02_cache_diff(&n->c02, (int)(cur - n->slots), &cur->vmcs);
}

/* VMCS02's controls: L0's and L1's (nested_l2_controls), the bitmaps
 * and L1's controls VMCS02 takes as they are. */
static void write_controls(struct vcpu *v, const struct nested_vmcs *v12,
			   const struct nested_l2_controls *c)
{
	bool true_ctls = vmx_caps.basic & VMX_BASIC_TRUE_CTLS;

	vmwrite(VMCS_PIN_BASED_CTLS,
		vmx_adjust_control(c->pin, true_ctls ? vmx_caps.true_pinbased : vmx_caps.pinbased));
	vmwrite(VMCS_PROC_BASED_CTLS,
		vmx_adjust_control(c->proc,
				   true_ctls ? vmx_caps.true_procbased : vmx_caps.procbased));
	v->nested.l2_window = false;
	v->nested.l2_nmi_window = false;
	vmwrite(VMCS_PROC_BASED_CTLS2, vmx_adjust_control(c->proc2, vmx_caps.procbased2));
	vmwrite(VMCS_EXIT_CTLS, c->exit);
	vmwrite(VMCS_ENTRY_CTLS, c->entry);
	vmwrite(VMCS_EXCEPTION_BITMAP, c->exception_bitmap);
	vmwrite(VMCS_PF_ERROR_CODE_MASK, nested_vmcs_get(v12, VMCS_PF_ERROR_CODE_MASK));
	vmwrite(VMCS_PF_ERROR_CODE_MATCH, nested_vmcs_get(v12, VMCS_PF_ERROR_CODE_MATCH));
	vmwrite(VMCS_CR3_TARGET_COUNT, nested_vmcs_get(v12, VMCS_CR3_TARGET_COUNT));
	for (uint32_t i = 0; i < 4; i++)
		vmwrite(VMCS_CR3_TARGET_VALUE0 + 2 * i,
			nested_vmcs_get(v12, VMCS_CR3_TARGET_VALUE0 + 2 * i));
	vmwrite(VMCS_IO_BITMAP_A, (uint64_t)v->vm->io_bitmaps);
	vmwrite(VMCS_IO_BITMAP_B, (uint64_t)v->vm->io_bitmaps + PAGE_SIZE);
	if (vmx_controls.vpid)
		vmwrite(VMCS_VPID, v->nested.vpid02);
	vmwrite(VMCS_TSC_OFFSET, c->tsc_offset);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, c->cr0_mask);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, c->cr4_mask);
	vmwrite(VMCS_CR0_READ_SHADOW, c->cr0_shadow);
	vmwrite(VMCS_CR4_READ_SHADOW, c->cr4_shadow);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
}

static bool l0_same(const struct nested_l0_controls *a, const struct nested_l0_controls *b)
{
	return a->pin == b->pin && a->proc == b->proc && a->proc2 == b->proc2 &&
	       a->exit == b->exit && a->entry == b->entry &&
	       a->exception_bitmap == b->exception_bitmap && a->cr0_mask == b->cr0_mask &&
	       a->cr4_mask == b->cr4_mask && a->tsc_offset == b->tsc_offset;
}

int nested_enter_l2(struct vcpu *v, struct nested_vmcs_slot *cur)
{
	struct nested_vcpu *n = &v->nested;
	const struct nested_vmcs *v12 = &cur->vmcs;
	/* Checked again only when L1's controls changed. */
	const char *missing = n->c02.changed & VMCS02_CONTROLS ? nested_l2_unsupported(v12) : NULL;

	if (missing) {
		vm_stop(v->vm, VM_END_CRASH,
			"its guest hypervisor's VMCS uses %s for a nested guest: not implemented "
			"yet",
			missing);
		return -1;
	}
	/* L0's controls and L1's state, from VMCS01 while it is current. */
	struct nested_l0_controls l0 = {
		.pin = (uint32_t)vmread(VMCS_PIN_BASED_CTLS),
		.proc = (uint32_t)vmread(VMCS_PROC_BASED_CTLS),
		.proc2 = (uint32_t)vmread(VMCS_PROC_BASED_CTLS2),
		.exit = (uint32_t)vmread(VMCS_EXIT_CTLS),
		.entry = (uint32_t)vmread(VMCS_ENTRY_CTLS),
		.exception_bitmap = (uint32_t)vmread(VMCS_EXCEPTION_BITMAP),
		.cr0_mask = vmread(VMCS_CR0_GUEST_HOST_MASK),
		.cr4_mask = vmread(VMCS_CR4_GUEST_HOST_MASK),
		.tsc_offset = vmread(VMCS_TSC_OFFSET),
	};
	list_slots();
	uint32_t entry12 = (uint32_t)HOT(v12, HOT_ENTRY);
	bool ia32e = entry12 & ENTRY_IA32E_MODE_GUEST;
	/* Without "load IA32_EFER", L1's with LMA and LME as "IA-32e mode
	 * guest" says (SDM 26.3.2.1). */
	uint64_t efer01 = vmread(VMCS_GUEST_IA32_EFER), efer = efer01;
	efer = ia32e ? efer | EFER_LMA | EFER_LME : efer & ~(EFER_LMA | EFER_LME);
	if (entry12 & ENTRY_LOAD_IA32_EFER)
		efer = HOT(v12, HOT_EFER);
	uint64_t pat = entry12 & ENTRY_LOAD_IA32_PAT
			       ? HOT(v12, HOT_PAT)
			       : (vmx_controls.pat ? vmread(VMCS_GUEST_IA32_PAT) : 0);
	bool debug = entry12 & ENTRY_LOAD_DEBUG_CONTROLS;
	uint64_t dr7 = debug ? HOT(v12, HOT_DR7) : vmread(VMCS_GUEST_DR7);
	uint64_t debugctl = debug ? HOT(v12, HOT_DEBUGCTL) : vmread(VMCS_GUEST_IA32_DEBUGCTL);
	const uint64_t *l0_msr_bitmap = (const uint64_t *)(uintptr_t)vmread(VMCS_MSR_BITMAP);
	bool l2_ept = (HOT(v12, HOT_PROC) & PROC_ACTIVATE_SECONDARY) &&
		      (HOT(v12, HOT_PROC2) & PROC2_ENABLE_EPT);
	int emptied = 0;
	uint64_t eptp;
	if (l2_ept) {
		emptied = shadow_ept_use(&n->shadow, HOT(v12, HOT_EPTP), vmx_controls.ept_2mb);
		if (emptied < 0) {
			vm_stop(v->vm, VM_END_CRASH, "out of memory for its nested guest's EPT");
			return -1;
		}
		eptp = ept_pointer(&n->shadow.ept, false);
	} else {
		eptp = vmread(VMCS_EPT_POINTER);
	}
	/* VMCS02 is built anew for a launch, another VMCS12 or another host
	 * CPU; else it is kept, its controls rewritten when L0's or L1's
	 * changed and L2's state where L1 changed it (vmcs02_cache.h). */
	struct vmcs02_cache *c02 = &n->c02;
	unsigned cpu = this_cpu()->index;
	bool build = !c02->built || c02->slot != n->current || c02->cpu != cpu;
	bool controls = build || (c02->changed & VMCS02_CONTROLS) || !l0_same(&l0, &n->l0_02) ||
			l0_msr_bitmap != (const uint64_t *)(uintptr_t)n->l0_msr_bitmap02;
	struct nested_l2_controls *c = &n->l2c;
	if (controls) {
		nested_l2_controls(&l0, v12, c);
		if (vmx_controls.vpid)
			c->proc2 |= PROC2_ENABLE_VPID;
		n->l0_02 = l0;
		n->l0_msr_bitmap02 = (uint64_t)(uintptr_t)l0_msr_bitmap;
	}
	/* What L2's exit to L1 will load: from L1's host state, which cannot
	 * change before it, and L1's IA32_EFER now. */
	if (controls || (c02->changed & VMCS02_HOST_RSP) || efer01 != n->host_load_efer) {
		nested_host_load_build(&n->host_load, v12, efer01, vmx_controls.pat);
		n->host_load_efer = efer01;
	}
	uint64_t msr_bitmap02 = 0;
	if ((c->proc & PROC_USE_MSR_BITMAPS) &&
	    !(msr_bitmap02 =
		      merge_msr_bitmaps(v, l0_msr_bitmap, HOT(v12, HOT_MSR_BITMAP), build))) {
		vm_stop(v->vm, VM_END_CRASH, "out of memory for its nested guest's MSR bitmap");
		return -1;
	}

	/* A vector L1's page holds (RVI in VMCS01, readable only now) is
	 * looked at before every entry to L2, like one in the model's IRR. */
	v->l1_vector_waits = v->vid && apicv_read_rvi(v);
	if (build) {
		vmcs02_cache_drop(c02);
		if (vmcs_clear(n->vmcs02) || vmcs_load(n->vmcs02)) {
			vm_stop(v->vm, VM_END_CRASH,
				"VMCLEAR/VMPTRLD of its nested guest's VMCS failed");
			return -1;
		}
	} else if (vmcs_load(n->vmcs02)) {
		vm_stop(v->vm, VM_END_CRASH, "VMPTRLD of its nested guest's VMCS failed");
		return -1;
	}
	/* L1's preemption timer counts from this entry (SDM 26.7.4); the
	 * run loop arms the CPU's for it or L0's own moment, the earlier. */
	n->l2_timer = HOT(v12, HOT_PIN) & PIN_PREEMPTION_TIMER;
	n->l2_timer_deadline = rdtsc() + (HOT(v12, HOT_TIMER) << vmx_controls.preemption_shift);
	n->vmcs01 = v->vmcs;
	n->l1_launched = v->launched;
	n->in_l2 = true;
	v->vmcs = n->vmcs02;
	v->launched = c02->launched;
	cur->launched = true;

	n->entry_vpid12 = l1_vpid(v12);
	nested_l2_flush(v, eptp, n->entry_vpid12, emptied > 0);
	if (build)
		vmcs_write_host_state();
	if (controls)
		write_controls(v, v12, c);
	if (msr_bitmap02)
		vmwrite(VMCS_MSR_BITMAP, msr_bitmap02);
	vmwrite(VMCS_EPT_POINTER, eptp);
	/* The event to inject: the CPU cleared VMCS02's at L2's last exit. */
	vmwrite(VMCS_ENTRY_INTR_INFO, HOT(v12, HOT_ENTRY_INTR_INFO));
	if (HOT(v12, HOT_ENTRY_INTR_INFO) & INTR_INFO_VALID) {
		/* Read by the entry only with a valid event (SDM 26.6). */
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, HOT(v12, HOT_ENTRY_ERROR_CODE));
		vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, HOT(v12, HOT_ENTRY_INSN_LEN));
	}

	/* By slot (field i is slot i): no lookup per field on this path;
	 * all of them into a new VMCS02, else those L1 changed. */
	if (build) {
		const uint64_t *state = &v12->field[NESTED_VMCS_L2_STATE_FIRST];
		for (unsigned k = 0; k < NESTED_VMCS_L2_STATE; k++)
			vmwrite(l2_state[k], state[k]);
	} else {
		for (unsigned k = 0; k < c02->nguest; k++) {
			unsigned i = c02->guest[k];
			unsigned j = i - NESTED_VMCS_L2_STATE_FIRST;
			if (j < NESTED_VMCS_L2_STATE)
				vmwrite(l2_state[j], v12->field[i]);
		}
	}
	vmwrite(VMCS_GUEST_IA32_EFER, efer);
	if (vmx_controls.pat)
		vmwrite(VMCS_GUEST_IA32_PAT, pat);
	vmwrite(VMCS_GUEST_DR7, dr7);
	vmwrite(VMCS_GUEST_IA32_DEBUGCTL, debugctl);
	/* With EPT the CPU takes PAE paging's PDPTEs from the VMCS: from
	 * L1's when it runs L2 with EPT too (SDM 26.3.2.4), else read now. */
	if (!l2_ept && !cr_load_pdptes(v, HOT(v12, HOT_CR0), HOT(v12, HOT_CR4))) {
		vm_stop(v->vm, VM_END_CRASH, "its nested guest's CR3 is outside the VM's RAM");
		return -1;
	}
	if (build)
		vmcs02_cache_take(c02, n->current, v12);
	else
		vmcs02_cache_take_diff(c02, v12);
	c02->cpu = cpu;
	n->l2_entries++;
	return 0;
}

/* Back to L1's VMCS, L2's state and the exit written into L1's VMCS. */
static void reflect(struct vcpu *v)
{
	struct nested_vcpu *n = &v->nested;
	struct nested_vmcs *v12 = &nested_current(n)->vmcs;
	uint32_t exit12 = (uint32_t)HOT(v12, HOT_EXIT);

	nested_set_l2_window(v, false);
	nested_set_l2_nmi_window(v, false);

	/* The CPU returns each field at its width. Unrolled whole: each is
	 * a VMREAD of an immediate into its slot (Bochs counts each
	 * instruction of a loop's overhead, a tick apiece). */
	uint64_t *state = &v12->field[NESTED_VMCS_L2_STATE_FIRST];
#pragma GCC unroll 64
	for (unsigned k = 0; k < NESTED_VMCS_L2_STATE; k++)
		state[k] = vmread(l2_state[k]);
	/* CR0 and CR4 as L2 has them, the bits L0 keeps under its mask
	 * included: VMX fixes them for L1's guest as well. */
	if (exit12 & EXIT_SAVE_IA32_EFER)
		HOT(v12, HOT_EFER) = vmread(VMCS_GUEST_IA32_EFER);
	if ((exit12 & EXIT_SAVE_IA32_PAT) && vmx_controls.pat)
		HOT(v12, HOT_PAT) = vmread(VMCS_GUEST_IA32_PAT);
	if (exit12 & EXIT_SAVE_DEBUG_CONTROLS) {
		HOT(v12, HOT_DR7) = vmread(VMCS_GUEST_DR7);
		HOT(v12, HOT_DEBUGCTL) = vmread(VMCS_GUEST_IA32_DEBUGCTL);
	}
	uint64_t *info = &v12->field[NESTED_VMCS_EXIT_INFO_FIRST];
#pragma GCC unroll 10
	for (unsigned k = 0; k < NESTED_VMCS_EXIT_INFO; k++)
		info[k] = vmread(exit_info_fields[k]);
	/* What is left of L1's preemption timer, if L1 asked (SDM 27.3.2). */
	if (n->l2_timer && (exit12 & EXIT_SAVE_PREEMPTION_TIMER)) {
		uint64_t now = v->regs.exit_tsc;
		HOT(v12, HOT_TIMER) =
			n->l2_timer_deadline > now
				? (n->l2_timer_deadline - now) >> vmx_controls.preemption_shift
				: 0;
	}
	n->l2_timer = false;
	/* The event L1 injected was delivered (SDM 27.2.4). */
	HOT(v12, HOT_ENTRY_INTR_INFO) &= ~(uint64_t)INTR_INFO_VALID;

	if (vmcs_load(n->vmcs01)) {
		vm_stop(v->vm, VM_END_CRASH, "VMPTRLD of its own VMCS failed");
		return;
	}
	n->c02.launched = v->launched;
	v->vmcs = n->vmcs01;
	v->launched = n->l1_launched;
	n->in_l2 = false;
	v->l1_vector_waits = false;
	/* A vector of L1's page acknowledged while L2 ran: RVI and SVI in
	 * VMCS01 follow before L1 runs again (the run loop may not look). */
	if (v->vid && v->lapic.isr_changed)
		apicv_before_entry(v);
	nested_load_host_state(v, &n->host_load, !vmx_controls.vpid || !n->entry_vpid12);
}

/* The pages of the aligned block around an EPT violation of L2 that L1
 * maps readable to the VM's RAM are filled with it: L2 touches its code,
 * stack and data in runs, and a fill costs an exit where the walk of a
 * neighbour costs one read (nested_ept_walk_near: the leaf table of the
 * page's own walk). The CPU may cache any translation L1's EPT
 * allows until L1's INVEPT (SDM 29.4.1), which empties them all. Returns
 * -1 out of memory. */
#define FILL_AROUND_PAGES 64u
#define FILL_CHUNK_PAGES 16u /* entries made ready at a time, on the stack */

static int fill_around(struct nested_vcpu *n, const struct nested_ept_env *env,
		       const struct shadow_ept_ram *ram, const struct nested_ept_walk *near,
		       uint64_t gpa2)
{
	uint64_t page = gpa2 & ~(uint64_t)(PAGE_SIZE - 1);
	uint64_t first = gpa2 & ~(uint64_t)(FILL_AROUND_PAGES * PAGE_SIZE - 1);
	uint64_t hpa[FILL_CHUNK_PAGES], perms[FILL_CHUNK_PAGES];

	for (unsigned c = 0; c < FILL_AROUND_PAGES; c += FILL_CHUNK_PAGES) {
		uint64_t chunk = first + c * PAGE_SIZE;
		for (unsigned i = 0; i < FILL_CHUNK_PAGES; i++) {
			uint64_t g = chunk + i * PAGE_SIZE;
			struct nested_ept_walk w;
			if (g == page ||
			    nested_ept_walk_near(env, n->shadow.l1_eptp, near, g, EPT_READ, &w) !=
				    NESTED_EPT_OK ||
			    shadow_ept_compose(ram, &w, EPT_READ, &hpa[i], &perms[i]) !=
				    SHADOW_EPT_RAM) {
				perms[i] = 0;
				continue;
			}
			n->shadow_fills++;
		}
		if (shadow_ept_map_new(&n->shadow, chunk, hpa, perms, FILL_CHUNK_PAGES))
			return -1;
	}
	return 0;
}

/* An EPT violation of L2 run with L1's EPT: L1's if its tables do not
 * allow the access (the qualification's bits 5:3 from its walk) or are
 * malformed (exit 49), else the shadow page is filled and L2 retries. */
static void l2_ept_violation(struct vcpu *v, uint64_t qual)
{
	struct nested_vcpu *n = &v->nested;
	struct nested_vmcs *v12 = &nested_current(n)->vmcs;
	uint64_t gpa2 = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
	uint64_t access = qual & EPT_RWX;
	struct nested_ept_env env;
	struct nested_ept_walk w;

	l1_ept_env(v, &env);
	switch (nested_ept_walk(&env, n->shadow.l1_eptp, gpa2, access, &w)) {
	case NESTED_EPT_VIOLATION:
		reflect(v);
		nested_vmcs_set(v12, VMCS_EXIT_QUALIFICATION,
				nested_ept_violation_qual(qual, w.perms));
		return;
	case NESTED_EPT_MISCONFIG:
		/* SDM 27.2.1: no qualification; the guest-physical address. */
		reflect(v);
		nested_vmcs_set(v12, VMCS_EXIT_REASON, EXIT_EPT_MISCONFIG);
		nested_vmcs_set(v12, VMCS_EXIT_QUALIFICATION, 0);
		return;
	case NESTED_EPT_OK:
		break;
	}
	struct shadow_ept_ram ram = {
		.size = v->vm->ram.size,
		.host = (uint64_t)(uintptr_t)v->vm->ram.host,
		.ones_page = (uint64_t)(uintptr_t)ones_page,
	};
	uint64_t hpa, perms;
	enum shadow_ept_map m = shadow_ept_compose(&ram, &w, access, &hpa, &perms);
	if (m == SHADOW_EPT_OUTSIDE) {
		vm_stop(v->vm, VM_END_CRASH,
			"its nested guest's %s of L2-physical %#llx, which its guest hypervisor "
			"maps to %#llx outside the VM's RAM: not implemented (only reads there)",
			access & EPT_EXEC ? "fetch" : (access & EPT_WRITE ? "write" : "read"),
			(unsigned long long)gpa2, (unsigned long long)w.gpa1);
		return;
	}
	if (m == SHADOW_EPT_UNBACKED_READ && !v->vm->unbacked_count++) {
		v->vm->unbacked_first_gpa = w.gpa1;
		v->vm->unbacked_first_write = false;
	}
	/* Where L1 maps the page's whole 2 MiB to RAM, so does one shadow
	 * entry; else the block around it first: should the tables fill up
	 * and start again meanwhile, the page L2 waits for is mapped all the
	 * same. */
	uint64_t block_hpa, block_perms;
	int large = 0;
	if (m == SHADOW_EPT_RAM && shadow_ept_compose_2m(&ram, &w, &block_hpa, &block_perms))
		large = shadow_ept_map_2m(&n->shadow, gpa2, block_hpa, block_perms);
	if (large < 0 || (!large && (fill_around(n, &env, &ram, &w, gpa2) ||
				     shadow_ept_map(&n->shadow, gpa2, hpa, perms)))) {
		vm_stop(v->vm, VM_END_CRASH, "out of memory for its nested guest's EPT");
		return;
	}
	n->shadow_fills += large ? SHADOW_EPT_PAGES_2M : 1;
	intr_iret_unblocked_nmi(qual);
	vmx_flush_guest(ept_pointer(&n->shadow.ept, false), nested_l2_vpid(v));
}

/* Exits pgvisor would handle by reading L2's memory through its page
 * tables as if L2-physical were L1-physical: not yet under L1's EPT. */
static const char *l2_ept_unhandled(uint32_t reason, uint64_t qual)
{
	if (reason == EXIT_IO_INSTRUCTION && (qual & IOQ_STRING))
		return "string I/O";
	if (reason == EXIT_GDTR_IDTR_ACCESS || reason == EXIT_LDTR_TR_ACCESS)
		return "a descriptor-table instruction";
	return NULL;
}

static void l2_exit(struct vcpu *v, uint32_t reason)
{
	/* CPUID and the like: L1's, nothing else to look at. */
	if (nested_exit_unconditional(reason)) {
		reflect(v);
		return;
	}
	const struct nested_vmcs *v12 = &nested_current(&v->nested)->vmcs;
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
	struct nested_l2_exit e = {
		.reason = reason,
		.qualification = qual,
		.intr_info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO),
		.error_code = (uint32_t)vmread(VMCS_EXIT_INTR_ERROR_CODE),
	};

	if (reason == EXIT_IO_INSTRUCTION)
		e.bitmap_exit = io_bitmap_exit(v, v12, qual);
	else if (reason == EXIT_RDMSR || reason == EXIT_WRMSR)
		e.bitmap_exit = msr_bitmap_exit(v, v12, reason == EXIT_WRMSR);
	else if (reason == EXIT_CR_ACCESS && !(qual & CRQ_TYPE_MOV_TO_MASK))
		e.cr_value = operand_gpr_read(v, (unsigned)(qual >> CRQ_GPR_SHIFT) & CRQ_GPR_MASK);
	/* The CPU's timer fires for L0's moment or L1's: L1's once due. */
	if (reason == EXIT_PREEMPTION_TIMER && v->nested.l2_timer &&
	    v->regs.exit_tsc >= v->nested.l2_timer_deadline) {
		reflect(v);
		return;
	}
	bool l2_ept = (HOT(v12, HOT_PROC) & PROC_ACTIVATE_SECONDARY) &&
		      (HOT(v12, HOT_PROC2) & PROC2_ENABLE_EPT);
	if (l2_ept && reason == EXIT_EPT_VIOLATION) {
		l2_ept_violation(v, qual);
		return;
	}
	if (nested_l1_wants_exit(v12, &e)) {
		reflect(v);
		return;
	}
	const char *unhandled = l2_ept ? l2_ept_unhandled(reason, qual) : NULL;
	if (unhandled) {
		vm_stop(v->vm, VM_END_CRASH,
			"its nested guest's %s, which its guest hypervisor let through, under its "
			"EPT: not implemented",
			unhandled);
		return;
	}
	/* pgvisor's own exits, and those L1 did not ask for, on L2's state:
	 * but L2 halts in VMCS02 (nested_l2_hlt), and a CR0/CR4 write L1
	 * let through changed only bits VMX fixes, which #GP. */
	if (reason == EXIT_HLT) {
		nested_l2_hlt(v);
		return;
	}
	/* pgvisor's window for an interrupt of L1's that L2 takes: closed,
	 * the run loop opens it again if L2 still cannot take it. */
	if (reason == EXIT_INTERRUPT_WINDOW) {
		nested_set_l2_window(v, false);
		return;
	}
	/* Likewise for an NMI of L1's that L2 takes (nested_interrupt.c). */
	if (reason == EXIT_NMI_WINDOW) {
		nested_set_l2_nmi_window(v, false);
		return;
	}
	if (reason == EXIT_CR_ACCESS && !(qual & CRQ_TYPE_MOV_TO_MASK) && (qual & 0xf) != 8) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	exit_handlers[reason](v);
}

/* After an exit to L1: the shadow VMCS refreshed with the fields that
 * changed in L1's VMCS, L2's state and the exit information
 * (vmcs_shadow.h), and VMCS02 holding L2's state as L1's VMCS now does. */
static void exited_to_l1(struct vcpu *v)
{
	struct nested_vcpu *n = &v->nested;
	struct nested_vmcs_slot *cur = nested_current(n);

	if (n->in_l2 || !cur)
		return;
	/* An exit changes L1's VMCS from NESTED_VMCS_EXIT_FIRST on (the exit
	 * information, L2's state), and the event L1 injected (delivered):
	 * held is the rest as it is, unless a VMX instruction came between. */
	struct nested_vmcs *held = &n->c02.held;
	unsigned first = n->c02.synced && HOT(held, HOT_ENTRY_INTR_INFO) ==
						  HOT(&cur->vmcs, HOT_ENTRY_INTR_INFO)
				 ? NESTED_VMCS_EXIT_FIRST
				 : 0;
	if (!vmcs_shadow_push_changed(v, cur, held, first)) {
		vmcs02_cache_take(&n->c02, n->current, &cur->vmcs);
		return;
	}
	/* held is the VMCS12 again, in every field. */
	n->c02.synced = true;
}

/* An exit to L1 that no exit of L2's stands behind (exit 1 for L1's
 * interrupt, nested_interrupt.c): L2's state into L1's VMCS, the exit
 * information only the reason and interruption information given (SDM
 * 27.2.1, 27.2.2: nothing else is defined for it). */
void nested_exit_to_l1(struct vcpu *v, uint32_t reason, uint32_t intr_info)
{
	struct nested_vmcs *v12 = &nested_current(&v->nested)->vmcs;

	reflect(v);
	memset(&v12->field[NESTED_VMCS_EXIT_INFO_FIRST], 0,
	       NESTED_VMCS_EXIT_INFO * sizeof(v12->field[0]));
	nested_vmcs_set(v12, VMCS_EXIT_REASON, reason);
	nested_vmcs_set(v12, VMCS_EXIT_INTR_INFO, intr_info);
	exited_to_l1(v);
}

void nested_l2_exit(struct vcpu *v, uint32_t reason)
{
	v->nested.exit_after_delivery = false;
	l2_exit(v, reason);
	exited_to_l1(v);
}
