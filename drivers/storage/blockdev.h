/* A disk pgvisor drives itself (ATA, AHCI, NVMe), whatever the controller:
 * 512-byte sectors read, written and flushed synchronously. Drivers fill in
 * a struct blockdev and register it; everything above (partitions, VM
 * disks, the self-test) goes through the blockdev_* calls, which check the
 * range, serialize callers on different CPUs and count. */
#ifndef PGVISOR_BLOCKDEV_H
#define PGVISOR_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86/spinlock.h"

#define BLOCK_SECTOR 512
#define BLOCKDEV_NAME_MAX 16
#define BLOCKDEV_MODEL_MAX 40
#define BLOCKDEV_MAX 8

struct blockdev;

/* Each returns 0 once the device reported the command complete, or -1 with
 * why filled in ("timeout after 5 s", "device error 0x04"). buf may be any
 * address and count any number of sectors: the driver splits and bounces as
 * its controller needs. A completed write may still sit in the device's
 * write cache until flush returns 0. */
struct blockdev_ops {
	int (*read)(struct blockdev *d, uint64_t lba, uint32_t count, void *buf, char *why,
		    size_t len);
	int (*write)(struct blockdev *d, uint64_t lba, uint32_t count, const void *buf, char *why,
		     size_t len);
	int (*flush)(struct blockdev *d, char *why, size_t len);
};

struct blockdev_stats {
	uint64_t reads, writes, flushes, errors;
	uint64_t sectors_read, sectors_written;
};

struct blockdev {
	char name[BLOCKDEV_NAME_MAX];	    /* "ata0", "ahci0", "nvme0n1" */
	char model[BLOCKDEV_MODEL_MAX + 1]; /* what the device calls itself */
	uint64_t sectors;
	const struct blockdev_ops *ops;
	void *priv; /* the driver's */
	struct spinlock lock;
	struct blockdev_stats stats;
};

/* Adds d to the disks pgvisor drives and prints one line about it. */
int blockdev_register(struct blockdev *d);
unsigned blockdev_count(void);
struct blockdev *blockdev_get(unsigned i);

/* The driver's operation under the disk's lock, refused (-1, why) when
 * [lba, lba + count) is not on the disk. */
int blockdev_read(struct blockdev *d, uint64_t lba, uint32_t count, void *buf, char *why,
		  size_t len);
int blockdev_write(struct blockdev *d, uint64_t lba, uint32_t count, const void *buf, char *why,
		   size_t len);
int blockdev_flush(struct blockdev *d, char *why, size_t len);

#endif
