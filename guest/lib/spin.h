/* A CPU-bound loop with a checkable result: the work guests do while
 * other VMs run, and the workload of efficiency measurements. */
#ifndef GUEST_SPIN_H
#define GUEST_SPIN_H

#include <stdint.h>

/* xorshift32 plus the loop index, iterations times from 0x12345678; the
 * test scripts compute the same to check the result. */
uint32_t spin(uint32_t iterations);

#endif
