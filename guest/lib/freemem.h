/* The RAM a guest program may overwrite: the memory map's usable ranges
 * below 4 GiB less the program image (its stack included), the modules
 * and the boot information. */
#ifndef GUEST_FREEMEM_H
#define GUEST_FREEMEM_H

#include <stdint.h>

#include "bootinfo.h"

/* Every usable range, split at most once per used region, fits: 16 + 1 +
 * 8 + 13 pieces at worst. */
#define FREE_MAX_RANGES (BOOT_MAX_RANGES + 1 + BOOT_MAX_MODULES + BOOT_MAX_INFO_PIECES)

struct free_ranges {
	unsigned n;
	struct boot_range range[FREE_MAX_RANGES]; /* 4-byte aligned, non-empty */
	uint64_t bytes;				  /* their total size */
};

/* Fills out. Returns -1 when bp cannot say what is free: no memory map, or
 * more usable ranges, modules or info pieces than it holds. */
int free_ranges_find(const struct boot_params *bp, struct free_ranges *out);

/* The usable range's end clipped to what 32-bit code can address. */
uint64_t below_4g(uint64_t address);

#endif
