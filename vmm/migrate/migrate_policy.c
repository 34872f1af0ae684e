#include "vmm/migrate/migrate_policy.h"

enum migrate_stop migrate_policy(unsigned rounds, uint64_t dirty, uint64_t ticks_per_page,
				 uint64_t downtime_ticks)
{
	if (dirty <= MIGRATE_DIRTY_MAX)
		return MIGRATE_STOP_FEW_DIRTY;
	if (rounds >= MIGRATE_ROUNDS_MAX)
		return MIGRATE_STOP_ROUNDS;
	/* dirty * ticks_per_page <= downtime_ticks, without overflow. */
	if (!ticks_per_page || dirty <= downtime_ticks / ticks_per_page)
		return MIGRATE_STOP_DOWNTIME;
	return MIGRATE_GO_ON;
}

const char *migrate_stop_name(enum migrate_stop why)
{
	switch (why) {
	case MIGRATE_STOP_FEW_DIRTY:
		return "at most 50 pages dirty";
	case MIGRATE_STOP_ROUNDS:
		return "round limit";
	case MIGRATE_STOP_DOWNTIME:
		return "fits the downtime limit";
	case MIGRATE_GO_ON:
		break;
	}
	return "going on";
}
