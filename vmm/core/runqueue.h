/* Per-CPU run queues: the vCPUs each host CPU schedules. A vCPU is placed
 * once, when its VM is created (vmm/core/placement.c decides where), and stays
 * on that CPU: its VMCS is only ever current there. */
#ifndef PGVISOR_RUNQUEUE_H
#define PGVISOR_RUNQUEUE_H

#include "vmm/vm/vm.h"

/* Allocates the queues of the online CPUs (panics without memory: at boot,
 * before any VM). */
void runqueue_init(void);
/* Puts v on a CPU of its VM's cpus set among usable (a bit per CPU; any
 * usable CPU when unpinned or when no CPU of the set is usable, which is
 * reported). Returns the CPU. */
unsigned runqueue_place(struct vcpu *v, uint32_t usable);
/* The online CPUs, a bit each. */
uint32_t runqueue_online_cpus(void);
/* Puts v on cpu's queue. */
void runqueue_add(struct vcpu *v, unsigned cpu);
/* The i-th vCPU on cpu's queue, NULL past the end. */
struct vcpu *runqueue_at(unsigned cpu, unsigned i);
unsigned runqueue_length(unsigned cpu);

#endif
