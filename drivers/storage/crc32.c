#include "drivers/storage/crc32.h"

#define NIBBLE_BITS 4
#define NIBBLE_MASK 0xfu

/* The CRC of each 4-bit value under the polynomial 0xEDB88320: two table
 * steps a byte, with no table to build at boot. */
static const uint32_t nibble_crc[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
	0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t crc32(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> NIBBLE_BITS) ^ nibble_crc[crc & NIBBLE_MASK];
		crc = (crc >> NIBBLE_BITS) ^ nibble_crc[crc & NIBBLE_MASK];
	}
	return ~crc;
}
