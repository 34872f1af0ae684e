/* Where a vCPU runs: a CPU of its cpus = "..." set (xl's hard affinity)
 * that is online, the least loaded of them; an unpinned vCPU may go to any
 * online CPU. */
#ifndef PGVISOR_PLACEMENT_H
#define PGVISOR_PLACEMENT_H

#include <stdint.h>

/* allowed, online: bit per CPU (allowed 0 = any). load[i]: vCPUs CPU i
 * already runs. Ties go to the lowest number. Returns the CPU, or -1 when
 * no allowed CPU is online. */
int placement_pick(uint32_t allowed, uint32_t online, const unsigned *load, unsigned ncpus);

#endif
