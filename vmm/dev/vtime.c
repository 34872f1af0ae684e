#include "vmm/dev/vtime.h"

#include "arch/x86/cpu.h"
#include "arch/x86/muldiv.h"

#define NS_PER_S 1000000000ull

static uint64_t clock_now(void *ctx)
{
	return vtime_now_ns(ctx);
}

void vtime_init(struct vtime *t, uint64_t now_tsc, uint64_t tsc_hz)
{
	t->start_tsc = now_tsc;
	t->tsc_hz = tsc_hz;
	t->held_tsc = 0;
	t->held_since_tsc = 0;
	t->clock = (struct vclock){ clock_now, t };
	t->ntimers = 0;
	t->next_deadline_tsc = UINT64_MAX;
	t->poked = 0;
	t->held = 0;
}

uint64_t vtime_now_ns(struct vtime *t)
{
	uint64_t since = __atomic_load_n(&t->held_since_tsc, __ATOMIC_ACQUIRE);
	uint64_t now = since ? since : rdtsc();
	/* Signed: a VM from a machine up longer than this one has its
	 * origin before TSC 0 here, wrapped (vm_restore's set_clock). */
	int64_t since_origin = (int64_t)(now - vtime_origin_tsc(t));

	return since_origin > 0 ? mul_div_u64((uint64_t)since_origin, NS_PER_S, t->tsc_hz) : 0;
}

void vtime_hold(struct vtime *t, uint64_t now_tsc)
{
	if (!t->held_since_tsc)
		__atomic_store_n(&t->held_since_tsc, now_tsc ? now_tsc : 1, __ATOMIC_RELEASE);
}

uint64_t vtime_release(struct vtime *t, uint64_t now_tsc, bool count)
{
	uint64_t since = t->held_since_tsc, held = 0;

	if (!since)
		return 0;
	if (count && now_tsc > since) {
		held = now_tsc - since;
		t->held_tsc += held;
	}
	__atomic_store_n(&t->held_since_tsc, 0, __ATOMIC_RELEASE);
	/* Every deadline in host TSC moved by what was held. */
	vtime_reschedule(t);
	return held;
}

uint64_t vtime_ns_to_tsc(const struct vtime *t, uint64_t ns)
{
	uint64_t ticks = mul_div_u64(ns, t->tsc_hz, NS_PER_S);

	/* Round up: a deadline must never fire before its time. */
	if (mul_div_u64(ticks, NS_PER_S, t->tsc_hz) < ns)
		ticks++;
	uint64_t origin = vtime_origin_tsc(t), tsc = origin + ticks;
	/* An origin before TSC 0 (wrapped): a time before TSC 0 is past. */
	if ((int64_t)origin < 0 && (int64_t)tsc < 0)
		return 0;
	return tsc;
}

int vtime_add_timer(struct vtime *t, struct vtimer timer)
{
	if (t->ntimers == VTIME_MAX_TIMERS)
		return -1;
	t->last_update_ns[t->ntimers] = 0;
	t->timers[t->ntimers++] = timer;
	vtime_reschedule(t);
	return 0;
}

void vtime_reschedule(struct vtime *t)
{
	uint64_t next = VTIME_NEVER;
	unsigned held = 0;

	for (unsigned i = 0; i < t->ntimers; i++) {
		if (t->timers[i].held && t->timers[i].held(t->timers[i].dev))
			held++;
		uint64_t e = t->timers[i].next_event(t->timers[i].dev);
		uint64_t earliest = t->last_update_ns[i] + t->timers[i].min_interval_ns;
		if (e != VTIME_NEVER && e < earliest)
			e = earliest;
		if (e < next)
			next = e;
	}
	t->held = held;
	__atomic_store_n(&t->next_deadline_tsc,
			 next == VTIME_NEVER ? UINT64_MAX : vtime_ns_to_tsc(t, next),
			 __ATOMIC_SEQ_CST);
	/* A poke from another CPU may have come after the timers were read:
	 * then the deadline it set must stand. Either this load sees the
	 * poke, or the poke's own store of 0 comes after the store above. */
	if (__atomic_load_n(&t->poked, __ATOMIC_SEQ_CST))
		__atomic_store_n(&t->next_deadline_tsc, 0, __ATOMIC_SEQ_CST);
}

void vtime_poke(struct vtime *t)
{
	__atomic_store_n(&t->poked, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&t->next_deadline_tsc, 0, __ATOMIC_SEQ_CST);
}

void vtime_update(struct vtime *t)
{
	uint64_t now = vtime_now_ns(t);

	/* Cleared before the timers are read: a poke after this is seen by
	 * vtime_reschedule below. */
	__atomic_store_n(&t->poked, 0, __ATOMIC_SEQ_CST);

	for (unsigned i = 0; i < t->ntimers; i++) {
		if (t->timers[i].next_event(t->timers[i].dev) > now ||
		    now < t->last_update_ns[i] + t->timers[i].min_interval_ns)
			continue;
		t->timers[i].update(t->timers[i].dev, now);
		t->last_update_ns[i] = now;
	}
	vtime_reschedule(t);
}
