#include "vmm/dev/pvclock.h"

#include "arch/x86/muldiv.h"

#define NSEC_PER_SEC 1000000000ull
#define SHIFT_MIN (-31)
#define SHIFT_MAX 31
#define MUL_LIMIT (1ull << 32)

struct pvclock_scale pvclock_scale_for_hz(uint64_t tsc_hz)
{
	struct pvclock_scale s = { 0, SHIFT_MAX };

	/* mul(shift) = 10^9 * 2^32 / (tsc_hz * 2^shift) halves as the shift
	 * grows: the first shift whose multiplier fits 32 bits keeps the
	 * most of it. */
	for (int shift = SHIFT_MIN; shift <= SHIFT_MAX; shift++) {
		uint64_t mul = mul_div_u64(NSEC_PER_SEC, 1ull << (32 - shift), tsc_hz);
		if (mul < MUL_LIMIT) {
			s.mul = (uint32_t)mul;
			s.shift = (int8_t)shift;
			break;
		}
	}
	return s;
}

uint64_t pvclock_scale_delta(uint64_t delta, struct pvclock_scale s)
{
	delta = s.shift >= 0 ? delta << s.shift : delta >> -s.shift;
	return (uint64_t)(((unsigned __int128)delta * s.mul) >> 32);
}
