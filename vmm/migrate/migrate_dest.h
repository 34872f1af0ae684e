/* The receiving end of a live migration: a push loader (stream_push.h)
 * whose records build and fill a new VM as they arrive. The stream's
 * first record, the VM config, builds the VM (paused, in no table, under
 * a name of its own until it starts); page-data records go straight into
 * its RAM, a later batch of a frame overwriting an earlier one; from the
 * second config record on (the stop-and-copy) the vCPU and device records
 * are kept, and at END they are checked and loaded like a restore's
 * (vm_restore_finish). Within a machine the engine feeds it through
 * migrate_dest_sink; a network transport feeds it what it receives. */
#ifndef PGVISOR_MIGRATE_DEST_H
#define PGVISOR_MIGRATE_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"
#include "vmm/migrate/config_record.h"
#include "vmm/migrate/migrate_sink.h"
#include "vmm/migrate/stream_push.h"
#include "vmm/vm/vm.h"

struct migrate_dest {
	struct migrate_sink sink; /* first: the local sink feeds this */
	struct stream_push push;
	const struct boot_info *boot;
	struct vm *vm;		/* built at the first config record */
	struct vm_record first; /* that record */
	/* The stop-and-copy records, a stream of their own. */
	struct stream_writer tail;
	size_t tail_cap;
	bool in_tail;		 /* the second config record came */
	uint64_t tail_tsc;	 /* when it came (the destination's downtime) */
	uint64_t pages_received; /* page-data pages, repeats counted */
	/* The source is on this machine: the VM's vifs take its switch
	 * ports over at the stop (platform_take_over_nics); from another
	 * machine they join their bridges when the VM is built. */
	bool take_over_nics;
	bool done; /* END came and the VM is loaded */
	char why[MIGRATE_WHY_MAX];
};

/* Allocates the loader's buffers (take_over_nics: the source is on this
 * machine). 0, or -1 with one line in why. */
int migrate_dest_init(struct migrate_dest *d, const struct boot_info *bi, bool take_over_nics);
/* Takes len more bytes of the stream. 0 (d->done once the last came), or
 * -1 with one line in d->why: the stream or the VM refused; call
 * migrate_dest_abort. */
int migrate_dest_feed(struct migrate_dest *d, const void *buf, size_t len);
/* The loaded VM (done) starts, named name, its vCPUs on the CPUs of
 * usable, its start not yet reported (vm_start_report); the destination
 * lets go of it. */
struct vm *migrate_dest_start(struct migrate_dest *d, const char *name, uint32_t usable);
/* Frees the buffers and a VM that never started. */
void migrate_dest_abort(struct migrate_dest *d);

#endif
