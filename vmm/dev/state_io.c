#include "vmm/dev/state_io.h"

#include <string.h>

#include "vmm/dev/vclock.h"

/* Fields go in little-endian order, as x86 holds them (put_le, get_le). */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "state fields are little-endian");
/* A time's offset that stands for VTIME_NEVER (no real offset reaches it). */
#define STATE_TIME_NEVER INT64_MIN

void state_writer_init(struct state_writer *w, void *buf, size_t cap, uint64_t now_ns)
{
	*w = (struct state_writer){ .buf = buf, .cap = cap, .now_ns = now_ns };
}

static void put_le(struct state_writer *w, uint64_t v, unsigned bytes)
{
	if (w->overflow || w->cap - w->len < bytes) {
		w->overflow = true;
		return;
	}
	/* x86 is little-endian and takes unaligned stores: one store where
	 * a byte loop cost Bochs ~6 instructions a byte. */
	__builtin_memcpy(w->buf + w->len, &v, bytes);
	w->len += bytes;
}

void state_put_u8(struct state_writer *w, uint8_t v)
{
	put_le(w, v, sizeof(v));
}

void state_put_u16(struct state_writer *w, uint16_t v)
{
	put_le(w, v, sizeof(v));
}

void state_put_u32(struct state_writer *w, uint32_t v)
{
	put_le(w, v, sizeof(v));
}

void state_put_u64(struct state_writer *w, uint64_t v)
{
	put_le(w, v, sizeof(v));
}

void state_put_bool(struct state_writer *w, bool v)
{
	put_le(w, v ? 1 : 0, 1);
}

void state_put_bytes(struct state_writer *w, const void *p, size_t n)
{
	if (w->overflow || w->cap - w->len < n) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void state_put_time(struct state_writer *w, uint64_t t)
{
	int64_t off = t == VTIME_NEVER ? STATE_TIME_NEVER : (int64_t)(t - w->now_ns);

	state_put_u64(w, (uint64_t)off);
}

void state_reader_init(struct state_reader *r, const void *buf, size_t len, uint64_t now_ns)
{
	*r = (struct state_reader){ .buf = buf, .len = len, .now_ns = now_ns };
}

void state_refuse(struct state_reader *r, const char *why)
{
	if (!r->refused)
		r->refused = why;
}

static uint64_t get_le(struct state_reader *r, unsigned bytes)
{
	uint64_t v = 0;

	if (r->len - r->pos < bytes) {
		state_refuse(r, "state record too short");
		r->pos = r->len;
		return 0;
	}
	__builtin_memcpy(&v, r->buf + r->pos, bytes); /* little-endian, as put_le */
	r->pos += bytes;
	return v;
}

uint8_t state_get_u8(struct state_reader *r)
{
	return (uint8_t)get_le(r, sizeof(uint8_t));
}

uint16_t state_get_u16(struct state_reader *r)
{
	return (uint16_t)get_le(r, sizeof(uint16_t));
}

uint32_t state_get_u32(struct state_reader *r)
{
	return (uint32_t)get_le(r, sizeof(uint32_t));
}

uint64_t state_get_u64(struct state_reader *r)
{
	return get_le(r, sizeof(uint64_t));
}

bool state_get_bool(struct state_reader *r)
{
	uint8_t v = state_get_u8(r);

	if (v > 1)
		state_refuse(r, "state flag neither 0 nor 1");
	return v == 1;
}

void state_get_bytes(struct state_reader *r, void *p, size_t n)
{
	if (r->len - r->pos < n) {
		state_refuse(r, "state record too short");
		r->pos = r->len;
		memset(p, 0, n);
		return;
	}
	memcpy(p, r->buf + r->pos, n);
	r->pos += n;
}

uint64_t state_get_time(struct state_reader *r)
{
	int64_t off = (int64_t)state_get_u64(r);

	if (off == STATE_TIME_NEVER)
		return VTIME_NEVER;
	if (off < 0 && (uint64_t)(-(off + 1)) >= r->now_ns) {
		state_refuse(r, "state time before the clock's start");
		return 0;
	}
	if (off > 0 && (uint64_t)off >= VTIME_NEVER - r->now_ns) {
		state_refuse(r, "state time beyond the clock's range");
		return 0;
	}
	return r->now_ns + (uint64_t)off;
}

uint64_t state_get_past_time(struct state_reader *r)
{
	uint64_t t = state_get_time(r);

	if (t > r->now_ns) {
		state_refuse(r, "state time of a past event in the future");
		return 0;
	}
	return t;
}

int state_reader_done(struct state_reader *r)
{
	if (r->pos != r->len)
		state_refuse(r, "state record longer than its device's state");
	return r->refused ? -1 : 0;
}
