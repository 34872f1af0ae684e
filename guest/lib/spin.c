#include "guest/lib/spin.h"

uint32_t spin(uint32_t iterations)
{
	uint32_t x = 0x12345678;

	for (uint32_t i = 0; i < iterations; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		x += i;
	}
	return x;
}
