/* libFuzzer harness: pgvisor.conf (boot/efi/boot_conf.c), which the UEFI
 * loader reads from the EFI system partition. */
#include <stdlib.h>

#include "boot/efi/boot_conf.h"
#include "tests/fuzz/fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_conf conf;
	char err[160];
	char *text = (char *)fuzz_copy(data, size);

	boot_conf_parse(text, size, &conf, err, sizeof(err));
	free(text);
	return 0;
}
