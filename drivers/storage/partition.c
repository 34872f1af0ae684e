#include "drivers/storage/partition.h"

#include <stdio.h>
#include <string.h>

#include "arch/x86/spinlock.h"
#include "drivers/console.h"

#define MIB_SECTORS (1024 * 1024 / BLOCK_SECTOR)

static struct partition parts[PARTITION_MAX];
static unsigned nparts;
/* Opens come from VM creation on any CPU. */
static struct spinlock holders_lock;

int partition_add(struct blockdev *disk, const char *name, uint64_t first_lba, uint64_t sectors,
		  bool boot)
{
	struct partition *p, *other = partition_find(name);

	if (other) {
		kprintf("pgvisor: disk %s: partition '%s' not used: %s has one of that name\n",
			disk->name, name, other->disk->name);
		return -1;
	}
	if (nparts == PARTITION_MAX) {
		kprintf("pgvisor: disk %s: partition '%s' not used: at most %u partitions\n",
			disk->name, name, PARTITION_MAX);
		return -1;
	}
	p = &parts[nparts++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->disk = disk;
	p->first_lba = first_lba;
	p->sectors = sectors;
	p->boot = boot;
	kprintf("pgvisor: disk %s: partition '%s' at sector %llu, %llu MiB%s\n", disk->name,
		p->name, (unsigned long long)first_lba, (unsigned long long)(sectors / MIB_SECTORS),
		boot ? ", boot partition (read-only to VMs)" : "");
	return 0;
}

struct partition *partition_find(const char *name)
{
	for (unsigned i = 0; i < nparts; i++)
		if (!strcmp(parts[i].name, name))
			return &parts[i];
	return NULL;
}

int partition_open(struct partition *p, const char *vm, bool writable, char *why, size_t len)
{
	int r = -1;

	spin_lock(&holders_lock);
	if (writable && p->boot)
		snprintf(why, len, "partition '%s' holds boot files: never writable by a VM",
			 p->name);
	else if (p->writer)
		snprintf(why, len, "partition '%s' is held writable by %s", p->name, p->writer);
	else if (writable && p->readers)
		snprintf(why, len, "partition '%s' is open read-only by %u VM(s)", p->name,
			 p->readers);
	else {
		if (writable)
			p->writer = vm;
		else
			p->readers++;
		r = 0;
	}
	spin_unlock(&holders_lock);
	return r;
}

void partition_close(struct partition *p, bool writable)
{
	spin_lock(&holders_lock);
	if (writable)
		p->writer = NULL;
	else if (p->readers)
		p->readers--;
	spin_unlock(&holders_lock);
}

static bool in_partition(const struct partition *p, uint64_t sector, uint32_t count, char *why,
			 size_t len)
{
	if (sector <= p->sectors && count <= p->sectors - sector)
		return true;
	snprintf(why, len, "sectors %llu+%u lie beyond partition '%s' (%llu sectors)",
		 (unsigned long long)sector, count, p->name, (unsigned long long)p->sectors);
	return false;
}

int partition_read(struct partition *p, uint64_t sector, uint32_t count, void *buf, char *why,
		   size_t len)
{
	if (!in_partition(p, sector, count, why, len))
		return -1;
	return blockdev_read(p->disk, p->first_lba + sector, count, buf, why, len);
}

int partition_write(struct partition *p, uint64_t sector, uint32_t count, const void *buf,
		    char *why, size_t len)
{
	if (!in_partition(p, sector, count, why, len))
		return -1;
	return blockdev_write(p->disk, p->first_lba + sector, count, buf, why, len);
}

int partition_flush(struct partition *p, char *why, size_t len)
{
	return blockdev_flush(p->disk, why, len);
}
