#include "vmm/migrate/migrate_policy.h"

enum migrate_stop migrate_policy(const struct migrate_progress *p, uint64_t downtime_ticks)
{
	if (p->dirty <= MIGRATE_DIRTY_MAX)
		return MIGRATE_STOP_FEW_DIRTY;
	if (p->rounds >= MIGRATE_ROUNDS_MAX)
		return MIGRATE_STOP_ROUNDS;
	/* dirty * ticks_per_page <= downtime_ticks, without overflow. */
	if (!p->ticks_per_page || p->dirty <= downtime_ticks / p->ticks_per_page)
		return MIGRATE_STOP_DOWNTIME;
	/* sent + 2 * dirty > 3 * pages, without overflow (all are below
	 * 2^52: pages of at most 2^64 bytes). */
	if (p->dirty > p->pages || p->sent + 2 * p->dirty > MIGRATE_SENT_FACTOR * p->pages)
		return MIGRATE_STOP_SENT;
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
	case MIGRATE_STOP_SENT:
		return "another round would send over 3x the guest's pages";
	case MIGRATE_GO_ON:
		break;
	}
	return "going on";
}
