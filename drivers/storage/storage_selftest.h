/* "selftest=storage": on every disk, the partition named "scratch" (if
 * the disk has it) gets a known pattern written, flushed and read back.
 * Its first SELFTEST_BYTES (or all of it, if smaller) are overwritten. */
#ifndef PGVISOR_STORAGE_SELFTEST_H
#define PGVISOR_STORAGE_SELFTEST_H

#include <stdbool.h>
#include <stdint.h>

#define SELFTEST_PARTITION "scratch"
#define SELFTEST_BYTES (256u * 1024)
/* 64-bit word k of the pattern (little-endian, k counted from the
 * partition's first byte) is (SELFTEST_SEED + k) * SELFTEST_MULTIPLIER
 * mod 2^64: every sector differs, and a host can check the disk image. */
#define SELFTEST_SEED 0x70677669736f72ull /* "pgvisor" */
#define SELFTEST_MULTIPLIER 0x9e3779b97f4a7c15ull

/* One line a disk; true when every scratch partition passed and there was
 * at least one. */
bool storage_selftest(void);

#endif
