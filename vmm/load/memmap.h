/* The guest-physical memory map every VM is given: a PC's, with RAM
 * everywhere except the legacy hole. For a VM of S bytes:
 *
 *   [0,        0x9FC00)   available  conventional memory (639 KiB)
 *   [0x9FC00,  0xA0000)   reserved   extended BIOS data area
 *   [0xF0000,  0x100000)  reserved   system BIOS ROM
 *   [0x100000, S)         available  extended memory
 *
 * [0xA0000, 0xF0000) (VGA memory, option ROMs) is not listed, as on real
 * firmware. Entry types are the E820 ones, which Multiboot 1 (section 3.3,
 * mmap "type") and Multiboot2 (section 3.6.8) use too. */
#ifndef PGVISOR_MEMMAP_H
#define PGVISOR_MEMMAP_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_LOW_RAM_END 0x9FC00ull	 /* conventional memory ends, EBDA begins */
#define GUEST_EBDA_END 0xA0000ull	 /* VGA memory begins */
#define GUEST_BIOS_START 0xF0000ull	 /* 64 KiB system BIOS ROM */
#define GUEST_HIGH_RAM_START 0x100000ull /* 1 MiB: extended memory */

#define MEMMAP_AVAILABLE 1u /* usable RAM */
#define MEMMAP_RESERVED 2u  /* anything else */

#define GUEST_MEMMAP_MAX 4

struct memmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;
};

/* Fills map with the memory map of a VM of ram_size bytes, in ascending
 * order, and returns the number of entries (empty RAM ranges left out). */
unsigned guest_memmap(uint64_t ram_size, struct memmap_entry map[GUEST_MEMMAP_MAX]);

/* Whether [addr, addr + len) lies entirely in one available range of that
 * map (len > 0; false if the range wraps). */
bool guest_memmap_available(uint64_t ram_size, uint64_t addr, uint64_t len);

/* The Multiboot "mem_lower" and "mem_upper" of that map: KiB of RAM from
 * address 0 (at most 639) and from 1 MiB up to the first hole. */
uint32_t guest_mem_lower_kib(uint64_t ram_size);
uint32_t guest_mem_upper_kib(uint64_t ram_size);

/* Guest RAM size as text for messages: "16 MiB", "640 KiB" or "100 bytes". */
void guest_ram_size_str(uint64_t size, char *buf, unsigned buflen);

#endif
