/* 4-level paging (SDM Vol. 3 4.5). The boot stub's map covers only 4 GiB;
 * this one covers all RAM the boot loader reported, using 1 GiB pages where
 * CPUID.80000001H:EDX.Page1GB says they exist, else 2 MiB pages. */
#include "arch/x86/paging.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/page_alloc.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE (1ull << 1)
#define PTE_LARGE (1ull << 7)
#define ENTRIES 512
#define GIB (1ull << 30)
#define MIB2 (2ull << 20)
#define FOUR_GIB (4ull << 30)
#define MAX_MAPPED (512 * GIB) /* one PML4 entry */

static uint64_t mapped_top = FOUR_GIB; /* what the boot stub maps */

int paging_init(uint64_t top)
{
	bool gb_pages = cpuid(0x80000001, 0).edx & CPUID_80000001_EDX_PDPE1GB;
	uint64_t *pml4 = page_alloc(1), *pdpt = page_alloc(1);

	if (top < FOUR_GIB)
		top = FOUR_GIB;
	if (top > MAX_MAPPED)
		top = MAX_MAPPED;
	if (!pml4 || !pdpt)
		return -1;
	pml4[0] = (uint64_t)pdpt | PTE_PRESENT | PTE_WRITE;
	for (uint64_t g = 0; g < (top + GIB - 1) / GIB; g++) {
		if (gb_pages) {
			pdpt[g] = g * GIB | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
			continue;
		}
		uint64_t *pd = page_alloc(1);
		if (!pd)
			return -1;
		for (int i = 0; i < ENTRIES; i++)
			pd[i] = (g * GIB + (uint64_t)i * MIB2) | PTE_PRESENT | PTE_WRITE |
				PTE_LARGE;
		pdpt[g] = (uint64_t)pd | PTE_PRESENT | PTE_WRITE;
	}
	write_cr3((uint64_t)pml4);
	mapped_top = (top + GIB - 1) / GIB * GIB;
	return 0;
}

bool paging_identity_mapped(uint64_t base, uint64_t len)
{
	return base < mapped_top && len <= mapped_top - base;
}
