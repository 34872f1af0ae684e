/* The MSR-bitmap page (SDM Vol. 3 25.6.9): read bits for MSRs
 * 0-0x1fff and 0xc0000000-0xc0001fff, then write bits for the same; a set
 * bit makes RDMSR or WRMSR of that MSR exit. */
#ifndef PGVISOR_MSR_BITMAP_H
#define PGVISOR_MSR_BITMAP_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_BITMAP_READ_LOW 0
#define MSR_BITMAP_READ_HIGH 1024
#define MSR_BITMAP_WRITE_LOW 2048
#define MSR_BITMAP_WRITE_HIGH 3072
#define MSR_BITMAP_HIGH_BASE 0xc0000000u

static inline void msr_bitmap_bit(uint8_t *bitmap, unsigned half, uint32_t index, bool exits)
{
	uint8_t *byte = &bitmap[half + index / 8];

	if (exits)
		*byte |= (uint8_t)(1u << (index % 8));
	else
		*byte &= (uint8_t) ~(1u << (index % 8));
}

/* Whether RDMSR and WRMSR of msr exit. */
static inline void msr_bitmap_set(uint8_t *bitmap, uint32_t msr, bool read_exits, bool write_exits)
{
	bool high = msr >= MSR_BITMAP_HIGH_BASE;
	uint32_t index = high ? msr - MSR_BITMAP_HIGH_BASE : msr;

	msr_bitmap_bit(bitmap, high ? MSR_BITMAP_READ_HIGH : MSR_BITMAP_READ_LOW, index,
		       read_exits);
	msr_bitmap_bit(bitmap, high ? MSR_BITMAP_WRITE_HIGH : MSR_BITMAP_WRITE_LOW, index,
		       write_exits);
}

#endif
