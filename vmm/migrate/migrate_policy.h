/* When live migration's pre-copy stops (Xen's policy, QEMU's downtime
 * limit): after a round that left at most MIGRATE_DIRTY_MAX pages dirty,
 * after MIGRATE_ROUNDS_MAX rounds, or once the pages still dirty would be
 * sent within the downtime limit at the rate the rounds measured. Then
 * stop-and-copy. Needs no VMX: unit-tested on the host. */
#ifndef PGVISOR_MIGRATE_POLICY_H
#define PGVISOR_MIGRATE_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define MIGRATE_DIRTY_MAX 50
#define MIGRATE_ROUNDS_MAX 5
#define MIGRATE_DOWNTIME_DEFAULT_MS 300

enum migrate_stop {
	MIGRATE_GO_ON,
	MIGRATE_STOP_FEW_DIRTY,
	MIGRATE_STOP_ROUNDS,
	MIGRATE_STOP_DOWNTIME,
};

/* After round rounds (from 1) with dirty pages left: go on or why stop.
 * ticks_per_page: what a page cost to send so far; downtime_ticks: the
 * limit. */
enum migrate_stop migrate_policy(unsigned rounds, uint64_t dirty, uint64_t ticks_per_page,
				 uint64_t downtime_ticks);
/* Words for the console: "at most 50 pages dirty", ... */
const char *migrate_stop_name(enum migrate_stop why);

#endif
