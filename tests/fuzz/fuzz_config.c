/* libFuzzer harness: a VM config file (vmm/load/config.c) as the boot
 * medium hands it over, and the path resolution its file names go
 * through. */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_support.h"
#include "vmm/load/config.h"

#define CONFIG_PATH "configs/fuzz/vm.cfg"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_config cfg;
	char err[160];
	char *text = (char *)fuzz_copy(data, size);

	config_parse(text, size, CONFIG_PATH, &cfg, err, sizeof(err));
	free(text);

	/* The input as a base directory and a relative name, split at the
	 * first NUL; both as C strings. */
	const uint8_t *nul = memchr(data, '\0', size);
	if (nul) {
		char *base = fuzz_text(data, (size_t)(nul - data));
		char *rel = fuzz_text(nul + 1, size - (size_t)(nul - data) - 1);
		char out[CFG_PATH_MAX];
		config_resolve_path(base, rel, out, sizeof(out));
		free(base);
		free(rel);
	}
	return 0;
}
