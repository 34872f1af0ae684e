/* libFuzzer harness: the firmware's memory map (boot/efi_memmap.c), which
 * the UEFI loader and GRUB-EFI's tag 17 pass on. The first byte picks the
 * descriptor size (the firmware's DescriptorSize), the rest is the map. */
#include <stdlib.h>

#include "boot/efi_memmap.h"
#include "tests/fuzz/fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;

	if (size < 1)
		return 0;
	size_t desc_size = data[0];
	uint8_t *map = fuzz_copy(data + 1, size - 1);
	efi_memmap_convert(map, size - 1, desc_size, &bi);
	free(map);
	return 0;
}
