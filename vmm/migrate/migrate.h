/* Live migration within the machine (docs/ARCHITECTURE.md, "Live
 * migration"): pre-copy rounds while the VM runs, then stop-and-copy into
 * a new VM (its own memory, VMCS and devices) that takes the name; the
 * source is freed. The engine writes the state stream through a sink
 * (migrate_sink.h), here one that feeds a migrate_dest on this machine.
 *
 * The copy interleaves with the guest: the scheduler's pass on the
 * source's CPU (console_input_run, between vCPU slices) calls
 * migrate_poll, which sends at most MIGRATE_CHUNK_PAGES pages and
 * returns; while dirty logging is on the VM gets no lone slice, so these
 * passes come at least every slice. One migration at a time. */
#ifndef PGVISOR_MIGRATE_MIGRATE_H
#define PGVISOR_MIGRATE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "boot/boot_info.h"
#include "vmm/migrate/migrate_sink.h"
#include "vmm/vm/vm.h"

#define MIGRATE_CHUNK_PAGES 256u /* a page-data record's worth a pass */

/* Starts migrating vm (on the CPU of its vCPUs, from its command): the
 * first config record is sent and dirty logging starts. bi: the boot
 * files and pgvisor's command line (dirty=, migrate-downtime=). 0, or -1
 * with one line in why (a VM that cannot migrate; nothing changed). */
int migrate_start(struct vm *vm, const struct boot_info *bi, char *why, size_t whylen);
/* The same to another machine: the stream goes to remote (a sink with
 * room, close, state and release: vmm/migrate/migrate_remote.c), round 1
 * skips zero pages (the peer's RAM starts zeroed), the rounds' pace is the
 * link's, and once stopped the source stays paused until the peer's
 * verdict: freed when it accepted, running on after a refusal or a
 * failure. to: the peer, for the console's lines. */
int migrate_start_to(struct vm *vm, const struct boot_info *bi, struct migrate_sink *remote,
		     const char *to, char *why, size_t whylen);
/* The most one write of the engine's takes: a sink's queue holds a few. */
size_t migrate_chunk_bytes(const struct vm *vm);
/* Stops the migration of vm: the destination is dropped, dirty logging
 * goes, the source runs on. -1 when vm is not migrating. */
int migrate_cancel(struct vm *vm);
/* A step of the migration whose source runs on this CPU, if any. */
void migrate_poll(void);

#endif
