/* What the firmware tells the hypervisor, read before ExitBootServices:
 * the ACPI RSDP (configuration table, UEFI spec 2.10, 4.6), the GOP
 * framebuffer (12.9) and the firmware's name. */
#ifndef PGVISOR_MACHINE_INFO_H
#define PGVISOR_MACHINE_INFO_H

#include "boot/boot_info.h"

/* Fills bi->acpi_rsdp, bi->fb, bi->loader_name and bi->efi_system_table. */
void machine_info_fill(struct boot_info *bi);

#endif
