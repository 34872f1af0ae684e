/* libFuzzer harness: the push-style stream reader a migration's
 * destination takes its bytes through (vmm/migrate/stream_push.c), the
 * bytes a network transport would hand it. The first two bytes pick the
 * chunk sizes; the rest is fed once whole and once in those chunks, with
 * page-data records written into guarded RAM and every other record
 * counted. Chunking must change nothing: the same status, the same
 * records, the same RAM, the same bytes taken; and a refused stream stays
 * refused. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/migrate/page_data.h"
#include "vmm/migrate/stream_push.h"

#define RAM_PAGES 4
#define RAM_BYTES (RAM_PAGES * PAGE_DATA_PAGE)
#define RECORD_CAP (64 * 1024) /* smaller than PUSH_RECORD_MAX: "too large" is reached */
#define CHUNK_MASK 0x3ff

struct outcome {
	int status;
	unsigned records, pages;
	uint64_t consumed;
};

static uint8_t record_buf[RECORD_CAP];

static int on_record(void *ctx, struct stream_record *rec, const uint8_t *raw, size_t len)
{
	uint8_t *ram = ((uint8_t **)ctx)[0];
	struct outcome *o = ((struct outcome **)ctx)[1];
	int n;

	/* The body lies just past its header, within the record handed on. */
	if (len < STREAM_RECORD_HEADER_SIZE || rec->body.buf != raw + STREAM_RECORD_HEADER_SIZE ||
	    rec->body.len > len - STREAM_RECORD_HEADER_SIZE)
		abort();
	o->records++;
	if (rec->type != STREAM_PAGE_DATA)
		return 0;
	n = page_data_load(&rec->body, ram, RAM_PAGES);
	if (n < 0)
		return -1;
	o->pages += (unsigned)n;
	return 0;
}

static struct outcome run(const uint8_t *data, size_t size, size_t a, size_t b, uint8_t *ram)
{
	struct outcome o = { 0 };
	void *ctx[2] = { ram, &o };
	struct stream_push p;
	size_t at = 0;
	bool odd = false;

	stream_push_init(&p, record_buf, sizeof(record_buf), 0, on_record, ctx);
	o.status = STREAM_OK;
	while (at < size && o.status == STREAM_OK) {
		size_t step = a ? (odd ? b : a) : size;
		if (step > size - at)
			step = size - at;
		o.status = stream_push_feed(&p, data + at, step);
		at += step;
		odd = !odd;
	}
	o.consumed = p.consumed;
	/* Refused or ended: more bytes are refused as well. */
	if (o.status != STREAM_OK && size && stream_push_feed(&p, data, 1) == STREAM_OK)
		abort();
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *whole_ram, *chunk_ram;

	if (size < 2)
		return 0;
	if (!whole_ram) {
		whole_ram = fuzz_guarded(RAM_BYTES);
		chunk_ram = fuzz_guarded(RAM_BYTES);
	}
	size_t a = (data[0] & CHUNK_MASK) + 1, b = data[1] % 64 + 1;
	uint8_t *stream = fuzz_copy(data + 2, size - 2);
	fuzz_guarded_clear(whole_ram, RAM_BYTES);
	fuzz_guarded_clear(chunk_ram, RAM_BYTES);
	struct outcome w = run(stream, size - 2, 0, 0, whole_ram);
	struct outcome c = run(stream, size - 2, a, b, chunk_ram);
	/* The whole feed may take a too-large record in place where the
	 * chunked one must collect it: equal unless that happened. */
	bool too_large = c.status == STREAM_ERR_MALFORMED && w.status != c.status;
	if (!too_large && (w.status != c.status || w.records != c.records || w.pages != c.pages ||
			   w.consumed != c.consumed || memcmp(whole_ram, chunk_ram, RAM_BYTES)))
		abort();
	free(stream);
	return 0;
}
