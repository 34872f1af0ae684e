/* The boot information a Multiboot1 or Multiboot2 loader hands over,
 * reduced to what guest programs use. */
#ifndef GUEST_BOOTINFO_H
#define GUEST_BOOTINFO_H

#include <stdbool.h>
#include <stdint.h>

#define MB1_BOOTLOADER_MAGIC 0x2badb002u
#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define BOOT_MAX_MODULES 8
#define BOOT_MAX_RANGES 16
/* The info structure and what it points to: for Multiboot1 the structure,
 * memory map, module list, command line, loader name and module strings. */
#define BOOT_MAX_INFO_PIECES (5 + BOOT_MAX_MODULES)

struct boot_module {
	const char *name; /* the module's command line; "" when none */
	uint32_t start;
	uint32_t size;
};

/* [start, end) in physical memory. */
struct boot_range {
	uint64_t start, end;
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
	/* Usable RAM from the memory map, in map order; none without a map.
	 * Like nmodules, the counts include entries beyond the arrays. */
	unsigned nusable;
	struct boot_range usable[BOOT_MAX_RANGES];
	/* Where the boot information lies, so programs that write all free
	 * RAM leave it alone. */
	unsigned ninfo;
	struct boot_range info[BOOT_MAX_INFO_PIECES];
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
