#include "vmm/migrate/stream_push.h"

#include <string.h>

void stream_push_init(struct stream_push *p, uint8_t *buf, size_t cap, uint64_t now_ns,
		      stream_push_fn fn, void *ctx)
{
	*p = (struct stream_push){ .buf = buf, .cap = cap, .now_ns = now_ns, .fn = fn, .ctx = ctx };
}

static int fail(struct stream_push *p, int error, const char *why)
{
	p->error = error;
	p->why = why;
	return error;
}

/* The bytes a unit needs: the image header, then each record's header and
 * then the whole record (known once its header is in). */
static size_t unit_size(const uint8_t *hdr, size_t have)
{
	if (have < STREAM_RECORD_HEADER_SIZE)
		return STREAM_RECORD_HEADER_SIZE;
	return stream_record_size(hdr);
}

/* One whole record at raw[0..len): checked by stream_next, handed on. */
static int take_record(struct stream_push *p, const uint8_t *raw, size_t len)
{
	struct stream_reader sr = { .buf = raw, .len = len, .now_ns = p->now_ns };
	struct stream_record rec;
	int st = stream_next(&sr, &rec);

	/* An unknown optional record: skipped, the reader then finds the
	 * buffer's end just past it. */
	if (st == STREAM_ERR_TRUNCATED && sr.where == len)
		return STREAM_OK;
	if (st == STREAM_DONE) {
		p->ended = true;
		return STREAM_DONE;
	}
	if (st != STREAM_OK)
		return fail(p, st, sr.why);
	if (p->fn(p->ctx, &rec, raw, len))
		return fail(p, STREAM_ERR_MALFORMED, NULL);
	return STREAM_OK;
}

int stream_push_feed(struct stream_push *p, const void *data, size_t len)
{
	const uint8_t *in = data;

	while (len && !p->error) {
		if (p->ended)
			return fail(p, STREAM_ERR_MALFORMED, "bytes after the END record");
		size_t need = p->header_done ? unit_size(p->buf, p->have) : STREAM_HEADER_SIZE;
		/* A whole record in the chunk and none begun: read in place. */
		if (p->header_done && !p->have && len >= STREAM_RECORD_HEADER_SIZE &&
		    len >= unit_size(in, len)) {
			size_t n = unit_size(in, len);
			int st = take_record(p, in, n);
			p->consumed += n;
			in += n;
			len -= n;
			if (st < 0)
				return st;
			continue;
		}
		if (need > p->cap)
			return fail(p, STREAM_ERR_MALFORMED, "record larger than the loader takes");
		size_t n = need - p->have < len ? need - p->have : len;
		memcpy(p->buf + p->have, in, n);
		p->have += n;
		p->consumed += n;
		in += n;
		len -= n;
		if (p->have < need)
			continue;
		if (!p->header_done) {
			struct stream_reader sr;
			if (stream_reader_init(&sr, p->buf, STREAM_HEADER_SIZE, p->now_ns))
				return fail(p, sr.error, sr.why);
			p->header_done = true;
			p->have = 0;
			continue;
		}
		if (need == STREAM_RECORD_HEADER_SIZE && unit_size(p->buf, p->have) > need)
			continue; /* the header is in: now the body */
		p->have = 0;
		int st = take_record(p, p->buf, need);
		if (st < 0)
			return st;
	}
	return p->error ? p->error : p->ended ? STREAM_DONE : STREAM_OK;
}
