/* The vCPU scheduler: round-robin over runnable vCPUs on this CPU, each
 * for a time slice measured by the VMX-preemption timer. */
#ifndef PGVISOR_SCHED_H
#define PGVISOR_SCHED_H

#include <stdint.h>

#include "vmm/vcpu.h"

#define SCHED_DEFAULT_SLICE_US 10000

void sched_init(uint64_t slice_us);
/* Runs VMs until none can run any more. */
void sched_run(void);

/* How often this CPU switched between vCPUs and the TSC ticks it spent
 * doing so, from the exit that ended a slice to the entry of the next
 * vCPU (VMPTRLD, FPU state switch, scheduling decision). */
struct sched_stats {
	uint64_t switches;
	uint64_t switch_ticks;
};
const struct sched_stats *sched_get_stats(void);

#endif
