/* UEFI runtime services the hypervisor uses after ExitBootServices, called
 * in physical mode through the identity map (UEFI spec 2.10, 8). */
#ifndef PGVISOR_EFI_RUNTIME_H
#define PGVISOR_EFI_RUNTIME_H

#include <stdint.h>

/* ResetSystem(EfiResetShutdown) through the EFI_SYSTEM_TABLE at
 * system_table. Returns only when the table is not valid or the firmware
 * did not turn the machine off. */
void efi_reset_shutdown(uint64_t system_table);

#endif
