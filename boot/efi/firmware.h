/* The UEFI loader's view of the firmware (gnu-efi headers): the tables
 * efi_main was given, printing on the UEFI console, and status names. */
#ifndef PGVISOR_EFI_FIRMWARE_H
#define PGVISOR_EFI_FIRMWARE_H

#include <efi.h>

extern EFI_HANDLE efi_image;
extern EFI_SYSTEM_TABLE *efi_st;
extern EFI_BOOT_SERVICES *efi_bs;

/* printf to ConOut ('\n' becomes "\r\n"); only before ExitBootServices. */
void efi_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "Not Found", ... (UEFI spec 2.10, Appendix D) or "status 0x...". */
const char *efi_status_name(EFI_STATUS status);

/* Pages of type EfiLoaderData below 4 GiB (where the hypervisor's boot map
 * reaches); *addr their physical address. */
EFI_STATUS efi_alloc_low(UINTN bytes, EFI_PHYSICAL_ADDRESS *addr);

#endif
