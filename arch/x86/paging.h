/* The hypervisor's own address space: an identity map of all RAM. */
#ifndef PGVISOR_PAGING_H
#define PGVISOR_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* Maps [0, max(4 GiB, top)) 1:1 with the largest pages the CPU has and
 * switches to it. Returns 0, or -1 when page tables can't be allocated. */
int paging_init(uint64_t top);
/* Whether [base, base + len) lies in that map: a device's MMIO BAR above it
 * has no address pgvisor can reach, and its driver refuses the device. The
 * map's pages are write-back; the firmware's MTRRs make MMIO uncached. */
bool paging_identity_mapped(uint64_t base, uint64_t len);

#endif
