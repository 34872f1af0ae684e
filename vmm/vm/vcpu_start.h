/* How a vCPU other than the boot one starts and stops (SDM Vol. 3 9.4.4,
 * "MP Initialization Protocol"): after reset or INIT it waits for a
 * start-up IPI; the SIPI's vector gives the real-mode page it starts at.
 * An AP in HLT with interrupts off is parked until the next INIT. The
 * IPIs arrive from other vCPUs' ICR writes (platform.c); the scheduler
 * applies them before it next looks at the vCPU (sched.c). */
#ifndef PGVISOR_VCPU_START_H
#define PGVISOR_VCPU_START_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu_start {
	bool wait_sipi;	   /* off the run list until a SIPI */
	bool parked;	   /* cli;hlt: off the run list until an INIT */
	bool init_pending; /* INIT arrived, not yet applied */
	bool sipi_pending; /* SIPI arrived for a CPU waiting for one */
	uint8_t sipi_vector;
};

/* The state at VM reset: the boot vCPU runs, the others wait for SIPI. */
void vcpu_start_reset(struct vcpu_start *s, bool bsp);
/* An INIT IPI (level_assert: not the level de-assert form). */
void vcpu_start_init(struct vcpu_start *s, bool bsp, bool level_assert);
/* A STARTUP IPI with its vector. */
void vcpu_start_sipi(struct vcpu_start *s, uint8_t vector);
/* Applies what arrived. Returns true and the vector when the vCPU must be
 * (re)started in real mode at vector * 4096 now. */
bool vcpu_start_apply(struct vcpu_start *s, uint8_t *vector);
/* Whether the vCPU can be entered (it is not waiting for INIT or SIPI).
 * Inline: the run loop asks after every exit. */
static inline bool vcpu_start_runnable(const struct vcpu_start *s)
{
	return !s->wait_sipi && !s->parked;
}
/* Whether a vCPU that just left its guest may be entered again at once:
 * not once it parked (its HLT must hold) or an INIT came for it (which
 * takes effect now, SDM Vol. 3 9.4.4, not at the end of its slice). */
static inline bool vcpu_start_stays_in(const struct vcpu_start *s)
{
	return vcpu_start_runnable(s) && !s->init_pending;
}

#endif
