/* 4-level paging (SDM Vol. 3 4.5). The boot stub's map covers only 4 GiB;
 * this one covers all RAM the boot loader reported, using 1 GiB pages where
 * CPUID.80000001H:EDX.Page1GB says they exist, else 2 MiB pages. */
#include "arch/x86/paging.h"

#include <stdbool.h>

#include "arch/x86/cpu.h"
#include "arch/x86/page_alloc.h"

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITE (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4) /* with PWT: uncached whatever the PAT says (SDM 11.12.3) */
#define PTE_LARGE (1ull << 7)
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define LEVEL_BITS 9
#define PAGE_SHIFT 12
#define VA_BITS 47 /* an identity address must be canonical: below 2^47 */
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

static bool identity_mapped(uint64_t base, uint64_t len)
{
	return base < mapped_top && len <= mapped_top - base;
}

/* The table entry e points to, made (empty) when e is not present; NULL
 * when e maps a large page or no page is left. */
static uint64_t *next_table(uint64_t *e)
{
	if (!(*e & PTE_PRESENT)) {
		uint64_t *t = page_alloc(1);
		if (!t)
			return NULL;
		*e = (uint64_t)t | PTE_PRESENT | PTE_WRITE;
	}
	if (*e & PTE_LARGE)
		return NULL;
	return (uint64_t *)(*e & PTE_ADDR_MASK);
}

static unsigned index_at(uint64_t a, unsigned level)
{
	return (unsigned)(a >> (PAGE_SHIFT + LEVEL_BITS * level)) & (ENTRIES - 1);
}

/* Only entries that were not present change: nothing to flush from the
 * TLBs, which hold present translations only (SDM 4.10.2.3). */
int paging_map_mmio(uint64_t base, uint64_t len)
{
	uint64_t end = base + len;

	if (identity_mapped(base, len))
		return 0;
	if (end < base || end > 1ull << VA_BITS)
		return -1;
	for (uint64_t a = base & ~(PAGE_SIZE - 1); a < end; a += PAGE_SIZE) {
		if (identity_mapped(a, PAGE_SIZE))
			continue;
		uint64_t *t = (uint64_t *)(read_cr3() & PTE_ADDR_MASK);
		for (unsigned level = 3; level > 0 && t; level--)
			t = next_table(&t[index_at(a, level)]);
		if (!t)
			return -1;
		t[index_at(a, 0)] = a | PTE_PRESENT | PTE_WRITE | PTE_PCD | PTE_PWT;
	}
	return 0;
}
