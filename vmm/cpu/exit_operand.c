#include "vmm/cpu/exit_operand.h"

#include "arch/x86/msr.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

/* Instruction-information bits shared by every memory format (SDM Vol. 3
 * tables 27-8 to 27-13). */
#define INFO_SCALE_MASK 0x3u
#define INFO_ADDR_SIZE_SHIFT 7
#define INFO_ADDR_SIZE_MASK 0x7u
#define INFO_SEG_SHIFT 15
#define INFO_SEG_MASK 0x7u
#define INFO_INDEX_SHIFT 18
#define INFO_INDEX_INVALID (1u << 22)
#define INFO_BASE_SHIFT 23
#define INFO_BASE_INVALID (1u << 27)
#define INFO_REG_MASK 0xfu
#define ADDR_SIZE_16 0
#define ADDR_SIZE_32 1
#define SEG_BASE_STRIDE 2 /* VMCS_GUEST_ES_BASE + 2 * segment number */
#define AR_CS_L (1u << 13)
#define OPERAND_MAX 16

uint64_t operand_gpr_read(struct vcpu *v, unsigned n)
{
	return n == REG_RSP ? vmread(VMCS_GUEST_RSP) : v->regs.gpr[n];
}

void operand_gpr_write(struct vcpu *v, unsigned n, uint64_t value)
{
	if (n == REG_RSP)
		vmwrite(VMCS_GUEST_RSP, value);
	else
		v->regs.gpr[n] = value;
}

uint64_t guest_cr4_view(void)
{
	uint64_t mask = vmread(VMCS_CR4_GUEST_HOST_MASK);

	return (vmread(VMCS_GUEST_CR4) & ~mask) | (vmread(VMCS_CR4_READ_SHADOW) & mask);
}

uint64_t guest_cr0_view(void)
{
	uint64_t mask = vmread(VMCS_CR0_GUEST_HOST_MASK);

	return (vmread(VMCS_GUEST_CR0) & ~mask) | (vmread(VMCS_CR0_READ_SHADOW) & mask);
}

bool operand_long_mode(void)
{
	return (vmread(VMCS_GUEST_IA32_EFER) & EFER_LMA) && (vmread(VMCS_GUEST_CS_AR) & AR_CS_L);
}

uint64_t operand_linear_address(struct vcpu *v, uint32_t info, uint64_t displacement)
{
	unsigned asize = (info >> INFO_ADDR_SIZE_SHIFT) & INFO_ADDR_SIZE_MASK;
	unsigned seg = (info >> INFO_SEG_SHIFT) & INFO_SEG_MASK;
	uint64_t offset = displacement;

	if (!(info & INFO_BASE_INVALID))
		offset += operand_gpr_read(v, (info >> INFO_BASE_SHIFT) & INFO_REG_MASK);
	if (!(info & INFO_INDEX_INVALID))
		offset += operand_gpr_read(v, (info >> INFO_INDEX_SHIFT) & INFO_REG_MASK)
			  << (info & INFO_SCALE_MASK);
	if (asize == ADDR_SIZE_16)
		offset &= 0xffff;
	else if (asize == ADDR_SIZE_32)
		offset &= 0xffffffff;
	uint64_t linear = vmread(VMCS_GUEST_ES_BASE + SEG_BASE_STRIDE * seg) + offset;
	/* Outside 64-bit mode linear addresses are 32 bits wide. */
	return operand_long_mode() ? linear : (uint32_t)linear;
}

/* Every byte's guest-physical address first, so a #PF leaves memory as
 * it was. */
static int translate(struct vcpu *v, uint64_t linear, size_t len, bool write, uint64_t *gpa)
{
	for (size_t i = 0; i < len; i++) {
		uint32_t pf_error;
		enum gva_fault f = guest_linear_to_phys(v, linear + i, write, &gpa[i], &pf_error);
		if (f == GVA_PAGE_FAULT) {
			vcpu_set_cr2(v, linear + i);
			vmcs_inject_exception(VEC_PF, true, pf_error);
			return -1;
		}
		if (f == GVA_BAD_TABLE) {
			vm_stop(v->vm, VM_END_CRASH,
				"page tables for %#llx are outside the VM's RAM",
				(unsigned long long)(linear + i));
			return -1;
		}
	}
	return 0;
}

int operand_read(struct vcpu *v, uint64_t linear, void *buf, size_t len)
{
	uint64_t gpa[OPERAND_MAX];

	if (len > OPERAND_MAX || translate(v, linear, len, false, gpa))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (guest_phys_read(v->vm, gpa[i], (uint8_t *)buf + i, 1)) {
			vm_stop(v->vm, VM_END_CRASH, "operand at %#llx is outside the VM's RAM",
				(unsigned long long)gpa[i]);
			return -1;
		}
	}
	return 0;
}

int operand_write(struct vcpu *v, uint64_t linear, const void *buf, size_t len)
{
	uint64_t gpa[OPERAND_MAX];

	if (len > OPERAND_MAX || translate(v, linear, len, true, gpa))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (guest_phys_write(v->vm, gpa[i], (const uint8_t *)buf + i, 1)) {
			vm_stop(v->vm, VM_END_CRASH, "operand at %#llx is outside the VM's RAM",
				(unsigned long long)gpa[i]);
			return -1;
		}
	}
	return 0;
}
