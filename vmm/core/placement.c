#include "vmm/core/placement.h"

int placement_pick(uint32_t allowed, uint32_t online, const unsigned *load, unsigned ncpus)
{
	int best = -1;

	if (!allowed)
		allowed = ~0u;
	for (unsigned c = 0; c < ncpus && c < 32; c++) {
		if (!(allowed & online & (1u << c)))
			continue;
		if (best < 0 || load[c] < load[best])
			best = (int)c;
	}
	return best;
}
