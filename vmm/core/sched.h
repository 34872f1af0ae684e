/* The vCPU scheduler: every CPU runs sched_run over its own run queue
 * (vmm/core/runqueue.c), round-robin over its runnable vCPUs, each for a time
 * slice measured by the VMX-preemption timer. */
#ifndef PGVISOR_SCHED_H
#define PGVISOR_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vm/vcpu.h"

#define SCHED_DEFAULT_SLICE_US 10000

void sched_init(uint64_t slice_us);
/* Runs this CPU's vCPUs until none of their VMs can run any more. */
void sched_run(void);
/* Whether cpu is still in sched_run (it may touch its VMs). */
bool sched_cpu_active(unsigned cpu);

/* How often the CPUs (all of them together) switched between vCPUs and the TSC ticks it spent
 * doing so, from the exit that ended a slice to the entry of the next
 * vCPU (VMPTRLD, FPU state switch, scheduling decision). */
struct sched_stats {
	uint64_t switches;
	uint64_t switch_ticks;
};
const struct sched_stats *sched_get_stats(void);

#endif
