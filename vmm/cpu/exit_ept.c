/* EPT violations and misconfigurations (SDM 29.3.3). A guest-physical
 * address with no mapping is a device register (the MMIO bus), memory with
 * nothing behind it, or a part of its RAM it may not touch that way.
 *
 * Outside its RAM, with no device there, a bare machine answers a read
 * with all-ones (nothing drives the bus) and drops a write: programs probe
 * for memory and devices that way. By default (config.h, on_unbacked
 * "ignore") the access is emulated like a device register with no device:
 * the destination gets all-ones of the access size, a write goes nowhere.
 * Nothing outside the VM is reached. Counted, the first one reported.
 * With on_unbacked "crash", and for instruction fetches (there is no code
 * to run), the VM stops with a report of what it touched and where. */
#include "drivers/console.h"
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

/* The whole address space, no device: reads all-ones, writes dropped
 * (mmio_execute with no read or write function). */
static const struct mmio_handler unbacked = {
	.base = 0,
	.size = ~0ull,
	.name = "unbacked memory",
};

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

	/* A write to RAM that live migration's dirty log write-protected:
	 * logged, the page writable again, the write retried. */
	if ((qual & EPTQ_WRITE) && dirty_log_write_fault(&vm->dirty, &vm->ept, gpa))
		return;
	/* Device registers are left out of the EPT on purpose. */
	if (h) {
		mmio_emulate(v, gpa, h);
		return;
	}
	bool outside = gpa >= vm->ram.size;
	if (outside && !(qual & EPTQ_FETCH) && vm->cfg.on_unbacked == VM_UNBACKED_IGNORE) {
		if (!vm->unbacked_count++) {
			vm->unbacked_first_gpa = gpa;
			vm->unbacked_first_write = qual & EPTQ_WRITE;
			kprintf("pgvisor: vm %s: unbacked %s of guest-physical %#llx (outside its "
				"RAM of %llu KiB): reads all-ones, writes dropped; reported once\n",
				vm->name, access_kind(qual), (unsigned long long)gpa,
				(unsigned long long)(vm->ram.size >> 10));
		}
		mmio_emulate(v, gpa, &unbacked);
		return;
	}
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	const char *where = outside ? "outside its RAM" : "not permitted";

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
