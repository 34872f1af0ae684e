/* EPT violations and misconfigurations (SDM 29.3.3). A guest touching a
 * guest-physical address with no mapping is doing something fatal: the VM
 * stops with a report of what it touched and where. */
#include "vmm/cpu/exit.h"
#include "vmm/cpu/interrupts.h"
#include "vmm/cpu/mmio_emulate.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

#define EPTQ_READ (1ull << 0)
#define EPTQ_WRITE (1ull << 1)
#define EPTQ_FETCH (1ull << 2)
#define EPTQ_LINEAR_VALID (1ull << 7)

static const char *access_kind(uint64_t qual)
{
	if (qual & EPTQ_FETCH)
		return "instruction fetch";
	return (qual & EPTQ_WRITE) ? "write" : "read";
}

void handle_ept_violation(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
	uint64_t gpa = vmread(VMCS_GUEST_PHYSICAL_ADDRESS);
	const struct mmio_handler *h = mmio_bus_find(&vm->mmio, gpa);

	intr_iret_unblocked_nmi(qual);

	/* Device registers are left out of the EPT on purpose. */
	if (h) {
		mmio_emulate(v, gpa, h);
		return;
	}
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	const char *where = gpa >= vm->ram.size ? "outside its RAM" : "not permitted";

	if (qual & EPTQ_LINEAR_VALID)
		vm_stop(vm, VM_END_CRASH,
			"EPT violation: %s of guest-physical %#llx (%s of %llu KiB), linear %#llx, "
			"at rip %#llx",
			access_kind(qual), (unsigned long long)gpa, where,
			(unsigned long long)(vm->ram.size >> 10),
			(unsigned long long)vmread(VMCS_GUEST_LINEAR_ADDRESS),
			(unsigned long long)rip);
	else
		vm_stop(vm, VM_END_CRASH,
			"EPT violation: %s of guest-physical %#llx (%s of %llu KiB) at rip %#llx",
			access_kind(qual), (unsigned long long)gpa, where,
			(unsigned long long)(vm->ram.size >> 10), (unsigned long long)rip);
}

void handle_ept_misconfig(struct vcpu *v)
{
	/* Our tables are malformed: a hypervisor bug, contained to this VM. */
	vm_stop(v->vm, VM_END_CRASH, "EPT misconfiguration at guest-physical %#llx (rip %#llx)",
		(unsigned long long)vmread(VMCS_GUEST_PHYSICAL_ADDRESS),
		(unsigned long long)vmread(VMCS_GUEST_RIP));
}
