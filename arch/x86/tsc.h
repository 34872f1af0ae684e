#ifndef PGVISOR_TSC_H
#define PGVISOR_TSC_H

#include <stdint.h>

/* Measures the TSC rate: CPUID leaf 0x15 when it states it, else against
 * PIT channel 2 (gated through port 0x61, no interrupts needed). */
void tsc_calibrate(void);
uint64_t tsc_hz(void);

#endif
