/* Where a live migration's stream goes (docs/STATE_STREAM.md, "A
 * migration's stream"). The engine (vmm/migrate/migrate.c) writes the
 * stream as it goes, a few whole records a call, through a sink; the
 * receiving side hands whatever bytes arrive, in chunks of any size, to a
 * push loader (vmm/migrate/stream_push.h) that applies each record as it
 * completes (vmm/migrate/migrate_dest.h builds the VM and writes its
 * pages). Within a machine the sink feeds the destination directly; a
 * network transport implements a sink that sends the bytes, and feeds a
 * migrate_dest on the other machine with what it receives, in order.
 *
 * write must take all len bytes (or fail): 0, or -1 with one line in
 * why (the migration is then cancelled and the source runs on). The
 * buffer is the engine's: copy what must outlive the call. */
#ifndef PGVISOR_MIGRATE_SINK_H
#define PGVISOR_MIGRATE_SINK_H

#include <stddef.h>

#define MIGRATE_WHY_MAX 160

struct migrate_sink {
	int (*write)(struct migrate_sink *sink, const void *buf, size_t len);
	char why[MIGRATE_WHY_MAX]; /* set by a failed write */
};

#endif
