#include "arch/x86/page_alloc.h"

#include <stdbool.h>
#include <string.h>

#include "arch/x86/fault_inject.h"

#ifdef HOST_TEST
#define lock()
#define unlock()
#else
#include "arch/x86/spinlock.h"
static struct spinlock alloc_lock;
#define lock() spin_lock(&alloc_lock)
#define unlock() spin_unlock(&alloc_lock)
#endif

struct range {
	uint64_t start, end; /* [start, end), page aligned */
};

static struct range ranges[PAGE_ALLOC_MAX_RANGES];
static unsigned nranges;

static void remove_at(unsigned i)
{
	memmove(&ranges[i], &ranges[i + 1], (nranges - i - 1) * sizeof(ranges[0]));
	nranges--;
}

static bool insert_at(unsigned i, uint64_t start, uint64_t end)
{
	if (nranges == PAGE_ALLOC_MAX_RANGES)
		return false;
	memmove(&ranges[i + 1], &ranges[i], (nranges - i) * sizeof(ranges[0]));
	ranges[i] = (struct range){ start, end };
	nranges++;
	return true;
}

/* Inserts a free range in order and merges it with touching neighbours. */
static void free_range(uint64_t start, uint64_t end)
{
	unsigned i = 0;

	while (i < nranges && ranges[i].start < start)
		i++;
	if (i > 0 && ranges[i - 1].end == start) {
		ranges[i - 1].end = end;
		if (i < nranges && ranges[i].start == end) {
			ranges[i - 1].end = ranges[i].end;
			remove_at(i);
		}
		return;
	}
	if (i < nranges && ranges[i].start == end) {
		ranges[i].start = start;
		return;
	}
	/* With no slot left the pages are lost, not corrupted. */
	insert_at(i, start, end);
}

void page_alloc_reset(void)
{
	nranges = 0;
}

static void reserve_locked(uint64_t base, uint64_t len);

void page_alloc_add(uint64_t base, uint64_t len)
{
	uint64_t start = (base + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uint64_t end = (base + len) & ~(PAGE_SIZE - 1);

	if (end <= start)
		return;
	lock();
	reserve_locked(start, end - start); /* no double-counting */
	free_range(start, end);
	unlock();
}

void page_alloc_reserve(uint64_t base, uint64_t len)
{
	lock();
	reserve_locked(base, len);
	unlock();
}

static void reserve_locked(uint64_t base, uint64_t len)
{
	uint64_t start = base & ~(PAGE_SIZE - 1);
	uint64_t end = (base + len + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

	for (unsigned i = 0; i < nranges;) {
		struct range *r = &ranges[i];
		if (r->end <= start || r->start >= end) {
			i++;
		} else if (r->start >= start && r->end <= end) {
			remove_at(i);
		} else if (r->start < start && r->end > end) {
			uint64_t tail = r->end;
			r->end = start;
			/* With no slot left for the tail, its pages are lost, not
			 * corrupted; either way the next range comes after it. */
			i += insert_at(i + 1, end, tail) ? 2 : 1;
		} else if (r->start < start) {
			r->end = start;
			i++;
		} else {
			r->start = end;
			i++;
		}
	}
}

/* npages taken from the free pool, as they are. */
static void *take(size_t npages, uint64_t align)
{
	uint64_t size = npages * PAGE_SIZE;
	void *p = NULL;

	if (!npages || npages > UINT64_MAX / PAGE_SIZE || align < PAGE_SIZE ||
	    (align & (align - 1)))
		return NULL;
	if (fault_alloc_fails())
		return NULL; /* test build: fault=alloc:N */
	lock();
	for (unsigned i = 0; i < nranges; i++) {
		uint64_t a = (ranges[i].start + align - 1) & ~(align - 1);
		if (a < ranges[i].start || a + size < a || a + size > ranges[i].end)
			continue;
		reserve_locked(a, size);
		p = (void *)(uintptr_t)a;
		break;
	}
	unlock();
	return p;
}

void *page_alloc_aligned(size_t npages, uint64_t align)
{
	void *p = take(npages, align);

	if (p)
		memset(p, 0, npages * PAGE_SIZE);
	return p;
}

void *page_alloc(size_t npages)
{
	return page_alloc_aligned(npages, PAGE_SIZE);
}

void *page_alloc_unzeroed(size_t npages)
{
	return take(npages, PAGE_SIZE);
}

void *page_alloc_aligned_unzeroed(size_t npages, uint64_t align)
{
	return take(npages, align);
}

void page_free(void *p, size_t npages)
{
	uint64_t start = (uintptr_t)p;

	if (!p || !npages)
		return;
	lock();
	free_range(start, start + npages * PAGE_SIZE);
	unlock();
}

uint64_t page_alloc_free_bytes(void)
{
	uint64_t sum = 0;

	lock();
	for (unsigned i = 0; i < nranges; i++)
		sum += ranges[i].end - ranges[i].start;
	unlock();
	return sum;
}
