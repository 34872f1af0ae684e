/* How a virtual device raises an interrupt: it drives one of the VM's
 * interrupt lines (ISA IRQ 0-15, I/O APIC pins up to 23). The VM routes a
 * line to its PIC and I/O APIC as a PC board does. level = true asserts
 * the line; an edge-triggered device asserts then deasserts. */
#ifndef PGVISOR_VIRQ_H
#define PGVISOR_VIRQ_H

#include <stdbool.h>

struct virq {
	void (*set)(void *ctx, unsigned line, bool level);
	void *ctx;
	/* Whether the line's last edge still waits in an interrupt
	 * controller's IRR where the guest has it unmasked (no CPU has taken
	 * it yet). NULL: never. Timers with missed ticks ask it before they
	 * raise the next (vmm/dev/tick_backlog.h). */
	bool (*waiting)(void *ctx, unsigned line);
	/* Whether no CPU can receive the line now: masked at every
	 * controller it reaches. NULL: never. Ticks owed for it are dropped. */
	bool (*masked)(void *ctx, unsigned line);
};

static inline void virq_set(const struct virq *q, unsigned line, bool level)
{
	if (q->set)
		q->set(q->ctx, line, level);
}

static inline bool virq_waiting(const struct virq *q, unsigned line)
{
	return q->waiting && q->waiting(q->ctx, line);
}

static inline bool virq_masked(const struct virq *q, unsigned line)
{
	return q->masked && q->masked(q->ctx, line);
}

static inline void virq_pulse(const struct virq *q, unsigned line)
{
	virq_set(q, line, true);
	virq_set(q, line, false);
}

#endif
