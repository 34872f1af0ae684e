/* The hypervisor's own address space: an identity map of all RAM. */
#ifndef PGVISOR_PAGING_H
#define PGVISOR_PAGING_H

#include <stdint.h>

/* Maps [0, max(4 GiB, top)) 1:1 with the largest pages the CPU has and
 * switches to it. Returns 0, or -1 when page tables can't be allocated. */
int paging_init(uint64_t top);
/* The end of that map: a device's registers below it are reachable at
 * their physical address (0 before paging_init). */
uint64_t paging_mapped_top(void);

#endif
