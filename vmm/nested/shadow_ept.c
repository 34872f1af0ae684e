#include "vmm/nested/shadow_ept.h"

#include <stddef.h>

#define PAGE_4K 0x1000ull
#define PAGE_2M 0x200000ull

enum shadow_ept_map shadow_ept_compose(const struct shadow_ept_ram *ram,
				       const struct nested_ept_walk *w, uint64_t access,
				       uint64_t *hpa, uint64_t *perms)
{
	uint64_t page = w->gpa1 & ~(PAGE_4K - 1);

	if (page < ram->size && ram->size - page >= PAGE_4K) {
		*hpa = ram->host + page;
		*perms = w->perms;
		return SHADOW_EPT_RAM;
	}
	if ((access & EPT_RWX) == EPT_READ && (w->perms & EPT_READ)) {
		*hpa = ram->ones_page;
		*perms = EPT_READ;
		return SHADOW_EPT_UNBACKED_READ;
	}
	return SHADOW_EPT_OUTSIDE;
}

bool shadow_ept_compose_2m(const struct shadow_ept_ram *ram, const struct nested_ept_walk *w,
			   uint64_t *hpa, uint64_t *perms)
{
	uint64_t block = w->gpa1 & ~(PAGE_2M - 1);

	/* L1's leaf maps the whole aligned 2 MiB around w->gpa2 to one
	 * contiguous block (SDM 29.3.2): it must lie within the RAM, and at
	 * a 2 MiB-aligned host address for a large shadow entry. */
	if (w->page_size < PAGE_2M || block >= ram->size || ram->size - block < PAGE_2M ||
	    ((ram->host + block) & (PAGE_2M - 1)))
		return false;
	*hpa = ram->host + block;
	*perms = w->perms;
	return true;
}

static int empty(struct shadow_ept *s)
{
	/* 2 MiB pages where the CPU offers them (shadow_ept_map_2m only). */
	ept_destroy(&s->ept);
	return ept_init(&s->ept, s->large, false);
}

int shadow_ept_use(struct shadow_ept *s, uint64_t l1_eptp, bool large_pages)
{
	if (s->built && s->l1_eptp == l1_eptp && s->ept.pml4 && s->large == large_pages)
		return 0;
	s->built = false;
	s->large = large_pages;
	if (empty(s))
		return -1;
	s->l1_eptp = l1_eptp;
	s->built = true;
	return 1;
}

void shadow_ept_invalidate(struct shadow_ept *s)
{
	s->built = false;
}

int shadow_ept_map(struct shadow_ept *s, uint64_t gpa2, uint64_t hpa, uint64_t perms)
{
	uint64_t old_hpa, old_perms, old_size;

	gpa2 &= ~(PAGE_4K - 1);
	if (s->ept.table_pages >= SHADOW_EPT_MAX_TABLES && empty(s))
		return -1;
	if (!ept_translate(&s->ept, gpa2, &old_hpa, &old_perms, &old_size)) {
		if (old_hpa == hpa && old_size == PAGE_4K)
			return ept_set_page_perms(&s->ept, gpa2, perms);
		/* L1 moved the page, or changed a large page's permissions,
		 * without INVEPT: start again. */
		if (empty(s))
			return -1;
	}
	/* Not present (a leaf so left keeps no meaning): written afresh. */
	return ept_map_range(&s->ept, gpa2, hpa, PAGE_4K, perms);
}

#define REGION_SHIFT 21 /* a page table maps 2 MiB */
#define PAGE_SHIFT_4K 12
#define PT_INDEX_MASK 0x1ffull

/* Whether a large page maps g (a 4 KiB page cannot go in beside it). */
static bool large_at(const struct shadow_ept *s, uint64_t g)
{
	uint64_t hpa, perms, size;

	return !ept_translate(&s->ept, g, &hpa, &perms, &size) && size != PAGE_4K;
}

int shadow_ept_map_new(struct shadow_ept *s, uint64_t gpa2, const uint64_t *hpa,
		       const uint64_t *perms, unsigned n)
{
	uint64_t *table = NULL, region = ~0ull;

	if (s->ept.table_pages >= SHADOW_EPT_MAX_TABLES && empty(s))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint64_t g = (gpa2 & ~(PAGE_4K - 1)) + i * PAGE_4K;
		if (!perms[i])
			continue;
		if (g >> REGION_SHIFT != region) {
			region = g >> REGION_SHIFT;
			table = ept_leaf_table(&s->ept, g);
		}
		if (!table && large_at(s, g) && empty(s))
			return -1; /* L1 split a large page without INVEPT */
		if (!table) {
			/* The region's first page: its tables made the usual way. */
			if (ept_map_range(&s->ept, g, hpa[i], PAGE_4K, perms[i]))
				return -1;
			table = ept_leaf_table(&s->ept, g);
			continue;
		}
		uint64_t *entry = &table[(g >> PAGE_SHIFT_4K) & PT_INDEX_MASK];
		if (!(*entry & EPT_RWX))
			*entry = hpa[i] | perms[i] | EPT_MEMTYPE_WB;
	}
	return 0;
}

int shadow_ept_map_2m(struct shadow_ept *s, uint64_t gpa2, uint64_t hpa, uint64_t perms)
{
	uint64_t base = gpa2 & ~(PAGE_2M - 1), old_hpa, old_perms;

	/* Only into a region the tables map nothing of: no page table to
	 * free, no 4 KiB entry left behind (a large leaf replaces a table
	 * only after INVEPT, SDM 29.4.3.3). */
	if (!s->ept.use_2mb || (hpa & (PAGE_2M - 1)) || ept_leaf_table(&s->ept, base))
		return 0;
	/* A large page there already: L1 changed its entry without INVEPT
	 * (the CPU found it wanting); start again, as shadow_ept_map does. */
	if ((!ept_translate(&s->ept, base, &old_hpa, &old_perms, NULL) ||
	     s->ept.table_pages >= SHADOW_EPT_MAX_TABLES) &&
	    empty(s))
		return -1;
	return ept_map_range(&s->ept, base, hpa, PAGE_2M, perms) ? -1 : 1;
}

void shadow_ept_free(struct shadow_ept *s)
{
	ept_destroy(&s->ept);
	s->built = false;
}
