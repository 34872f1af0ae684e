/* VMCALL: the pgvisor hypercall ABI (vmm/hypercall_abi.h). Arguments are
 * guest values: each is range-checked before use. */
#include "vmm/exit.h"
#include "vmm/exit_reason.h"
#include "vmm/hypercall_abi.h"
#include "vmm/vm.h"
#include "vmm/vmcs.h"

static int64_t hypercall(struct vcpu *v, uint64_t nr, uint64_t a1)
{
	struct vm *vm = v->vm;

	switch (nr) {
	case HC_VERSION:
		return HC_ABI_VERSION;
	case HC_EXIT_COUNT:
		if (a1 >= EXIT_REASON_COUNT)
			return HC_ERR_INVAL;
		return (int64_t)vm->exits[a1];
	case HC_CONSOLE_PUTC:
		if (a1 > 0xff)
			return HC_ERR_INVAL;
		uart_output_byte(&vm->uart, (uint8_t)a1);
		return 0;
	default:
		return HC_ERR_UNKNOWN;
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
		*rax = (uint64_t)hypercall(v, *rax, v->regs.gpr[REG_RBX]);
	vmcs_skip_instruction();
}
