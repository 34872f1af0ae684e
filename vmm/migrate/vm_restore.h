/* A new VM from a state stream (docs/STATE_STREAM.md, "A whole VM's
 * stream"): the stream is checked whole before anything is built. */
#ifndef PGVISOR_MIGRATE_VM_RESTORE_H
#define PGVISOR_MIGRATE_VM_RESTORE_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"
#include "vmm/vm/vm.h"

/* Builds a VM from the stream buf[0..len), its kernel and files from bi,
 * named name (NULL: the saved VM's name, or NAME-2, NAME-3, ... when that
 * is taken), and starts it on the CPUs of usable. Returns it, or NULL with
 * one line in why: a refused stream (truncated, corrupted, an unknown
 * mandatory record, a record no VM could have written) creates nothing. */
struct vm *vm_restore(const void *buf, size_t len, const char *name, const struct boot_info *bi,
		      uint32_t usable, char *why, size_t whylen);

/* The end of a live migration's destination (vmm/migrate/migrate_dest.h):
 * vm, built from the stream's first config record and holding the pages
 * sent so far, takes the stop-and-copy part buf[0..len) (a stream of its
 * own: header, the final config record, vCPUs, devices, END; checked whole
 * first, like a restore's) with its RAM kept. 0, or -1 with one line in
 * why; the caller starts or discards vm. */
int vm_restore_finish(struct vm *vm, const void *buf, size_t len, char *why, size_t whylen);

#endif
