/* Unit tests for vmm/nested/nested_ept.c and shadow_ept.c: a guest
 * hypervisor's (L1's) EPT built by hand in a buffer standing for its
 * guest-physical memory, walked for its nested guest's accesses (leaves
 * of each size, violations with the walk's permissions, every kind of
 * misconfiguration, tables outside its RAM), then composed into shadow
 * tables that map only the VM's RAM or the page of all-ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/page_alloc.h"
#include "vmm/nested/nested_ept.h"
#include "vmm/nested/shadow_ept.h"
#include "vmm/vmx/ept.h"
#include "vmm/vmx/vmx_caps.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define L1_RAM (4 * MIB)
#define ARENA_SIZE (8 * MIB) /* more than SHADOW_EPT_MAX_TABLES pages */
#define RAM_HOST (64 * GIB)  /* where the VM's RAM "lies": never touched */
#define ONES_PAGE (65 * GIB)
#define EXEC_ONLY_CAP 1ull
#define WB (6ull << 3)
#define UC 0ull
/* L1's tables, at these L1-physical addresses. */
#define PML4 0x10000ull
#define PDPT 0x11000ull
#define PD 0x12000ull
#define PT 0x13000ull
#define EPTP (PML4 | 6 | (3 << 3))

static uint8_t *l1_mem;
static uint8_t *arena;
static struct nested_ept_env env;

static int read_l1(void *ctx, uint64_t gpa, uint64_t *entry)
{
	(void)ctx;
	if (gpa >= L1_RAM || L1_RAM - gpa < sizeof(*entry))
		return -1;
	memcpy(entry, l1_mem + gpa, sizeof(*entry));
	return 0;
}

static void set_entry(uint64_t table, unsigned index, uint64_t value)
{
	memcpy(l1_mem + table + index * 8, &value, sizeof(value));
}

static int setup(void **state)
{
	(void)state;
	l1_mem = calloc(1, L1_RAM);
	arena = aligned_alloc(PAGE_SIZE, ARENA_SIZE);
	if (!l1_mem || !arena)
		return -1;
	page_alloc_reset();
	page_alloc_add((uint64_t)(uintptr_t)arena, ARENA_SIZE);
	env = (struct nested_ept_env){
		.read = read_l1,
		.pa_bits = 39,
		.ept_cap = EPT_CAP_2MB_PAGES | EPT_CAP_1GB_PAGES,
	};
	/* L2 0..2 MiB: PML4[0] -> PDPT[0] -> PD[0] -> PT; PT[i] maps L2
	 * page i to L1 page 0x100 + i, RWX. PD[1]: a 2 MiB page at L1 2 MiB,
	 * read-only. PDPT[1]: a 1 GiB page at L1 1 GiB (outside its RAM). */
	set_entry(PML4, 0, PDPT | EPT_RWX);
	set_entry(PDPT, 0, PD | EPT_RWX);
	set_entry(PD, 0, PT | EPT_RWX);
	for (unsigned i = 0; i < 512; i++)
		set_entry(PT, i, ((0x100ull + i) << 12) | WB | EPT_RWX);
	set_entry(PD, 1, 2 * MIB | EPT_LARGE_PAGE | WB | EPT_READ);
	set_entry(PDPT, 1, GIB | EPT_LARGE_PAGE | UC | EPT_READ | EPT_WRITE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	page_alloc_reset();
	free(arena);
	free(l1_mem);
	return 0;
}

static enum nested_ept_result walk(uint64_t gpa2, uint64_t access, struct nested_ept_walk *w)
{
	return nested_ept_walk(&env, EPTP, gpa2, access, w);
}

static void test_walk_leaves(void **state)
{
	(void)state;
	struct nested_ept_walk w;

	assert_int_equal(walk(0x5123, EPT_WRITE, &w), NESTED_EPT_OK);
	assert_int_equal(w.gpa1, 0x105000);
	assert_int_equal(w.perms, EPT_RWX);
	assert_int_equal(w.page_size, 4 * KIB);
	assert_int_equal(walk(2 * MIB + 0x37123, EPT_READ, &w), NESTED_EPT_OK);
	assert_int_equal(w.gpa1, 2 * MIB + 0x37000);
	assert_int_equal(w.perms, EPT_READ);
	assert_int_equal(w.page_size, 2 * MIB);
	assert_int_equal(walk(GIB + 5 * MIB, EPT_WRITE, &w), NESTED_EPT_OK);
	assert_int_equal(w.gpa1, GIB + 5 * MIB);
	assert_int_equal(w.perms, EPT_READ | EPT_WRITE);
	assert_int_equal(w.page_size, GIB);
	/* The walk's permissions are the AND over every level. */
	set_entry(PD, 0, PT | EPT_READ | EPT_EXEC);
	assert_int_equal(walk(0x5000, EPT_EXEC, &w), NESTED_EPT_OK);
	assert_int_equal(w.perms, EPT_READ | EPT_EXEC);
}

/* A walk from a neighbour's leaf table finds what the whole walk does,
 * and falls back to it outside that table. */
static void test_walk_near(void **state)
{
	(void)state;
	struct nested_ept_walk near, w, whole;
	static const uint64_t gpas[] = { 0x0,	  0x5123,	 0x1ff000,	2 * MIB + 0x1000,
					 4 * MIB, GIB + 5 * MIB, 512 * GIB + 1, 0x7000 };

	set_entry(PT, 7, 0); /* not present */
	set_entry(PT, 9, (0x109ull << 12) | WB | EPT_READ);
	assert_int_equal(walk(0x5000, EPT_READ, &near), NESTED_EPT_OK);
	assert_int_equal(near.leaf_table, PT);
	assert_int_equal(near.leaf_level, 0);
	for (unsigned i = 0; i < sizeof(gpas) / sizeof(gpas[0]); i++) {
		for (uint64_t access = EPT_READ; access <= EPT_WRITE; access <<= 1) {
			enum nested_ept_result r = walk(gpas[i], access, &whole);
			assert_int_equal(
				nested_ept_walk_near(&env, EPTP, &near, gpas[i], access, &w), r);
			assert_int_equal(w.gpa1, whole.gpa1);
			assert_int_equal(w.perms, whole.perms);
			assert_int_equal(w.page_size, whole.page_size);
		}
	}
	assert_int_equal(nested_ept_walk_near(&env, EPTP, &near, 0x9000, EPT_WRITE, &w),
			 NESTED_EPT_VIOLATION);
	assert_int_equal(w.perms, EPT_READ);
	/* From a 2 MiB leaf: its PD's other entries. */
	assert_int_equal(walk(2 * MIB, EPT_READ, &near), NESTED_EPT_OK);
	assert_int_equal(near.leaf_table, PD);
	assert_int_equal(nested_ept_walk_near(&env, EPTP, &near, 0x3000, EPT_WRITE, &w),
			 NESTED_EPT_OK);
	assert_int_equal(w.gpa1, 0x103000);
	assert_int_equal(w.perms, EPT_RWX);
}

static void test_walk_violations(void **state)
{
	(void)state;
	struct nested_ept_walk w;

	/* A write through a read-only 2 MiB page, with what L1 allowed. */
	assert_int_equal(walk(2 * MIB, EPT_WRITE, &w), NESTED_EPT_VIOLATION);
	assert_int_equal(w.perms, EPT_READ);
	assert_int_equal(walk(2 * MIB, EPT_EXEC, &w), NESTED_EPT_VIOLATION);
	/* Not present at each level: no permissions. */
	set_entry(PT, 7, (0x107ull << 12) | WB); /* address kept, RWX clear */
	assert_int_equal(walk(0x7000, EPT_READ, &w), NESTED_EPT_VIOLATION);
	assert_int_equal(w.perms, 0);
	assert_int_equal(walk(4 * MIB, EPT_READ, &w), NESTED_EPT_VIOLATION);   /* PD[2] */
	assert_int_equal(walk(2 * GIB, EPT_READ, &w), NESTED_EPT_VIOLATION);   /* PDPT[2] */
	assert_int_equal(walk(512 * GIB, EPT_READ, &w), NESTED_EPT_VIOLATION); /* PML4[1] */
	assert_int_equal(walk(1ull << 48, EPT_READ, &w), NESTED_EPT_VIOLATION);
	/* Qualification: bits 5:3 from L1's walk, the rest as the CPU saw it
	 * (access, linear-address valid and kind, NMI unblocking); bit 6
	 * (mode-based execute) is never set. */
	uint64_t hw = EPT_WRITE | (EPT_RWX << 3) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 12);
	assert_int_equal(nested_ept_violation_qual(hw, EPT_READ),
			 EPT_WRITE | (EPT_READ << 3) | (1u << 7) | (1u << 8) | (1u << 12));
	assert_int_equal(nested_ept_violation_qual(EPT_READ, 0), EPT_READ);
}

/* Each malformed entry, put at PT[3] (or the level named) and walked. */
static void assert_misconfig(uint64_t table, unsigned index, uint64_t entry, uint64_t gpa2)
{
	struct nested_ept_walk w;
	uint64_t saved;

	memcpy(&saved, l1_mem + table + index * 8, sizeof(saved));
	set_entry(table, index, entry);
	if (walk(gpa2, EPT_READ, &w) != NESTED_EPT_MISCONFIG)
		fail_msg("entry %#llx at %#llx[%u] not a misconfiguration",
			 (unsigned long long)entry, (unsigned long long)table, index);
	set_entry(table, index, saved);
	assert_int_equal(walk(gpa2, EPT_READ, &w), NESTED_EPT_OK);
}

static void test_walk_misconfigs(void **state)
{
	(void)state;

	assert_misconfig(PT, 3, 0x103000 | WB | EPT_WRITE, 0x3000);	    /* W without R */
	assert_misconfig(PT, 3, 0x103000 | WB | EPT_EXEC, 0x3000);	    /* X-only not offered */
	assert_misconfig(PT, 3, 0x103000 | (2ull << 3) | EPT_READ, 0x3000); /* memory type 2 */
	assert_misconfig(PT, 3, 0x103000 | (3ull << 3) | EPT_READ, 0x3000); /* 3 */
	assert_misconfig(PT, 3, 0x103000 | (7ull << 3) | EPT_READ, 0x3000); /* 7 */
	assert_misconfig(PT, 3, (1ull << 39) | 0x103000 | WB | EPT_READ, 0x3000); /* > MAXPHYADDR */
	assert_misconfig(PML4, 0, PDPT | EPT_RWX | (1u << 3), 0x3000);	    /* table bits 7:3 */
	assert_misconfig(PML4, 0, PDPT | EPT_RWX | EPT_LARGE_PAGE, 0x3000); /* PML4E bit 7 */
	assert_misconfig(PD, 0, PT | EPT_RWX | (1u << 5), 0x3000);
	assert_misconfig(PD, 1, 2 * MIB | (1u << 12) | EPT_LARGE_PAGE | WB | EPT_READ, 2 * MIB);
	assert_misconfig(PDPT, 1, GIB | (1u << 21) | EPT_LARGE_PAGE | WB | EPT_READ, GIB);
	/* Large pages the virtual CPU does not offer. */
	env.ept_cap = EPT_CAP_2MB_PAGES;
	assert_misconfig(PDPT, 0, EPT_LARGE_PAGE | WB | EPT_READ, 0x3000);
	env.ept_cap = EPT_CAP_1GB_PAGES;
	assert_misconfig(PD, 0, EPT_LARGE_PAGE | WB | EPT_READ, 0x3000);
	/* Execute-only where it is offered is a translation, not an error. */
	env.ept_cap = EPT_CAP_2MB_PAGES | EPT_CAP_1GB_PAGES | EXEC_ONLY_CAP;
	struct nested_ept_walk w;
	set_entry(PT, 3, 0x103000 | WB | EPT_EXEC);
	assert_int_equal(walk(0x3000, EPT_EXEC, &w), NESTED_EPT_OK);
	assert_int_equal(walk(0x3000, EPT_READ, &w), NESTED_EPT_VIOLATION);
	assert_int_equal(w.perms, EPT_EXEC);
	/* A table outside L1's RAM reads as all-ones: malformed. */
	set_entry(PD, 0, (8 * MIB) | EPT_RWX);
	assert_int_equal(walk(0x3000, EPT_READ, &w), NESTED_EPT_MISCONFIG);
	assert_int_equal(nested_ept_walk(&env, (64 * MIB) | 6 | (3 << 3), 0, EPT_READ, &w),
			 NESTED_EPT_MISCONFIG);
}

static const struct shadow_ept_ram ram = {
	.size = L1_RAM,
	.host = RAM_HOST,
	.ones_page = ONES_PAGE,
};

static void test_compose(void **state)
{
	(void)state;
	struct nested_ept_walk w;
	uint64_t hpa = 0, perms = 0;

	/* L1's RAM: the VM's host memory at the same offset, L1's perms. */
	assert_int_equal(walk(0x5000, EPT_READ, &w), NESTED_EPT_OK);
	assert_int_equal(shadow_ept_compose(&ram, &w, EPT_READ, &hpa, &perms), SHADOW_EPT_RAM);
	assert_int_equal(hpa, RAM_HOST + 0x105000);
	assert_int_equal(perms, EPT_RWX);
	assert_int_equal(walk(2 * MIB + 0x3000, EPT_READ, &w), NESTED_EPT_OK);
	assert_int_equal(shadow_ept_compose(&ram, &w, EPT_READ, &hpa, &perms), SHADOW_EPT_RAM);
	assert_int_equal(hpa, RAM_HOST + 2 * MIB + 0x3000);
	assert_int_equal(perms, EPT_READ);
	/* L1 maps L2 to 1 GiB, far outside its 4 MiB: a read gets the page
	 * of all-ones read-only, a write or fetch nothing, and no host
	 * address outside the RAM ever comes back. */
	assert_int_equal(walk(GIB + 0x2000, EPT_READ, &w), NESTED_EPT_OK);
	hpa = perms = 0;
	assert_int_equal(shadow_ept_compose(&ram, &w, EPT_READ, &hpa, &perms),
			 SHADOW_EPT_UNBACKED_READ);
	assert_int_equal(hpa, ONES_PAGE);
	assert_int_equal(perms, EPT_READ);
	assert_int_equal(shadow_ept_compose(&ram, &w, EPT_WRITE, &hpa, &perms), SHADOW_EPT_OUTSIDE);
	assert_int_equal(shadow_ept_compose(&ram, &w, EPT_EXEC, &hpa, &perms), SHADOW_EPT_OUTSIDE);
	/* The last page of RAM is in; the next is out. */
	w = (struct nested_ept_walk){ .gpa1 = L1_RAM - 4 * KIB, .perms = EPT_RWX };
	assert_int_equal(shadow_ept_compose(&ram, &w, EPT_WRITE, &hpa, &perms), SHADOW_EPT_RAM);
	assert_int_equal(hpa, RAM_HOST + L1_RAM - 4 * KIB);
	w.gpa1 = L1_RAM;
	assert_int_equal(shadow_ept_compose(&ram, &w, EPT_WRITE, &hpa, &perms), SHADOW_EPT_OUTSIDE);
}

/* The shadow maps gpa2 to want_hpa with want_perms in a page of want_size. */
static void assert_shadow_page(const struct shadow_ept *s, uint64_t gpa2, uint64_t want_hpa,
			       uint64_t want_perms, uint64_t want_size)
{
	uint64_t hpa = 0, perms = 0, size = 0;

	assert_int_equal(ept_translate(&s->ept, gpa2, &hpa, &perms, &size), 0);
	assert_int_equal(hpa, want_hpa);
	assert_int_equal(perms, want_perms);
	assert_int_equal(size, want_size);
}

static void assert_shadow(const struct shadow_ept *s, uint64_t gpa2, uint64_t want_hpa,
			  uint64_t want_perms)
{
	assert_shadow_page(s, gpa2, want_hpa, want_perms, 4 * KIB);
}

static void test_shadow_tables(void **state)
{
	(void)state;
	struct shadow_ept s = { 0 };
	uint64_t hpa, perms, free0 = page_alloc_free_bytes();

	/* First use allocates and reports empty tables; same EPTP keeps them. */
	assert_int_equal(shadow_ept_use(&s, EPTP, false), 1);
	assert_int_equal(shadow_ept_use(&s, EPTP, false), 0);
	assert_int_equal(shadow_ept_map(&s, 0x5123, RAM_HOST + 0x105000, EPT_RWX), 0);
	assert_shadow(&s, 0x5000, RAM_HOST + 0x105000, EPT_RWX);
	assert_int_equal(ept_translate(&s.ept, 0x6000, &hpa, &perms, NULL), -1);
	/* Same page, other permissions (L1 changed them): updated in place. */
	assert_int_equal(shadow_ept_map(&s, 0x5000, RAM_HOST + 0x105000, EPT_READ), 0);
	assert_shadow(&s, 0x5000, RAM_HOST + 0x105000, EPT_READ);
	/* Another page for the same L2 address: everything else goes too. */
	assert_int_equal(shadow_ept_map(&s, 0x9000, RAM_HOST + 0x109000, EPT_RWX), 0);
	assert_int_equal(shadow_ept_map(&s, 0x5000, RAM_HOST + 0x200000, EPT_RWX), 0);
	assert_shadow(&s, 0x5000, RAM_HOST + 0x200000, EPT_RWX);
	assert_int_equal(ept_translate(&s.ept, 0x9000, &hpa, &perms, NULL), -1);
	/* Another EPTP, or an INVEPT: empty again. */
	assert_int_equal(shadow_ept_use(&s, EPTP + 0x1000, false), 1);
	assert_int_equal(ept_translate(&s.ept, 0x5000, &hpa, &perms, NULL), -1);
	assert_int_equal(shadow_ept_map(&s, 0x5000, RAM_HOST, EPT_RWX), 0);
	shadow_ept_invalidate(&s);
	assert_int_equal(shadow_ept_use(&s, EPTP + 0x1000, false), 1);
	assert_int_equal(ept_translate(&s.ept, 0x5000, &hpa, &perms, NULL), -1);
	/* A fill around: the pages not mapped yet, written into their page
	 * table (made for the first); a page mapped keeps its entry. */
	uint64_t run_hpa[4] = { RAM_HOST + 0x300000, RAM_HOST + 0x301000, RAM_HOST + 0x302000,
				RAM_HOST + 0x303000 };
	uint64_t run_perms[4] = { EPT_READ, 0, EPT_RWX, EPT_READ | EPT_EXEC };
	assert_int_equal(shadow_ept_map_new(&s, 0x40000000, run_hpa, run_perms, 4), 0);
	assert_shadow(&s, 0x40000000, RAM_HOST + 0x300000, EPT_READ);
	assert_int_equal(ept_translate(&s.ept, 0x40001000, &hpa, &perms, NULL), -1);
	assert_shadow(&s, 0x40002000, RAM_HOST + 0x302000, EPT_RWX);
	assert_shadow(&s, 0x40003000, RAM_HOST + 0x303000, EPT_READ | EPT_EXEC);
	run_hpa[0] = RAM_HOST + 0x400000;
	run_perms[1] = EPT_READ;
	assert_int_equal(shadow_ept_map_new(&s, 0x40000000, run_hpa, run_perms, 2), 0);
	assert_shadow(&s, 0x40000000, RAM_HOST + 0x300000, EPT_READ);
	assert_shadow(&s, 0x40001000, RAM_HOST + 0x301000, EPT_READ);
	/* A run across two regions gets both page tables. */
	assert_int_equal(shadow_ept_map_new(&s, 0x401ff000, run_hpa, run_perms, 2), 0);
	assert_shadow(&s, 0x401ff000, RAM_HOST + 0x400000, EPT_READ);
	assert_shadow(&s, 0x40200000, RAM_HOST + 0x301000, EPT_READ);
	/* A nested guest scattering its accesses never holds more than
	 * SHADOW_EPT_MAX_TABLES table pages (each 1 GiB apart needs 3). */
	for (uint64_t i = 0; i < 2 * SHADOW_EPT_MAX_TABLES / 3; i++) {
		assert_int_equal(shadow_ept_map(&s, i * GIB, RAM_HOST, EPT_READ), 0);
		assert_true(s.ept.table_pages <= SHADOW_EPT_MAX_TABLES);
	}
	assert_shadow(&s, (2 * SHADOW_EPT_MAX_TABLES / 3 - 1) * GIB, RAM_HOST, EPT_READ);
	shadow_ept_free(&s);
	assert_int_equal(page_alloc_free_bytes(), free0);
}

static void assert_shadow_2m(const struct shadow_ept *s, uint64_t gpa2, uint64_t want_hpa,
			     uint64_t want_perms)
{
	assert_shadow_page(s, gpa2, want_hpa, want_perms, 2 * MIB);
}

static void test_shadow_large(void **state)
{
	(void)state;
	struct shadow_ept s = { 0 };
	struct nested_ept_walk w;
	uint64_t hpa = 0, perms = 0, free0 = page_alloc_free_bytes();

	/* L1's 2 MiB page at L1 2 MiB (read-only): one 2 MiB block of the
	 * VM's RAM, L1's permissions. */
	assert_int_equal(walk(2 * MIB + 0x3000, EPT_READ, &w), NESTED_EPT_OK);
	assert_true(shadow_ept_compose_2m(&ram, &w, &hpa, &perms));
	assert_int_equal(hpa, RAM_HOST + 2 * MIB);
	assert_int_equal(perms, EPT_READ);
	/* L1's 4 KiB pages, a 1 GiB page outside the RAM, a RAM whose end
	 * cuts the block or whose host address is not 2 MiB aligned: no. */
	assert_int_equal(walk(0x5000, EPT_READ, &w), NESTED_EPT_OK);
	assert_false(shadow_ept_compose_2m(&ram, &w, &hpa, &perms));
	assert_int_equal(walk(GIB + 0x2000, EPT_READ, &w), NESTED_EPT_OK);
	assert_false(shadow_ept_compose_2m(&ram, &w, &hpa, &perms));
	assert_int_equal(walk(2 * MIB + 0x3000, EPT_READ, &w), NESTED_EPT_OK);
	struct shadow_ept_ram short_ram = ram, odd_ram = ram;
	short_ram.size = 4 * MIB - 4 * KIB;
	odd_ram.host = RAM_HOST + 4 * KIB;
	assert_false(shadow_ept_compose_2m(&short_ram, &w, &hpa, &perms));
	assert_false(shadow_ept_compose_2m(&odd_ram, &w, &hpa, &perms));

	/* Without large pages the shadow maps none. */
	assert_int_equal(shadow_ept_use(&s, EPTP, false), 1);
	assert_int_equal(shadow_ept_map_2m(&s, 0x40203000, RAM_HOST + 2 * MIB, EPT_READ), 0);
	/* With them: one entry for the region; a misaligned host block or a
	 * region with a page table already are left to 4 KiB pages. */
	assert_int_equal(shadow_ept_use(&s, EPTP, true), 1);
	assert_int_equal(shadow_ept_map_2m(&s, 0x40203000, RAM_HOST + 2 * MIB, EPT_READ), 1);
	assert_shadow_2m(&s, 0x40200000, RAM_HOST + 2 * MIB, EPT_READ);
	assert_shadow_2m(&s, 0x403ff000, RAM_HOST + 2 * MIB + 0x1ff000, EPT_READ);
	assert_int_equal(shadow_ept_map_2m(&s, 0x40600000, RAM_HOST + 4 * KIB, EPT_READ), 0);
	assert_int_equal(shadow_ept_map(&s, 0x40000000, RAM_HOST, EPT_READ), 0);
	assert_int_equal(shadow_ept_map_2m(&s, 0x40001000, RAM_HOST + 2 * MIB, EPT_READ), 0);
	assert_shadow(&s, 0x40000000, RAM_HOST, EPT_READ);
	/* L1 changed its large page without INVEPT (the CPU faulted on it):
	 * the tables start again, as for a 4 KiB page, with the new entry;
	 * a 4 KiB page into a large page's region does the same. */
	assert_int_equal(shadow_ept_map_2m(&s, 0x40203000, RAM_HOST, EPT_RWX), 1);
	assert_shadow_2m(&s, 0x40200000, RAM_HOST, EPT_RWX);
	uint64_t hpa2, perms2;
	assert_int_equal(ept_translate(&s.ept, 0x40000000, &hpa2, &perms2, NULL), -1);
	assert_int_equal(shadow_ept_map(&s, 0x40204000, RAM_HOST + 0x5000, EPT_READ), 0);
	assert_shadow(&s, 0x40204000, RAM_HOST + 0x5000, EPT_READ);
	assert_int_equal(shadow_ept_map_2m(&s, 0x40803000, RAM_HOST, EPT_RWX), 1);
	uint64_t run_hpa[1] = { RAM_HOST + 0x7000 }, run_perms[1] = { EPT_READ };
	assert_int_equal(shadow_ept_map_new(&s, 0x40805000, run_hpa, run_perms, 1), 0);
	assert_shadow(&s, 0x40805000, RAM_HOST + 0x7000, EPT_READ);
	assert_int_equal(ept_translate(&s.ept, 0x40204000, &hpa2, &perms2, NULL), -1);
	shadow_ept_free(&s);
	assert_int_equal(page_alloc_free_bytes(), free0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_leaves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_near, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_violations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_misconfigs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compose, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_large, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
