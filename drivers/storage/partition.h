/* The named partitions of the disks pgvisor drives (GPT, drivers/storage/
 * gpt.c finds them) and who holds them. A VM disk "part:NAME" is one of
 * these: sectors are relative to the partition and never leave it. A
 * partition is held by one writer or by any number of readers, never
 * both; a boot partition (EFI system, BIOS boot, or marked legacy-BIOS
 * bootable: where pgvisor's own files may lie) is never writable. */
#ifndef PGVISOR_PARTITION_H
#define PGVISOR_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/storage/blockdev.h"

#define PARTITION_NAME_MAX 36 /* a GPT name: 36 UTF-16 units */
#define PARTITION_MAX 32

struct partition {
	char name[PARTITION_NAME_MAX + 1]; /* ASCII; other characters become '?' */
	struct blockdev *disk;
	uint64_t first_lba, sectors;
	bool boot;
	const char *writer; /* the VM holding it writable, or NULL */
	unsigned readers;
};

/* Adds a partition of disk (called by the GPT scan). A name already taken
 * on another disk is refused with one line: "part:NAME" must mean one
 * place. 0 or -1. */
int partition_add(struct blockdev *disk, const char *name, uint64_t first_lba, uint64_t sectors,
		  bool boot);
struct partition *partition_find(const char *name);

/* Takes p for the VM named vm (read-only or writable), or -1 with why. */
int partition_open(struct partition *p, const char *vm, bool writable, char *why, size_t len);
void partition_close(struct partition *p, bool writable);

/* blockdev_* within the partition: sector counts from its start. */
int partition_read(struct partition *p, uint64_t sector, uint32_t count, void *buf, char *why,
		   size_t len);
int partition_write(struct partition *p, uint64_t sector, uint32_t count, const void *buf,
		    char *why, size_t len);
int partition_flush(struct partition *p, char *why, size_t len);

#endif
