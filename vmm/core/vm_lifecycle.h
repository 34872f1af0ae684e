/* Building and ending VMs: a VM from a config and the boot files, its image
 * loaded into fresh RAM, and what happens after it stops (its on_poweroff /
 * on_crash policy). Handlers below this layer only stop a VM (vm_stop);
 * everything that allocates, loads or frees one is here. */
#ifndef PGVISOR_VM_LIFECYCLE_H
#define PGVISOR_VM_LIFECYCLE_H

#include <stddef.h>

#include "boot/boot_info.h"
#include "vmm/load/config.h"
#include "vmm/vm/vm.h"

/* Builds a VM from a config and the boot files, its vCPUs placed on the
 * CPUs of usable (a bit each); on failure prints one line naming the VM
 * and the cause and returns NULL. */
struct vm *vm_create(const struct vm_config *cfg, const struct boot_info *bi, uint32_t usable);
/* vm_create in two steps, for a restore that loads a VM's state between
 * them: vm_build makes the VM, loaded and ready, but in no table and on no
 * run queue (NULL and one line on failure); vm_start enters it and places
 * its vCPUs; vm_discard frees a built VM that never started. nics_later
 * (a live migration's destination): its vifs join no bridge until they
 * take the source's ports over (platform_take_over_nics). */
struct vm *vm_build(const struct vm_config *cfg, const struct boot_info *bi, bool nics_later);
void vm_start(struct vm *vm, uint32_t usable);
/* vm_start in two steps, for a migration whose downtime must not hold
 * the console's lines (each character a serial one's time): the vCPUs
 * placed and the VM entered, then its lines and its start announced. */
void vm_start_quiet(struct vm *vm, uint32_t usable);
void vm_start_report(struct vm *vm);
void vm_discard(struct vm *vm);
/* Loads the image into fresh (zeroed) RAM and resets the vCPUs. */
int vm_load(struct vm *vm);
/* Host memory the hypervisor spends on the VM besides its RAM. */
size_t vm_overhead_bytes(const struct vm *vm);
/* What the VM table keeps of a VM after it ended and was freed: its
 * structure and its devices' state (the summary reads their counters). */
size_t vm_kept_bytes(const struct vm *vm);
/* The operator's destroy: whatever the VM's state, its memory is freed,
 * whatever its policy. */
void vm_destroy(struct vm *vm);
/* Applies on_poweroff / on_crash after a stop: destroy frees its memory,
 * restart reloads it (at most VM_MAX_RESTARTS times), preserve keeps it.
 * Called (by vcpu_stopped) once no CPU holds any of its vCPUs. */
void vm_apply_policy(struct vm *vm);
/* v's CPU lets go of it after its VM stopped: its VMCS is written back
 * and made inactive, and its lazy state leaves the CPU. The last vCPU of
 * the VM to go applies the VM's policy. With the VM lock held. */
void vcpu_stopped(struct vcpu *v);

#endif
