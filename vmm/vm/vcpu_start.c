#include "vmm/vm/vcpu_start.h"

void vcpu_start_reset(struct vcpu_start *s, bool bsp)
{
	*s = (struct vcpu_start){ .wait_sipi = !bsp };
}

void vcpu_start_init(struct vcpu_start *s, bool bsp, bool level_assert)
{
	/* INIT level de-assert only syncs arbitration IDs (SDM Vol. 3
	 * 11.6.1); an INIT to the boot vCPU would restart the firmware, which
	 * a VM without one does not have: both are ignored. */
	if (!level_assert || bsp)
		return;
	s->init_pending = true;
	s->sipi_pending = false; /* a SIPI only counts after the INIT */
}

void vcpu_start_sipi(struct vcpu_start *s, uint8_t vector)
{
	/* Only a CPU waiting for SIPI takes one (SDM Vol. 3 9.4.4.1); a
	 * running CPU ignores it, which makes the usual second SIPI harmless. */
	if (!s->wait_sipi && !s->init_pending)
		return;
	s->sipi_pending = true;
	s->sipi_vector = vector;
}

bool vcpu_start_apply(struct vcpu_start *s, uint8_t *vector)
{
	if (s->init_pending) {
		s->init_pending = false;
		s->wait_sipi = true;
		s->parked = false;
	}
	if (!s->wait_sipi || !s->sipi_pending)
		return false;
	s->sipi_pending = false;
	s->wait_sipi = false;
	*vector = s->sipi_vector;
	return true;
}
