/* Unit tests for vmm/vmx/ept.c: tables built by ept_map_range, walked back by
 * ept_translate and by hand. The page allocator hands out pages of a heap
 * arena; host pointers stand in for identity-mapped physical addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/page_alloc.h"
#include "vmm/vmx/ept.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define ARENA_SIZE (2 * MIB) /* 512 table pages */
#define HPA_BASE (64 * GIB)  /* mapped host addresses are never touched */

static uint8_t *arena;
static uint64_t free_at_start;

static int setup(void **state)
{
	(void)state;
	arena = aligned_alloc(PAGE_SIZE, ARENA_SIZE);
	if (!arena)
		return -1;
	memset(arena, 0xee, ARENA_SIZE); /* tables must be zeroed by the allocator */
	page_alloc_reset();
	page_alloc_add((uint64_t)(uintptr_t)arena, ARENA_SIZE);
	free_at_start = page_alloc_free_bytes();
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

/* The table an entry points to. */
static uint64_t *next(uint64_t entry)
{
	assert_true(entry & EPT_RWX);
	assert_int_equal(entry & EPT_LARGE_PAGE, 0);
	return (uint64_t *)(uintptr_t)(entry & EPT_ADDR_MASK);
}

/* The raw leaf entry mapping gpa, walking the tables by hand. */
static uint64_t leaf_entry(const struct ept *e, uint64_t gpa, unsigned *level_out)
{
	uint64_t *t = e->pml4;

	for (unsigned level = 3;; level--) {
		uint64_t entry = t[(gpa >> (12 + 9 * level)) & 511];
		if (level == 0 || (entry & EPT_LARGE_PAGE)) {
			*level_out = level;
			return entry;
		}
		t = next(entry);
	}
}

static void assert_translates(const struct ept *e, uint64_t gpa, uint64_t want_hpa,
			      uint64_t want_perms, uint64_t want_size)
{
	uint64_t hpa = 0, perms = 0, size = 0;

	if (ept_translate(e, gpa, &hpa, &perms, &size) != 0)
		fail_msg("gpa %#llx not mapped", (unsigned long long)gpa);
	if (hpa != want_hpa || perms != want_perms || size != want_size)
		fail_msg("gpa %#llx -> hpa %#llx perms %#llx size %#llx; want %#llx %#llx %#llx",
			 (unsigned long long)gpa, (unsigned long long)hpa,
			 (unsigned long long)perms, (unsigned long long)size,
			 (unsigned long long)want_hpa, (unsigned long long)want_perms,
			 (unsigned long long)want_size);
}

static void assert_unmapped(const struct ept *e, uint64_t gpa)
{
	uint64_t hpa = 0x1234, perms = 0x5678, size = 0x9abc;

	if (ept_translate(e, gpa, &hpa, &perms, &size) != -1)
		fail_msg("gpa %#llx unexpectedly mapped to %#llx", (unsigned long long)gpa,
			 (unsigned long long)hpa);
}

static void test_init_empty(void **state)
{
	(void)state;
	struct ept e;

	assert_int_equal(ept_init(&e, true, true), 0);
	assert_non_null(e.pml4);
	assert_int_equal(e.table_pages, 1);
	assert_int_equal((uintptr_t)e.pml4 & (PAGE_SIZE - 1), 0);
	for (int i = 0; i < 512; i++)
		assert_int_equal(e.pml4[i], 0);
	assert_int_equal(page_alloc_free_bytes(), free_at_start - PAGE_SIZE);
	assert_unmapped(&e, 0);
	assert_unmapped(&e, 0x7ffffffff000ull);
	assert_unmapped(&e, 1ull << 48);
	assert_unmapped(&e, ~0ull);
	ept_destroy(&e);
	assert_null(e.pml4);
	assert_int_equal(e.table_pages, 0);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_4mib_with_2mb_pages(void **state)
{
	(void)state;
	struct ept e;

	assert_int_equal(ept_init(&e, true, false), 0);
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, 4 * MIB, EPT_RWX), 0);
	/* PML4 + PDPT + PD, no page table. */
	assert_int_equal(e.table_pages, 3);
	assert_translates(&e, 0, HPA_BASE, EPT_RWX, 2 * MIB);
	assert_translates(&e, 0x1234, HPA_BASE + 0x1234, EPT_RWX, 2 * MIB);
	assert_translates(&e, 2 * MIB + 0x5678, HPA_BASE + 2 * MIB + 0x5678, EPT_RWX, 2 * MIB);
	assert_translates(&e, 4 * MIB - 1, HPA_BASE + 4 * MIB - 1, EPT_RWX, 2 * MIB);
	assert_unmapped(&e, 4 * MIB);
	assert_unmapped(&e, 1 * GIB);

	/* The entries themselves: WB (6 in bits 5:3), bit 7 on the leaves,
	 * host address in bits 51:12, RWX on the non-leaf entries. */
	unsigned level;
	uint64_t leaf = leaf_entry(&e, 2 * MIB, &level);
	assert_int_equal(level, 1);
	assert_int_equal((leaf >> 3) & 7, 6);
	assert_int_equal(leaf & EPT_LARGE_PAGE, EPT_LARGE_PAGE);
	assert_int_equal(leaf & EPT_ADDR_MASK, HPA_BASE + 2 * MIB);
	assert_int_equal(leaf & EPT_RWX, EPT_RWX);
	assert_int_equal(e.pml4[0] & EPT_RWX, EPT_RWX);
	assert_int_equal(e.pml4[0] & EPT_LARGE_PAGE, 0);
	for (int i = 1; i < 512; i++)
		assert_int_equal(e.pml4[i], 0);
	uint64_t *pd = next(next(e.pml4[0])[0]);
	assert_int_equal(pd[0], HPA_BASE | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE_PAGE);
	assert_int_equal(pd[1], (HPA_BASE + 2 * MIB) | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE_PAGE);
	for (int i = 2; i < 512; i++)
		assert_int_equal(pd[i], 0);

	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_4mib_with_4k_pages(void **state)
{
	(void)state;
	struct ept e;

	assert_int_equal(ept_init(&e, false, false), 0);
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, 4 * MIB, EPT_READ | EPT_EXEC), 0);
	/* PML4 + PDPT + PD + two page tables. */
	assert_int_equal(e.table_pages, 5);
	assert_translates(&e, 0, HPA_BASE, EPT_READ | EPT_EXEC, 4 * KIB);
	assert_translates(&e, 3 * MIB + 0x10, HPA_BASE + 3 * MIB + 0x10, EPT_READ | EPT_EXEC,
			  4 * KIB);
	unsigned level;
	uint64_t leaf = leaf_entry(&e, 0x5000, &level);
	assert_int_equal(level, 0);
	assert_int_equal(leaf, (HPA_BASE + 0x5000) | EPT_READ | EPT_EXEC | EPT_MEMTYPE_WB);
	assert_unmapped(&e, 4 * MIB);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_1gb_pages(void **state)
{
	(void)state;
	struct ept e;
	unsigned level;

	assert_int_equal(ept_init(&e, true, true), 0);
	assert_int_equal(ept_map_range(&e, 1 * GIB, HPA_BASE, 1 * GIB, EPT_RWX), 0);
	assert_int_equal(e.table_pages, 2); /* PML4 + PDPT */
	assert_translates(&e, 1 * GIB, HPA_BASE, EPT_RWX, 1 * GIB);
	assert_translates(&e, 1 * GIB + 0x12345678, HPA_BASE + 0x12345678, EPT_RWX, 1 * GIB);
	assert_translates(&e, 2 * GIB - 1, HPA_BASE + GIB - 1, EPT_RWX, 1 * GIB);
	assert_unmapped(&e, 1 * GIB - 1);
	assert_unmapped(&e, 2 * GIB);
	uint64_t leaf = leaf_entry(&e, 1 * GIB, &level);
	assert_int_equal(level, 2);
	assert_int_equal(leaf, HPA_BASE | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE_PAGE);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_1gb_without_1gb_pages(void **state)
{
	(void)state;
	struct ept e;
	unsigned level;

	assert_int_equal(ept_init(&e, true, false), 0);
	assert_int_equal(ept_map_range(&e, 1 * GIB, HPA_BASE, 1 * GIB, EPT_RWX), 0);
	assert_int_equal(e.table_pages, 3); /* PML4 + PDPT + one PD of 512 2M leaves */
	assert_translates(&e, 1 * GIB + 0x12345678, HPA_BASE + 0x12345678, EPT_RWX, 2 * MIB);
	assert_translates(&e, 2 * GIB - 1, HPA_BASE + GIB - 1, EPT_RWX, 2 * MIB);
	uint64_t *pd = next(next(e.pml4[0])[1]);
	for (int i = 0; i < 512; i++)
		assert_int_equal(pd[i], (HPA_BASE + (uint64_t)i * 2 * MIB) | EPT_RWX |
						EPT_MEMTYPE_WB | EPT_LARGE_PAGE);
	assert_int_equal(leaf_entry(&e, 1 * GIB, &level) & EPT_LARGE_PAGE, EPT_LARGE_PAGE);
	assert_int_equal(level, 1);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_mixed_page_sizes(void **state)
{
	(void)state;
	struct ept e;

	assert_int_equal(ept_init(&e, true, true), 0);
	/* [1G - 8K, 2G + 2M + 4K): 4K pages up to the 1G boundary, one 1G page,
	 * one 2M page, then a 4K page. */
	uint64_t gpa = GIB - 8 * KIB, hpa = HPA_BASE - 8 * KIB;
	uint64_t size = 8 * KIB + GIB + 2 * MIB + 4 * KIB;
	assert_int_equal(ept_map_range(&e, gpa, hpa, size, EPT_READ | EPT_WRITE), 0);
	assert_translates(&e, GIB - 8 * KIB, HPA_BASE - 8 * KIB, EPT_READ | EPT_WRITE, 4 * KIB);
	assert_translates(&e, GIB - 1, HPA_BASE - 1, EPT_READ | EPT_WRITE, 4 * KIB);
	assert_translates(&e, GIB, HPA_BASE, EPT_READ | EPT_WRITE, GIB);
	assert_translates(&e, 2 * GIB, HPA_BASE + GIB, EPT_READ | EPT_WRITE, 2 * MIB);
	assert_translates(&e, 2 * GIB + 2 * MIB, HPA_BASE + GIB + 2 * MIB, EPT_READ | EPT_WRITE,
			  4 * KIB);
	assert_unmapped(&e, GIB - 12 * KIB);
	assert_unmapped(&e, 2 * GIB + 2 * MIB + 4 * KIB);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_misaligned_host_means_small_pages(void **state)
{
	(void)state;
	struct ept e;

	/* gpa 2M-aligned but hpa only 4K-aligned: no large page may be used. */
	assert_int_equal(ept_init(&e, true, true), 0);
	assert_int_equal(ept_map_range(&e, 2 * MIB, HPA_BASE + 4 * KIB, 2 * MIB, EPT_RWX), 0);
	assert_translates(&e, 2 * MIB, HPA_BASE + 4 * KIB, EPT_RWX, 4 * KIB);
	assert_translates(&e, 4 * MIB - 1, HPA_BASE + 2 * MIB + 4 * KIB - 1, EPT_RWX, 4 * KIB);
	assert_int_equal(e.table_pages, 4);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_rejects_bad_arguments(void **state)
{
	(void)state;
	struct ept e;

	assert_int_equal(ept_init(&e, true, true), 0);
	assert_int_equal(ept_map_range(&e, 0x800, HPA_BASE, 4 * KIB, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE + 0x10, 4 * KIB, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, 4 * KIB + 1, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, 100, EPT_RWX), -1);
	/* No permission at all, or bits that are not permissions. */
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, 4 * KIB, 0), -1);
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, 4 * KIB, EPT_READ | EPT_LARGE_PAGE), -1);
	/* Beyond what a 4-level walk covers, or wrapping. */
	assert_int_equal(ept_map_range(&e, (1ull << 48) - 4 * KIB, HPA_BASE, 8 * KIB, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, ~0ull - 4 * KIB + 1, HPA_BASE, 8 * KIB, EPT_RWX), -1);
	/* Nothing was mapped and no table allocated by any of those. */
	assert_int_equal(e.table_pages, 1);
	for (int i = 0; i < 512; i++)
		assert_int_equal(e.pml4[i], 0);
	assert_unmapped(&e, 0);
	/* The last page below 2^48 is fine. */
	assert_int_equal(ept_map_range(&e, (1ull << 48) - 4 * KIB, HPA_BASE, 4 * KIB, EPT_READ), 0);
	assert_translates(&e, (1ull << 48) - 1, HPA_BASE + 4 * KIB - 1, EPT_READ, 4 * KIB);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_rejects_overlap(void **state)
{
	(void)state;
	struct ept e;

	assert_int_equal(ept_init(&e, true, true), 0);
	assert_int_equal(ept_map_range(&e, 2 * MIB, HPA_BASE, 2 * MIB, EPT_RWX), 0);
	/* Same range, a 4K page inside the 2M leaf, and a range overlapping
	 * its start. */
	assert_int_equal(ept_map_range(&e, 2 * MIB, HPA_BASE, 2 * MIB, EPT_RWX), -1);
	assert_int_equal(ept_map_range(&e, 3 * MIB, HPA_BASE + 8 * MIB, 4 * KIB, EPT_READ), -1);
	assert_int_equal(ept_map_range(&e, 2 * MIB - 4 * KIB, HPA_BASE, 8 * KIB, EPT_RWX), -1);
	/* A 4K page next to a 4K page is fine; on top of it is not. */
	assert_int_equal(ept_map_range(&e, 8 * MIB, HPA_BASE, 4 * KIB, EPT_READ), 0);
	assert_int_equal(ept_map_range(&e, 8 * MIB + 4 * KIB, HPA_BASE, 4 * KIB, EPT_READ), 0);
	assert_int_equal(ept_map_range(&e, 8 * MIB, HPA_BASE + 4 * KIB, 4 * KIB, EPT_RWX), -1);
	/* A 2M leaf may not replace a table of 4K pages. */
	assert_int_equal(ept_map_range(&e, 8 * MIB, HPA_BASE, 2 * MIB, EPT_RWX), -1);
	/* The originals are intact. */
	assert_translates(&e, 3 * MIB, HPA_BASE + MIB, EPT_RWX, 2 * MIB);
	assert_translates(&e, 8 * MIB, HPA_BASE, EPT_READ, 4 * KIB);
	assert_translates(&e, 8 * MIB + 4 * KIB, HPA_BASE, EPT_READ, 4 * KIB);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_permissions(void **state)
{
	(void)state;
	struct ept e;
	/* Every valid combination; execute-only needs EPT_VPID_CAP bit 0, which
	 * all CPUs pgvisor targets have. */
	static const uint64_t perms[] = { EPT_READ, EPT_READ | EPT_WRITE, EPT_READ | EPT_EXEC,
					  EPT_RWX, EPT_EXEC };

	assert_int_equal(ept_init(&e, true, true), 0);
	for (unsigned i = 0; i < sizeof(perms) / sizeof(perms[0]); i++)
		assert_int_equal(
			ept_map_range(&e, i * 2 * MIB, HPA_BASE + i * 2 * MIB, 2 * MIB, perms[i]),
			0);
	for (unsigned i = 0; i < sizeof(perms) / sizeof(perms[0]); i++)
		assert_translates(&e, i * 2 * MIB + 0x3000, HPA_BASE + i * 2 * MIB + 0x3000,
				  perms[i], 2 * MIB);
	/* translate accepts a NULL page_size. */
	uint64_t hpa, p;
	assert_int_equal(ept_translate(&e, 0x1000, &hpa, &p, NULL), 0);
	assert_int_equal(hpa, HPA_BASE + 0x1000);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

/* A 4 KiB page's permissions change in place: to none (an access exits)
 * and back, its address kept; not for a large page or an unmapped one. */
static void test_set_page_perms(void **state)
{
	(void)state;
	struct ept e;
	uint64_t hpa, p;

	assert_int_equal(ept_init(&e, true, true), 0);
	assert_int_equal(ept_map_range(&e, 0xfee00000ull, HPA_BASE, 4 * KIB, EPT_READ | EPT_WRITE),
			 0);
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, 2 * MIB, EPT_RWX), 0);
	assert_int_equal(ept_set_page_perms(&e, 0xfee00000ull, 0), 0);
	assert_int_equal(ept_translate(&e, 0xfee00000ull, &hpa, &p, NULL), -1);
	assert_int_equal(ept_set_page_perms(&e, 0xfee00000ull, EPT_READ | EPT_WRITE), 0);
	assert_translates(&e, 0xfee00010ull, HPA_BASE + 0x10, EPT_READ | EPT_WRITE, 4 * KIB);
	/* Not a 4 KiB leaf, never mapped, misaligned, malformed. */
	assert_int_equal(ept_set_page_perms(&e, 0x1000, 0), -1);
	assert_int_equal(ept_set_page_perms(&e, 0xfee01000ull, EPT_READ), -1);
	assert_int_equal(ept_set_page_perms(&e, 0x80000000ull, EPT_READ), -1);
	assert_int_equal(ept_set_page_perms(&e, 0xfee00010ull, EPT_READ), -1);
	assert_int_equal(ept_set_page_perms(&e, 0xfee00000ull, EPT_WRITE), -1);
	assert_int_equal(ept_set_page_perms(&e, 0xfee00000ull, 1ull << 7), -1);
	assert_translates(&e, 0xfee00000ull, HPA_BASE, EPT_READ | EPT_WRITE, 4 * KIB);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_rejects_write_without_read(void **state)
{
	(void)state;
	struct ept e;

	/* Write permission without read is an EPT misconfiguration (SDM Vol. 3
	 * 29.3.3.1: bits 2:0 = 010b or 110b): every guest access to such a
	 * page would exit as a misconfiguration, not a violation. */
	assert_int_equal(ept_init(&e, true, true), 0);
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, 4 * KIB, EPT_WRITE), -1);
	assert_int_equal(ept_map_range(&e, 2 * MIB, HPA_BASE, 2 * MIB, EPT_WRITE | EPT_EXEC), -1);
	assert_unmapped(&e, 0);
	assert_unmapped(&e, 2 * MIB);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
}

static void test_ept_pointer(void **state)
{
	(void)state;
	struct ept e;

	assert_int_equal(ept_init(&e, true, true), 0);
	uint64_t eptp = ept_pointer(&e, false);
	assert_int_equal(eptp & 7, 6);		 /* memory type WB */
	assert_int_equal((eptp >> 3) & 7, 3);	 /* walk length 4 - 1 */
	assert_int_equal(eptp & (1ull << 6), 0); /* no A/D */
	assert_int_equal(eptp & 0xf80, 0);	 /* reserved 11:7 */
	assert_int_equal(eptp & ~0xfffull, (uint64_t)(uintptr_t)e.pml4);
	assert_int_equal(eptp, (uint64_t)(uintptr_t)e.pml4 | 0x1e);
	uint64_t ad = ept_pointer(&e, true);
	assert_int_equal(ad, eptp | (1ull << 6));
	ept_destroy(&e);
}

static void test_destroy_frees_all_tables(void **state)
{
	(void)state;
	struct ept e;

	assert_int_equal(ept_init(&e, true, true), 0);
	/* Spread over several PML4 slots, PDPTs, PDs and page tables. */
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, 16 * MIB + 12 * KIB, EPT_RWX), 0);
	assert_int_equal(ept_map_range(&e, 512 * GIB, HPA_BASE, 4 * KIB, EPT_READ), 0);
	assert_int_equal(ept_map_range(&e, 1024 * GIB + 5 * GIB, HPA_BASE, GIB, EPT_READ), 0);
	assert_int_equal(ept_map_range(&e, 3 * GIB + 6 * MIB, HPA_BASE, 6 * MIB, EPT_RWX), 0);
	/* PML4; slot 0: PDPT, PD (0..16M), PT (16M..); slot 1: PDPT, PD, PT;
	 * slot 2: PDPT (1G leaf); 3G: PD under slot 0's PDPT. */
	assert_int_equal(e.table_pages, 1 + 3 + 3 + 1 + 1);
	assert_int_equal(page_alloc_free_bytes(), free_at_start - e.table_pages * PAGE_SIZE);
	assert_translates(&e, 512 * GIB + 0x10, HPA_BASE + 0x10, EPT_READ, 4 * KIB);
	assert_translates(&e, 1029 * GIB + 0x10, HPA_BASE + 0x10, EPT_READ, GIB);
	assert_translates(&e, 16 * MIB + 8 * KIB, HPA_BASE + 16 * MIB + 8 * KIB, EPT_RWX, 4 * KIB);
	ept_destroy(&e);
	assert_int_equal(e.table_pages, 0);
	assert_int_equal(page_alloc_free_bytes(), free_at_start);
	/* Freed pages merged back: the whole arena is one range again. */
	assert_ptr_equal(page_alloc(ARENA_SIZE / PAGE_SIZE), arena);
}

static void test_out_of_table_memory(void **state)
{
	(void)state;
	struct ept e;

	/* Only two pages: PML4 and PDPT fit, the PD does not. */
	page_alloc_reset();
	page_alloc_add((uint64_t)(uintptr_t)arena, 2 * PAGE_SIZE);
	assert_int_equal(ept_init(&e, true, true), 0);
	assert_int_equal(ept_map_range(&e, 0, HPA_BASE, GIB, EPT_RWX), 0);
	assert_int_equal(ept_map_range(&e, 2 * GIB, HPA_BASE, 2 * MIB, EPT_RWX), -1);
	assert_unmapped(&e, 2 * GIB);
	ept_destroy(&e);
	assert_int_equal(page_alloc_free_bytes(), 2 * PAGE_SIZE);

	page_alloc_reset();
	assert_int_equal(ept_init(&e, true, true), -1);
	assert_int_equal(e.table_pages, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4mib_with_2mb_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_4mib_with_4k_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_1gb_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_1gb_without_1gb_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_page_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misaligned_host_means_small_pages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rejects_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_write_without_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ept_pointer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_frees_all_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_table_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_page_perms, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
