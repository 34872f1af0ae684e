/* Unit tests for vmm/nested/vpid_map.c: a guest hypervisor's VPIDs given
 * host-VPID entries of their own, each flushed at its first use, after an
 * eviction, a move to another host CPU or when made stale (its INVVPID),
 * and kept otherwise; the least recently used evicted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/nested/vpid_map.h"

#define CPU0 0u
#define CPU1 1u

static struct vpid_map map;

static int setup(void **state)
{
	(void)state;
	vpid_map_reset(&map);
	vpid_map_move(&map, CPU0);
	return 0;
}

/* The entry vpid12 uses, and whether it had to be flushed. */
static unsigned use(uint16_t vpid12, bool *flush)
{
	unsigned i = vpid_map_use(&map, vpid12, flush);
	assert_true(i < VPID_MAP_ENTRIES);
	assert_int_equal(vpid_map_find(&map, vpid12), (int)i);
	return i;
}

static void test_own_entries(void **state)
{
	bool flush;
	(void)state;

	assert_int_equal(vpid_map_find(&map, 1), -1);
	assert_int_equal(vpid_map_find(&map, 0), -1);
	unsigned a = use(1, &flush);
	assert_true(flush); /* first use */
	unsigned b = use(2, &flush);
	assert_true(flush);
	assert_int_not_equal(a, b);
	/* The same again: the fast path, as the last entry left it. */
	assert_true(vpid_map_same(&map, 2, CPU0));
	assert_false(vpid_map_same(&map, 1, CPU0));
	assert_false(vpid_map_same(&map, 2, CPU1));
	/* Switching between them keeps both. */
	for (int k = 0; k < 3; k++) {
		assert_int_equal(use(1, &flush), a);
		assert_false(flush);
		assert_int_equal(use(2, &flush), b);
		assert_false(flush);
	}
	/* An entry without VPID in between: no fast path after it. */
	vpid_map_no_vpid(&map);
	assert_false(vpid_map_same(&map, 2, CPU0));
	assert_int_equal(use(2, &flush), b);
	assert_false(flush);
	assert_true(vpid_map_same(&map, 2, CPU0));
	/* The highest VPID is one like any other. */
	unsigned c = use(0xffff, &flush);
	assert_true(flush);
	assert_true(c != a && c != b);
	assert_int_equal(map.evictions, 0);
}

static void test_stale(void **state)
{
	bool flush;
	(void)state;

	unsigned a = use(1, &flush), b = use(2, &flush);
	/* L1's single-context INVVPID of 1: only 1's entry flushed. */
	use(1, &flush);
	vpid_map_stale(&map, a);
	assert_false(vpid_map_same(&map, 1, CPU0));
	assert_int_equal(use(2, &flush), b);
	assert_false(flush);
	assert_int_equal(use(1, &flush), a);
	assert_true(flush);
	assert_int_equal(use(1, &flush), a);
	assert_false(flush);
	/* All-context: both, once. */
	vpid_map_stale_all(&map);
	use(1, &flush);
	assert_true(flush);
	use(2, &flush);
	assert_true(flush);
	use(2, &flush);
	assert_false(flush);
	/* Out of range: nothing. */
	vpid_map_stale(&map, VPID_MAP_ENTRIES);
	use(1, &flush);
	assert_false(flush);
}

static void test_move(void **state)
{
	bool flush;
	(void)state;

	use(1, &flush);
	use(2, &flush);
	assert_false(vpid_map_move(&map, CPU0));
	use(1, &flush);
	assert_false(flush);
	/* Another host CPU: every entry flushed at its first use there. */
	assert_true(vpid_map_move(&map, CPU1));
	use(1, &flush);
	assert_true(flush);
	assert_false(vpid_map_move(&map, CPU1));
	use(1, &flush);
	assert_false(flush);
	/* Back on the first: stale again, though used there before. */
	assert_true(vpid_map_move(&map, CPU0));
	use(2, &flush);
	assert_true(flush);
	use(1, &flush);
	assert_true(flush);
}

static void test_evict_lru(void **state)
{
	bool flush;
	unsigned entry[VPID_MAP_ENTRIES];
	(void)state;

	for (unsigned i = 0; i < VPID_MAP_ENTRIES; i++)
		entry[i] = use((uint16_t)(10 + i), &flush);
	/* 10 used again: 11 is now the least recently used. */
	use(10, &flush);
	assert_false(flush);
	unsigned e = use(100, &flush);
	assert_true(flush); /* 11's translations must not reach 100 */
	assert_int_equal(e, entry[1]);
	assert_int_equal(vpid_map_find(&map, 11), -1);
	assert_int_equal(map.evictions, 1);
	/* 11 back: a new entry (12's, the oldest now), flushed. */
	e = use(11, &flush);
	assert_true(flush);
	assert_int_equal(e, entry[2]);
	assert_int_equal(vpid_map_find(&map, 12), -1);
	assert_int_equal(map.evictions, 2);
	/* The others kept theirs. */
	use(10, &flush);
	assert_false(flush);
	use(17, &flush);
	assert_false(flush);
}

static void test_reset(void **state)
{
	bool flush;
	(void)state;

	use(1, &flush);
	vpid_map_reset(&map);
	assert_int_equal(vpid_map_find(&map, 1), -1);
	assert_false(vpid_map_same(&map, 1, CPU0));
	/* A reset map knows no host CPU: the first move says so. */
	assert_true(vpid_map_move(&map, CPU0));
	use(1, &flush);
	assert_true(flush);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_own_entries, setup),
		cmocka_unit_test_setup(test_stale, setup),
		cmocka_unit_test_setup(test_move, setup),
		cmocka_unit_test_setup(test_evict_lru, setup),
		cmocka_unit_test_setup(test_reset, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
