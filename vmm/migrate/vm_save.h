/* A whole VM into a state stream (docs/STATE_STREAM.md, "A whole VM's
 * stream"): header, config, vCPUs, devices, pages, END. */
#ifndef PGVISOR_MIGRATE_VM_SAVE_H
#define PGVISOR_MIGRATE_VM_SAVE_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/migrate/stream.h"
#include "vmm/vm/vm.h"

/* The most bytes vm_save can write for vm (every page of RAM and of its
 * writable image disks sent). */
size_t vm_save_bound(const struct vm *vm);
/* Writes vm's stream into buf[0..cap), its state taken at VM clock
 * clock_ns (read as the command began: nothing of the VM has run since,
 * and the time it stands still for the save is then not in the image).
 * Called on the CPU of its vCPU 0 with its lock held, from that CPU's
 * scheduler: none of its vCPUs is in guest mode (no virtio request is in
 * flight: each completes in its exit), so the VM is paused for the whole
 * save and resumes as it was. Returns the stream's length (and in *pages
 * the RAM pages it holds), or -1 with one line in why (a VM that cannot be
 * saved: not running, spread over CPUs, with a debugger attached or
 * nested VMX; or no room). The VM is never changed. */
long vm_save(struct vm *vm, uint64_t clock_ns, void *buf, size_t cap, uint64_t *pages, char *why,
	     size_t whylen);

/* Why vm cannot be saved now (vm_save's refusals, "is not running"...),
 * or NULL. */
const char *vm_save_refusal(const struct vm *vm);
/* The pieces of vm_save a live migration sends apart (vm_save's
 * conditions): the config record (the VM clock as sw's now_ns) ... */
void vm_save_config(struct stream_writer *sw, const struct vm *vm);
/* ... and config, vCPU and device records (no pages, no END) for the
 * stop-and-copy. -1 when a vCPU's VMCS cannot be read. */
int vm_save_state(struct stream_writer *sw, struct vm *vm);

#endif
