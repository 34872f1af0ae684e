/* A push-style reader of the state stream: bytes go in as they arrive, in
 * chunks of any size, and each record is handed to a callback once it is
 * whole, with all of stream_next's checks (checksum, padding, END last,
 * unknown optional records skipped). A record is collected in the
 * caller's buffer, which must hold the largest one the sender writes (a
 * page batch: PUSH_RECORD_MAX); a record that lies whole inside one chunk
 * is read in place, without a copy. Needs no VMX: unit-tested on the
 * host. */
#ifndef PGVISOR_MIGRATE_STREAM_PUSH_H
#define PGVISOR_MIGRATE_STREAM_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/migrate/page_data.h"
#include "vmm/migrate/stream.h"

/* A full page-data record: header, count, frames, pages. */
#define PUSH_RECORD_MAX                                                                            \
	(STREAM_RECORD_HEADER_SIZE + 2 * sizeof(uint32_t) +                                        \
	 PAGE_DATA_BATCH * (sizeof(uint64_t) + PAGE_DATA_PAGE))

/* Takes a whole record (raw: its header, body and padding, raw_len
 * bytes). 0, or -1 to refuse the stream (why in the callback's own
 * state). */
typedef int (*stream_push_fn)(void *ctx, struct stream_record *rec, const uint8_t *raw,
			      size_t raw_len);

struct stream_push {
	uint8_t *buf; /* the record being collected */
	size_t cap, have;
	bool header_done, ended;
	uint64_t now_ns;
	uint64_t consumed; /* bytes taken so far */
	int error;	   /* STREAM_OK or the first failure (sticky) */
	const char *why;   /* one line for it (NULL: the callback refused) */
	stream_push_fn fn;
	void *ctx;
};

void stream_push_init(struct stream_push *p, uint8_t *buf, size_t cap, uint64_t now_ns,
		      stream_push_fn fn, void *ctx);
/* Takes len more bytes. STREAM_OK (more to come), STREAM_DONE (the END
 * record came: the stream is over), or the first error (sticky). */
int stream_push_feed(struct stream_push *p, const void *data, size_t len);

#endif
