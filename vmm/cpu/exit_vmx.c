/* The VMX instructions of a guest with nested = 1 (SDM Vol. 3 chapter 30),
 * emulated against the vCPU's virtual VMX state (vmm/nested/): VMXON,
 * VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMLAUNCH, VMRESUME,
 * INVEPT and INVVPID, with their exceptions, RFLAGS outcomes and
 * VM-instruction errors, and a VM entry that fails on the guest state as
 * the VM exit to the guest hypervisor it is; one that passes every check
 * runs the guest's own guest (exit_nested.c). In a VM without nested VMX
 * each raises #UD, as on a CPU without VMX. */
#include "arch/x86/cpu.h"
#include "arch/x86/lib/canonical.h"
#include "arch/x86/msr.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/exit_operand.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/cpu/vmcs_shadow.h"
#include "vmm/nested/entry_check.h"
#include "vmm/nested/host_state.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/exit_reason.h"
#include "vmm/vmx/vmcs_check.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

/* RFLAGS bits the VMX instructions set or clear (SDM 30.2). */
#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_VMX_RESULT (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* VM-instruction error numbers (SDM 30.4). */
#define VMXERR_VMCLEAR_INVALID_ADDRESS 2
#define VMXERR_VMCLEAR_VMXON_POINTER 3
#define VMXERR_VMLAUNCH_NONCLEAR 4
#define VMXERR_VMRESUME_NONLAUNCHED 5
#define VMXERR_ENTRY_INVALID_CONTROLS 7
#define VMXERR_ENTRY_INVALID_HOST_STATE 8
#define VMXERR_VMPTRLD_INVALID_ADDRESS 9
#define VMXERR_VMPTRLD_VMXON_POINTER 10
#define VMXERR_VMPTRLD_BAD_REVISION 11
#define VMXERR_UNSUPPORTED_FIELD 12
#define VMXERR_READ_ONLY_FIELD 13
#define VMXERR_VMXON_IN_ROOT 15
#define VMXERR_ENTRY_MOV_SS 26
#define VMXERR_INVALID_INVEPT_INVVPID 28

/* The VM-exit instruction-information field of VMX instructions (SDM
 * 27.2.5, tables 27-9 to 27-13). */
#define INFO_REG1_SHIFT 3
#define INFO_REG_FORM (1u << 10)
#define INFO_REG2_SHIFT 28
#define INFO_REG_MASK 0xfu

/* A VMCS region's first word: the revision identifier and, in bit 31,
 * the shadow-VMCS indicator (SDM 25.2). */
#define REVISION_MASK 0x7fffffffu
#define REVISION_SHADOW (1u << 31)
#define REGION_ALIGN_MASK 0xfffull
#define UNBACKED_READ 0xffffffffu /* what a read with nothing behind it returns */

/* VM-entry failure (SDM 26.8): exit reason 33 with bit 31, and the
 * qualification naming the cause. */
#define ENTRY_FAIL_GUEST_STATE 0ull
#define ENTRY_FAIL_LINK_POINTER 4ull
#define VMCS_LINK_NONE (~0ull)

#define CPUID_ADDRESS_SIZES 0x80000008u
#define CPUID_PA_BITS_MASK 0xffu
#define EFER_LMA_BIT (1ull << 10)
#define AR_CS_LONG (1u << 13) /* CS.L in the access rights (SDM 24.4.1) */

/* INVEPT and INVVPID types (SDM Vol. 2 INVEPT, INVVPID) and the
 * capability bits that offer each. */
#define INVEPT_SINGLE 1
#define INVEPT_ALL 2
#define INVVPID_TYPES 4
#define VPID_CAP_INVVPID_TYPE0_SHIFT 40
#define INVVPID_VPID_MASK 0xffffull
#define INV_DESCRIPTOR_SIZE 16

static void set_result(uint64_t flags)
{
	vmwrite(VMCS_GUEST_RFLAGS, (vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_VMX_RESULT) | flags);
	vmcs_skip_instruction();
}

static void vm_succeed(void)
{
	set_result(0);
}

static void vm_fail_invalid(void)
{
	set_result(RFLAGS_CF);
}

/* VMfail(error): VMfailValid with the error in the current VMCS when
 * there is one, else VMfailInvalid (SDM 30.2). */
static void vm_fail(struct vcpu *v, unsigned error)
{
	struct nested_vmcs_slot *cur = nested_current(&v->nested);

	if (!cur) {
		vm_fail_invalid();
		return;
	}
	nested_vmcs_set(&cur->vmcs, VMCS_VM_INSTRUCTION_ERROR, error);
	set_result(RFLAGS_ZF);
}

/* The checks every VMX instruction makes first (SDM 30.3): #UD without
 * VMX (nested = 0, CR4.VMXE clear, outside VMX operation but for VMXON,
 * real or virtual-8086 mode, compatibility mode), #GP(0) above CPL 0.
 * Returns false after raising the exception. */
static bool permitted(struct vcpu *v, bool vmxon)
{
	bool compat = (vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA_BIT) &&
		      !(vmread(VMCS_GUEST_CS_AR) & AR_CS_LONG);
	/* In VMX operation CR4.VMXE and CR0.PE stay set (exit_cr.c refuses
	 * to clear them, SDM 24.8): only outside it are they looked at. */
	bool cr_off = !v->nested.vmxon &&
		      (!(guest_cr4_view() & CR4_VMXE) || !(guest_cr0_view() & CR0_PE));

	if (!v->vm->cfg.nested || cr_off || (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_VM) || compat ||
	    (!vmxon && !v->nested.vmxon)) {
		vmcs_inject_exception(VEC_UD, false, 0);
		return false;
	}
	if (vmcs_guest_cpl() > 0) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return false;
	}
	return true;
}

static unsigned pa_bits(void)
{
	return cpuid(CPUID_ADDRESS_SIZES, 0).eax & CPUID_PA_BITS_MASK;
}

/* A VMXON region or VMCS address: 4 KiB aligned, within the width. */
static bool region_address_ok(uint64_t addr)
{
	return !(addr & REGION_ALIGN_MASK) && !(addr >> pa_bits());
}

/* The revision word at a region: read from the guest's RAM, all-ones
 * where nothing is behind the address, as on the bare machine. */
static uint32_t region_revision(struct vcpu *v, uint64_t addr)
{
	uint32_t rev;

	if (guest_phys_read(v->vm, addr, &rev, sizeof(rev)))
		return UNBACKED_READ;
	return rev;
}

/* The 64-bit memory operand of VMXON, VMCLEAR and VMPTRLD. Returns -1
 * after a #PF was injected or the VM stopped. */
static int read_pointer(struct vcpu *v, uint64_t *addr)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
	uint64_t linear = operand_linear_address(v, info, vmread(VMCS_EXIT_QUALIFICATION));

	return operand_read(v, linear, addr, sizeof(*addr));
}

static unsigned info_reg(uint32_t info, unsigned shift)
{
	return (info >> shift) & INFO_REG_MASK;
}

/* A register operand at the instruction's operand size: 64 bits in
 * 64-bit mode, else 32. */
static uint64_t operand_size_value(uint64_t value)
{
	return operand_long_mode() ? value : (uint32_t)value;
}

static void vmxon_insn(struct vcpu *v)
{
	const struct nested_caps *caps = &v->vm->nested_caps;
	uint64_t cr0 = guest_cr0_view(), cr4 = guest_cr4_view();
	uint64_t f0, f1, g0, g1, addr;

	if (!permitted(v, true))
		return;
	if (v->nested.vmxon) {
		vm_fail(v, VMXERR_VMXON_IN_ROOT);
		return;
	}
	/* CR0 and CR4 must be values VMX operation supports (SDM 24.8). */
	nested_caps_read(caps, MSR_IA32_VMX_CR0_FIXED0, &f0);
	nested_caps_read(caps, MSR_IA32_VMX_CR0_FIXED1, &f1);
	nested_caps_read(caps, MSR_IA32_VMX_CR4_FIXED0, &g0);
	nested_caps_read(caps, MSR_IA32_VMX_CR4_FIXED1, &g1);
	if ((cr0 & f0) != f0 || (cr0 & ~f1) || (cr4 & g0) != g0 || (cr4 & ~g1)) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	if (read_pointer(v, &addr))
		return;
	uint32_t rev = region_address_ok(addr) ? region_revision(v, addr) : UNBACKED_READ;
	if (!region_address_ok(addr) || rev != nested_caps_revision(caps)) {
		vm_fail_invalid();
		return;
	}
	v->nested.vmxon = true;
	v->nested.vmxon_region = addr;
	v->nested.current = -1;
	/* CR0.PE and PG may not be cleared in VMX operation: their writes
	 * exit now too (exit_cr.c refuses them), the read shadow showing
	 * the guest its own values. */
	vmwrite(VMCS_CR0_READ_SHADOW, cr0);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, vmread(VMCS_CR0_GUEST_HOST_MASK) | VMX_OPERATION_CR0);
	vm_succeed();
}

static void vmxoff_insn(struct vcpu *v)
{
	if (!permitted(v, false))
		return;
	v->nested.vmxon = false;
	v->nested.current = -1;
	/* Back to unrestricted guest's CR0 (vmcs.c): PE and PG the guest's. */
	vmwrite(VMCS_CR0_GUEST_HOST_MASK,
		vmread(VMCS_CR0_GUEST_HOST_MASK) & ~(uint64_t)(CR0_PE | CR0_PG));
	vm_succeed();
}

/* VMCLEAR's and VMPTRLD's common checks on their VMCS pointer (SDM
 * 30.3): nonzero when the instruction has already failed or faulted. */
static int read_vmcs_pointer(struct vcpu *v, uint64_t *addr, unsigned err_invalid,
			     unsigned err_vmxon)
{
	if (!permitted(v, false) || read_pointer(v, addr))
		return -1;
	if (!region_address_ok(*addr)) {
		vm_fail(v, err_invalid);
		return -1;
	}
	if (*addr == v->nested.vmxon_region) {
		vm_fail(v, err_vmxon);
		return -1;
	}
	return 0;
}

static void vmclear_insn(struct vcpu *v)
{
	uint64_t addr;

	if (read_vmcs_pointer(v, &addr, VMXERR_VMCLEAR_INVALID_ADDRESS,
			      VMXERR_VMCLEAR_VMXON_POINTER))
		return;
	/* Its data stays in the hypervisor's copy, launch state clear; the
	 * guest's region is left as it is. */
	struct nested_vmcs_slot *s = nested_find(&v->nested, addr);
	if (s) {
		s->launched = false;
		if (s == nested_current(&v->nested))
			v->nested.current = -1;
	}
	vm_succeed();
}

static void vmptrld_insn(struct vcpu *v)
{
	uint64_t addr;

	if (read_vmcs_pointer(v, &addr, VMXERR_VMPTRLD_INVALID_ADDRESS,
			      VMXERR_VMPTRLD_VMXON_POINTER))
		return;
	/* A shadow VMCS (bit 31) needs VMCS shadowing, which the virtual
	 * CPU does not offer. */
	uint32_t rev = region_revision(v, addr);
	if ((rev & REVISION_SHADOW) ||
	    (rev & REVISION_MASK) != nested_caps_revision(&v->vm->nested_caps)) {
		vm_fail(v, VMXERR_VMPTRLD_BAD_REVISION);
		return;
	}
	nested_load(&v->nested, addr);
	vm_succeed();
}

void handle_vmptrst(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
	uint64_t current = nested_current_region(&v->nested);

	if (!permitted(v, false))
		return;
	uint64_t linear = operand_linear_address(v, info, vmread(VMCS_EXIT_QUALIFICATION));
	if (operand_write(v, linear, &current, sizeof(current)))
		return;
	vm_succeed();
}

/* VMREAD and VMWRITE name the field in the register of bits 31:28; the
 * other operand is the register of bits 6:3 or memory (table 27-13). */
static void vmread_insn(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
	struct nested_vmcs_slot *cur = nested_current(&v->nested);
	uint64_t value;

	if (!permitted(v, false))
		return;
	if (!cur) {
		vm_fail_invalid();
		return;
	}
	uint64_t encoding =
		operand_size_value(operand_gpr_read(v, info_reg(info, INFO_REG2_SHIFT)));
	if (nested_vmcs_read(&cur->vmcs, encoding, &value) != NESTED_VMCS_OK) {
		vm_fail(v, VMXERR_UNSUPPORTED_FIELD);
		return;
	}
	value = operand_size_value(value);
	if (info & INFO_REG_FORM) {
		operand_gpr_write(v, info_reg(info, INFO_REG1_SHIFT), value);
	} else {
		uint64_t linear = operand_linear_address(v, info, vmread(VMCS_EXIT_QUALIFICATION));
		if (operand_write(v, linear, &value, operand_long_mode() ? 8 : 4))
			return;
	}
	vm_succeed();
}

static void vmwrite_insn(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
	struct nested_vmcs_slot *cur = nested_current(&v->nested);
	uint64_t value = 0;

	if (!permitted(v, false))
		return;
	if (!cur) {
		vm_fail_invalid();
		return;
	}
	uint64_t encoding =
		operand_size_value(operand_gpr_read(v, info_reg(info, INFO_REG2_SHIFT)));
	if (info & INFO_REG_FORM) {
		value = operand_gpr_read(v, info_reg(info, INFO_REG1_SHIFT));
	} else {
		uint64_t linear = operand_linear_address(v, info, vmread(VMCS_EXIT_QUALIFICATION));
		if (operand_read(v, linear, &value, operand_long_mode() ? 8 : 4))
			return;
	}
	switch (nested_vmcs_write(&cur->vmcs, encoding, operand_size_value(value))) {
	case NESTED_VMCS_UNSUPPORTED:
		vm_fail(v, VMXERR_UNSUPPORTED_FIELD);
		return;
	case NESTED_VMCS_READ_ONLY:
		vm_fail(v, VMXERR_READ_ONLY_FIELD);
		return;
	case NESTED_VMCS_OK:
		break;
	}
	vm_succeed();
}

static uint64_t read_virtual(uint32_t field, void *vmcs)
{
	return nested_vmcs_get(vmcs, field);
}

/* The guest-state checks of SDM 26.3.1 (pgvisor's own model of them,
 * vmm/vmx/vmcs_check.c) against the virtual CPU's fixed CR0/CR4 bits.
 * Returns the VM-entry failure qualification, or -1 when they pass. */
static int64_t check_guest_state(struct vcpu *v, const struct nested_vmcs *vmcs, char *why,
				 size_t len)
{
	const struct nested_caps *nc = &v->vm->nested_caps;
	struct vmx_caps caps = { 0 };

	if (nested_vmcs_get(vmcs, VMCS_LINK_POINTER) != VMCS_LINK_NONE)
		return (int64_t)ENTRY_FAIL_LINK_POINTER;
	nested_caps_read(nc, MSR_IA32_VMX_CR0_FIXED0, &caps.cr0_fixed0);
	nested_caps_read(nc, MSR_IA32_VMX_CR0_FIXED1, &caps.cr0_fixed1);
	nested_caps_read(nc, MSR_IA32_VMX_CR4_FIXED0, &caps.cr4_fixed0);
	nested_caps_read(nc, MSR_IA32_VMX_CR4_FIXED1, &caps.cr4_fixed1);
	if (vmcs_check_guest_state(read_virtual, (void *)vmcs, &caps, why, len))
		return (int64_t)ENTRY_FAIL_GUEST_STATE;
	return -1;
}

/* The guest hypervisor takes the VM exit: its state from the host-state
 * area (SDM 27.5), CR0 and CR4 kept as exit_cr.c keeps them (the real
 * registers with VMX's fixed bits, the read shadows the guest's view).
 * Returns -1 after stopping the VM. */
int nested_load_host_state(struct vcpu *v, const struct nested_host_load *h, bool flush)
{
	uint64_t cr0 = h->cr0, cr4 = h->cr4;
	uint64_t entry = vmread(VMCS_ENTRY_CTLS) & ~(uint64_t)ENTRY_IA32E_MODE_GUEST;

	if (h->msr_load) {
		vm_stop(v->vm, VM_END_CRASH,
			"a VM exit with a VM-exit MSR-load list: not implemented yet");
		return -1;
	}
	/* Unrolled: Bochs counts each instruction of a loop's overhead. */
#pragma GCC unroll 8
	for (unsigned i = 0; i < h->n; i++)
		vmwrite(h->f[i].field, h->f[i].value);
	uint64_t real0 = (cr0 | (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1;
	uint64_t real4 = (cr4 & vmx_caps.cr4_fixed1) | vmx_caps.cr4_fixed0;
	vmwrite(VMCS_GUEST_CR0, real0);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR4, real4);
	vmwrite(VMCS_CR4_READ_SHADOW, cr4);
	vmwrite(VMCS_ENTRY_CTLS, entry | (h->wide ? ENTRY_IA32E_MODE_GUEST : 0));
	/* PAE paging's PDPTEs, unless the host is 64-bit: the VMCS's are
	 * used only under PAE paging (SDM 27.5.4, 26.3.2.4). */
	if (!h->wide && !cr_load_pdptes(v, real0, real4)) {
		vm_stop(v->vm, VM_END_CRASH, "host CR3 %#llx of its VMCS is outside the VM's RAM",
			(unsigned long long)h->cr3);
		return -1;
	}
	/* A new CR3 written for the guest, not by it: its old translations
	 * go, as a MOV to CR3 would drop them, unless L2 ran with a VPID of
	 * its own (VPID in L1's controls): then the exit keeps them (SDM
	 * 28.3.3.1). */
	if (flush)
		vmx_flush_guest(vm_eptp(v->vm), vm_vpid(v->vm));
	return 0;
}

/* A VM entry that failed while checking the guest state is a VM exit to
 * the guest hypervisor (SDM 26.8): reason 33 with bit 31, the
 * qualification, the host state loaded; the launch state is unchanged. */
static void entry_failure(struct vcpu *v, struct nested_vmcs_slot *cur, uint64_t qualification)
{
	nested_vmcs_set(&cur->vmcs, VMCS_EXIT_REASON,
			EXIT_REASON_ENTRY_FAILURE | EXIT_ENTRY_FAIL_GUEST_STATE);
	nested_vmcs_set(&cur->vmcs, VMCS_EXIT_QUALIFICATION, qualification);
	struct nested_host_load h;
	nested_host_load_build(&h, &cur->vmcs, vmread(VMCS_GUEST_IA32_EFER), vmx_controls.pat);
	nested_load_host_state(v, &h, true);
}

/* RIP's one rule (vmcs_guest_rip_ok) on L1's VMCS, the three fields by
 * slot: an entry after L1 moved RIP alone looks no encoding up. Every
 * CPU that races to the first lookup writes the same slots. */
static bool rip_ok(const struct nested_vmcs *v12)
{
	static int entry_slot = -1, cs_ar_slot, rip_slot;

	if (__atomic_load_n(&entry_slot, __ATOMIC_ACQUIRE) < 0) {
		cs_ar_slot = nested_vmcs_slot(VMCS_GUEST_CS_AR);
		rip_slot = nested_vmcs_slot(VMCS_GUEST_RIP);
		__atomic_store_n(&entry_slot, nested_vmcs_slot(VMCS_ENTRY_CTLS), __ATOMIC_RELEASE);
	}
	return vmcs_guest_rip_ok(v12->field[entry_slot], v12->field[cs_ar_slot],
				 v12->field[rip_slot]);
}

/* VMLAUNCH and VMRESUME up to the VM entry (SDM 30.3, 26.2, 26.3): the
 * launch state, the controls and the host-state area (VMfail), then the
 * guest state (a VM exit). */
static void vm_entry(struct vcpu *v, bool launch)
{
	struct nested_vmcs_slot *cur = nested_current(&v->nested);
	char why[160];

	if (!permitted(v, false))
		return;
	if (!cur) {
		vm_fail_invalid();
		return;
	}
	if (vmread(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_MOV_SS) {
		vm_fail(v, VMXERR_ENTRY_MOV_SS);
		return;
	}
	if (launch && cur->launched) {
		vm_fail(v, VMXERR_VMLAUNCH_NONCLEAR);
		return;
	}
	if (!launch && !cur->launched) {
		vm_fail(v, VMXERR_VMRESUME_NONLAUNCHED);
		return;
	}
	/* Every entry checks (SDM 26.2, 26.3); what did not change since
	 * VMCS02 took it passes as it did then (vmcs02_cache.h). */
	unsigned changed = nested_vmcs02_diff(v, cur, launch);
	if (changed & VMCS02_CONTROLS) {
		struct nested_entry_env env = {
			.caps = &v->vm->nested_caps,
			.pa_bits = pa_bits(),
			.long_mode = vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA_BIT,
		};
		if (nested_check_controls(&cur->vmcs, &env, why, sizeof(why))) {
			vm_fail(v, VMXERR_ENTRY_INVALID_CONTROLS);
			return;
		}
		if (nested_check_host_state(&cur->vmcs, &env, why, sizeof(why))) {
			vm_fail(v, VMXERR_ENTRY_INVALID_HOST_STATE);
			return;
		}
	}
	int64_t qualification = -1;
	if (changed & VMCS02_GUEST_CHECK)
		qualification = check_guest_state(v, &cur->vmcs, why, sizeof(why));
	else if ((changed & VMCS02_RIP) && !rip_ok(&cur->vmcs))
		qualification = (int64_t)ENTRY_FAIL_GUEST_STATE;
	if (qualification >= 0) {
		entry_failure(v, cur, (uint64_t)qualification);
		return;
	}
	nested_enter_l2(v, cur);
}

static void vmlaunch_insn(struct vcpu *v)
{
	vm_entry(v, true);
}

static void vmresume_insn(struct vcpu *v)
{
	vm_entry(v, false);
}

/* The type register and 128-bit descriptor of INVEPT and INVVPID.
 * Returns -1 after a #PF was injected or the VM stopped. */
static int invalidation_operands(struct vcpu *v, uint64_t *type, uint64_t desc[2])
{
	uint32_t info = (uint32_t)vmread(VMCS_EXIT_INSTRUCTION_INFO);
	uint64_t linear = operand_linear_address(v, info, vmread(VMCS_EXIT_QUALIFICATION));

	*type = operand_size_value(operand_gpr_read(v, info_reg(info, INFO_REG2_SHIFT)));
	return operand_read(v, linear, desc, INV_DESCRIPTOR_SIZE);
}

static uint64_t ept_vpid_cap(struct vcpu *v)
{
	uint64_t cap = 0;

	nested_caps_read(&v->vm->nested_caps, MSR_IA32_VMX_EPT_VPID_CAP, &cap);
	return cap;
}

/* A valid INVEPT of any type drops the vCPU's shadow EPT tables (they
 * are rebuilt as L2 touches its pages again, the CPU's cached
 * translations of them dropped at the next entry into L2). */
static void invept_insn(struct vcpu *v)
{
	uint64_t cap = ept_vpid_cap(v), type, desc[2];

	if (!(cap & EPT_CAP_INVEPT)) {
		vmcs_inject_exception(VEC_UD, false, 0);
		return;
	}
	if (!permitted(v, false) || invalidation_operands(v, &type, desc))
		return;
	struct nested_entry_env env = { .caps = &v->vm->nested_caps, .pa_bits = pa_bits() };
	bool ok = (type == INVEPT_SINGLE && (cap & EPT_CAP_INVEPT_SINGLE) &&
		   nested_eptp_valid(&env, desc[0])) ||
		  (type == INVEPT_ALL && (cap & EPT_CAP_INVEPT_ALL));
	if (!ok) {
		vm_fail(v, VMXERR_INVALID_INVEPT_INVVPID);
		return;
	}
	shadow_ept_invalidate(&v->nested.shadow);
	vm_succeed();
}

static void invvpid_insn(struct vcpu *v)
{
	uint64_t cap = ept_vpid_cap(v), type, desc[2];

	if (!(cap & VPID_CAP_INVVPID)) {
		vmcs_inject_exception(VEC_UD, false, 0);
		return;
	}
	if (!permitted(v, false) || invalidation_operands(v, &type, desc))
		return;
	/* The descriptor: VPID in bits 15:0, 63:16 reserved, then the
	 * linear address for type 0. */
	bool ok = type < INVVPID_TYPES && (cap >> (VPID_CAP_INVVPID_TYPE0_SHIFT + type)) & 1;
	if (ok && (desc[0] & ~INVVPID_VPID_MASK))
		ok = false;
	if (ok && type != NESTED_INVVPID_ALL && !(desc[0] & INVVPID_VPID_MASK))
		ok = false;
	if (ok && type == NESTED_INVVPID_ADDRESS && !canonical_address(desc[1]))
		ok = false;
	if (!ok) {
		vm_fail(v, VMXERR_INVALID_INVEPT_INVVPID);
		return;
	}
	/* On the host VPIDs of L1's VPIDs (exit_nested.c). */
	nested_invvpid(v, (unsigned)type, (uint16_t)(desc[0] & INVVPID_VPID_MASK), desc[1]);
	vm_succeed();
}

/* With VMCS shadowing, what L1 wrote into the shadow VMCS is the virtual
 * VMCS's before an instruction works on it, and the instruction's outcome
 * (a new current VMCS, a VM-instruction error, L1's host state after a
 * failed entry) is the shadow's after; a VM entry into L2 leaves it as it
 * is, for L2's exit to L1 to refresh. */
static void shadowed(struct vcpu *v, void (*insn)(struct vcpu *))
{
	vmcs_shadow_pull(v);
	insn(v);
	if (!v->nested.in_l2) {
		vmcs_shadow_push(v);
		/* The instruction may have written the VMCS12 (an error, a
		 * field, another current one): the next diff compares all. */
		v->nested.c02.synced = false;
	}
}

void handle_vmxon(struct vcpu *v)
{
	shadowed(v, vmxon_insn);
}

void handle_vmxoff(struct vcpu *v)
{
	shadowed(v, vmxoff_insn);
}

void handle_vmclear(struct vcpu *v)
{
	shadowed(v, vmclear_insn);
}

void handle_vmptrld(struct vcpu *v)
{
	shadowed(v, vmptrld_insn);
}

void handle_vmread(struct vcpu *v)
{
	shadowed(v, vmread_insn);
}

void handle_vmwrite(struct vcpu *v)
{
	shadowed(v, vmwrite_insn);
}

void handle_vmlaunch(struct vcpu *v)
{
	shadowed(v, vmlaunch_insn);
}

void handle_vmresume(struct vcpu *v)
{
	shadowed(v, vmresume_insn);
}

void handle_invept(struct vcpu *v)
{
	shadowed(v, invept_insn);
}

void handle_invvpid(struct vcpu *v)
{
	shadowed(v, invvpid_insn);
}
