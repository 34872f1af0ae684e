/* Page-data records: u32 count, u32 zero, count frame numbers (u64), then
 * the count pages in the same order. */
#include "vmm/migrate/page_data.h"

#include <string.h>

void page_cursor_init(struct page_cursor *c, const uint8_t *ram, uint64_t pages,
		      struct page_filter filter)
{
	*c = (struct page_cursor){ .ram = ram, .pages = pages, .filter = filter };
}

unsigned page_cursor_next(struct page_cursor *c, uint64_t *gfns, unsigned max)
{
	unsigned n = 0;

	for (; c->next < c->pages && n < max; c->next++)
		if (c->filter.want(c->filter.ctx, c->next, c->ram + c->next * PAGE_DATA_PAGE))
			gfns[n++] = c->next;
	return n;
}

bool page_nonzero(const void *ctx, uint64_t gfn, const uint8_t *page)
{
	const uint64_t *q = (const uint64_t *)page;

	(void)ctx;
	(void)gfn;
	for (unsigned i = 0; i < PAGE_DATA_PAGE / sizeof(*q); i++)
		if (q[i])
			return true;
	return false;
}

/* A page copied eight bytes an iteration (a byte-wise rep movsb costs
 * Bochs a tick a byte). */
static void copy_page(void *dst, const void *src)
{
	size_t n = PAGE_DATA_PAGE / sizeof(uint64_t);

	__asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

void page_data_save(struct state_writer *w, const uint8_t *ram, const uint64_t *gfns, unsigned n)
{
	state_put_u32(w, n);
	state_put_u32(w, 0);
	for (unsigned i = 0; i < n; i++)
		state_put_u64(w, gfns[i]);
	if (w->overflow || w->cap - w->len < (size_t)n * PAGE_DATA_PAGE) {
		w->overflow = true;
		return;
	}
	for (unsigned i = 0; i < n; i++, w->len += PAGE_DATA_PAGE)
		copy_page(w->buf + w->len, ram + gfns[i] * PAGE_DATA_PAGE);
}

int page_data_load(struct state_reader *r, uint8_t *ram, uint64_t pages)
{
	uint64_t gfns[PAGE_DATA_BATCH];
	uint32_t n = state_get_u32(r);

	if (state_get_u32(r))
		state_refuse(r, "page data: reserved field not zero");
	if (!n || n > PAGE_DATA_BATCH) {
		state_refuse(r, "page data: page count out of range");
		return state_reader_done(r);
	}
	for (uint32_t i = 0; i < n; i++) {
		gfns[i] = state_get_u64(r);
		if (gfns[i] >= pages)
			state_refuse(r, "page data: a frame outside the VM's RAM");
		else if (i && gfns[i] <= gfns[i - 1])
			state_refuse(r, "page data: frames not in ascending order");
	}
	/* Every frame is checked before any page is copied. */
	if (r->refused || r->len - r->pos != (size_t)n * PAGE_DATA_PAGE) {
		if (!r->refused)
			state_refuse(r, "page data: body length does not match its count");
		return state_reader_done(r);
	}
	for (uint32_t i = 0; i < n; i++, r->pos += PAGE_DATA_PAGE)
		if (ram)
			copy_page(ram + gfns[i] * PAGE_DATA_PAGE, r->buf + r->pos);
	return state_reader_done(r) ? -1 : (int)n;
}
