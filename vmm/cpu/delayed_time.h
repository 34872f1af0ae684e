/* timer_mode delay_for_missed_ticks (vmm/dev/tick_backlog.h): a VM's time
 * stands still while one of its vCPUs could run but waits for the CPU and
 * none runs. The scheduler tells it when a vCPU takes and leaves its CPU;
 * in other modes these do nothing. */
#ifndef PGVISOR_CPU_DELAYED_TIME_H
#define PGVISOR_CPU_DELAYED_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vm/vcpu.h"

/* v's VMCS is current and it is about to run. `after_other_vm`: this CPU
 * last ran another VM's vCPU (or none), so the VM's time held since its
 * last slice ended is taken out of its time; otherwise the gap was the
 * hypervisor's own between slices, which counts as time passed, as an
 * exit's handling does. */
void delayed_time_vcpu_in(struct vcpu *v, uint64_t now_tsc, bool after_other_vm);
/* v left its CPU at now_tsc (0: now); `waiting`: its slice ran out while
 * it could still run. */
void delayed_time_vcpu_out(struct vcpu *v, uint64_t now_tsc, bool waiting);

#endif
