/* floor(a * b / c) with a 128-bit intermediate product, in two instructions
 * (MUL, DIV) instead of a call to libgcc's 128-bit division: device
 * models convert between guest nanoseconds and device clocks on every
 * timer-port access, so this sits on the I/O exit path. */
#ifndef PGVISOR_MULDIV_H
#define PGVISOR_MULDIV_H

#include <stdint.h>

/* c must not be 0. A quotient of 2^64 or more saturates to UINT64_MAX
 * (DIV would raise #DE on it). */
static inline uint64_t mul_div_u64(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t lo, hi, q, r;

	__asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b) : "cc");
	if (hi >= c)
		return UINT64_MAX;
	__asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(c) : "cc");
	(void)r;
	return q;
}

#endif
