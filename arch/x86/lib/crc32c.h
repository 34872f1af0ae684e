/* CRC-32C (Castagnoli), as iSCSI (RFC 3720 B.4), ext4 and btrfs compute it:
 * the reflected polynomial 0x82F63B78, initial value and final XOR all
 * ones. The SSE4.2 CRC32 instruction computes it where the CPU has one,
 * eight bytes at a time; a table gives the same values elsewhere. */
#ifndef ARCH_X86_LIB_CRC32C_H
#define ARCH_X86_LIB_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRC32C_INIT 0u

/* The CRC of data[0..len) continued from crc, the CRC of what came before
 * (CRC32C_INIT for none): crc32c(crc32c(0, a), b) == crc32c(0, a b).
 * Picks the SSE4.2 path when CPUID.1:ECX.SSE4_2 says so. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

/* The two paths crc32c picks from, for tests that hold them equal.
 * crc32c_sse42 only where crc32c_have_sse42() is true. */
uint32_t crc32c_software(uint32_t crc, const void *data, size_t len);
uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t len);
bool crc32c_have_sse42(void);

#endif
