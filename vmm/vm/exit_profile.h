/* Per-vCPU exit profile: how many exits of each reason, how many host TSC
 * ticks the hypervisor spent on each, how long the guest ran between them,
 * and which I/O ports and MSRs caused the exits. The exit path updates it
 * with a handful of instructions; reports (the summary, the profile
 * hypercall) do the sorting. */
#ifndef PGVISOR_EXIT_PROFILE_H
#define PGVISOR_EXIT_PROFILE_H

#include <stdint.h>

#include "vmm/abi/hypercall_abi.h"
#include "vmm/vmx/exit_reason.h"

/* Keys (ports, MSR indexes) are counted in a small open-addressed table;
 * a key that finds no slot within PROFILE_KEY_PROBES counts as "other". */
#define PROFILE_KEY_SLOTS 64
#define PROFILE_KEY_PROBES 4
#define PROFILE_NO_REASON 0xffffu

struct key_counts {
	uint32_t key[PROFILE_KEY_SLOTS];
	uint64_t count[PROFILE_KEY_SLOTS]; /* 0: slot free */
	uint64_t other;
};

struct exit_profile {
	uint64_t count[EXIT_REASON_COUNT];
	uint64_t unusual; /* exits not in count[]: failed entries, unknown reasons */
	/* Host ticks from an exit to the next entry of the same vCPU, by the
	 * exit's reason; an exit after which the CPU switched to another vCPU
	 * is counted but its time is the scheduler's (sched_get_stats). */
	uint64_t ticks[EXIT_REASON_COUNT];
	uint64_t timed[EXIT_REASON_COUNT]; /* exits whose ticks were measured */
	uint64_t guest_ticks;		   /* entry to exit: the guest ran */
	struct key_counts ports, msrs;
};

void profile_reset(struct exit_profile *p);
/* Sums the exit path does not keep (it only counts and adds per reason):
 * all exits, and the hypervisor's ticks over all reasons. */
uint64_t profile_total(const struct exit_profile *p);
uint64_t profile_root_ticks(const struct exit_profile *p);
/* The slot key hashes to (Fibonacci hashing spreads neighbouring ports
 * such as 0x3f8..0x3ff apart). */
static inline unsigned profile_key_slot(uint32_t key)
{
	return (unsigned)((key * 2654435769u) >> 26) & (PROFILE_KEY_SLOTS - 1);
}
void profile_count_key_slow(struct key_counts *k, uint32_t key);
/* Counts one exit for key. Inline: I/O and MSR exits call it, and a key
 * seen before is nearly always in its first slot. */
static inline void profile_count_key(struct key_counts *k, uint32_t key)
{
	unsigned s = profile_key_slot(key);

	if (k->count[s] && k->key[s] == key)
		k->count[s]++;
	else
		profile_count_key_slow(k, key);
}
/* Adds src into dst (a VM's vCPUs into one). */
void profile_add(struct exit_profile *dst, const struct exit_profile *src);
/* The n most frequent keys, most frequent first (ties: lower key first);
 * returns how many there are (at most n). */
unsigned profile_top_keys(const struct key_counts *k, uint32_t *keys, uint64_t *counts, unsigned n);
/* The hypercall's view of p (HC_PROFILE_READ). */
void profile_export(const struct exit_profile *p, struct hc_exit_profile *out);

#endif
