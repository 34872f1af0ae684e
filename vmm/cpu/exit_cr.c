/* Control-register accesses (SDM 27.2.1 table 27-3). CR0 and CR4 bits in
 * the guest/host masks exit on write: those VMX pins (CR0.NE, CR4.VMXE)
 * and those the CPU does not support. The guest sees its own value through
 * the read shadows; the real value keeps VMX's fixed bits. CR8 exits only
 * on CPUs without TPR shadow (vmx_caps.c), so that the guest's task
 * priority never reaches the host's LAPIC; it is the vLAPIC's TPR. */
#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "arch/x86/msr.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/exit_operand.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define CRQ_NUMBER_MASK 0xf
#define CRQ_TYPE_SHIFT 4
#define CRQ_TYPE_MASK 0x3
#define CRQ_GPR_SHIFT 8
#define CRQ_GPR_MASK 0xf
#define CRQ_LMSW_SHIFT 16
#define CR_TYPE_MOV_TO 0
#define CR_TYPE_MOV_FROM 1
#define CR_TYPE_CLTS 2
#define CR_TYPE_LMSW 3
#define LMSW_BITS (CR0_PE | CR0_MP | CR0_EM | CR0_TS)
#define CR4_PSE (1ull << 4)
#define CR4_PCIDE (1ull << 17)
#define CR4_SMEP (1ull << 20)
#define CR4_UMIP (1ull << 11)
#define PDPTE_P 1ull

static uint64_t gpr_read(struct vcpu *v, unsigned n)
{
	return n == REG_RSP ? vmread(VMCS_GUEST_RSP) : v->regs.gpr[n];
}

static void gpr_write(struct vcpu *v, unsigned n, uint64_t value)
{
	if (n == REG_RSP)
		vmwrite(VMCS_GUEST_RSP, value);
	else
		v->regs.gpr[n] = value;
}

bool cr_load_pdptes(struct vcpu *v, uint64_t cr0, uint64_t cr4)
{
	uint64_t pdpte[4] = { 0, 0, 0, 0 };

	if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(vmread(VMCS_GUEST_IA32_EFER) & EFER_LME)) {
		uint64_t cr3 = vmread(VMCS_GUEST_CR3) & 0xffffffe0ull;
		/* A nested guest's CR3 is L2-physical (32 bytes: one page). */
		if (!nested_l2_phys(v, cr3, &cr3) ||
		    guest_phys_read(v->vm, cr3, pdpte, sizeof(pdpte)))
			return false;
	}
	for (int i = 0; i < 4; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
	return true;
}

static bool set_cr0(struct vcpu *v, uint64_t value)
{
	uint64_t old = vmread(VMCS_GUEST_CR0);
	uint64_t efer = vmread(VMCS_GUEST_IA32_EFER);
	uint64_t cr4 = vmread(VMCS_GUEST_CR4);

	/* The #GP conditions of MOV to CR0 (SDM Vol. 2 MOV-Control Registers). */
	if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) ||
	    ((value & CR0_NW) && !(value & CR0_CD)) ||
	    ((value & CR0_PG) && (efer & EFER_LME) && !(cr4 & CR4_PAE)))
		return false;
	if (!(value & CR0_PG) && (old & CR0_PG) && (cr4 & CR4_PCIDE))
		return false;
	/* In VMX operation CR0 keeps the bits IA32_VMX_CR0_FIXED0 fixes (SDM
	 * 24.8): PE and PG exit then too (exit_vmx.c). */
	if (v->nested.vmxon && (value & VMX_OPERATION_CR0) != VMX_OPERATION_CR0)
		return false;

	/* Emulated, the write does not activate long mode by itself: do what
	 * the CPU does when CR0.PG changes with EFER.LME = 1 (SDM 9.8.5). */
	if ((value ^ old) & CR0_PG) {
		uint64_t entry = vmread(VMCS_ENTRY_CTLS);
		if ((value & CR0_PG) && (efer & EFER_LME)) {
			efer |= EFER_LMA;
			entry |= ENTRY_IA32E_MODE_GUEST;
		} else {
			efer &= ~EFER_LMA;
			entry &= ~(uint64_t)ENTRY_IA32E_MODE_GUEST;
		}
		vmwrite(VMCS_GUEST_IA32_EFER, efer);
		vmwrite(VMCS_ENTRY_CTLS, entry);
	}
	uint64_t real = (value | (vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG))) & vmx_caps.cr0_fixed1;
	if (((value ^ old) & CR0_PG) && !cr_load_pdptes(v, real, cr4)) {
		vm_stop(v->vm, VM_END_CRASH, "CR3 %#llx points outside the VM's RAM",
			(unsigned long long)vmread(VMCS_GUEST_CR3));
		return true;
	}
	vmwrite(VMCS_GUEST_CR0, real);
	vmwrite(VMCS_CR0_READ_SHADOW, value);
	return true;
}

static bool set_cr4(struct vcpu *v, uint64_t value)
{
	uint64_t allowed = vmx_caps.cr4_fixed1 & ~CR4_VMXE;
	uint64_t cr0 = vmread(VMCS_GUEST_CR0);

	/* A guest with VMX may set CR4.VMXE, and may not clear it in VMX
	 * operation (SDM 24.8). */
	if (v->vm->cfg.nested)
		allowed |= CR4_VMXE;
	if (v->nested.vmxon && !(value & CR4_VMXE))
		return false;
	bool long_mode = vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA;

	if (!fpu_xcr0_supported())
		allowed &= ~CR4_OSXSAVE;
	/* Trap "umip": the read shadow holds CR4.UMIP, exit_desc.c enforces it. */
	if (v->vm->cfg.traps & TRAP_BIT(TRAP_UMIP))
		allowed |= CR4_UMIP;
	if ((value & ~allowed) || (long_mode && !(value & CR4_PAE)))
		return false;
	uint64_t real = (value & vmx_caps.cr4_fixed1) | vmx_caps.cr4_fixed0;
	uint64_t old = vmread(VMCS_GUEST_CR4);
	if (((old ^ value) & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP)) &&
	    !cr_load_pdptes(v, cr0, real)) {
		vm_stop(v->vm, VM_END_CRASH, "CR3 %#llx points outside the VM's RAM",
			(unsigned long long)vmread(VMCS_GUEST_CR3));
		return true;
	}
	vmwrite(VMCS_GUEST_CR4, real);
	vmwrite(VMCS_CR4_READ_SHADOW, value);
	return true;
}

static bool mov_to_cr(struct vcpu *v, unsigned cr, uint64_t value)
{
	switch (cr) {
	case 0:
		return set_cr0(v, value);
	case 3:
		vmwrite(VMCS_GUEST_CR3, value);
		return true;
	case 4:
		return set_cr4(v, value);
	case 8:
		/* CR8 is TPR[7:4] (SDM 10.8.6.1). */
		if (value & ~0xfull)
			return false;
		vlapic_set_tpr(&v->lapic, (uint32_t)value << 4);
		return true;
	default:
		return false;
	}
}

void handle_cr_access(struct vcpu *v)
{
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned cr = qual & CRQ_NUMBER_MASK;
	unsigned type = (qual >> CRQ_TYPE_SHIFT) & CRQ_TYPE_MASK;
	unsigned gpr = (qual >> CRQ_GPR_SHIFT) & CRQ_GPR_MASK;
	bool ok = true;

	switch (type) {
	case CR_TYPE_MOV_TO:
		ok = mov_to_cr(v, cr, gpr_read(v, gpr));
		break;
	case CR_TYPE_MOV_FROM:
		gpr_write(v, gpr, cr == 8 ? vlapic_tpr(&v->lapic) >> 4 : vmread(VMCS_GUEST_CR3));
		break;
	case CR_TYPE_CLTS:
		ok = set_cr0(v, guest_cr0_view() & ~CR0_TS);
		break;
	case CR_TYPE_LMSW: {
		/* LMSW sets PE but never clears it. */
		uint64_t src = (qual >> CRQ_LMSW_SHIFT) & LMSW_BITS;
		ok = set_cr0(v, (guest_cr0_view() & ~(LMSW_BITS & ~CR0_PE)) | src);
		break;
	}
	}
	if (!ok) {
		vmcs_inject_exception(VEC_GP, true, 0);
		return;
	}
	vmcs_skip_instruction();
}
