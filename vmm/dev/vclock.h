/* Virtual time for device models. A device reads the VM's clock through a
 * struct vclock (host unit tests pass a fake one) and exposes its next
 * timer event through a struct vtimer, which the vCPU loop polls: before a
 * VM entry the preemption timer is armed for the earliest event, and after
 * an exit every due timer is updated (which may raise interrupts). All
 * times are nanoseconds of guest time since the VM started. */
#ifndef PGVISOR_VCLOCK_H
#define PGVISOR_VCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define VTIME_NEVER UINT64_MAX

struct vclock {
	uint64_t (*now_ns)(void *ctx);
	void *ctx;
};

static inline uint64_t vclock_now(const struct vclock *c)
{
	return c->now_ns(c->ctx);
}

struct vtimer {
	/* The time of the device's next event, or VTIME_NEVER. */
	uint64_t (*next_event)(void *dev);
	/* Brings the device up to now: fires every event due by then. */
	void (*update)(void *dev, uint64_t now);
	void *dev;
	/* The VM looks at the device at most this often (0: no limit). A
	 * guest that programs a timer faster than that gets its events
	 * coalesced, as interrupts pending in an IRR are, instead of keeping
	 * the CPU in VM exits. */
	uint64_t min_interval_ns;
	/* Optional: the device owes ticks it holds back until the guest
	 * accepts the one it was given (vmm/dev/tick_backlog.h); the VM then
	 * looks at it again whenever it injects an interrupt. */
	bool (*held)(void *dev);
};

#endif
