#ifndef PGVISOR_CMOS_CLOCK_H
#define PGVISOR_CMOS_CLOCK_H

#include <stdint.h>

/* The machine's real-time clock, read once from the MC146818 CMOS, in
 * seconds since 1970-01-01 00:00:00 UTC (the RTC is taken to run in UTC,
 * as Linux and Bochs' time0 assume). 0 when the clock reads as invalid. */
uint64_t cmos_clock_read_epoch(void);

#endif
