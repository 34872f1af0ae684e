/* libFuzzer harness: a Multiboot 1 or 2 ELF kernel loaded by
 * vmm/load/image.c (and elf.c, multiboot1.c, multiboot2.c) with two
 * modules into guest RAM between guard pages. The input is the kernel
 * file. */
#include <stdlib.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/load/image.h"

#define RAM_SIZE (8u << 20)
#define MODULE_SIZE 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t module_data[MODULE_SIZE];
	const struct image_file modules[] = {
		{ "configs/files/motd.txt", module_data, 100 },
		{ "disk.img", module_data, MODULE_SIZE },
	};
	struct guest_ram ram = { fuzz_guarded(RAM_SIZE), RAM_SIZE };
	struct image_entry entry;
	char err[160];
	uint8_t *kernel = fuzz_copy(data, size);
	struct image_file k = { "kernel.elf", kernel, size };

	image_load(&k, "console=com1 quiet", modules, 2, &ram, &entry, err, sizeof(err));
	free(kernel);
	fuzz_guarded_clear(ram.host, RAM_SIZE);
	return 0;
}
