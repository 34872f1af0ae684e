#include "boot/efi/exit_boot.h"

#include "boot/efi/firmware.h"
#include "boot/efi_memmap.h"

/* Room for descriptors that appear between sizing the map and reading it
 * (our own allocation splits a range, the firmware's events allocate). */
#define MAP_SLACK_DESCRIPTORS 32
/* A firmware whose map keeps changing gets a few tries (UEFI spec 2.10,
 * 7.4 ExitBootServices: on EFI_INVALID_PARAMETER get the map again). */
#define EXIT_TRIES 8

EFI_STATUS exit_boot_services(struct boot_info *bi)
{
	UINTN map_size = 0, key, desc_size;
	UINT32 desc_version;
	EFI_PHYSICAL_ADDRESS map;
	EFI_STATUS st;

	st = efi_bs->GetMemoryMap(&map_size, NULL, &key, &desc_size, &desc_version);
	if (st != EFI_BUFFER_TOO_SMALL) {
		efi_printf("pgvisor: error: GetMemoryMap gave no size: %s\n", efi_status_name(st));
		return EFI_ERROR(st) ? st : EFI_LOAD_ERROR;
	}
	UINTN capacity = map_size + MAP_SLACK_DESCRIPTORS * desc_size;
	st = efi_alloc_low(capacity, &map);
	if (EFI_ERROR(st)) {
		efi_printf("pgvisor: error: no memory for the memory map: %s\n",
			   efi_status_name(st));
		return st;
	}
	for (unsigned try = 0; try < EXIT_TRIES; try++) {
		/* Between GetMemoryMap and ExitBootServices nothing may
		 * allocate, print or otherwise change the map. */
		map_size = capacity;
		st = efi_bs->GetMemoryMap(&map_size, (EFI_MEMORY_DESCRIPTOR *)map, &key, &desc_size,
					  &desc_version);
		if (EFI_ERROR(st))
			return st;
		st = efi_bs->ExitBootServices(efi_image, key);
		if (st != EFI_INVALID_PARAMETER)
			break;
	}
	if (EFI_ERROR(st))
		return st;
	/* Boot services are gone: an unusable map reaches the hypervisor as
	 * an empty one, which it reports. */
	if (efi_memmap_convert((const void *)map, map_size, desc_size, bi))
		bi->nmem = 0;
	return EFI_SUCCESS;
}
