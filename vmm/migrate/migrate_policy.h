/* When live migration's pre-copy stops (Xen's policy, QEMU's downtime
 * limit): after a round that left at most MIGRATE_DIRTY_MAX pages dirty,
 * after MIGRATE_ROUNDS_MAX rounds, once the pages still dirty would be
 * sent within the downtime limit at the rate the rounds measured, or when
 * another round and a stop-and-copy as big as it would send more than
 * MIGRATE_SENT_FACTOR times the guest's pages in all (Xen's 3x). Then
 * stop-and-copy. Needs no VMX: unit-tested on the host. */
#ifndef PGVISOR_MIGRATE_POLICY_H
#define PGVISOR_MIGRATE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define MIGRATE_DIRTY_MAX 50
#define MIGRATE_ROUNDS_MAX 5
#define MIGRATE_DOWNTIME_DEFAULT_MS 300
#define MIGRATE_SENT_FACTOR 3

enum migrate_stop {
	MIGRATE_GO_ON,
	MIGRATE_STOP_FEW_DIRTY,
	MIGRATE_STOP_ROUNDS,
	MIGRATE_STOP_DOWNTIME,
	MIGRATE_STOP_SENT,
};

/* Where the migration stands after a round. */
struct migrate_progress {
	unsigned rounds;	 /* done, from 1 */
	uint64_t dirty;		 /* pages dirty now */
	uint64_t sent;		 /* pages sent so far */
	uint64_t pages;		 /* the guest's */
	uint64_t ticks_per_page; /* what a page cost to send so far */
};

/* Go on or why stop; downtime_ticks: the limit. */
enum migrate_stop migrate_policy(const struct migrate_progress *p, uint64_t downtime_ticks);
/* Words for the console: "at most 50 pages dirty", ... */
const char *migrate_stop_name(enum migrate_stop why);

#endif
