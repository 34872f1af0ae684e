/* A VM's dirty logging for live migration, whole: the EPT prepared (4 KiB
 * leaves, write-protected or A/D flags cleared), every vCPU's VMCS told
 * (vmm/cpu/dirty_vcpu.h), the log taken between rounds, and all of it
 * undone. The mechanism is the best the CPU offers (PML, then A/D flags,
 * then write-protection), or a lower one pgvisor's command line asks for
 * ("dirty=pml|ad|wp"). On the CPU that runs the VM's vCPUs, none of them
 * in guest mode (the scheduler's pass, a command for the VM). */
#ifndef PGVISOR_MIGRATE_DIRTY_TRACK_H
#define PGVISOR_MIGRATE_DIRTY_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/vm/vm.h"

/* The mechanism to use: the best offered, or asked ("pml", "ad", "wp"; ""
 * none asked). DIRTY_OFF with one line in why when the one asked for is
 * not offered or unknown. */
enum dirty_mode dirty_track_choose(const char *asked, char *why, size_t whylen);
/* Starts logging vm's RAM writes in mode. 0, or -1 with one line in why
 * (out of memory; nothing left changed). */
int dirty_track_start(struct vm *vm, enum dirty_mode mode, char *why, size_t whylen);
/* The frames written since the last call (or the start) ORed into out (a
 * bit per frame, vm->dirty.words words); their logging armed again.
 * Returns how many. The vCPUs flush their EPT translations before they
 * next run. */
uint64_t dirty_track_collect(struct vm *vm, uint64_t *out);
/* Stops logging: the EPT and VMCSs as before the start, the log freed. */
void dirty_track_stop(struct vm *vm);
/* The same for a VM that stopped meanwhile, whose VMCSs (and, once its
 * policy freed it, EPT) may be gone: the EPT writable again if it is
 * still there, the PML pages and the log freed; no VMCS is touched (a
 * restart sets its VMCSs up afresh). */
void dirty_track_drop(struct vm *vm);

#endif
