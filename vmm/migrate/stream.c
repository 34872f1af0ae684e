#include "vmm/migrate/stream.h"

#include <string.h>

#include "arch/x86/lib/crc32c.h"

#define BYTE_BITS 8
#define RECORD_LEN_OFFSET 8 /* a record header's body length */

static void put32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < sizeof(v); i++)
		p[i] = (uint8_t)(v >> (BYTE_BITS * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < sizeof(v); i++)
		v |= (uint32_t)p[i] << (BYTE_BITS * i);
	return v;
}

static size_t padded(size_t n)
{
	return (n + STREAM_ALIGN - 1) & ~(size_t)(STREAM_ALIGN - 1);
}

/* The record's CRC-32C covers its type, instance and length and its body,
 * so a flipped bit anywhere in a record is found. */
static uint32_t record_crc(const uint8_t *hdr, const uint8_t *body, size_t len)
{
	return crc32c(crc32c(CRC32C_INIT, hdr, 3 * sizeof(uint32_t)), body, len);
}

int stream_writer_init(struct stream_writer *sw, void *buf, size_t cap, uint64_t now_ns)
{
	*sw = (struct stream_writer){ .buf = buf, .cap = cap, .now_ns = now_ns };
	if (cap < STREAM_HEADER_SIZE)
		return sw->error = STREAM_ERR_NO_SPACE;
	put32(sw->buf, (uint32_t)STREAM_MAGIC);
	put32(sw->buf + 4, (uint32_t)(STREAM_MAGIC >> 32));
	put32(sw->buf + 8, STREAM_VERSION);
	put32(sw->buf + 12, 0); /* flags: none defined */
	sw->len = STREAM_HEADER_SIZE;
	return STREAM_OK;
}

void stream_record_begin(struct stream_writer *sw, struct state_writer *body)
{
	size_t start = sw->len + STREAM_RECORD_HEADER_SIZE;

	if (sw->error || sw->ended || start > sw->cap) {
		state_writer_init(body, sw->buf + sw->len, 0, sw->now_ns);
		body->overflow = true;
		return;
	}
	state_writer_init(body, sw->buf + start, sw->cap - start, sw->now_ns);
}

int stream_record_end(struct stream_writer *sw, uint32_t type, uint32_t instance,
		      const struct state_writer *body)
{
	uint8_t *hdr = sw->buf + sw->len;
	size_t total;

	if (sw->error)
		return sw->error;
	if (sw->ended || body->overflow || body->len > UINT32_MAX)
		return sw->error = STREAM_ERR_NO_SPACE;
	total = STREAM_RECORD_HEADER_SIZE + padded(body->len);
	if (total > sw->cap - sw->len)
		return sw->error = STREAM_ERR_NO_SPACE;
	put32(hdr, type);
	put32(hdr + 4, instance);
	put32(hdr + 8, (uint32_t)body->len);
	put32(hdr + 12, record_crc(hdr, body->buf, body->len));
	memset(hdr + STREAM_RECORD_HEADER_SIZE + body->len, 0, padded(body->len) - body->len);
	sw->len += total;
	return STREAM_OK;
}

void stream_writer_reset(struct stream_writer *sw)
{
	sw->len = 0;
}

long stream_writer_finish(struct stream_writer *sw)
{
	struct state_writer end;
	int err;

	stream_record_begin(sw, &end);
	err = stream_record_end(sw, STREAM_END, 0, &end);
	if (err)
		return err;
	sw->ended = true;
	return (long)sw->len;
}

static int fail(struct stream_reader *sr, int error, const char *why, size_t where)
{
	sr->error = error;
	sr->why = why;
	sr->where = where;
	return error;
}

int stream_reader_init(struct stream_reader *sr, const void *buf, size_t len, uint64_t now_ns)
{
	*sr = (struct stream_reader){ .buf = buf, .len = len, .now_ns = now_ns };
	if (len < STREAM_HEADER_SIZE)
		return fail(sr, STREAM_ERR_TRUNCATED, "stream shorter than its header", 0);
	if (get32(sr->buf) != (uint32_t)STREAM_MAGIC ||
	    get32(sr->buf + 4) != (uint32_t)(STREAM_MAGIC >> 32))
		return fail(sr, STREAM_ERR_MAGIC, "not a pgvisor state stream", 0);
	if (get32(sr->buf + 8) != STREAM_VERSION)
		return fail(sr, STREAM_ERR_VERSION, "stream version not supported", 8);
	if (get32(sr->buf + 12) != 0)
		return fail(sr, STREAM_ERR_MALFORMED, "stream header flags unknown", 12);
	sr->pos = STREAM_HEADER_SIZE;
	return STREAM_OK;
}

static bool type_known(uint32_t type)
{
	switch (type & ~STREAM_OPTIONAL) {
	case STREAM_END:
	case STREAM_VM_CONFIG:
	case STREAM_VCPU:
	case STREAM_PAGE_DATA:
	case STREAM_DISK_DATA:
	case STREAM_DEV_UART:
	case STREAM_DEV_PIC:
	case STREAM_DEV_PIT:
	case STREAM_DEV_RTC:
	case STREAM_DEV_ACPI_PM:
	case STREAM_DEV_HPET:
	case STREAM_DEV_VIOAPIC:
	case STREAM_DEV_VLAPIC:
	case STREAM_DEV_PCI_HOST:
	case STREAM_DEV_SYSCTL:
	case STREAM_DEV_VIRTIO_BLK:
	case STREAM_DEV_VIRTIO_CONSOLE:
	case STREAM_DEV_VIRTIO_NET:
		return true;
	}
	return false;
}

int stream_next(struct stream_reader *sr, struct stream_record *rec)
{
	for (;;) {
		const uint8_t *hdr = sr->buf + sr->pos;
		size_t at = sr->pos, left = sr->len - sr->pos, body_len, total;
		uint32_t type;

		if (sr->error)
			return sr->error;
		if (left < STREAM_RECORD_HEADER_SIZE)
			return fail(sr, STREAM_ERR_TRUNCATED, "stream ends inside a record header",
				    at);
		type = get32(hdr);
		body_len = get32(hdr + RECORD_LEN_OFFSET);
		if (body_len > left - STREAM_RECORD_HEADER_SIZE ||
		    padded(body_len) > left - STREAM_RECORD_HEADER_SIZE)
			return fail(sr, STREAM_ERR_TRUNCATED, "stream ends inside a record", at);
		total = STREAM_RECORD_HEADER_SIZE + padded(body_len);
		if (record_crc(hdr, hdr + STREAM_RECORD_HEADER_SIZE, body_len) != get32(hdr + 12))
			return fail(sr, STREAM_ERR_CHECKSUM, "record checksum mismatch", at);
		for (size_t i = STREAM_RECORD_HEADER_SIZE + body_len; i < total; i++)
			if (hdr[i])
				return fail(sr, STREAM_ERR_MALFORMED, "record padding not zero",
					    at + i);
		if (!type_known(type)) {
			if (!(type & STREAM_OPTIONAL))
				return fail(sr, STREAM_ERR_UNKNOWN, "unknown mandatory record", at);
			sr->pos += total;
			continue;
		}
		if ((type & ~STREAM_OPTIONAL) == STREAM_END) {
			if (body_len)
				return fail(sr, STREAM_ERR_MALFORMED, "END record with a body", at);
			if (sr->pos + total != sr->len)
				return fail(sr, STREAM_ERR_MALFORMED, "bytes after the END record",
					    at + total);
			sr->pos += total;
			return STREAM_DONE;
		}
		rec->type = type & ~STREAM_OPTIONAL;
		rec->instance = get32(hdr + 4);
		state_reader_init(&rec->body, hdr + STREAM_RECORD_HEADER_SIZE, body_len,
				  sr->now_ns);
		sr->pos += total;
		return STREAM_OK;
	}
}

int stream_refuse_record(struct stream_reader *sr, const struct stream_record *rec)
{
	size_t at = (size_t)(rec->body.buf - sr->buf) - STREAM_RECORD_HEADER_SIZE;

	return fail(sr, STREAM_ERR_MALFORMED,
		    rec->body.refused ? rec->body.refused : "record refused by its device", at);
}

const char *stream_status_name(int status)
{
	switch (status) {
	case STREAM_OK:
		return "ok";
	case STREAM_DONE:
		return "end";
	case STREAM_ERR_NO_SPACE:
		return "no space";
	case STREAM_ERR_TRUNCATED:
		return "truncated";
	case STREAM_ERR_MAGIC:
		return "bad magic";
	case STREAM_ERR_VERSION:
		return "version mismatch";
	case STREAM_ERR_CHECKSUM:
		return "checksum mismatch";
	case STREAM_ERR_UNKNOWN:
		return "unknown mandatory record";
	case STREAM_ERR_MALFORMED:
		return "malformed";
	}
	return "unknown status";
}

size_t stream_record_size(const uint8_t *hdr)
{
	return STREAM_RECORD_HEADER_SIZE + padded(get32(hdr + RECORD_LEN_OFFSET));
}
