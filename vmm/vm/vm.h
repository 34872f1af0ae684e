/* A virtual machine: its configuration, memory, EPT, devices, vCPUs and
 * the record of how it ran and how it ended. */
#ifndef PGVISOR_VM_H
#define PGVISOR_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/percpu.h"
#include "arch/x86/spinlock.h"
#include "boot/boot_info.h"
#include "vmm/dev/acpi_pm.h"
#include "vmm/dev/hpet.h"
#include "vmm/dev/iobus.h"
#include "vmm/dev/mmio.h"
#include "vmm/dev/pci_host.h"
#include "vmm/dev/pic.h"
#include "vmm/dev/pit.h"
#include "vmm/dev/power.h"
#include "vmm/dev/rtc.h"
#include "vmm/dev/sysctl.h"
#include "vmm/dev/uart.h"
#include "vmm/dev/vioapic.h"
#include "vmm/dev/virtio/virtio_blk.h"
#include "vmm/dev/virtio/virtio_console.h"
#include "vmm/dev/virtio/virtio_net.h"
#include "vmm/dev/vtime.h"
#include "vmm/load/config.h"
#include "vmm/load/image.h"
#include "vmm/nested/nested_caps.h"
#include "vmm/vm/vcpu.h"
#include "vmm/vmx/dirty_log.h"
#include "vmm/vmx/ept.h"
#include "vmm/vmx/exit_reason.h"
#include "vmm/vmx/trap_policy.h"

#define MAX_VMS 128
#define VM_MAX_RESTARTS 3
#define VM_REASON_MAX 192
#define VM_MAX_RAM_MIB 3072 /* RAM stays below the I/O APIC and LAPIC windows */

enum vm_state {
	VM_RUNNING,
	VM_PAUSED,   /* stopped by the operator, resumes where it was */
	VM_SHUTDOWN, /* ended by the guest's own request */
	VM_CRASHED,  /* stopped by the hypervisor */
};

enum vm_end {
	VM_END_NONE,
	VM_END_POWEROFF,   /* Bochs "Shutdown" port (later: ACPI S5) */
	VM_END_DEBUG_EXIT, /* port 0xf4: status = (value << 1) | 1 */
	VM_END_HALTED,	   /* HLT that nothing can ever wake */
	VM_END_CRASH,
	VM_END_DESTROYED, /* by the operator */
	VM_END_REBOOT,	  /* the guest reset its machine: restart it */
};

/* A network interface: the device, its port on the switch (kept across
 * restarts) and a way back to the VM for the switch's notifications. */
struct vm_nic {
	struct virtio_net net;
	struct net_port port;
	struct vm *vm;
};

/* A debugger attached to a VM (vmm/debug/, a layer above), called on the
 * vCPU's own CPU with its VMCS current. */
struct vm_debugger {
	/* Before every entry of one of the VM's vCPUs, and whenever its CPU's
	 * scheduler looks at it (halted or not): returns true to hold it
	 * (no entry, the CPU runs other VMs) while the debugger has the VM
	 * stopped. */
	bool (*before_entry)(struct vcpu *v);
	/* A #BP or #DB exception exit (vector): the debugger's own trap, or
	 * the guest's, which it delivers. */
	void (*debug_exit)(struct vcpu *v, unsigned vector);
};

struct vm {
	unsigned id;
	struct vm_config cfg;
	const char *name; /* cfg.name */
	enum vm_state state;
	enum vm_end end;
	uint32_t exit_value; /* the value written to port 0xf4 */
	char reason[VM_REASON_MAX];
	unsigned restarts;

	/* The image files, kept for restarts. */
	struct image_file kernel;
	struct image_file modules[VM_MAX_MODULES];
	unsigned nmodules;
	struct image_file ramdisk; /* data NULL when none */
	/* Where its disks' sectors live: a writable image disk's own copy
	 * (kept across restarts, freed with the VM), a read-only one's boot
	 * file, or a partition the VM holds (let go with the VM). */
	struct vm_disk_image {
		struct virtio_blk_store store;
		bool owned; /* store.image is a copy in pages of its own */
	} disk_images[VM_MAX_DISKS];

	struct trap_controls trap_ctl; /* from cfg.traps */
	/* Its virtual CPU's VMX capability MSRs, when cfg.nested (from the
	 * host's and cfg.nested_profile; vmm/nested/nested_caps.h). */
	struct nested_caps nested_caps;
	const struct vm_debugger *debugger; /* NULL unless gdb=NAME */
	struct guest_ram ram;
	struct ept ept;
	/* Live migration's dirty log (DIRTY_OFF but while one runs). */
	struct dirty_log dirty;
	uint8_t *io_bitmaps; /* two 4 KiB pages: ports 0-0x7fff, 0x8000-0xffff */
	uint8_t *msr_bitmap;
	/* The APIC-access page (vmx_controls.apic_access, vmm/cpu/apicv.c),
	 * mapped in the EPT at the default xAPIC base while every vCPU's
	 * accesses there are virtualized (apic_access_mapped); NULL without. */
	void *apic_access_page;
	bool apic_access_mapped;
	struct io_bus iobus;
	struct mmio_bus mmio;
	/* Reads and writes of guest-physical memory outside its RAM with no
	 * device there, let through as on the bare machine (cfg.on_unbacked
	 * "ignore") since the VM was loaded; the first one's address. */
	uint64_t unbacked_count;
	uint64_t unbacked_first_gpa;
	bool unbacked_first_write;
	/* Where a vCPU moved its xAPIC page (IA32_APIC_BASE), 0 if none did:
	 * a second "lapic" window decodes it besides the default one. */
	uint64_t lapic_moved_base;
	struct vtime vtime;
	uint64_t start_epoch_ns; /* the time of day at guest time 0 */
	/* kvm-clock's wall clock (MSR_KVM_WALL_CLOCK_NEW as written) and the
	 * version its record last got. */
	uint64_t wall_clock_msr;
	uint32_t wall_clock_version;
	/* The guest read KVM's feature leaf with PV unhalt in it: its vCPUs
	 * may halt with interrupts off to wait for a kick. */
	bool pv_unhalt_known;
	struct vioapic ioapic;
	struct pic pic;
	struct pit pit;
	struct rtc rtc;
	struct hpet hpet;
	struct acpi_pm acpi_pm;
	struct sysctl sysctl;
	struct pci_host pci;
	struct virq isa_irq; /* how devices reach platform_set_irq */
	/* The PIT's and RTC's lines: muted while the HPET replaces them. */
	struct virq legacy_timer_irq;
	struct virq hpet_ioapic_irq; /* the HPET's routes to I/O APIC inputs */
	struct uart uart;
	struct power_ports power; /* ports 0xf4 and 0x8900 */
	/* Its virtio devices, allocated when the VM is created for the ones
	 * its config names (NULL otherwise) and, like struct vm itself, kept
	 * after it is destroyed (the summary reads their counters). */
	struct virtio_blk *disks[VM_MAX_DISKS]; /* cfg.ndisks of them */
	struct vm_nic *nics[VM_MAX_VIFS];	/* cfg.nvifs of them */
	struct virtio_console *vcon;		/* when cfg.virtio_console */

	/* Its vCPUs run on more than one host CPU: its devices, interrupt
	 * state, time and lifecycle are then shared between CPUs and kept
	 * under lock (vm_lock). A VM on one CPU needs no lock. */
	bool spread;
	struct spinlock lock;
	unsigned lock_cpu; /* the CPU holding lock, plus one; 0: free */
	/* vCPUs whose CPU has not yet let go of them since the VM stopped:
	 * the one that lets go last applies the policy (vcpu_stopped). */
	unsigned vcpus_held;
	/* Built by a live migration: its vifs' ports join the switch by
	 * taking the source's over at the switch (platform_take_over_nics). */
	bool nics_later;
	bool destroy_requested; /* by the operator: the policy is "destroy" */
	bool preserved;		/* stopped but its memory kept for inspection */

	unsigned nvcpus;
	struct vcpu vcpus[VM_MAX_VCPUS];
};

/* Takes vm's lock when it is spread over CPUs and this CPU does not hold
 * it already (console input reaches a VM from inside another exit).
 * Returns whether it took it, for vm_unlock. */
static inline bool vm_lock(struct vm *vm)
{
	unsigned me = this_cpu()->index + 1;

	if (!vm->spread || __atomic_load_n(&vm->lock_cpu, __ATOMIC_RELAXED) == me)
		return false;
	spin_lock(&vm->lock);
	vm->lock_cpu = me;
	return true;
}

static inline void vm_unlock(struct vm *vm, bool taken)
{
	if (!taken)
		return;
	vm->lock_cpu = 0;
	spin_unlock(&vm->lock);
}

/* Stops the VM: the guest asked to (end != VM_END_CRASH) or it crashed,
 * with reason printed as "pgvisor: vm NAME: ...". */
void vm_stop(struct vm *vm, enum vm_end end, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* What a listener above (the control channel, vmm/console/) hears of a
 * VM's life: started (created or restarted), stopped, crashed. Called on
 * the CPU where it happens, possibly under the VM lock: it must not take
 * that lock. */
enum vm_event { VM_EVENT_STARTED, VM_EVENT_STOPPED, VM_EVENT_CRASHED };
void vm_set_event_listener(void (*listener)(const struct vm *vm, enum vm_event event));
void vm_announce(const struct vm *vm, enum vm_event event);
/* The EPT pointer of vm's vCPUs, as their VMCSs hold it. */
static inline uint64_t vm_eptp(const struct vm *vm)
{
	return ept_pointer(&vm->ept, vm->dirty.mode == DIRTY_AD || vm->dirty.mode == DIRTY_PML);
}
/* The VPID of vm's vCPUs (0 is the host's). */
static inline uint16_t vm_vpid(const struct vm *vm)
{
	return (uint16_t)(vm->id + 1);
}
/* "CPU n" or "CPUs a,b,...": where vm's vCPUs run. */
#define VM_CPU_LIST_MAX 96
void vm_cpu_list(const struct vm *vm, char *out, size_t size);
/* "vCPU n" or "vCPUs a,b,...": the vCPUs in HLT with interrupts enabled,
 * waiting for an interrupt (until_kick false), or with interrupts off,
 * waiting for a PV kick (true). Returns how many; 0 leaves out empty. */
unsigned vm_halted_list(const struct vm *vm, bool until_kick, char *out, size_t size);
/* Makes the other CPUs that run vm's vCPUs look at it again (an exit
 * from the guest, or from their idle wait). */
void vm_kick_cpus(struct vm *vm);
/* True when the VM ended the way a passing test ends. */
bool vm_succeeded(const struct vm *vm);

/* Whether vm has ended for good: its end policy applied, no restart
 * coming, its memory not kept. Its vCPUs never run again. */
bool vm_finished(struct vm *vm);

/* The exit profiles of vm's vCPUs added together into *out. */
void vm_exit_profile(const struct vm *vm, struct exit_profile *out);
/* The vCPU of vm whose exit is being handled on this CPU. */
struct vcpu *vm_current_vcpu(struct vm *vm);
unsigned vm_count(void);
struct vm *vm_at(unsigned i);
/* The newest VM of that name, or NULL. */
struct vm *vm_named(const char *name);
/* Whether a new VM may take name: no VM has it, or the newest that had it
 * has ended for good (destroyed, or stopped and not kept). */
bool vm_name_free(const char *name);
/* Enters vm into the table: vm->id == vm_count() < MAX_VMS. */
void vm_add(struct vm *vm);
/* The operator's pause or resume of a running VM. */
void vm_pause(struct vm *vm, bool pause);

#endif
