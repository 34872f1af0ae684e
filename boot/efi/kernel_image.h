/* The hypervisor (build/pgvisor.elf, a non-PIC ELF64 linked at 1 MiB) is
 * embedded in the loader (boot/efi/kernel_blob.S); this places its segments at
 * their physical addresses with AllocatePages(AllocateAddress). */
#ifndef PGVISOR_KERNEL_IMAGE_H
#define PGVISOR_KERNEL_IMAGE_H

#include <efi.h>

extern const UINT8 kernel_elf[], kernel_elf_end[];

/* Loads the embedded image; on error returns the status and writes the
 * reason into err. */
EFI_STATUS kernel_image_load(char *err, UINTN errlen);

#endif
