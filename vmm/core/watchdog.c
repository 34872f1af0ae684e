/* The vCPU watchdog. A guest cannot keep its CPU by itself: the
 * VMX-preemption timer (or the host LAPIC timer with external-interrupt
 * exiting) ends every slice with an exit. A vCPU that nevertheless stays
 * in its guest (a fault in pgvisor's VMCS set-up, a CPU that loses its
 * timer; the test build's fault=noexit makes one) holds its host CPU for
 * good, and that CPU cannot notice it: it is in the guest.
 *
 * So every CPU watches the others. vmx_entry.S stores the host TSC in the
 * vCPU at every entry and exit; the CPUs' TSCs run in step (arch/x86/smp.c
 * measures IPIs with them). A vCPU whose last entry is later than its last
 * exit is in its guest; if that entry is WATCHDOG_MS old, the watching CPU
 * marks it and sends its CPU an NMI. NMIs exit unconditionally: "NMI
 * exiting" is always on, as virtual NMIs require it (SDM 26.2.1.1); the
 * NMI exit's handler on the vCPU's own CPU (vcpu_watchdog_stop) then ends
 * the VM there, so no other CPU touches the VM's state. A CPU watches from
 * its scheduler pass, its idle wait, and, once its own VMs ended, a wait
 * that lasts while another CPU still schedules (sched_run). With a single
 * host CPU nothing can watch it. */
#include "vmm/core/watchdog.h"

#include "arch/x86/cpu.h"
#include "arch/x86/idt.h"
#include "arch/x86/lapic.h"
#include "arch/x86/percpu.h"
#include "arch/x86/tsc.h"
#include "drivers/console.h"
#include "vmm/vm/vm.h"

#define VEC_NMI 2
#define MS_PER_S 1000ull

static uint64_t limit_ticks;
static uint64_t check_ticks;
static uint64_t next_check;

static void nmi_in_host(struct trap_frame *tf)
{
	/* The watchdog's NMI came after its vCPU exited on its own: the
	 * scheduler sees the mark before the vCPU's next entry. */
	(void)tf;
}

void watchdog_init(void)
{
	limit_ticks = tsc_hz() / MS_PER_S * WATCHDOG_MS;
	check_ticks = tsc_hz() / MS_PER_S * WATCHDOG_CHECK_MS;
	idt_set_handler(VEC_NMI, nmi_in_host);
}

/* Whether v has been in its guest since before now - limit_ticks. */
static bool stuck_in_guest(const struct vcpu *v, uint64_t now)
{
	uint64_t entry = __atomic_load_n(&v->regs.entry_tsc, __ATOMIC_RELAXED);
	uint64_t exit = __atomic_load_n(&v->regs.exit_tsc, __ATOMIC_RELAXED);

	return entry > exit && entry < now && now - entry >= limit_ticks;
}

void watchdog_check(void)
{
	uint64_t now = rdtsc();
	uint64_t due = __atomic_load_n(&next_check, __ATOMIC_RELAXED);

	/* One CPU looks each period. */
	if (!limit_ticks || now < due ||
	    !__atomic_compare_exchange_n(&next_check, &due, now + check_ticks, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	unsigned self = this_cpu()->index;
	for (unsigned i = 0; i < vm_count(); i++) {
		struct vm *vm = vm_at(i);
		if (vm->state != VM_RUNNING)
			continue;
		for (unsigned j = 0; j < vm->nvcpus; j++) {
			struct vcpu *v = &vm->vcpus[j];
			if (v->cpu == self || !stuck_in_guest(v, now) ||
			    __atomic_exchange_n(&v->watchdog_fired, true, __ATOMIC_ACQ_REL))
				continue;
			kprintf("pgvisor: watchdog: vm %s: vCPU %u on CPU %u made no exit for %llu "
				"ms: NMI sent\n",
				vm->name, v->id, v->cpu,
				(unsigned long long)((now - v->regs.entry_tsc) /
						     (tsc_hz() / MS_PER_S)));
			lapic_send_nmi(cpus[v->cpu].apic_id);
		}
	}
}
