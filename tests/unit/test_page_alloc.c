/* Unit tests for arch/x86/page_alloc.c over a heap arena (host pointers stand
 * in for identity-mapped physical addresses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/page_alloc.h"

#define MIB (1ull << 20)
#define ARENA_SIZE (8 * MIB)
#define ARENA_ALIGN (4 * MIB)

static uint8_t *arena;

static uint64_t addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static int setup(void **state)
{
	(void)state;
	arena = aligned_alloc(ARENA_ALIGN, ARENA_SIZE);
	if (!arena)
		return -1;
	memset(arena, 0xcc, ARENA_SIZE); /* dirty: handed-out pages must be zeroed */
	page_alloc_reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	page_alloc_reset();
	free(arena);
	arena = NULL;
	return 0;
}

static void assert_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			fail_msg("byte %zu of %p is %#x, not zero", i, p, b[i]);
}

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(page_alloc_free_bytes(), 0);
	assert_null(page_alloc(1));
}

static void test_add_trims_to_pages(void **state)
{
	(void)state;
	/* [arena + 100, arena + 3 pages + 5): only pages 1 and 2 are whole. */
	page_alloc_add(addr(arena) + 100, 3 * PAGE_SIZE - 95);
	assert_int_equal(page_alloc_free_bytes(), 2 * PAGE_SIZE);
	void *p = page_alloc(1);
	assert_ptr_equal(p, arena + PAGE_SIZE);
	assert_ptr_equal(page_alloc(1), arena + 2 * PAGE_SIZE);
	assert_null(page_alloc(1));

	/* Less than a page: nothing. */
	page_alloc_reset();
	page_alloc_add(addr(arena) + 1, PAGE_SIZE);
	assert_int_equal(page_alloc_free_bytes(), 0);
}

static void test_add_twice_not_double_counted(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), 4 * PAGE_SIZE);
	page_alloc_add(addr(arena) + 2 * PAGE_SIZE, 4 * PAGE_SIZE);
	assert_int_equal(page_alloc_free_bytes(), 6 * PAGE_SIZE);
	page_alloc_add(addr(arena), 6 * PAGE_SIZE);
	assert_int_equal(page_alloc_free_bytes(), 6 * PAGE_SIZE);
	/* One contiguous range: all six pages in one allocation. */
	assert_ptr_equal(page_alloc(6), arena);
	assert_int_equal(page_alloc_free_bytes(), 0);
}

static void test_alloc_first_fit_and_zeroed(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), 16 * PAGE_SIZE);

	uint8_t *a = page_alloc(2);
	uint8_t *b = page_alloc(3);
	assert_ptr_equal(a, arena);
	assert_ptr_equal(b, arena + 2 * PAGE_SIZE);
	assert_zero(a, 2 * PAGE_SIZE);
	assert_zero(b, 3 * PAGE_SIZE);
	/* Only what was handed out was zeroed. */
	assert_int_equal(arena[5 * PAGE_SIZE], 0xcc);
	assert_int_equal(page_alloc_free_bytes(), 11 * PAGE_SIZE);

	/* A page freed dirty comes back zeroed. */
	memset(a, 0x5a, 2 * PAGE_SIZE);
	page_free(a, 2);
	uint8_t *c = page_alloc(1);
	assert_ptr_equal(c, arena);
	assert_zero(c, PAGE_SIZE);
	assert_int_equal(a[PAGE_SIZE], 0x5a); /* second page still free, untouched */
}

static void test_unzeroed_alloc_takes_pages_as_they_lie(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), 4 * PAGE_SIZE);

	uint8_t *a = page_alloc_unzeroed(2);
	assert_ptr_equal(a, arena);
	assert_int_equal(a[0], 0xcc);
	assert_int_equal(a[2 * PAGE_SIZE - 1], 0xcc);
	assert_int_equal(page_alloc_free_bytes(), 2 * PAGE_SIZE);
	page_free(a, 2);
	/* The pool keeps its rule: page_alloc zeroes what it hands out. */
	uint8_t *all = page_alloc(4);
	assert_zero(all, 4 * PAGE_SIZE);
	assert_null(page_alloc_unzeroed(0));
	page_free(all, 4);

	/* The aligned form (a VM's RAM) keeps the alignment, not zeroed. */
	uint8_t *b = page_alloc_aligned_unzeroed(1, 2 * PAGE_SIZE);
	assert_non_null(b);
	assert_int_equal(addr(b) % (2 * PAGE_SIZE), 0);
	memset(b, 0x77, PAGE_SIZE);
	page_free(b, 1);
	uint8_t *c = page_alloc_aligned_unzeroed(1, 2 * PAGE_SIZE);
	assert_ptr_equal(c, b);
	assert_int_equal(c[PAGE_SIZE - 1], 0x77);
}

static void test_alignment(void **state)
{
	(void)state;
	/* Starts one page past a 2 MiB boundary. */
	uint64_t base = addr(arena) + PAGE_SIZE;
	page_alloc_add(base, 6 * MIB);
	uint64_t total = page_alloc_free_bytes();
	assert_int_equal(total, 6 * MIB);

	uint8_t *p = page_alloc_aligned(512, 2 * MIB);
	assert_non_null(p);
	assert_int_equal(addr(p) & (2 * MIB - 1), 0);
	assert_ptr_equal(p, arena + 2 * MIB);
	assert_zero(p, 2 * MIB);
	assert_int_equal(page_alloc_free_bytes(), total - 2 * MIB);

	/* The gap below the aligned block stays allocatable. */
	uint8_t *low = page_alloc(1);
	assert_ptr_equal(low, arena + PAGE_SIZE);

	/* 4 MiB alignment: arena + 4 MiB, the only boundary left inside. */
	uint8_t *q = page_alloc_aligned(1, 4 * MIB);
	assert_ptr_equal(q, arena + 4 * MIB);
	/* No further 4 MiB boundary with room. */
	assert_null(page_alloc_aligned(1, 4 * MIB));
	assert_null(page_alloc_aligned(1, 8 * MIB));

	page_free(p, 512);
	page_free(low, 1);
	page_free(q, 1);
	assert_int_equal(page_alloc_free_bytes(), total);
}

static void test_alignment_validation(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), 4 * MIB);
	uint64_t total = page_alloc_free_bytes();

	assert_null(page_alloc_aligned(1, 0));
	assert_null(page_alloc_aligned(1, 1));
	assert_null(page_alloc_aligned(1, PAGE_SIZE / 2));
	assert_null(page_alloc_aligned(1, 3 * PAGE_SIZE));
	assert_null(page_alloc_aligned(1, PAGE_SIZE + 1));
	assert_null(page_alloc_aligned(0, PAGE_SIZE));
	assert_null(page_alloc(0));
	assert_int_equal(page_alloc_free_bytes(), total);
	assert_non_null(page_alloc_aligned(1, 2 * PAGE_SIZE));
}

static void test_too_large(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), 4 * MIB);
	uint64_t total = page_alloc_free_bytes();

	assert_null(page_alloc(1025));
	assert_int_equal(page_alloc_free_bytes(), total);
	assert_ptr_equal(page_alloc(1024), arena);
	assert_null(page_alloc(1));
	assert_int_equal(page_alloc_free_bytes(), 0);
}

static void test_too_large_overflow(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), 4 * MIB);
	uint64_t total = page_alloc_free_bytes();

	/* npages * PAGE_SIZE wraps to 0 (or to a tiny size): still far more
	 * memory than exists, so the allocation must fail. */
	assert_null(page_alloc((size_t)1 << 52));
	assert_null(page_alloc(((size_t)1 << 52) + 1));
	assert_int_equal(page_alloc_free_bytes(), total);
}

static void test_free_merges(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), 8 * PAGE_SIZE);
	void *p[8];

	for (int i = 0; i < 8; i++) {
		p[i] = page_alloc(1);
		assert_ptr_equal(p[i], arena + i * PAGE_SIZE);
	}
	assert_int_equal(page_alloc_free_bytes(), 0);
	/* Free out of order: right neighbour, left neighbour, both, neither. */
	static const int order[8] = { 3, 1, 6, 2, 7, 0, 5, 4 };
	for (int i = 0; i < 8; i++)
		page_free(p[order[i]], 1);
	assert_int_equal(page_alloc_free_bytes(), 8 * PAGE_SIZE);
	/* One range again: the whole arena in a single allocation. */
	assert_ptr_equal(page_alloc(8), arena);
}

static void test_free_merges_many(void **state)
{
	(void)state;
	/* Freeing the even pages leaves PAGE_ALLOC_MAX_RANGES isolated holes,
	 * filling the range table; each odd page then touches two ranges and
	 * must merge with both, or pages would be lost. */
	const unsigned n = 2 * PAGE_ALLOC_MAX_RANGES;
	page_alloc_add(addr(arena), n * PAGE_SIZE);
	assert_ptr_equal(page_alloc(n), arena);
	for (unsigned i = 0; i < n; i += 2)
		page_free(arena + i * PAGE_SIZE, 1);
	assert_int_equal(page_alloc_free_bytes(), (n / 2) * PAGE_SIZE);
	for (unsigned i = 1; i < n; i += 2)
		page_free(arena + i * PAGE_SIZE, 1);
	assert_int_equal(page_alloc_free_bytes(), n * PAGE_SIZE);
	assert_ptr_equal(page_alloc(n), arena);
}

static void test_reserve(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), 16 * PAGE_SIZE);

	/* Split one range in two; unaligned bounds widen to whole pages. */
	page_alloc_reserve(addr(arena) + 4 * PAGE_SIZE + 10, 2 * PAGE_SIZE - 20);
	assert_int_equal(page_alloc_free_bytes(), 14 * PAGE_SIZE);
	/* 5 contiguous pages no longer fit below the hole... */
	assert_ptr_equal(page_alloc(5), arena + 6 * PAGE_SIZE);
	/* ...but 4 do. */
	assert_ptr_equal(page_alloc(4), arena);
	assert_int_equal(page_alloc_free_bytes(), 5 * PAGE_SIZE);

	/* Trim the head and tail of the remaining range [11, 16). */
	page_alloc_reserve(addr(arena) + 10 * PAGE_SIZE, 2 * PAGE_SIZE);
	page_alloc_reserve(addr(arena) + 15 * PAGE_SIZE, 4 * PAGE_SIZE);
	assert_int_equal(page_alloc_free_bytes(), 3 * PAGE_SIZE);
	assert_ptr_equal(page_alloc(3), arena + 12 * PAGE_SIZE);

	/* Reserving what is not free changes nothing. */
	page_alloc_reserve(addr(arena), 16 * PAGE_SIZE);
	assert_int_equal(page_alloc_free_bytes(), 0);
}

static void test_reserve_spanning_ranges(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), 4 * PAGE_SIZE);
	page_alloc_add(addr(arena) + 8 * PAGE_SIZE, 4 * PAGE_SIZE);
	page_alloc_add(addr(arena) + 16 * PAGE_SIZE, 4 * PAGE_SIZE);
	assert_int_equal(page_alloc_free_bytes(), 12 * PAGE_SIZE);

	/* Tail of the first, all of the second, head of the third. */
	page_alloc_reserve(addr(arena) + 2 * PAGE_SIZE, 16 * PAGE_SIZE);
	assert_int_equal(page_alloc_free_bytes(), 4 * PAGE_SIZE);
	assert_null(page_alloc(3));
	assert_ptr_equal(page_alloc(2), arena);
	assert_ptr_equal(page_alloc(2), arena + 18 * PAGE_SIZE);
	assert_int_equal(page_alloc_free_bytes(), 0);
}

static void test_free_everything_one_range(void **state)
{
	(void)state;
	page_alloc_add(addr(arena), ARENA_SIZE);
	uint64_t total = page_alloc_free_bytes();
	assert_int_equal(total, ARENA_SIZE);

	void *a = page_alloc(3);
	void *b = page_alloc_aligned(512, 2 * MIB);
	void *c = page_alloc(7);
	void *d = page_alloc_aligned(16, 64 * 1024);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(d);
	assert_int_equal(addr(d) & (64 * 1024 - 1), 0);
	page_free(c, 7);
	page_free(a, 3);
	page_free(d, 16);
	page_free(b, 512);
	assert_int_equal(page_alloc_free_bytes(), total);
	assert_ptr_equal(page_alloc(ARENA_SIZE / PAGE_SIZE), arena);

	/* Freeing NULL or zero pages is a no-op. */
	page_free(NULL, 4);
	page_free(arena, 0);
	assert_int_equal(page_alloc_free_bytes(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_trims_to_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_twice_not_double_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_first_fit_and_zeroed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unzeroed_alloc_takes_pages_as_they_lie, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_alignment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_merges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_merges_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_spanning_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_everything_one_range, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
