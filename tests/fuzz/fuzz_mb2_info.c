/* libFuzzer harness: the Multiboot2 boot information (boot/multiboot2_info.c)
 * a boot loader hands pgvisor. The input is the structure; its total_size
 * field is capped at the input's size, as a loader's structure ends where
 * it says. */
#include <stdlib.h>
#include <string.h>

#include "boot/multiboot2_info.h"
#include "tests/fuzz/fuzz_support.h"

#define MB2_FIXED_PART 8 /* total_size, reserved */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	char err[160];
	uint32_t total;

	if (size < MB2_FIXED_PART)
		return 0;
	uint8_t *info = fuzz_copy(data, size);
	memcpy(&total, info, sizeof(total));
	if (total > size) {
		total = (uint32_t)size;
		memcpy(info, &total, sizeof(total));
	}
	mb2_parse_info((uint64_t)(uintptr_t)info, &bi, err, sizeof(err));
	free(info);
	return 0;
}
