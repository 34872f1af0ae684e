#include "arch/x86/lib/fnv1a.h"

#define FNV1A64_PRIME 0x100000001b3ull

uint64_t fnv1a64(uint64_t hash, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		hash ^= p[i];
		hash *= FNV1A64_PRIME;
	}
	return hash;
}
