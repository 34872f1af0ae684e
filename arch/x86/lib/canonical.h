/* Whether a linear address is canonical under 4-level paging: bits 63:47
 * all equal (SDM 3.3.7.1). */
#ifndef ARCH_X86_LIB_CANONICAL_H
#define ARCH_X86_LIB_CANONICAL_H

#include <stdbool.h>
#include <stdint.h>

static inline bool canonical_address(uint64_t linear)
{
	return (uint64_t)((int64_t)(linear << 16) >> 16) == linear;
}

#endif
