/* The hand-over: the final memory map and ExitBootServices. */
#ifndef PGVISOR_EXIT_BOOT_H
#define PGVISOR_EXIT_BOOT_H

#include <efi.h>

#include "boot/boot_info.h"

/* Prepares a buffer for the memory map (may print an error and return
 * one), then gets the map and exits boot services, retrying while the map
 * key is stale; converts the map into bi->mem. After EFI_SUCCESS no boot
 * service may be used, printing included. */
EFI_STATUS exit_boot_services(struct boot_info *bi);

#endif
