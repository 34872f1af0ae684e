#ifndef PGVISOR_MULTIBOOT2_INFO_H
#define PGVISOR_MULTIBOOT2_INFO_H

#include <stdint.h>

#include "boot/boot_info.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289

/* Fills bi from the Multiboot2 information structure at info (Multiboot2
 * spec 3.6). Returns 0, or -1 with a reason in err. */
int mb2_parse_info(uint64_t info, struct boot_info *bi, char *err, unsigned errlen);

#endif
