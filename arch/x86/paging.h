/* The hypervisor's own address space: an identity map of all RAM. */
#ifndef PGVISOR_PAGING_H
#define PGVISOR_PAGING_H

#include <stdint.h>

/* Maps [0, max(4 GiB, top)) 1:1 with the largest pages the CPU has and
 * switches to it. Returns 0, or -1 when page tables can't be allocated. */
int paging_init(uint64_t top);
/* Makes the MMIO range [base, base + len) reachable at its own address:
 * already so below the map's top (write-back pages there; the firmware's
 * MTRRs make MMIO uncached), else mapped with uncached 4 KiB pages (a
 * 64-bit BAR the firmware put high). 0, or -1 when the range lies beyond a
 * canonical identity address or no page table is left. Boot only: the
 * CPUs share these tables, and no other CPU may be walking a change. */
int paging_map_mmio(uint64_t base, uint64_t len);

#endif
