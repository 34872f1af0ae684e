/* The UEFI memory map (UEFI spec 2.10, 7.2 GetMemoryMap) -> the E820-style
 * ranges of struct boot_info. Pure C: used by the UEFI loader (boot/efi/), by the
 * Multiboot2 parser (GRUB-EFI's EFI memory map tag) and by the unit tests. */
#ifndef PGVISOR_EFI_MEMMAP_H
#define PGVISOR_EFI_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include "boot/boot_info.h"

#define EFI_MEMMAP_PAGE_SIZE 4096ull

/* EFI_MEMORY_TYPE (UEFI spec 2.10, Table 7-5). */
enum efi_memory_type {
	EFI_RESERVED_MEMORY = 0,
	EFI_LOADER_CODE = 1,
	EFI_LOADER_DATA = 2,
	EFI_BOOT_SERVICES_CODE = 3,
	EFI_BOOT_SERVICES_DATA = 4,
	EFI_RUNTIME_SERVICES_CODE = 5,
	EFI_RUNTIME_SERVICES_DATA = 6,
	EFI_CONVENTIONAL_MEMORY = 7,
	EFI_UNUSABLE_MEMORY = 8,
	EFI_ACPI_RECLAIM_MEMORY = 9,
	EFI_ACPI_MEMORY_NVS = 10,
	EFI_MEMORY_MAPPED_IO = 11,
	EFI_MEMORY_MAPPED_IO_PORT_SPACE = 12,
	EFI_PAL_CODE = 13,
	EFI_PERSISTENT_MEMORY = 14,
};

/* EFI_MEMMAP_RUNTIME: the firmware uses the range after ExitBootServices. */
#define EFI_MEMMAP_RUNTIME (1ull << 63)

/* EFI_MEMORY_DESCRIPTOR (UEFI spec 2.10, 7.2). The firmware's descriptors
 * may be larger: always step by the DescriptorSize it returns. */
struct efi_memory_descriptor {
	uint32_t type;
	uint32_t pad;
	uint64_t physical_start;
	uint64_t virtual_start;
	uint64_t number_of_pages;
	uint64_t attribute;
};

/* The boot_info type of one EFI memory type, as the machine is after
 * ExitBootServices (UEFI spec 2.10, Table 7-6): boot services and loader
 * memory are free (the hypervisor reserves its image, the boot information
 * and its files itself), runtime memory is the firmware's. */
enum mem_type efi_memmap_type(uint32_t efi_type, uint64_t attribute);

/* Replaces bi->mem with the ranges of the map_size-byte map (descriptors of
 * desc_size bytes), sorted and with adjacent ranges of one type merged.
 * Ranges beyond BOOT_MAX_MEM_RANGES are counted in bi->mem_dropped. Returns
 * -1 when desc_size is smaller than a descriptor (a malformed map). */
int efi_memmap_convert(const void *map, size_t map_size, size_t desc_size, struct boot_info *bi);

#endif
