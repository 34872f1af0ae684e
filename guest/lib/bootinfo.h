/* The boot information a Multiboot1 or Multiboot2 loader hands over,
 * reduced to what guest programs use. */
#ifndef GUEST_BOOTINFO_H
#define GUEST_BOOTINFO_H

#include <stdbool.h>
#include <stdint.h>

#define MB1_BOOTLOADER_MAGIC 0x2badb002u
#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define BOOT_MAX_MODULES 8

struct boot_module {
	const char *name; /* the module's command line; "" when none */
	uint32_t start;
	uint32_t size;
};

struct boot_params {
	const char *protocol;	  /* "mb1" or "mb2" */
	const char *cmdline;	  /* "" when none */
	const char *loader_name;  /* "" when none */
	bool have_memory_map;	  /* else the sizes come from mem_lower/upper */
	uint64_t usable_below_1m; /* bytes of usable RAM below 1 MiB */
	uint64_t usable_above_1m;
	unsigned nmodules; /* all modules, even beyond BOOT_MAX_MODULES */
	struct boot_module modules[BOOT_MAX_MODULES];
};

/* Fills out from the info structure at info. Returns -1 when magic is
 * neither Multiboot magic. */
int boot_params_parse(uint32_t magic, uint32_t info, struct boot_params *out);

/* The value of option key in a command line of space-separated words:
 * "spin=5" gives "5..." (up to the next space), a bare "halt" gives "".
 * NULL when the option is absent. */
const char *cmdline_option(const char *cmdline, const char *key);

/* Decimal, or hexadecimal with 0x, up to the first non-digit. */
uint32_t parse_uint(const char *s);

#endif
