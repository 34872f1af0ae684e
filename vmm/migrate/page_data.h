/* Page-data records of the state stream (docs/STATE_STREAM.md, type
 * 0x03): batches of guest pages, each a guest frame number and its 4 KiB,
 * and the iterator that picks the pages a pass sends. A save sends every
 * page that is not all zeros (a restored VM starts from zeroed RAM); a
 * dirty-logging pass of live migration gives the iterator its own filter
 * (the pages its log marks). Needs no VMX: unit-tested on the host. */
#ifndef PGVISOR_MIGRATE_PAGE_DATA_H
#define PGVISOR_MIGRATE_PAGE_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/state_io.h"

#define PAGE_DATA_PAGE 4096u
#define PAGE_DATA_BATCH 256u /* pages a record at most: about 1 MiB */

/* Which pages a pass sends: want(ctx, gfn, page) for each in turn. */
struct page_filter {
	bool (*want)(const void *ctx, uint64_t gfn, const uint8_t *page);
	const void *ctx;
};

/* Walks guest RAM (pages of PAGE_DATA_PAGE bytes from ram) in ascending
 * frame order. */
struct page_cursor {
	const uint8_t *ram;
	uint64_t pages; /* RAM size in pages */
	uint64_t next;	/* the next frame to look at */
	struct page_filter filter;
};

void page_cursor_init(struct page_cursor *c, const uint8_t *ram, uint64_t pages,
		      struct page_filter filter);
/* The next at most max wanted frames into gfns; returns how many (0: the
 * walk is over). */
unsigned page_cursor_next(struct page_cursor *c, uint64_t *gfns, unsigned max);
/* The filter of a save: pages with a non-zero byte. */
bool page_nonzero(const void *ctx, uint64_t gfn, const uint8_t *page);

/* A record's body: n (1..PAGE_DATA_BATCH) frames in ascending order, and
 * the pages at ram + gfn * PAGE_DATA_PAGE. */
void page_data_save(struct state_writer *w, const uint8_t *ram, const uint64_t *gfns, unsigned n);
/* Checks a body (count in range, frames ascending and inside RAM of pages
 * pages) and, when ram is not NULL, copies its pages there. Returns the
 * number of pages, or -1 with r->refused set. */
int page_data_load(struct state_reader *r, uint8_t *ram, uint64_t pages);

#endif
