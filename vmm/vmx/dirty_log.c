#include "vmm/vmx/dirty_log.h"

#include <stddef.h>

#include "arch/x86/page_alloc.h"

#define LEAF_PAGES 512 /* 4 KiB leaves of one page table: 2 MiB */
#define BITMAP_WORD_BYTES 8
#define SCAN_GROUP 8 /* leaves tested at once by the A/D scan */

const char *dirty_mode_name(enum dirty_mode mode)
{
	switch (mode) {
	case DIRTY_WP:
		return "EPT write-protection";
	case DIRTY_AD:
		return "EPT A/D flags";
	case DIRTY_PML:
		return "PML";
	case DIRTY_OFF:
		break;
	}
	return "off";
}

static size_t bitmap_pages(uint64_t words)
{
	return (words * BITMAP_WORD_BYTES + PAGE_SIZE - 1) / PAGE_SIZE;
}

int dirty_log_init(struct dirty_log *d, enum dirty_mode mode, uint64_t pages)
{
	uint64_t words = (pages + DIRTY_WORD_BITS - 1) / DIRTY_WORD_BITS;

	*d = (struct dirty_log){ .mode = mode, .pages = pages, .words = words };
	d->bitmap = words ? page_alloc(bitmap_pages(words)) : NULL;
	if (!d->bitmap) {
		d->mode = DIRTY_OFF;
		return -1;
	}
	return 0;
}

void dirty_log_free(struct dirty_log *d)
{
	if (d->bitmap)
		page_free(d->bitmap, bitmap_pages(d->words));
	*d = (struct dirty_log){ .mode = DIRTY_OFF };
}

uint64_t dirty_log_take(struct dirty_log *d, uint64_t *out)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < d->words; i++) {
		uint64_t w = d->bitmap[i];
		if (!w)
			continue;
		n += (uint64_t)__builtin_popcountll(w);
		out[i] |= w;
		d->bitmap[i] = 0;
	}
	return n;
}

/* The leaf of frame gfn, or NULL when it has no 4 KiB leaf. */
static uint64_t *leaf(struct ept *e, uint64_t gfn)
{
	uint64_t *t = ept_leaf_table(e, gfn << DIRTY_PAGE_SHIFT);

	return t ? &t[gfn % LEAF_PAGES] : NULL;
}

void dirty_ept_write_perm(struct ept *e, uint64_t pages, const uint64_t *bitmap, bool on)
{
	for (uint64_t base = 0; base < pages; base += LEAF_PAGES) {
		/* Whole words of the bitmap at a time: a clean 64-frame run
		 * costs one test. */
		if (bitmap) {
			bool any = false;
			for (uint64_t w = base / DIRTY_WORD_BITS;
			     w < (base + LEAF_PAGES) / DIRTY_WORD_BITS &&
			     w * DIRTY_WORD_BITS < pages;
			     w++)
				any |= bitmap[w] != 0;
			if (!any)
				continue;
		}
		uint64_t *t = ept_leaf_table(e, base << DIRTY_PAGE_SHIFT);
		if (!t)
			continue;
		for (uint64_t i = 0; i < LEAF_PAGES && base + i < pages; i++) {
			if (bitmap && !dirty_log_test(bitmap, base + i))
				continue;
			/* A leaf without read permission is not RAM the guest
			 * may write (never present in RAM today; kept so). */
			if (!(t[i] & EPT_READ))
				continue;
			t[i] = on ? t[i] | EPT_WRITE : t[i] & ~EPT_WRITE;
		}
	}
}

bool dirty_log_write_fault(struct dirty_log *d, struct ept *e, uint64_t gpa)
{
	uint64_t gfn = gpa >> DIRTY_PAGE_SHIFT;
	uint64_t *l;

	if (d->mode != DIRTY_WP || gfn >= d->pages)
		return false;
	l = leaf(e, gfn);
	if (!l || !(*l & EPT_READ) || (*l & EPT_WRITE))
		return false;
	*l |= EPT_WRITE;
	dirty_log_mark(d, gfn);
	d->events++;
	return true;
}

/* The page table under pde (present, not a large page). */
static uint64_t *table_of(const uint64_t *pde)
{
	return (uint64_t *)(uintptr_t)(*pde & EPT_ADDR_MASK);
}

uint64_t dirty_ept_scan_ad(struct dirty_log *d, struct ept *e)
{
	uint64_t n = 0;

	for (uint64_t base = 0; base < d->pages; base += LEAF_PAGES) {
		uint64_t *pde = ept_leaf_pde(e, base << DIRTY_PAGE_SHIFT);
		/* A table no translation used since the last scan (its PDE's
		 * accessed flag clear, SDM 29.3.5) holds no new dirty leaf:
		 * every translation since was walked afresh after the
		 * caller's INVEPT, setting that flag. */
		if (!pde || !(*pde & EPT_ACCESSED))
			continue;
		*pde &= ~EPT_ACCESSED;
		uint64_t *t = table_of(pde);
		uint64_t end = d->pages - base < LEAF_PAGES ? d->pages - base : LEAF_PAGES;
		for (uint64_t i = 0; i < end; i++) {
			/* Eight clean leaves cost one test: the scan runs in
			 * the stop-and-copy, every tick of it downtime. */
			if (!(i % SCAN_GROUP) && end - i >= SCAN_GROUP &&
			    !((t[i] | t[i + 1] | t[i + 2] | t[i + 3] | t[i + 4] | t[i + 5] |
			       t[i + 6] | t[i + 7]) &
			      EPT_DIRTY)) {
				i += SCAN_GROUP - 1;
				continue;
			}
			if (!(t[i] & EPT_DIRTY))
				continue;
			t[i] &= ~EPT_DIRTY;
			dirty_log_mark(d, base + i);
			n++;
		}
	}
	return n;
}

void dirty_ept_clear_ad(struct ept *e, uint64_t pages)
{
	for (uint64_t base = 0; base < pages; base += LEAF_PAGES) {
		uint64_t *pde = ept_leaf_pde(e, base << DIRTY_PAGE_SHIFT);
		if (!pde)
			continue;
		uint64_t *t = table_of(pde);
		for (uint64_t i = 0; i < LEAF_PAGES && base + i < pages; i++)
			t[i] &= ~(EPT_DIRTY | EPT_ACCESSED);
		*pde &= ~EPT_ACCESSED;
	}
}

unsigned dirty_pml_drain(struct dirty_log *d, struct ept *e, const uint64_t *pml, uint16_t index)
{
	unsigned first = index >= PML_ENTRIES ? 0 : index + 1u;

	for (unsigned i = first; i < PML_ENTRIES; i++) {
		uint64_t gfn = pml[i] >> DIRTY_PAGE_SHIFT;
		uint64_t *l = gfn < d->pages ? leaf(e, gfn) : NULL;
		if (l)
			*l &= ~EPT_DIRTY;
		dirty_log_mark(d, gfn);
	}
	return PML_ENTRIES - first;
}
