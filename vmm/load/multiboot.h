/* What Multiboot 1 and Multiboot2 have in common, from the loader's side:
 * the requests a kernel's header makes, and the facts the boot information
 * structure reports. multiboot1.h and multiboot2.h parse the headers into
 * and build the information from these. */
#ifndef PGVISOR_MULTIBOOT_H
#define PGVISOR_MULTIBOOT_H

#include <stdbool.h>
#include <stdint.h>

/* A Multiboot header's requests, in the terms both versions share. */
struct mb_request {
	uint32_t header_offset; /* where the header is in the file */
	/* MB1 flag 16 ("a.out kludge") or an MB2 address tag: load the file
	 * as a flat binary at these addresses instead of reading ELF headers
	 * (MB1 section 3.1.3, MB2 section 3.1.5). An MB2 load_addr of -1 has
	 * already been turned into the address of file offset 0. */
	bool has_addr;
	uint32_t header_addr;
	uint32_t load_addr;
	uint32_t load_end_addr; /* 0: up to the end of the file */
	uint32_t bss_end_addr;	/* 0: no bss */
	/* MB1 entry_addr (with flag 16) or an MB2 entry address tag. */
	bool has_entry;
	uint32_t entry_addr;
	/* MB1 flag 0 or an MB2 module alignment tag: modules on 4 KiB pages
	 * (pgvisor page-aligns them anyway). */
	bool page_align_modules;
};

/* A module as loaded into guest memory: [start, end), end exclusive. */
struct mb_module {
	const char *name;
	uint32_t start;
	uint32_t end;
};

/* Everything the boot information structure reports. */
struct mb_boot_info {
	const char *cmdline;	 /* never NULL */
	const char *loader_name; /* never NULL */
	const struct mb_module *modules;
	unsigned nmodules;
	uint64_t ram_size; /* the memory map is guest_memmap(ram_size) */
};

#define MB_MODULE_ALIGN 4096u /* page alignment of modules */

#endif
