/* libFuzzer harness: a Linux bzImage loaded by vmm/load/bzimage.c with an
 * initrd into guest RAM between guard pages, ACPI tables at its top as
 * pgvisor lays them out. The input is the kernel file. */
#include <stdlib.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/load/bzimage.h"
#include "vmm/load/image.h"

#define RAM_SIZE (32u << 20)
#define ACPI_SIZE (64u << 10)
#define INITRD_SIZE 8192u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t initrd_data[INITRD_SIZE];
	const struct image_file initrd = { "initrd.img", initrd_data, INITRD_SIZE };
	struct guest_ram ram = { fuzz_guarded(RAM_SIZE), RAM_SIZE };
	struct bzimage_layout layout;
	struct bzimage_entry entry;
	char err[200];
	uint8_t *kernel = fuzz_copy(data, size);
	struct image_file k = { "vmlinuz", kernel, size };

	bzimage_default_layout(&layout);
	layout.acpi_base = RAM_SIZE - ACPI_SIZE;
	layout.acpi_size = ACPI_SIZE;
	layout.rsdp = layout.acpi_base;
	if (bzimage_probe(kernel, size))
		bzimage_load(&k, size % 2 ? &initrd : NULL, "console=ttyS0 root=/dev/vda", &ram,
			     &layout, &entry, err, sizeof(err));
	free(kernel);
	fuzz_guarded_clear(ram.host, RAM_SIZE);
	return 0;
}
