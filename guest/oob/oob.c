/* oob: touches one 32-bit word at a guest-physical address (cmdline
 * addr=0x..., default 64 MiB) to show that pgvisor stops a VM reaching
 * outside its RAM: under pgvisor the EPT violation ends it before
 * "still running"; on bare hardware with enough RAM it carries on. */
#include <stdint.h>

#include "guest/lib/bootinfo.h"
#include "guest/lib/console.h"
#include "guest/lib/runtime.h"

#define DEFAULT_ADDRESS 0x4000000u

const char program_name[] = "oob";

int main(uint32_t magic, uint32_t info)
{
	struct boot_params bp;
	const char *cmdline = boot_params_parse(magic, info, &bp) == 0 ? bp.cmdline : "";
	const char *addr_option = cmdline_option(cmdline, "addr");
	uint32_t address = addr_option ? parse_uint(addr_option) : DEFAULT_ADDRESS;

	printf("oob: touching 0x%08x\n", address);
	volatile uint32_t *word = (volatile uint32_t *)address;
	uint32_t value = *word;
	*word = value ^ 0xffffffffu;
	printf("oob: still running (read 0x%08x)\n", value);
	return 0;
}
