#include "vmm/nested/nested_ept.h"

#include "vmm/vmx/ept.h"
#include "vmm/vmx/vmx_caps.h"

#define LEVELS 4
#define ENTRIES_SHIFT 9
#define INDEX_MASK 0x1ffull
#define PAGE_SHIFT_4K 12
#define PAGE_4K (1ull << PAGE_SHIFT_4K)
#define ADDR_TOP 52 /* bits 51:M reserved (SDM 29.3.2) */
/* Execute-only translations are offered (IA32_VMX_EPT_VPID_CAP bit 0). */
#define EPT_CAP_EXEC_ONLY 1ull
/* Bits 7:3 of a PML4E, and of a PDPTE or PDE that references a table,
 * are reserved; a leaf's bits 5:3 are its memory type, of which 2, 3
 * and 7 are reserved (SDM 29.3.3.1). */
#define TABLE_RESERVED 0xf8ull
#define MEMTYPE_SHIFT 3
#define MEMTYPE_MASK 7ull
#define MEMTYPE_2 2ull
#define MEMTYPE_3 3ull
#define MEMTYPE_7 7ull
/* Violation qualification bits (SDM table 28-7): 2:0 the access, 5:3
 * the walk's permissions, 6 mode-based execute (not offered). */
#define QUAL_PERMS_SHIFT 3
#define QUAL_PERMS_MASK (EPT_RWX << QUAL_PERMS_SHIFT)
#define QUAL_USER_EXEC (1ull << 6)

static unsigned level_shift(int level) /* 3 = PML4E ... 0 = PTE */
{
	return PAGE_SHIFT_4K + ENTRIES_SHIFT * (unsigned)level;
}

static uint64_t bits_between(unsigned low, unsigned high_excl)
{
	return high_excl <= low ? 0 : ((1ull << (high_excl - low)) - 1) << low;
}

/* SDM 29.3.3.1: an entry that is present but malformed. */
static bool misconfigured(const struct nested_ept_env *env, uint64_t e, int level, bool leaf)
{
	uint64_t rwx = e & EPT_RWX;

	if ((rwx & EPT_WRITE) && !(rwx & EPT_READ))
		return true;
	if (rwx == EPT_EXEC && !(env->ept_cap & EPT_CAP_EXEC_ONLY))
		return true;
	if (env->pa_bits < ADDR_TOP && (e & bits_between(env->pa_bits, ADDR_TOP)))
		return true;
	if (!leaf)
		return e & TABLE_RESERVED;
	uint64_t type = (e >> MEMTYPE_SHIFT) & MEMTYPE_MASK;
	if (type == MEMTYPE_2 || type == MEMTYPE_3 || type == MEMTYPE_7)
		return true;
	/* A large page's address bits below its size are reserved. */
	return level > 0 && (e & bits_between(PAGE_SHIFT_4K, level_shift(level)));
}

/* Whether the entry at level maps a page (bit 7 at the PDPTE and PDE;
 * always at the PTE). -1: a large page the virtual CPU does not offer,
 * or bit 7 of a PML4E, both reserved. */
static int is_leaf(const struct nested_ept_env *env, uint64_t e, int level)
{
	if (level == 0)
		return 1;
	if (!(e & EPT_LARGE_PAGE))
		return 0;
	if (level == 2)
		return env->ept_cap & EPT_CAP_1GB_PAGES ? 1 : -1;
	if (level == 1)
		return env->ept_cap & EPT_CAP_2MB_PAGES ? 1 : -1;
	return -1;
}

static uint64_t addr_mask_of(const struct nested_ept_env *env)
{
	return bits_between(PAGE_SHIFT_4K, env->pa_bits < ADDR_TOP ? env->pa_bits : ADDR_TOP);
}

/* The walk from table at level down, with the permissions of the
 * entries above it. */
static enum nested_ept_result walk_from(const struct nested_ept_env *env, uint64_t table, int level,
					uint64_t perms, uint64_t gpa2, uint64_t access,
					struct nested_ept_walk *w)
{
	uint64_t addr_mask = addr_mask_of(env);

	w->perms = 0;
	w->gpa1 = 0;
	w->page_size = 0;
	w->leaf_table = 0;
	for (; level >= 0; level--) {
		uint64_t e;
		uint64_t index = (gpa2 >> level_shift(level)) & INDEX_MASK;
		if (env->read(env->ctx, table + index * sizeof(e), &e))
			return NESTED_EPT_MISCONFIG;
		if (!(e & EPT_RWX))
			return NESTED_EPT_VIOLATION;
		int leaf = is_leaf(env, e, level);
		if (leaf < 0 || misconfigured(env, e, level, leaf))
			return NESTED_EPT_MISCONFIG;
		if (leaf) {
			uint64_t size = 1ull << level_shift(level);
			w->leaf_table = table;
			w->leaf_level = level;
			w->upper_perms = perms;
			w->gpa2 = gpa2;
			perms &= e & EPT_RWX;
			w->perms = perms;
			w->page_size = size;
			w->gpa1 = (e & addr_mask & ~(size - 1)) |
				  (gpa2 & (size - 1) & ~(PAGE_4K - 1));
			return (access & EPT_RWX & ~perms) ? NESTED_EPT_VIOLATION : NESTED_EPT_OK;
		}
		perms &= e & EPT_RWX;
		table = e & addr_mask;
	}
	return NESTED_EPT_MISCONFIG; /* not reached: level 0 is always a leaf */
}

enum nested_ept_result nested_ept_walk(const struct nested_ept_env *env, uint64_t eptp,
				       uint64_t gpa2, uint64_t access, struct nested_ept_walk *w)
{
	if (gpa2 >> level_shift(LEVELS)) {
		w->perms = w->gpa1 = w->page_size = w->leaf_table = 0;
		return NESTED_EPT_VIOLATION; /* beyond a 4-level walk */
	}
	return walk_from(env, eptp & addr_mask_of(env), LEVELS - 1, EPT_RWX, gpa2, access, w);
}

enum nested_ept_result nested_ept_walk_near(const struct nested_ept_env *env, uint64_t eptp,
					    const struct nested_ept_walk *near, uint64_t gpa2,
					    uint64_t access, struct nested_ept_walk *w)
{
	if (!near->leaf_table || gpa2 >> level_shift(LEVELS) ||
	    (gpa2 >> level_shift(near->leaf_level + 1)) !=
		    (near->gpa2 >> level_shift(near->leaf_level + 1)))
		return nested_ept_walk(env, eptp, gpa2, access, w);
	return walk_from(env, near->leaf_table, near->leaf_level, near->upper_perms, gpa2, access,
			 w);
}

uint64_t nested_ept_violation_qual(uint64_t hw_qual, uint64_t l1_perms)
{
	return (hw_qual & ~(QUAL_PERMS_MASK | QUAL_USER_EXEC)) |
	       ((l1_perms & EPT_RWX) << QUAL_PERMS_SHIFT);
}
