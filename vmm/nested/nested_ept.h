/* A guest hypervisor's (L1's) EPT as its nested guest's (L2's) accesses
 * walk it (SDM Vol. 3 29.3.2): every entry read from L1's memory and
 * checked, never trusted. The result is the L1-physical address and the
 * permissions, or the EPT violation or misconfiguration L1 gets as its
 * exit. Pure computation over a reader, so the host unit tests walk a
 * table in a buffer. */
#ifndef PGVISOR_NESTED_EPT_H
#define PGVISOR_NESTED_EPT_H

#include <stdint.h>

struct nested_ept_env {
	/* Reads the 8-byte entry at L1-physical gpa: 0, or -1 when it is
	 * outside L1's RAM (an entry of all-ones, as unbacked memory reads,
	 * hence a misconfiguration). */
	int (*read)(void *ctx, uint64_t gpa, uint64_t *entry);
	void *ctx;
	unsigned pa_bits; /* L1's physical-address width (CPUID 0x80000008) */
	uint64_t ept_cap; /* the virtual CPU's IA32_VMX_EPT_VPID_CAP */
};

enum nested_ept_result { NESTED_EPT_OK, NESTED_EPT_VIOLATION, NESTED_EPT_MISCONFIG };

struct nested_ept_walk {
	uint64_t gpa1;	    /* L1-physical address of the 4 KiB page (leaf offset applied) */
	uint64_t perms;	    /* EPT_READ | EPT_WRITE | EPT_EXEC: the AND over the walk */
	uint64_t page_size; /* of L1's leaf: 4 KiB, 2 MiB or 1 GiB */
	/* Where a walk that reached a leaf found it: the table (L1-physical),
	 * its level (0: page table ... 2: PDPT), the permissions of the
	 * entries above it and the L2-physical address walked, for
	 * nested_ept_walk_near. */
	uint64_t leaf_table, upper_perms, gpa2;
	int leaf_level;
};

/* Translates L2-physical gpa2 through L1's tables at eptp (already
 * checked by VM entry) for access (EPT_READ/WRITE/EXEC bits, as in an
 * EPT violation's qualification bits 2:0). On NESTED_EPT_VIOLATION
 * w->perms holds what L1's walk allowed (0 for an entry not present). */
enum nested_ept_result nested_ept_walk(const struct nested_ept_env *env, uint64_t eptp,
				       uint64_t gpa2, uint64_t access, struct nested_ept_walk *w);

/* The same walk for gpa2 as nested_ept_walk, when gpa2 lies in the
 * part of L2-physical space near's leaf table maps (near: a walk that
 * returned NESTED_EPT_OK or a violation at its leaf): only gpa2's entry
 * of that table is read. Anything else: the whole walk. */
enum nested_ept_result nested_ept_walk_near(const struct nested_ept_env *env, uint64_t eptp,
					    const struct nested_ept_walk *near, uint64_t gpa2,
					    uint64_t access, struct nested_ept_walk *w);

/* The qualification of the EPT violation L1 gets (SDM table 28-7): the
 * access, the linear-address bits and NMI unblocking as the CPU reported
 * them for the shadow tables, bits 5:3 from L1's walk. */
uint64_t nested_ept_violation_qual(uint64_t hw_qual, uint64_t l1_perms);

#endif
