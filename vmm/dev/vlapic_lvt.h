/* What vlapic.c (the registers) and vlapic_timer.c (the timer: one-shot,
 * periodic with the VM's timer_mode catch-up, TSC-deadline; SDM Vol. 3
 * 11.5.4) share: the local vector table's layout and the timer's hooks for
 * the register code. vlapic.h is the interface for everyone else. */
#ifndef VMM_DEV_VLAPIC_LVT_H
#define VMM_DEV_VLAPIC_LVT_H

#include <stdint.h>

struct vlapic;

#define LVT_CMCI 0
#define LVT_TIMER 1
#define LVT_LINT0 4
#define LVT_COUNT 7
#define LVT_MASKED (1u << 16)
#define LVT_VECTOR_MASK 0xffu
#define LVT_MODE_SHIFT 8
#define LVT_MODE_MASK 7u
#define LVT_TIMER_MODE_SHIFT 17
#define LVT_TIMER_MODE_MASK 3u
#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_TSC_DEADLINE 2

/* The LVT timer's mode (TIMER_*). */
unsigned vlapic_timer_mode(const struct vlapic *a);
/* A new initial count (or mode) starts counting now. */
void vlapic_timer_start(struct vlapic *a);
/* The current-count register as the guest reads it now. */
uint32_t vlapic_timer_count(const struct vlapic *a);

#endif
