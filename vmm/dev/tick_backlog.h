/* Periodic timer ticks that came due while the guest could not take them:
 * its vCPU was off the CPU (another VM's slice, the operator's pause) or
 * it had not yet accepted the previous tick. What happens to them is the
 * VM's `timer_mode`, named after Xen's (xl.cfg(5), HVM_PARAM_TIMER_MODE;
 * xen/arch/x86/hvm/vpt.c):
 *
 * - no_delay_for_missed_ticks (the default, as in xl): guest time keeps
 *   running with the host's and every missed tick is still delivered, one
 *   each time the guest has accepted the previous one (the interrupt left
 *   the IRR: PIC INTA, local APIC acknowledgement, RTC register C read),
 *   as fast as the guest takes them, until it has caught up. A guest that
 *   counts ticks then agrees with its TSC over any span.
 * - no_missed_ticks_pending: missed ticks are dropped; at most one is
 *   pending (they coalesce as edges do in an IRR bit). A guest that counts
 *   ticks falls behind its TSC by the time it was descheduled.
 *
 * - one_missed_tick_pending: accepted as the same as the one above: with
 *   pgvisor's timers, looked at when the vCPU runs again, the missed ticks
 *   of no_missed_ticks_pending already come as one late tick at once, which
 *   is what Xen's one_missed_tick_pending promises.
 *
 * - delay_for_missed_ticks (Xen's hypervisor default): the VM's time
 *   stands still while a vCPU that could run waits for the CPU (another
 *   VM's slice) and none of its vCPUs runs: its devices' clocks, hence
 *   every periodic timer, and its TSC (the vCPUs' TSC offsets drop by the
 *   span, so kvm-clock's record stays right) all resume where they
 *   stopped (vmm/cpu/delayed_time.c). No tick comes due while the VM
 *   waits, so none is owed for it; ticks the guest missed with
 *   interrupts off are caught up as above. Its clocks agree with each
 *   other and fall behind the host's by the time it waited. Xen instead
 *   steps a vCPU's time forward with each late tick until it has caught
 *   up; pgvisor does not: the guest's time stays behind, and a guest that
 *   must keep wall-clock time (NTP, the RTC it reads being its own) sets
 *   it itself. Time spent halted or switching to another vCPU of the same
 *   VM is not held (an operator's pause is, when it finds the VM waiting).

 * The backlog is capped at one second of ticks: a guest that keeps
 * interrupts off, or a VM paused for minutes, would otherwise come back
 * to a storm of thousands of interrupts (each a VM exit) that no guest
 * needs to count time right — a longer gap is one a guest must fix from
 * its wall clock anyway, as after a suspend. */
#ifndef PGVISOR_DEV_TICK_BACKLOG_H
#define PGVISOR_DEV_TICK_BACKLOG_H

#include <stdbool.h>
#include <stdint.h>

enum timer_mode {
	TIMER_MODE_NO_DELAY_FOR_MISSED_TICKS,
	TIMER_MODE_NO_MISSED_TICKS_PENDING,
	TIMER_MODE_DELAY_FOR_MISSED_TICKS, /* its ticks as the first; time held */
};

#define TICK_BACKLOG_NS_PER_S 1000000000ull

struct tick_backlog {
	enum timer_mode mode;
	uint32_t owed; /* ticks due and not yet raised */
};

/* The largest backlog for ticks period_ns apart: one second's worth. */
static inline uint32_t tick_backlog_cap(uint64_t period_ns)
{
	uint64_t cap = period_ns ? TICK_BACKLOG_NS_PER_S / period_ns : 1;

	return cap < 1 ? 1 : cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
}

/* `ticks` more came due. */
static inline void tick_backlog_add(struct tick_backlog *b, uint64_t ticks, uint64_t period_ns)
{
	uint64_t owed = b->owed + ticks;
	uint32_t cap =
		b->mode == TIMER_MODE_NO_MISSED_TICKS_PENDING ? 1 : tick_backlog_cap(period_ns);

	b->owed = owed > cap ? cap : (uint32_t)owed;
}

/* Whether the device may raise its next tick now: one is owed and, in the
 * catch-up mode, the guest has accepted the last one (`waiting`: it still
 * sits in an IRR). Without catch-up a tick is raised at once and merges
 * with one still waiting. */
static inline bool tick_backlog_ready(const struct tick_backlog *b, bool waiting)
{
	return b->owed && (b->mode == TIMER_MODE_NO_MISSED_TICKS_PENDING || !waiting);
}

/* Owed ticks held back until the guest accepts the one it has: the VM
 * must look at the device again when an interrupt is injected. */
static inline bool tick_backlog_held(const struct tick_backlog *b, bool waiting)
{
	return b->owed && !tick_backlog_ready(b, waiting);
}

#endif
