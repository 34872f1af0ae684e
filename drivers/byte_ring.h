/* A ring of bytes: typed input waiting for whoever takes it (the host
 * serial line's bytes before the console reads them, a VM's keys before
 * its UART or virtio console does). The caller locks; a byte that finds
 * the ring full is dropped and counted. */
#ifndef PGVISOR_BYTE_RING_H
#define PGVISOR_BYTE_RING_H

#include <stdbool.h>
#include <stdint.h>

struct byte_ring {
	uint8_t *buf;
	unsigned size; /* bytes in buf */
	unsigned head; /* the oldest byte */
	unsigned count;
	uint64_t dropped; /* bytes that found the ring full */
};

static inline void byte_ring_init(struct byte_ring *r, uint8_t *buf, unsigned size)
{
	*r = (struct byte_ring){ .buf = buf, .size = size };
}

/* False (and the byte counted as dropped) when the ring is full. */
static inline bool byte_ring_put(struct byte_ring *r, uint8_t c)
{
	if (r->count == r->size) {
		r->dropped++;
		return false;
	}
	r->buf[(r->head + r->count++) % r->size] = c;
	return true;
}

/* The oldest byte, or -1 when the ring is empty. */
static inline int byte_ring_peek(const struct byte_ring *r)
{
	return r->count ? r->buf[r->head] : -1;
}

/* Takes the oldest byte; -1 when the ring is empty. */
static inline int byte_ring_get(struct byte_ring *r)
{
	int c = byte_ring_peek(r);

	if (c >= 0) {
		r->head = (r->head + 1) % r->size;
		r->count--;
	}
	return c;
}

/* The oldest bytes as one contiguous run (up to the buffer's end): where
 * it starts and how long it is; byte_ring_skip then takes them. */
static inline unsigned byte_ring_run(const struct byte_ring *r, const uint8_t **start)
{
	unsigned run = r->size - r->head;

	*start = r->buf + r->head;
	return run < r->count ? run : r->count;
}

static inline void byte_ring_skip(struct byte_ring *r, unsigned n)
{
	if (n > r->count)
		n = r->count;
	r->head = (r->head + n) % r->size;
	r->count -= n;
}

static inline void byte_ring_clear(struct byte_ring *r)
{
	r->head = 0;
	r->count = 0;
}

#endif
