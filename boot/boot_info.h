/* The one structure every boot path (Multiboot2 through GRUB, or our own
 * UEFI loader in boot/efi/) fills in before the hypervisor core starts. Addresses are
 * host-physical; the hypervisor identity-maps RAM, so they are also usable as pointers. */
#ifndef PGVISOR_BOOT_INFO_H
#define PGVISOR_BOOT_INFO_H

#include <stddef.h>
#include <stdint.h>

/* kmain's first argument when info points to a struct boot_info that our
 * UEFI loader filled in (the Multiboot2 path passes MB2_BOOTLOADER_MAGIC). */
#define BOOT_INFO_MAGIC 0x70677669u /* "pgvi" */

#define BOOT_MAX_MEM_RANGES 128
#define BOOT_MAX_FILES 64
#define BOOT_NAME_MAX 128
#define BOOT_CMDLINE_MAX 256

enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIM = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mem_range {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* enum mem_type (E820 numbering) */
};

/* A file handed over by the boot loader: a Multiboot2 module whose command
 * line is its name, or a file read from the EFI system partition. */
struct boot_file {
	char name[BOOT_NAME_MAX];
	const uint8_t *data;
	size_t size;
};

#define BOOT_FB_TYPE_RGB 1

struct boot_framebuffer {
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp;
	uint8_t type; /* 0 indexed, 1 RGB (BOOT_FB_TYPE_RGB), 2 EGA text */
	/* RGB: bit position and width of each colour in a pixel. */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct boot_info {
	const char *loader; /* "multiboot2", "uefi" */
	char cmdline[BOOT_CMDLINE_MAX];
	char loader_name[64];
	unsigned nmem;
	struct mem_range mem[BOOT_MAX_MEM_RANGES];
	unsigned mem_dropped; /* ranges of the firmware's map that did not fit */
	unsigned nfiles;
	struct boot_file files[BOOT_MAX_FILES];
	uint64_t acpi_rsdp;	    /* physical address of the RSDP, 0 when none */
	struct boot_framebuffer fb; /* addr == 0 when none */
	/* EFI_SYSTEM_TABLE, 0 when not booted by UEFI; its runtime services
	 * stay usable in physical mode after ExitBootServices. */
	uint64_t efi_system_table;
	/* Physical ranges the allocator must not hand out: the image itself,
	 * the boot loader's info and every module. */
	uint64_t image_start, image_end;
	uint64_t info_start, info_end;
};

#endif
