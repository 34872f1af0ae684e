/* The guest-physical memory map (see memmap.h). */
#include "vmm/load/memmap.h"

#include <stdio.h>

#include "vmm/load/bytes.h"

static unsigned add(struct memmap_entry *map, unsigned n, uint64_t base, uint64_t end,
		    uint32_t type)
{
	if (end <= base)
		return n;
	map[n].base = base;
	map[n].length = end - base;
	map[n].type = type;
	return n + 1;
}

unsigned guest_memmap(uint64_t ram_size, struct memmap_entry map[GUEST_MEMMAP_MAX])
{
	unsigned n = 0;
	uint64_t low_end = ram_size < GUEST_LOW_RAM_END ? ram_size : GUEST_LOW_RAM_END;

	n = add(map, n, 0, low_end, MEMMAP_AVAILABLE);
	n = add(map, n, GUEST_LOW_RAM_END, GUEST_EBDA_END, MEMMAP_RESERVED);
	n = add(map, n, GUEST_BIOS_START, GUEST_HIGH_RAM_START, MEMMAP_RESERVED);
	n = add(map, n, GUEST_HIGH_RAM_START, ram_size, MEMMAP_AVAILABLE);
	return n;
}

bool guest_memmap_available(uint64_t ram_size, uint64_t addr, uint64_t len)
{
	struct memmap_entry map[GUEST_MEMMAP_MAX];
	unsigned n = guest_memmap(ram_size, map);

	if (len == 0)
		return false;
	for (unsigned i = 0; i < n; i++) {
		if (map[i].type != MEMMAP_AVAILABLE || addr < map[i].base)
			continue;
		if (range_within(addr - map[i].base, len, map[i].length))
			return true;
	}
	return false;
}

uint32_t guest_mem_lower_kib(uint64_t ram_size)
{
	return (uint32_t)((ram_size < GUEST_LOW_RAM_END ? ram_size : GUEST_LOW_RAM_END) / 1024);
}

uint32_t guest_mem_upper_kib(uint64_t ram_size)
{
	uint64_t kib;

	if (ram_size <= GUEST_HIGH_RAM_START)
		return 0;
	kib = (ram_size - GUEST_HIGH_RAM_START) / 1024;
	return kib > UINT32_MAX ? UINT32_MAX : (uint32_t)kib;
}

void guest_ram_size_str(uint64_t size, char *buf, unsigned buflen)
{
	if (size && size % (1024 * 1024) == 0)
		snprintf(buf, buflen, "%llu MiB", (unsigned long long)(size >> 20));
	else if (size && size % 1024 == 0)
		snprintf(buf, buflen, "%llu KiB", (unsigned long long)(size >> 10));
	else
		snprintf(buf, buflen, "%llu bytes", (unsigned long long)size);
}
