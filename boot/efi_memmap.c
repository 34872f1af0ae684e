/* UEFI memory map -> boot_info memory ranges (UEFI spec 2.10, 7.2). */
#include "boot/efi_memmap.h"

#include <string.h>

/* The last page-aligned address: a descriptor claiming more pages than the
 * address space has is cut there instead of wrapping around. */
#define EFI_MAX_ADDRESS (~0ull & ~(EFI_MEMMAP_PAGE_SIZE - 1))

enum mem_type efi_memmap_type(uint32_t efi_type, uint64_t attribute)
{
	/* Runtime ranges must stay untouched: ResetSystem runs from them. */
	if (attribute & EFI_MEMMAP_RUNTIME)
		return MEM_RESERVED;
	switch (efi_type) {
	/* Loader memory is the OS's after ExitBootServices (UEFI spec 2.10,
	 * Table 7-6). What of it the hypervisor still needs, its own image,
	 * the boot information and every file, it reserves by name in
	 * memory_init; the rest (GRUB's heap: a quarter of RAM) is free. */
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BOOT_SERVICES_CODE:
	case EFI_BOOT_SERVICES_DATA:
	case EFI_CONVENTIONAL_MEMORY:
		return MEM_USABLE;
	case EFI_UNUSABLE_MEMORY:
		return MEM_BAD;
	case EFI_ACPI_RECLAIM_MEMORY:
		return MEM_ACPI_RECLAIM;
	case EFI_ACPI_MEMORY_NVS:
		return MEM_ACPI_NVS;
	default:
		/* Runtime services, MMIO, PAL code, persistent and unknown
		 * types. */
		return MEM_RESERVED;
	}
}

static uint64_t range_length(const struct efi_memory_descriptor *d)
{
	uint64_t room =
		d->physical_start < EFI_MAX_ADDRESS ? EFI_MAX_ADDRESS - d->physical_start : 0;

	if (d->number_of_pages > room / EFI_MEMMAP_PAGE_SIZE)
		return room;
	return d->number_of_pages * EFI_MEMMAP_PAGE_SIZE;
}

static void sort_ranges(struct mem_range *r, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct mem_range x = r[i];
		unsigned j = i;
		for (; j > 0 && r[j - 1].base > x.base; j--)
			r[j] = r[j - 1];
		r[j] = x;
	}
}

/* Merges ranges of one type that touch; n ranges sorted by base. */
static unsigned merge_ranges(struct mem_range *r, unsigned n)
{
	unsigned out = 0;

	for (unsigned i = 0; i < n; i++) {
		if (out && r[out - 1].type == r[i].type &&
		    r[out - 1].base + r[out - 1].length == r[i].base) {
			r[out - 1].length += r[i].length;
			continue;
		}
		r[out++] = r[i];
	}
	return out;
}

int efi_memmap_convert(const void *map, size_t map_size, size_t desc_size, struct boot_info *bi)
{
	const uint8_t *p = map;

	if (desc_size < sizeof(struct efi_memory_descriptor))
		return -1;
	bi->nmem = 0;
	bi->mem_dropped = 0;
	for (size_t off = 0; off + desc_size <= map_size; off += desc_size) {
		struct efi_memory_descriptor d;
		memcpy(&d, p + off, sizeof(d));
		uint64_t length = range_length(&d);
		if (!length)
			continue;
		struct mem_range r = { d.physical_start, length,
				       efi_memmap_type(d.type, d.attribute) };
		/* Firmware maps come sorted: most ranges merge with the last. */
		struct mem_range *last = bi->nmem ? &bi->mem[bi->nmem - 1] : NULL;
		if (last && last->type == r.type && last->base + last->length == r.base) {
			last->length += r.length;
			continue;
		}
		if (bi->nmem == BOOT_MAX_MEM_RANGES) {
			bi->mem_dropped++;
			continue;
		}
		bi->mem[bi->nmem++] = r;
	}
	sort_ranges(bi->mem, bi->nmem);
	bi->nmem = merge_ranges(bi->mem, bi->nmem);
	return 0;
}
