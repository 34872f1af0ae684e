#include "drivers/storage/error_selftest.h"

#include <stdint.h>

#include "arch/x86/spinlock.h"
#include "drivers/console.h"
#include "drivers/storage/blockdev.h"

static bool test_disk(struct blockdev *d)
{
	static uint8_t sector[BLOCK_SECTOR];
	char why[128], after[128];
	int beyond, again;

	spin_lock(&d->lock);
	beyond = d->ops->read(d, d->sectors, 1, sector, why, sizeof(why));
	again = d->ops->read(d, 0, 1, sector, after, sizeof(after));
	spin_unlock(&d->lock);
	if (!beyond) {
		kprintf("pgvisor: selftest: disk-errors %s: failed: sector %llu, past the end, "
			"was read\n",
			d->name, (unsigned long long)d->sectors);
		return false;
	}
	if (again) {
		kprintf("pgvisor: selftest: disk-errors %s: failed: sector %llu: %s; then sector "
			"0: %s\n",
			d->name, (unsigned long long)d->sectors, why, after);
		return false;
	}
	kprintf("pgvisor: selftest: disk-errors %s: sector %llu: %s; then sector 0: passed\n",
		d->name, (unsigned long long)d->sectors, why);
	return true;
}

bool disk_error_selftest(void)
{
	bool passed = blockdev_count() > 0;

	if (!passed)
		kprintf("pgvisor: selftest: disk-errors: failed: no disk\n");
	for (unsigned i = 0; i < blockdev_count(); i++)
		if (!test_disk(blockdev_get(i)))
			passed = false;
	return passed;
}
