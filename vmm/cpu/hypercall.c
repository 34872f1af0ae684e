/* VMCALL: the pgvisor hypercall ABI (vmm/abi/hypercall_abi.h). Arguments are
 * guest values: each is range-checked before use. */
#include "vmm/abi/hypercall_abi.h"
#include "vmm/cpu/exit.h"
#include "vmm/cpu/guest_mem.h"
#include "vmm/cpu/kvm_pv.h"
#include "vmm/cpu/vmcs.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/exit_reason.h"

/* Copies the vCPU's profile to guest-physical [gpa, gpa + size). */
static int64_t profile_read(struct vcpu *v, uint64_t gpa, uint64_t size)
{
	struct hc_exit_profile out;

	if (size < sizeof(out))
		return HC_ERR_INVAL;
	profile_export(&v->prof, &out);
	return guest_phys_write(v->vm, gpa, &out, sizeof(out)) ? HC_ERR_INVAL : 0;
}

static int64_t hypercall(struct vcpu *v, uint64_t nr, uint64_t a1, uint64_t a2)
{
	struct vm *vm = v->vm;
	int64_t ret;

	switch (nr) {
	case HC_VERSION:
		return HC_ABI_VERSION;
	case HC_EXIT_COUNT:
		if (a1 >= EXIT_REASON_COUNT)
			return HC_ERR_INVAL;
		return (int64_t)v->prof.count[a1];
	case HC_PROFILE_READ:
		return profile_read(v, a1, a2);

	case HC_CONSOLE_PUTC:
		if (a1 > 0xff)
			return HC_ERR_INVAL;
		uart_output_byte(&vm->uart, (uint8_t)a1);
		return 0;
	default:
		return kvm_pv_hypercall(v, nr, &ret) ? ret : HC_ERR_UNKNOWN;
	}
}

void handle_vmcall(struct vcpu *v)
{
	uint64_t *rax = &v->regs.gpr[REG_RAX];

	/* Only the guest kernel may call; user code gets an error, not a
	 * fault, so probing the ABI from CPL 3 is harmless. */
	if (vmcs_guest_cpl() != 0)
		*rax = (uint64_t)(int64_t)HC_ERR_PERM;
	else
		*rax = (uint64_t)hypercall(v, *rax, v->regs.gpr[REG_RBX], v->regs.gpr[REG_RCX]);
	vmcs_skip_instruction();
}
