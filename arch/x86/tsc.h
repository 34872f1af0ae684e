#ifndef PGVISOR_TSC_H
#define PGVISOR_TSC_H

#include <stdint.h>

/* Measures the TSC rate against PIT channel 2 (gated through port 0x61,
 * no interrupts needed) and takes CPUID leaf 0x15's statement of it
 * where the two agree within TSC_AGREE_PERCENT (leaf 0x15 is exact, the
 * 20 ms measurement only close), the measurement where they do not (an
 * emulator's CPU model may state a rate its TSC does not keep: Bochs
 * 2.7's Ice Lake says 1.5 GHz and counts one tick an instruction, the
 * PIT's 50 MHz), and leaf 0x15 without a PIT. */
void tsc_calibrate(void);
uint64_t tsc_hz(void);
/* What CPUID leaf 0x15 states (0: nothing), for the boot line. */
uint64_t tsc_enumerated_hz(void);

#endif
