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
 * buffer is the engine's: copy what must outlive the call.
 *
 * A sink on a link slower than the engine (vmm/migrate/migrate_remote.c)
 * sets the other operations (the local one leaves them NULL): queued says
 * how many written bytes have not gone onto the link yet (the engine
 * writes a chunk only while less than one waits: backpressure; it ends a
 * round only once none waits, so that the stop-and-copy does not queue
 * behind the round's last chunks); close follows the last bytes (END); state
 * is polled by the engine from then on for the receiver's verdict, and
 * before it for a failure (why set); release ends the engine's use of the
 * sink, after a verdict or to give the migration up (the receiver is told
 * so). */
#ifndef PGVISOR_MIGRATE_SINK_H
#define PGVISOR_MIGRATE_SINK_H

#include <stddef.h>

#define MIGRATE_WHY_MAX 160

enum migrate_sink_state {
	MIGRATE_SINK_OPEN,     /* taking bytes, or waiting for the verdict */
	MIGRATE_SINK_ACCEPTED, /* the receiver runs the VM */
	MIGRATE_SINK_FAILED,   /* refused there, no answer, or the link failed: why */
};

struct migrate_sink {
	int (*write)(struct migrate_sink *sink, const void *buf, size_t len);
	size_t (*queued)(struct migrate_sink *sink);
	void (*close)(struct migrate_sink *sink);
	enum migrate_sink_state (*state)(struct migrate_sink *sink);
	void (*release)(struct migrate_sink *sink);
	char why[MIGRATE_WHY_MAX]; /* set by a failed write */
};

#endif
