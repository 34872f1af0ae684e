/* Extended page tables (SDM Vol. 3 29.3): the map from a VM's
 * guest-physical addresses to host-physical memory. Whatever is not mapped
 * here does not exist for the guest: an access exits with an EPT
 * violation. */
#ifndef PGVISOR_EPT_H
#define PGVISOR_EPT_H

#include <stdbool.h>
#include <stdint.h>

#define EPT_READ (1ull << 0)
#define EPT_WRITE (1ull << 1)
#define EPT_EXEC (1ull << 2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_WB (6ull << 3)
#define EPT_LARGE_PAGE (1ull << 7)
#define EPT_ACCESSED (1ull << 8)
#define EPT_DIRTY (1ull << 9)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

/* EPT pointer bits (SDM 25.6.11) */
#define EPTP_MEMTYPE_WB 6ull
#define EPTP_WALK_LENGTH_4 (3ull << 3)
#define EPTP_ACCESSED_DIRTY (1ull << 6)

struct ept {
	uint64_t *pml4;
	bool use_2mb, use_1gb;
	unsigned table_pages; /* paging-structure pages allocated */
};

/* Allocates an empty PML4. use_2mb/use_1gb say which large pages the CPU
 * offers. Returns 0 or -1 (out of memory). */
int ept_init(struct ept *e, bool use_2mb, bool use_1gb);
/* Maps [gpa, gpa + size) to [hpa, hpa + size) with perms (EPT_READ...),
 * write-back, using the largest pages alignment allows. All three must be
 * 4 KiB aligned and the range not yet mapped. Returns 0 or -1. */
int ept_map_range(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms);
/* Sets the permissions of the 4 KiB page mapped at gpa (0: not present,
 * an access then exits with an EPT violation; its address is kept for a
 * later call). The caller invalidates cached translations (INVEPT).
 * Returns 0, or -1 when gpa has no 4 KiB leaf or perms is malformed. */
int ept_set_page_perms(struct ept *e, uint64_t gpa, uint64_t perms);
/* Walks the tables: the host address for gpa and its permissions, or -1
 * when unmapped. page_size receives the size of the leaf mapping. */
int ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *perms,
		  uint64_t *page_size);
uint64_t ept_pointer(const struct ept *e, bool accessed_dirty);
/* Splits every large page mapping a part of [gpa, gpa + size) into 4 KiB
 * leaves with the same translation, permissions and memory type, so that
 * each page can be tracked alone (dirty logging). The caller invalidates
 * cached translations (INVEPT: the page size changed, SDM 29.4.3.3).
 * Returns 0, or -1 when out of memory (what was split stays split). */
int ept_split(struct ept *e, uint64_t gpa, uint64_t size);
/* The page table (512 4 KiB leaves) that maps the 2 MiB region holding
 * gpa, or NULL when the region has none (unmapped or a large page). */
uint64_t *ept_leaf_table(const struct ept *e, uint64_t gpa);
/* The page-directory entry that references that page table (its
 * accessed flag: the CPU walked through it), or NULL as above. */
uint64_t *ept_leaf_pde(const struct ept *e, uint64_t gpa);
/* Frees every paging-structure page (not the memory they map). */
void ept_destroy(struct ept *e);

#endif
