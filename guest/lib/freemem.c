#include "freemem.h"

#include <stdbool.h>

#define FOUR_GIB 0x100000000ull
#define WORD 4ull

/* Linker symbols (guest.ld): the program's whole image, bss and stack
 * included. */
extern const char __image_start[], __image_end[];

uint64_t below_4g(uint64_t address)
{
	return address < FOUR_GIB ? address : FOUR_GIB;
}

/* Removes [start, end) from the ranges in out, splitting one in two where
 * the region lies inside it. Returns -1 when a split finds no room. */
static int subtract(struct free_ranges *out, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < out->n; i++) {
		struct boot_range *r = &out->range[i];
		if (end <= r->start || start >= r->end)
			continue;
		bool left = r->start < start, right = end < r->end;
		if (left && right) {
			if (out->n == FREE_MAX_RANGES)
				return -1;
			out->range[out->n++] = (struct boot_range){ end, r->end };
			r->end = start;
		} else if (left) {
			r->end = start;
		} else if (right) {
			r->start = end;
		} else {
			/* Fully covered: the last range takes its slot and is
			 * looked at next. */
			*r = out->range[--out->n];
			i--;
		}
	}
	return 0;
}

int free_ranges_find(const struct boot_params *bp, struct free_ranges *out)
{
	out->n = 0;
	out->bytes = 0;
	if (!bp->have_memory_map || bp->nusable > BOOT_MAX_RANGES ||
	    bp->nmodules > BOOT_MAX_MODULES || bp->ninfo > BOOT_MAX_INFO_PIECES)
		return -1;
	for (unsigned i = 0; i < bp->nusable; i++) {
		uint64_t start = bp->usable[i].start, end = below_4g(bp->usable[i].end);
		if (start < end)
			out->range[out->n++] = (struct boot_range){ start, end };
	}
	if (subtract(out, (uint32_t)__image_start, (uint32_t)__image_end) != 0)
		return -1;
	for (unsigned i = 0; i < bp->nmodules; i++) {
		const struct boot_module *m = &bp->modules[i];
		if (subtract(out, m->start, (uint64_t)m->start + m->size) != 0)
			return -1;
	}
	for (unsigned i = 0; i < bp->ninfo; i++)
		if (subtract(out, bp->info[i].start, bp->info[i].end) != 0)
			return -1;

	/* Whole words only, so a word next to a used byte is left alone. */
	for (unsigned i = 0; i < out->n; i++) {
		struct boot_range *r = &out->range[i];
		r->start = (r->start + WORD - 1) & ~(WORD - 1);
		r->end &= ~(WORD - 1);
		if (r->start >= r->end) {
			*r = out->range[--out->n];
			i--;
			continue;
		}
		out->bytes += r->end - r->start;
	}
	return 0;
}
