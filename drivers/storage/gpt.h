/* GUID partition tables (UEFI 2.10, 5.3): reads the primary header and
 * entries of a disk and adds its named partitions (drivers/storage/
 * partition.h). A table that lies (bad CRC, entries beyond the usable
 * sectors or the disk, overlapping entries) refuses the whole disk with one
 * line; the backup table is not consulted. */
#ifndef PGVISOR_GPT_H
#define PGVISOR_GPT_H

#include <stddef.h>

#include "drivers/storage/blockdev.h"

/* 0 when d had a valid GPT (its partitions added); -1 with why when it had
 * none or a broken one. */
int gpt_scan(struct blockdev *d, char *why, size_t len);

#endif
