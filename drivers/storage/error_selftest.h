/* "selftest=disk-errors": every disk is asked for the sector just past its
 * end, straight through its driver (blockdev_read would refuse it first).
 * The driver must report the device's error, and the disk must then read
 * its sector 0 again: errors are reported, and recovered from. */
#ifndef PGVISOR_ERROR_SELFTEST_H
#define PGVISOR_ERROR_SELFTEST_H

#include <stdbool.h>

/* One line a disk; true when every disk passed and there was at least
 * one. */
bool disk_error_selftest(void);

#endif
