/* Guest image loading: a kernel file placed into a VM's RAM the way GRUB
 * (or QEMU -kernel) would place it, with the boot information structure the
 * image's format asks for. Pure functions over byte buffers, so the host
 * unit tests run them on corrupted inputs. */
#ifndef PGVISOR_IMAGE_H
#define PGVISOR_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* A VM's RAM as the hypervisor sees it: guest-physical [0, size) is backed
 * by host memory [host, host + size). */
struct guest_ram {
	uint8_t *host;
	uint64_t size;
};

/* One input file (kernel or module) in hypervisor memory. */
struct image_file {
	const char *name;
	const uint8_t *data;
	size_t size;
};

enum image_format {
	IMAGE_MULTIBOOT1,
	IMAGE_MULTIBOOT2,
};

/* The register state the image must be entered with: 32-bit protected
 * mode, paging off, flat segments, EFLAGS = 2 (the Multiboot machine
 * state). */
struct image_entry {
	enum image_format format;
	uint32_t eip;
	uint32_t eax; /* boot loader magic */
	uint32_t ebx; /* guest-physical address of the info structure */
};

/* Loads kernel into ram (zero-filled beforehand by the caller), followed by
 * the modules and the Multiboot 1 or 2 information structure (memory map of
 * ram->size with the legacy hole at 640 KiB-1 MiB, command line, modules,
 * boot loader name "pgvisor"). A kernel carrying both headers is loaded as
 * Multiboot2. On error returns -1 and writes one line naming the cause
 * ("not an ELF file", "truncated: ...", "wrong architecture ...", "does not
 * fit in 4 MiB of RAM", "no Multiboot header", ...) into err. Nothing is
 * written outside ram, whatever the image contains. */
int image_load(const struct image_file *kernel, const char *cmdline,
	       const struct image_file *modules, unsigned nmodules, struct guest_ram *ram,
	       struct image_entry *entry, char *err, size_t errlen);

#endif
