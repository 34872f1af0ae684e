/* The VMX instructions of a guest with nested = 1 (SDM Vol. 3 chapter 30),
 * emulated against the vCPU's virtual VMX state (vmm/nested/): VMXON,
 * VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMLAUNCH, VMRESUME,
 * INVEPT and INVVPID, with their exceptions, RFLAGS outcomes and
 * VM-instruction errors. In a VM without nested VMX each raises #UD, as
 * on a CPU without VMX. Running the guest's own guest (L2) is not
 * emulated yet: a VM entry that passes the checks stops the VM. */
#include "arch/x86/cpu.h"
#include "arch/x86/msr.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/exit_operand.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/nested/entry_check.h"
#include "vmm/vm/vm.h"
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

#define CPUID_ADDRESS_SIZES 0x80000008u
#define CPUID_PA_BITS_MASK 0xffu
#define EFER_LMA_BIT (1ull << 10)

/* INVEPT and INVVPID types (SDM Vol. 2 INVEPT, INVVPID) and the
 * capability bits that offer each. */
#define INVEPT_SINGLE 1
#define INVEPT_ALL 2
#define INVVPID_ADDRESS 0
#define INVVPID_SINGLE 1
#define INVVPID_ALL 2
#define INVVPID_SINGLE_GLOBALS 3
#define INVVPID_TYPES 4
#define VPID_CAP_INVVPID_TYPE0_SHIFT 40
#define INVVPID_VPID_MASK 0xffffull
#define CANONICAL_BITS 48
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
	bool compat = (vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA_BIT) && !operand_long_mode();

	if (!v->vm->cfg.nested || !(guest_cr4_view() & CR4_VMXE) || !(guest_cr0_view() & CR0_PE) ||
	    (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_VM) || compat || (!vmxon && !v->nested.vmxon)) {
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

void handle_vmxon(struct vcpu *v)
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

void handle_vmxoff(struct vcpu *v)
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

void handle_vmclear(struct vcpu *v)
{
	uint64_t addr;

	if (!permitted(v, false) || read_pointer(v, &addr))
		return;
	if (!region_address_ok(addr)) {
		vm_fail(v, VMXERR_VMCLEAR_INVALID_ADDRESS);
		return;
	}
	if (addr == v->nested.vmxon_region) {
		vm_fail(v, VMXERR_VMCLEAR_VMXON_POINTER);
		return;
	}
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

void handle_vmptrld(struct vcpu *v)
{
	uint64_t addr;

	if (!permitted(v, false) || read_pointer(v, &addr))
		return;
	if (!region_address_ok(addr)) {
		vm_fail(v, VMXERR_VMPTRLD_INVALID_ADDRESS);
		return;
	}
	if (addr == v->nested.vmxon_region) {
		vm_fail(v, VMXERR_VMPTRLD_VMXON_POINTER);
		return;
	}
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
void handle_vmread(struct vcpu *v)
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

void handle_vmwrite(struct vcpu *v)
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

/* VMLAUNCH and VMRESUME up to the VM entry (SDM 30.3, 26.2): the launch
 * state, then the controls and the host-state area. */
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
	vm_stop(v->vm, VM_END_CRASH,
		"%s of a VMCS that passed the control and host-state checks: running a "
		"nested guest is not implemented yet",
		launch ? "VMLAUNCH" : "VMRESUME");
}

void handle_vmlaunch(struct vcpu *v)
{
	vm_entry(v, true);
}

void handle_vmresume(struct vcpu *v)
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

/* Nothing of a nested guest's translations is cached yet (no L2 runs):
 * a valid INVEPT or INVVPID has nothing to invalidate. */
void handle_invept(struct vcpu *v)
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
	vm_succeed();
}

static bool canonical(uint64_t a)
{
	uint64_t top = a >> (CANONICAL_BITS - 1);

	return top == 0 || top == (~0ull >> (CANONICAL_BITS - 1));
}

void handle_invvpid(struct vcpu *v)
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
	if (ok && type != INVVPID_ALL && !(desc[0] & INVVPID_VPID_MASK))
		ok = false;
	if (ok && type == INVVPID_ADDRESS && !canonical(desc[1]))
		ok = false;
	if (!ok) {
		vm_fail(v, VMXERR_INVALID_INVEPT_INVVPID);
		return;
	}
	vm_succeed();
}
