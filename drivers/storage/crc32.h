/* CRC-32 as GPT (UEFI 2.10, 5.3.2), zlib and Ethernet compute it: the
 * reflected polynomial 0xEDB88320, initial value and final XOR all ones. */
#ifndef PGVISOR_CRC32_H
#define PGVISOR_CRC32_H

#include <stddef.h>
#include <stdint.h>

#define CRC32_INIT 0u

/* The CRC of data[0..len) continued from crc, the CRC of what came before
 * (CRC32_INIT for none): crc32(crc32(0, a), b) == crc32(0, a b). */
uint32_t crc32(uint32_t crc, const void *data, size_t len);

#endif
