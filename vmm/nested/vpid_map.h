/* VPID for L2: a vCPU's map from the VPIDs its guest hypervisor (L1)
 * runs nested guests (L2) with to the host VPIDs VMCS02 tags their
 * translations with, so that each of L1's VPIDs has a tagged TLB of its
 * own, as on the CPU (SDM 29.1): a switch between them flushes nothing,
 * and L1's INVVPID of one drops only that one's. A few entries; a new
 * VPID of L1's takes a free one or the least recently used, whose host
 * VPID is flushed before it is used again. Which host VPID an entry is
 * (entry index within the vCPU's range) is the caller's; this is the
 * bookkeeping alone, so the host unit tests check it. */
#ifndef PGVISOR_NESTED_VPID_MAP_H
#define PGVISOR_NESTED_VPID_MAP_H

#include <stdbool.h>
#include <stdint.h>

/* Entries per vCPU: L1 VPIDs with translations kept at once. */
#define VPID_MAP_ENTRIES 8

struct vpid_map_entry {
	uint16_t vpid12; /* L1's VPID; 0: the entry is free */
	/* The host CPU of the map holds no stale translation under the
	 * entry's host VPID: none of another L1 VPID, none L1 invalidated. */
	bool fresh;
	uint64_t last_use; /* the map's clock at the last use, for eviction */
};

struct vpid_map {
	struct vpid_map_entry e[VPID_MAP_ENTRIES];
	uint64_t clock;
	/* The host CPU the entries' freshness is about (on_cpu: known). */
	unsigned cpu;
	bool on_cpu;
	uint64_t evictions; /* entries given to another L1 VPID */
	/* L1's VPID of the last entry into L2 while its entry stays fresh
	 * on cpu; 0 otherwise (none yet, without VPID, made stale). */
	uint16_t fast;
};

/* Whether an entry into L2 with vpid12 on host CPU cpu may go as the
 * last one did, with no work and no flush: that one used vpid12's entry
 * on cpu, and it is still fresh. Inline: it runs at every entry. */
static inline bool vpid_map_same(const struct vpid_map *m, uint16_t vpid12, unsigned cpu)
{
	return vpid12 && m->fast == vpid12 && m->cpu == cpu;
}

/* An entry into L2 without VPID (no entry of the map's used). */
static inline void vpid_map_no_vpid(struct vpid_map *m)
{
	m->fast = 0;
}

/* Empty: every entry free and stale (a new vCPU, reset, restore). */
void vpid_map_reset(struct vpid_map *m);

/* L2 is to run on host CPU cpu: if another than last time, every entry
 * is stale there (that CPU may hold old translations under the host
 * VPIDs). Returns true when the CPU changed. */
bool vpid_map_move(struct vpid_map *m, unsigned cpu);

/* The entry for an entry into L2 with L1's VPID vpid12 (nonzero): its
 * own, else a free one, else the least recently used (evicted). *flush:
 * its host VPID's translations must be dropped before L2 runs (a new or
 * stale entry); the entry is fresh and most recently used after. */
unsigned vpid_map_use(struct vpid_map *m, uint16_t vpid12, bool *flush);

/* The entry holding vpid12, or -1 (then no host VPID holds any of its
 * translations: an entry is flushed before it is used). */
int vpid_map_find(const struct vpid_map *m, uint16_t vpid12);

/* The entry's translations are to go at its next use (L1's INVVPID). */
void vpid_map_stale(struct vpid_map *m, unsigned index);

/* Every entry's translations are to go at its next use. */
void vpid_map_stale_all(struct vpid_map *m);

#endif
