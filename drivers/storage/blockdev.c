#include "drivers/storage/blockdev.h"

#include <stdio.h>

#include "arch/x86/fault_inject.h"
#include "drivers/console.h"

#define MIB_SECTORS (1024 * 1024 / BLOCK_SECTOR)

static struct blockdev *disks[BLOCKDEV_MAX];
static unsigned ndisks;

int blockdev_register(struct blockdev *d)
{
	if (ndisks == BLOCKDEV_MAX) {
		kprintf("pgvisor: disk %s: not used, pgvisor drives at most %u disks\n", d->name,
			BLOCKDEV_MAX);
		return -1;
	}
	disks[ndisks++] = d;
	kprintf("pgvisor: disk %s: '%s', %llu sectors (%llu MiB)\n", d->name, d->model,
		(unsigned long long)d->sectors, (unsigned long long)(d->sectors / MIB_SECTORS));
	return 0;
}

unsigned blockdev_count(void)
{
	return ndisks;
}

struct blockdev *blockdev_get(unsigned i)
{
	return i < ndisks ? disks[i] : NULL;
}

static bool on_disk(const struct blockdev *d, uint64_t lba, uint32_t count, char *why, size_t len)
{
	if (lba <= d->sectors && count <= d->sectors - lba)
		return true;
	snprintf(why, len, "sectors %llu+%u lie beyond the disk's %llu", (unsigned long long)lba,
		 count, (unsigned long long)d->sectors);
	return false;
}

/* Test build: fault=devtimeout:NAME ends every command of disk NAME as a
 * driver's timeout does, an error with its reason (without the wait). */
static int injected_timeout(const struct blockdev *d, char *why, size_t len)
{
	snprintf(why, len, "timeout: %s did not complete the command (injected)", d->name);
	return -1;
}

/* A read into buf or a write from it, under the disk's lock. */
static int transfer(struct blockdev *d, uint64_t lba, uint32_t count, void *buf, bool write,
		    char *why, size_t len)
{
	int r;

	if (!on_disk(d, lba, count, why, len))
		return -1;
	spin_lock(&d->lock);
	if (fault_device_times_out(d->name))
		r = injected_timeout(d, why, len);
	else
		r = write ? d->ops->write(d, lba, count, buf, why, len)
			  : d->ops->read(d, lba, count, buf, why, len);
	if (r) {
		d->stats.errors++;
	} else if (write) {
		d->stats.writes++;
		d->stats.sectors_written += count;
	} else {
		d->stats.reads++;
		d->stats.sectors_read += count;
	}
	spin_unlock(&d->lock);
	return r;
}

int blockdev_read(struct blockdev *d, uint64_t lba, uint32_t count, void *buf, char *why,
		  size_t len)
{
	return transfer(d, lba, count, buf, false, why, len);
}

/* The driver's write takes buf as const again. */
int blockdev_write(struct blockdev *d, uint64_t lba, uint32_t count, const void *buf, char *why,
		   size_t len)
{
	return transfer(d, lba, count, (void *)buf, true, why, len);
}

int blockdev_flush(struct blockdev *d, char *why, size_t len)
{
	int r;

	spin_lock(&d->lock);
	r = fault_device_times_out(d->name) ? injected_timeout(d, why, len)
					    : d->ops->flush(d, why, len);
	if (r)
		d->stats.errors++;
	else
		d->stats.flushes++;
	spin_unlock(&d->lock);
	return r;
}
