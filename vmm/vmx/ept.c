#include "vmm/vmx/ept.h"

#include <stddef.h>

#include "arch/x86/page_alloc.h"

#define EPT_ENTRIES 512
#define EPT_LEVELS 4
#define PAGE_4K (1ull << 12)
#define PAGE_2M (1ull << 21)
#define PAGE_1G (1ull << 30)
#define GPA_LIMIT (1ull << 48) /* 4-level EPT covers 48 bits */
#define EPT_TABLE_PERMS EPT_RWX

static unsigned level_shift(int level) /* level 3 = PML4 ... 0 = PT */
{
	return 12 + 9 * (unsigned)level;
}

static unsigned index_at(uint64_t gpa, int level)
{
	return (gpa >> level_shift(level)) & (EPT_ENTRIES - 1);
}

static bool is_present(uint64_t entry)
{
	return entry & EPT_RWX;
}

int ept_init(struct ept *e, bool use_2mb, bool use_1gb)
{
	e->use_2mb = use_2mb;
	e->use_1gb = use_1gb;
	e->pml4 = page_alloc(1);
	e->table_pages = e->pml4 ? 1 : 0;
	return e->pml4 ? 0 : -1;
}

/* The table at `level` below `entry`, allocated when absent. */
static uint64_t *next_table(struct ept *e, uint64_t *entry)
{
	if (is_present(*entry))
		return (*entry & EPT_LARGE_PAGE) ? NULL
						 : (uint64_t *)(uintptr_t)(*entry & EPT_ADDR_MASK);
	uint64_t *t = page_alloc(1);
	if (!t)
		return NULL;
	e->table_pages++;
	*entry = (uint64_t)(uintptr_t)t | EPT_TABLE_PERMS;
	return t;
}

static int map_one(struct ept *e, uint64_t gpa, uint64_t hpa, int leaf_level, uint64_t perms)
{
	uint64_t *table = e->pml4;

	for (int level = EPT_LEVELS - 1; level > leaf_level; level--) {
		table = next_table(e, &table[index_at(gpa, level)]);
		if (!table)
			return -1; /* out of memory, or a large page already there */
	}
	uint64_t *entry = &table[index_at(gpa, leaf_level)];
	if (is_present(*entry))
		return -1;
	*entry = hpa | perms | EPT_MEMTYPE_WB | (leaf_level ? EPT_LARGE_PAGE : 0);
	return 0;
}

int ept_map_range(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms)
{
	if ((gpa | hpa | size) & (PAGE_4K - 1) || gpa + size < gpa || gpa + size > GPA_LIMIT ||
	    !(perms & EPT_RWX) || (perms & ~EPT_RWX) ||
	    ((perms & EPT_WRITE) && !(perms & EPT_READ))) /* misconfiguration, SDM 29.3.3.1 */
		return -1;
	while (size) {
		int level = 0;
		uint64_t step = PAGE_4K;
		if (e->use_1gb && !((gpa | hpa) & (PAGE_1G - 1)) && size >= PAGE_1G) {
			level = 2;
			step = PAGE_1G;
		} else if (e->use_2mb && !((gpa | hpa) & (PAGE_2M - 1)) && size >= PAGE_2M) {
			level = 1;
			step = PAGE_2M;
		}
		if (map_one(e, gpa, hpa, level, perms))
			return -1;
		gpa += step;
		hpa += step;
		size -= step;
	}
	return 0;
}

int ept_set_page_perms(struct ept *e, uint64_t gpa, uint64_t perms)
{
	uint64_t *table = e->pml4;

	if ((gpa & (PAGE_4K - 1)) || gpa >= GPA_LIMIT || (perms & ~EPT_RWX) ||
	    ((perms & EPT_WRITE) && !(perms & EPT_READ)))
		return -1;
	for (int level = EPT_LEVELS - 1; level > 0; level--) {
		uint64_t entry = table[index_at(gpa, level)];
		if (!is_present(entry) || (entry & EPT_LARGE_PAGE))
			return -1;
		table = (uint64_t *)(uintptr_t)(entry & EPT_ADDR_MASK);
	}
	uint64_t *leaf = &table[index_at(gpa, 0)];
	if (!(*leaf & EPT_ADDR_MASK))
		return -1; /* never mapped */
	*leaf = (*leaf & ~EPT_RWX) | perms;
	return 0;
}

int ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *perms,
		  uint64_t *page_size)
{
	const uint64_t *table = e->pml4;

	if (gpa >= GPA_LIMIT)
		return -1;
	for (int level = EPT_LEVELS - 1; level >= 0; level--) {
		uint64_t entry = table[index_at(gpa, level)];
		if (!is_present(entry))
			return -1;
		if (level == 0 || (entry & EPT_LARGE_PAGE)) {
			uint64_t size = 1ull << level_shift(level);
			*hpa = (entry & EPT_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
			*perms = entry & EPT_RWX;
			if (page_size)
				*page_size = size;
			return 0;
		}
		table = (const uint64_t *)(uintptr_t)(entry & EPT_ADDR_MASK);
	}
	return -1;
}

uint64_t ept_pointer(const struct ept *e, bool accessed_dirty)
{
	return (uint64_t)(uintptr_t)e->pml4 | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4 |
	       (accessed_dirty ? EPTP_ACCESSED_DIRTY : 0);
}

/* Replaces the large leaf *entry at level by a table of 512 leaves one
 * level down covering the same memory. */
static int split_entry(struct ept *e, uint64_t *entry, int level)
{
	uint64_t *t = page_alloc(1);
	uint64_t step = 1ull << level_shift(level - 1);
	uint64_t base = *entry & EPT_ADDR_MASK & ~((1ull << level_shift(level)) - 1);
	uint64_t flags = *entry & ~EPT_ADDR_MASK & ~EPT_LARGE_PAGE;

	if (!t)
		return -1;
	e->table_pages++;
	for (uint64_t i = 0; i < EPT_ENTRIES; i++)
		t[i] = (base + i * step) | flags | (level > 1 ? EPT_LARGE_PAGE : 0);
	*entry = (uint64_t)(uintptr_t)t | EPT_TABLE_PERMS;
	return 0;
}

int ept_split(struct ept *e, uint64_t gpa, uint64_t size)
{
	uint64_t end = gpa + size;

	if (end < gpa || end > GPA_LIMIT)
		return -1;
	for (gpa &= ~(PAGE_2M - 1); gpa < end; gpa += PAGE_2M) {
		uint64_t *table = e->pml4;
		for (int level = EPT_LEVELS - 1; level > 0 && table; level--) {
			uint64_t *entry = &table[index_at(gpa, level)];
			if (!is_present(*entry))
				break;
			if ((*entry & EPT_LARGE_PAGE) && split_entry(e, entry, level))
				return -1;
			table = (uint64_t *)(uintptr_t)(*entry & EPT_ADDR_MASK);
		}
	}
	return 0;
}

uint64_t *ept_leaf_pde(const struct ept *e, uint64_t gpa)
{
	const uint64_t *table = e->pml4;

	if (gpa >= GPA_LIMIT)
		return NULL;
	for (int level = EPT_LEVELS - 1; level > 1; level--) {
		uint64_t entry = table[index_at(gpa, level)];
		if (!is_present(entry) || (entry & EPT_LARGE_PAGE))
			return NULL;
		table = (const uint64_t *)(uintptr_t)(entry & EPT_ADDR_MASK);
	}
	uint64_t *pde = (uint64_t *)(uintptr_t)&table[index_at(gpa, 1)];
	return is_present(*pde) && !(*pde & EPT_LARGE_PAGE) ? pde : NULL;
}

uint64_t *ept_leaf_table(const struct ept *e, uint64_t gpa)
{
	const uint64_t *pde = ept_leaf_pde(e, gpa);

	return pde ? (uint64_t *)(uintptr_t)(*pde & EPT_ADDR_MASK) : NULL;
}

static void free_table(uint64_t *table, int level)
{
	if (level > 0) {
		for (int i = 0; i < EPT_ENTRIES; i++)
			if (is_present(table[i]) && !(table[i] & EPT_LARGE_PAGE))
				free_table((uint64_t *)(uintptr_t)(table[i] & EPT_ADDR_MASK),
					   level - 1);
	}
	page_free(table, 1);
}

void ept_destroy(struct ept *e)
{
	if (e->pml4)
		free_table(e->pml4, EPT_LEVELS - 1);
	e->pml4 = NULL;
	e->table_pages = 0;
}
