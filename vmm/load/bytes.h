/* Little-endian fields in byte buffers, and overflow-safe range checks.
 *
 * Image files and guest RAM are plain byte arrays with no alignment
 * guarantee, so fields are assembled byte by byte rather than read through
 * casted struct pointers (which would be undefined behaviour when
 * misaligned). x86 is little-endian, as are ELF (ELFDATA2LSB) files and the
 * Multiboot structures. */
#ifndef PGVISOR_BYTES_H
#define PGVISOR_BYTES_H

#include <stdbool.h>
#include <stdint.h>

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Whether [off, off + len) lies within [0, limit), without overflowing. */
static inline bool range_within(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

/* Whether [a, a + alen) and [b, b + blen) intersect; both must not wrap. */
static inline bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Rounds v up to a multiple of align (a power of two); false on overflow. */
static inline bool align_up_checked(uint64_t v, uint64_t align, uint64_t *out)
{
	uint64_t r = (v + (align - 1)) & ~(align - 1);

	if (r < v)
		return false;
	*out = r;
	return true;
}

#endif
