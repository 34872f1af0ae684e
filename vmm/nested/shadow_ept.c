#include "vmm/nested/shadow_ept.h"

#include <stddef.h>

#define PAGE_4K 0x1000ull

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

static int empty(struct shadow_ept *s)
{
	/* The CPU offers 2 MiB pages or not: the shadow maps 4 KiB only. */
	ept_destroy(&s->ept);
	return ept_init(&s->ept, false, false);
}

int shadow_ept_use(struct shadow_ept *s, uint64_t l1_eptp)
{
	if (s->built && s->l1_eptp == l1_eptp && s->ept.pml4)
		return 0;
	s->built = false;
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
	uint64_t old_hpa, old_perms;

	gpa2 &= ~(PAGE_4K - 1);
	if (s->ept.table_pages >= SHADOW_EPT_MAX_TABLES && empty(s))
		return -1;
	if (!ept_translate(&s->ept, gpa2, &old_hpa, &old_perms, NULL)) {
		if (old_hpa == hpa)
			return ept_set_page_perms(&s->ept, gpa2, perms);
		/* L1 moved the page without INVEPT: start again. */
		if (empty(s))
			return -1;
	}
	/* Not present (a leaf so left keeps no meaning): written afresh. */
	return ept_map_range(&s->ept, gpa2, hpa, PAGE_4K, perms);
}

#define REGION_SHIFT 21 /* a page table maps 2 MiB */
#define PAGE_SHIFT_4K 12
#define PT_INDEX_MASK 0x1ffull

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

void shadow_ept_free(struct shadow_ept *s)
{
	ept_destroy(&s->ept);
	s->built = false;
}
