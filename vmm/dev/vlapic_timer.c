/* The vLAPIC's timer (see vlapic_lvt.h): its count runs on the VM's
 * clock (vmm/dev/vclock.h); vtime asks vlapic_timer_next when it is next
 * due and calls vlapic_timer_update then. */
#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/muldiv.h"
#include "vmm/dev/vlapic.h"
#include "vmm/dev/vlapic_lvt.h"

#define NS_PER_S 1000000000ull

unsigned vlapic_timer_mode(const struct vlapic *a)
{
	return (a->lvt[LVT_TIMER] >> LVT_TIMER_MODE_SHIFT) & LVT_TIMER_MODE_MASK;
}

static uint64_t divisor(const struct vlapic *a)
{
	unsigned d = ((a->timer_divide & 8) >> 1) | (a->timer_divide & 3);

	return 1ull << ((d + 1) & 7); /* 0b111 means divide by 1 */
}

/* ticks is a 32-bit count, so ticks * divisor (at most 128) fits. */
static uint64_t ticks_to_ns(const struct vlapic *a, uint32_t ticks)
{
	return mul_div_u64(ticks * divisor(a), NS_PER_S, a->timer_hz);
}

static uint64_t period_ns(const struct vlapic *a)
{
	uint64_t ns = ticks_to_ns(a, a->timer_initial);

	/* A periodic timer faster than 50 us would keep the CPU in VM exits;
	 * KVM clamps it the same way. One-shots keep their exact time. */
	if ((a->lvt[LVT_TIMER] >> LVT_TIMER_MODE_SHIFT & LVT_TIMER_MODE_MASK) == TIMER_PERIODIC &&
	    ns < VLAPIC_MIN_PERIOD_NS)
		return VLAPIC_MIN_PERIOD_NS;
	return ns ? ns : 1;
}

void vlapic_timer_start(struct vlapic *a)
{
	a->ticks.owed = 0; /* a new count owes nothing of the old one */
	a->timer_start_ns = vclock_now(a->clock);
	a->timer_expiry_ns = a->timer_initial && vlapic_timer_mode(a) != TIMER_TSC_DEADLINE
				     ? a->timer_start_ns + period_ns(a)
				     : VTIME_NEVER;
}

uint32_t vlapic_timer_count(const struct vlapic *a)
{
	if (!a->timer_initial || vlapic_timer_mode(a) == TIMER_TSC_DEADLINE)
		return 0;
	uint64_t now = vclock_now(a->clock);
	if (a->timer_expiry_ns == VTIME_NEVER || now >= a->timer_expiry_ns)
		return 0; /* a one-shot that ran out */
	uint64_t left_ns = a->timer_expiry_ns - now;
	/* Scaled by the period, which may be longer than asked (clamped): the
	 * count still runs from the initial count down to 0. */
	return (uint32_t)mul_div_u64(left_ns, a->timer_initial, period_ns(a));
}

/* The timer's last interrupt still waits in the IRR: not yet accepted. */
static bool timer_waiting(const struct vlapic *a)
{
	return vlapic_requested(a, (uint8_t)(a->lvt[LVT_TIMER] & LVT_VECTOR_MASK));
}

uint64_t vlapic_timer_next(void *p)
{
	struct vlapic *a = p;

	if (vlapic_timer_mode(a) == TIMER_TSC_DEADLINE)
		return a->tsc_deadline && a->tsc_to_ns ? a->tsc_to_ns(a->tsc_ctx, a->tsc_deadline)
						       : VTIME_NEVER;
	/* An owed tick the guest may take now is due now: the start of the
	 * current period is in the past. */
	if (vlapic_timer_mode(a) == TIMER_PERIODIC &&
	    tick_backlog_ready(&a->ticks, timer_waiting(a)))
		return a->timer_start_ns;
	return a->timer_expiry_ns;
}

bool vlapic_timer_held(void *p)
{
	const struct vlapic *a = p;

	return vlapic_timer_mode(a) == TIMER_PERIODIC &&
	       tick_backlog_held(&a->ticks, timer_waiting(a));
}

void vlapic_set_timer_mode(struct vlapic *a, enum timer_mode mode)
{
	a->ticks.mode = mode;
}

static void timer_fire(struct vlapic *a)
{
	uint32_t lvt = a->lvt[LVT_TIMER];

	if (!(lvt & LVT_MASKED))
		vlapic_accept(a, (uint8_t)(lvt & LVT_VECTOR_MASK), false);
}

void vlapic_timer_update(void *p, uint64_t now)
{
	struct vlapic *a = p;

	if (vlapic_timer_mode(a) == TIMER_TSC_DEADLINE) {
		if (vlapic_timer_next(a) <= now) {
			a->tsc_deadline = 0;
			timer_fire(a);
		}
		return;
	}
	if (vlapic_timer_mode(a) == TIMER_PERIODIC) {
		/* Every period ended by now is owed; one is raised when the
		 * timer mode allows (vmm/dev/tick_backlog.h). A masked timer's
		 * ticks are lost, as on hardware. */
		if (a->timer_expiry_ns <= now) {
			uint64_t period = period_ns(a);
			uint64_t due = (now - a->timer_expiry_ns) / period + 1;
			a->timer_expiry_ns += due * period;
			a->timer_start_ns = a->timer_expiry_ns - period;
			tick_backlog_add(&a->ticks, due, period);
		}
		if (a->lvt[LVT_TIMER] & LVT_MASKED)
			a->ticks.owed = 0;
		if (tick_backlog_ready(&a->ticks, timer_waiting(a))) {
			a->ticks.owed--;
			timer_fire(a);
		}
		return;
	}
	if (a->timer_expiry_ns > now)
		return;
	timer_fire(a);
	a->timer_expiry_ns = VTIME_NEVER;
}
