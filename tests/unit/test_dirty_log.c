/* Unit tests for vmm/vmx/dirty_log.c and ept_split: the three dirty-
 * logging mechanisms over a real EPT built by ept.c (host pointers stand
 * in for physical addresses, the CPU's part played by the test: it sets
 * a leaf's dirty flag, fills a PML log, or takes the write fault). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/page_alloc.h"
#include "vmm/vmx/dirty_log.h"
#include "vmm/vmx/ept.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define ARENA_SIZE (2 * MIB)
#define HPA_BASE (64 * GIB) /* never touched */
#define RAM_SIZE (6 * MIB)  /* three 2 MiB pages before the split */
#define RAM_PAGES (RAM_SIZE / PAGE_SIZE)
#define PML_FULL 0xffff

static uint8_t *arena;
static struct ept ept;
static struct dirty_log log_;
static uint64_t out[RAM_PAGES / DIRTY_WORD_BITS];

static int setup(void **state)
{
	(void)state;
	arena = aligned_alloc(PAGE_SIZE, ARENA_SIZE);
	if (!arena)
		return -1;
	page_alloc_reset();
	page_alloc_add((uint64_t)(uintptr_t)arena, ARENA_SIZE);
	memset(out, 0, sizeof(out));
	if (ept_init(&ept, true, true) || ept_map_range(&ept, 0, HPA_BASE, RAM_SIZE, EPT_RWX))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dirty_log_free(&log_);
	ept_destroy(&ept);
	page_alloc_reset();
	free(arena);
	return 0;
}

static uint64_t *leaf(uint64_t gfn)
{
	uint64_t *t = ept_leaf_table(&ept, gfn * PAGE_SIZE);

	assert_non_null(t);
	return &t[gfn % 512];
}

/* Large pages become 4 KiB leaves with the same translation. */
static void test_split_keeps_translations(void **state)
{
	uint64_t hpa, perms, size;

	(void)state;
	assert_int_equal(ept_translate(&ept, 5 * PAGE_SIZE, &hpa, &perms, &size), 0);
	assert_int_equal(size, 2 * MIB);
	assert_null(ept_leaf_table(&ept, 0));
	assert_int_equal(ept_split(&ept, 0, RAM_SIZE), 0);
	for (uint64_t gfn = 0; gfn < RAM_PAGES; gfn++) {
		assert_int_equal(ept_translate(&ept, gfn * PAGE_SIZE + 12, &hpa, &perms, &size), 0);
		assert_int_equal(size, PAGE_SIZE);
		assert_int_equal(hpa, HPA_BASE + gfn * PAGE_SIZE + 12);
		assert_int_equal(perms, EPT_RWX);
	}
	/* Splitting again changes nothing and allocates nothing. */
	unsigned pages = ept.table_pages;
	assert_int_equal(ept_split(&ept, 0, RAM_SIZE), 0);
	assert_int_equal(ept.table_pages, pages);
}

/* Write-protection: the first write to a page faults, is logged and
 * writes on; the log is taken and the page protected again. */
static void test_write_protection(void **state)
{
	(void)state;
	assert_int_equal(ept_split(&ept, 0, RAM_SIZE), 0);
	assert_int_equal(dirty_log_init(&log_, DIRTY_WP, RAM_PAGES), 0);
	dirty_ept_write_perm(&ept, RAM_PAGES, NULL, false);
	for (uint64_t gfn = 0; gfn < RAM_PAGES; gfn++)
		assert_int_equal(*leaf(gfn) & EPT_RWX, EPT_READ | EPT_EXEC);

	assert_true(dirty_log_write_fault(&log_, &ept, 700 * PAGE_SIZE + 8));
	assert_int_equal(*leaf(700) & EPT_RWX, EPT_RWX);
	/* Writable now: a second fault there is not the log's. */
	assert_false(dirty_log_write_fault(&log_, &ept, 700 * PAGE_SIZE));
	assert_true(dirty_log_write_fault(&log_, &ept, 3 * PAGE_SIZE));
	/* Outside the logged RAM: not the log's. */
	assert_false(dirty_log_write_fault(&log_, &ept, RAM_SIZE));
	assert_int_equal(log_.events, 2);

	assert_int_equal(dirty_log_take(&log_, out), 2);
	assert_true(dirty_log_test(out, 700));
	assert_true(dirty_log_test(out, 3));
	assert_false(dirty_log_test(out, 4));
	assert_int_equal(dirty_log_take(&log_, out), 0);
	dirty_ept_write_perm(&ept, RAM_PAGES, out, false);
	assert_int_equal(*leaf(700) & EPT_RWX, EPT_READ | EPT_EXEC);
	assert_true(dirty_log_write_fault(&log_, &ept, 700 * PAGE_SIZE));

	dirty_ept_write_perm(&ept, RAM_PAGES, NULL, true);
	for (uint64_t gfn = 0; gfn < RAM_PAGES; gfn++)
		assert_int_equal(*leaf(gfn) & EPT_RWX, EPT_RWX);
}

/* The PDE above frame gfn's leaf. */
static uint64_t *pde(uint64_t gfn)
{
	uint64_t *p = ept_leaf_pde(&ept, gfn * PAGE_SIZE);

	assert_non_null(p);
	return p;
}

/* What the CPU does on a write through the EPT (SDM 29.3.5): the walk
 * sets the accessed flag of each entry it uses, the write the leaf's
 * dirty flag. */
static void cpu_write(uint64_t gfn)
{
	*pde(gfn) |= EPT_ACCESSED;
	*leaf(gfn) |= EPT_ACCESSED | EPT_DIRTY;
}

/* A/D flags: a scan logs the leaves the CPU marked dirty and clears
 * them, and the accessed flags of the PDEs it walked; a clean second
 * scan finds nothing. */
static void test_accessed_dirty_scan(void **state)
{
	static const uint64_t written[] = { 0, 511, 512, 1000, RAM_PAGES - 1 };

	(void)state;
	assert_int_equal(ept_split(&ept, 0, RAM_SIZE), 0);
	assert_int_equal(dirty_log_init(&log_, DIRTY_AD, RAM_PAGES), 0);
	cpu_write(7); /* before the start: cleared */
	dirty_ept_clear_ad(&ept, RAM_PAGES);
	assert_int_equal(*leaf(7) & (EPT_ACCESSED | EPT_DIRTY), 0);
	assert_int_equal(*pde(7) & EPT_ACCESSED, 0);
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++)
		cpu_write(written[i]);
	*leaf(9) |= EPT_ACCESSED; /* read only: not dirty */

	assert_int_equal(dirty_ept_scan_ad(&log_, &ept), 5);
	assert_int_equal(dirty_log_take(&log_, out), 5);
	for (size_t i = 0; i < sizeof(written) / sizeof(written[0]); i++) {
		assert_true(dirty_log_test(out, written[i]));
		assert_int_equal(*leaf(written[i]) & EPT_DIRTY, 0);
		assert_int_equal(*pde(written[i]) & EPT_ACCESSED, 0);
	}
	assert_false(dirty_log_test(out, 9));
	assert_int_equal(*leaf(0) & EPT_RWX, EPT_RWX); /* permissions untouched */
	assert_int_equal(dirty_ept_scan_ad(&log_, &ept), 0);
	/* A write after the scan is found by the next, its table walked
	 * again; the tables nothing walked through are not looked at. */
	cpu_write(513);
	*leaf(1) |= EPT_DIRTY; /* no walk set its PDE's flag: skipped */
	assert_int_equal(dirty_ept_scan_ad(&log_, &ept), 1);
	memset(out, 0, sizeof(out));
	assert_int_equal(dirty_log_take(&log_, out), 1);
	assert_true(dirty_log_test(out, 513));
	assert_false(dirty_log_test(out, 1));
}

/* PML: the entries above the index are logged, their dirty flags
 * cleared; a full log (the index wrapped) holds all 512. */
static void test_pml_drain(void **state)
{
	static uint64_t pml[PML_ENTRIES];

	(void)state;
	assert_int_equal(ept_split(&ept, 0, RAM_SIZE), 0);
	assert_int_equal(dirty_log_init(&log_, DIRTY_PML, RAM_PAGES), 0);
	pml[511] = 10 * PAGE_SIZE;
	pml[510] = 1200 * PAGE_SIZE + 0x123; /* the low bits are not the frame's */
	pml[509] = RAM_SIZE;		     /* past the log's RAM: ignored */
	pml[508] = 99 * PAGE_SIZE;	     /* below the index: not written yet */
	*leaf(10) |= EPT_DIRTY;
	*leaf(1200) |= EPT_DIRTY;
	assert_int_equal(dirty_pml_drain(&log_, &ept, pml, 508), 3);
	assert_int_equal(*leaf(10) & EPT_DIRTY, 0);
	assert_int_equal(*leaf(1200) & EPT_DIRTY, 0);
	assert_int_equal(dirty_log_take(&log_, out), 2);
	assert_true(dirty_log_test(out, 10));
	assert_true(dirty_log_test(out, 1200));
	assert_false(dirty_log_test(out, 99));

	for (unsigned i = 0; i < PML_ENTRIES; i++)
		pml[i] = (uint64_t)i * PAGE_SIZE;
	assert_int_equal(dirty_pml_drain(&log_, &ept, pml, PML_FULL), PML_ENTRIES);
	assert_int_equal(dirty_log_take(&log_, out), PML_ENTRIES);
	assert_int_equal(dirty_pml_drain(&log_, &ept, pml, PML_INDEX_START), 0);
}

/* A log of a RAM size that is not a multiple of 64 frames: nothing past
 * its end is marked. */
static void test_mark_bounds(void **state)
{
	(void)state;
	assert_int_equal(dirty_log_init(&log_, DIRTY_AD, 70), 0);
	assert_int_equal(log_.words, 2);
	dirty_log_mark(&log_, 69);
	dirty_log_mark(&log_, 70);
	dirty_log_mark(&log_, UINT64_MAX);
	assert_int_equal(dirty_log_take(&log_, out), 1);
	assert_true(dirty_log_test(out, 69));
}

/* pgvisor's own writes: every frame a range touches, none when the log
 * is off or the range empty, nothing past the log's end. */
static void test_note(void **state)
{
	(void)state;
	dirty_log_note(&log_, 0x1000, 8); /* off: no bitmap to mark */
	dirty_log_note(NULL, 0x1000, 8);
	assert_int_equal(dirty_log_init(&log_, DIRTY_PML, 70), 0);
	dirty_log_note(&log_, 0x1ff0, 0x20);
	dirty_log_note(&log_, 0x5000, 0);
	dirty_log_note(&log_, 0x9000, 0x1000);
	dirty_log_note(&log_, 69 * PAGE_SIZE + 0xff0, 0x20);
	assert_int_equal(dirty_log_take(&log_, out), 4);
	assert_true(dirty_log_test(out, 1));
	assert_true(dirty_log_test(out, 2));
	assert_true(dirty_log_test(out, 9));
	assert_false(dirty_log_test(out, 10));
	assert_true(dirty_log_test(out, 69));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_split_keeps_translations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_protection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accessed_dirty_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pml_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_note, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
