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
};

static inline void virq_set(const struct virq *q, unsigned line, bool level)
{
	if (q->set)
		q->set(q->ctx, line, level);
}

static inline void virq_pulse(const struct virq *q, unsigned line)
{
	virq_set(q, line, true);
	virq_set(q, line, false);
}

#endif
