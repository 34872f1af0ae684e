/* A VM's sense of time: its clock (guest nanoseconds since it was loaded,
 * from the host TSC) and the timers of its devices. The vCPU loop asks
 * vtime_next_deadline_tsc() before each entry, to arm the preemption timer
 * for the earliest device event, and calls vtime_update() after an exit
 * when that moment has come. */
#ifndef PGVISOR_VTIME_H
#define PGVISOR_VTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/dev/vclock.h"

#define VTIME_MAX_TIMERS 16

struct vtime {
	uint64_t start_tsc;
	uint64_t tsc_hz;
	/* timer_mode delay_for_missed_ticks (tick_backlog.h): the host TSC
	 * ticks this VM's time stood still, and since when it stands still
	 * now (0: it runs). Guest time 0 is at host TSC start_tsc + held_tsc. */
	uint64_t held_tsc;
	uint64_t held_since_tsc;
	struct vclock clock; /* what devices read */
	struct vtimer timers[VTIME_MAX_TIMERS];
	uint64_t last_update_ns[VTIME_MAX_TIMERS];
	unsigned ntimers;
	uint64_t next_deadline_tsc; /* cached earliest event, UINT64_MAX: none */
	uint32_t poked;		    /* vtime_poke: look at every timer at the next chance */
	unsigned held;		    /* timers holding owed ticks back (vtimer.held) */
};

void vtime_init(struct vtime *t, uint64_t now_tsc, uint64_t tsc_hz);
uint64_t vtime_now_ns(struct vtime *t);
/* The host TSC at guest time 0: start_tsc, later by every span held. */
static inline uint64_t vtime_origin_tsc(const struct vtime *t)
{
	return t->start_tsc + t->held_tsc;
}
/* Stops the VM's time at host TSC now_tsc (no-op when it stands still). */
void vtime_hold(struct vtime *t, uint64_t now_tsc);
/* Lets the VM's time run again at host TSC now_tsc. With `count` the
 * span it stood still is taken out of guest time (its origin moves that
 * much later, returned in TSC ticks); without, it counts as time passed
 * (0 returned). */
uint64_t vtime_release(struct vtime *t, uint64_t now_tsc, bool count);
uint64_t vtime_ns_to_tsc(const struct vtime *t, uint64_t ns);
int vtime_add_timer(struct vtime *t, struct vtimer timer);
/* Recomputes the earliest event after a device was reprogrammed. */
void vtime_reschedule(struct vtime *t);
/* From any CPU (another VM's device, frames for this one): makes the CPU
 * running this VM look at its timers at its next exit or idle wake-up,
 * where a device with work reports its next event as due now. The caller
 * then kicks that CPU. */
void vtime_poke(struct vtime *t);
/* The guest just took an interrupt: a timer holding ticks back for it
 * may raise the next one (cheap when none does). */
static inline void vtime_interrupt_taken(struct vtime *t)
{
	if (t->held)
		vtime_reschedule(t);
}
/* Fires every timer due now and recomputes the earliest event. */
void vtime_update(struct vtime *t);

#endif
