#ifndef PGVISOR_SUMMARY_H
#define PGVISOR_SUMMARY_H

#include <stdbool.h>

/* Prints how every VM ended and its exit counts by reason, then the
 * result line scripts/run judges a run by. Returns true when every VM
 * succeeded. */
bool summary_print(void);

struct vm;
/* vm's exit profile (all its vCPUs): counts, the guest/hypervisor time
 * split, hypervisor ticks by reason, the ports and MSRs that exit most. */
void summary_print_profile(const struct vm *vm);

#endif
