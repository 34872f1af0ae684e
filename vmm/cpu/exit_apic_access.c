/* The exits of a vCPU whose xAPIC accesses are virtualized through the
 * APIC-access page (apicv.c, SDM 29.4). A read of a register the
 * virtual-APIC page holds and a write of one the CPU passes through cost
 * no decoding: the read none at all, the write an APIC-write exit after
 * the fact (trap-like, RIP already past it) whose value lies in the page.
 * Anything else (PPR, the timer's current count, a write of a read-only
 * register, an unaligned access) exits as an APIC access before the
 * instruction completes, and is emulated as the EPT violation would have
 * been: decoded and performed on the VM's MMIO bus. */
#include "vmm/cpu/exit.h"
#include "vmm/cpu/mmio_emulate.h"
#include "vmm/vm/vm.h"
#include "vmm/vmx/vmcs_fields.h"
#include "vmm/vmx/vmx.h"

/* The exit qualification of both (SDM Table 28-6, 28.2.1): the offset on
 * the page and, for APIC accesses, how it was accessed. */
#define APIC_QUAL_OFFSET_MASK 0xfffu
#define APIC_QUAL_TYPE_SHIFT 12
#define APIC_QUAL_TYPE_MASK 0xfu
#define APIC_ACCESS_LINEAR_READ 0u
#define APIC_ACCESS_LINEAR_WRITE 1u

void handle_apic_access(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned type = (unsigned)(qual >> APIC_QUAL_TYPE_SHIFT) & APIC_QUAL_TYPE_MASK;
	uint64_t gpa = VLAPIC_MMIO_BASE + (qual & APIC_QUAL_OFFSET_MASK);
	const struct mmio_handler *h = mmio_bus_find(&vm->mmio, gpa);

	/* An instruction's data access is emulated; fetching code from the
	 * APIC's page, an event delivery through it or the guest's paging
	 * structures in it are not what any guest does on purpose. */
	if ((type != APIC_ACCESS_LINEAR_READ && type != APIC_ACCESS_LINEAR_WRITE) || !h) {
		vm_stop(vm, VM_END_CRASH, "APIC access of type %u at offset %#llx, rip %#llx", type,
			(unsigned long long)(qual & APIC_QUAL_OFFSET_MASK),
			(unsigned long long)vmread(VMCS_GUEST_RIP));
		return;
	}
	mmio_emulate(v, gpa, h);
}

void handle_apic_write(struct vcpu *v)
{
	vlapic_apic_write(&v->lapic,
			  (unsigned)vmread(VMCS_EXIT_QUALIFICATION) & APIC_QUAL_OFFSET_MASK);
	/* The write may have raised an interrupt (a self IPI) or reprogrammed
	 * the timer. */
	vtime_reschedule(&v->vm->vtime);
}
