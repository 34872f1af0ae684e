/* Files on the EFI system partition the loader was started from, through
 * the Simple File System protocol (UEFI spec 2.10, 13.4 and 13.5). */
#ifndef PGVISOR_ESP_H
#define PGVISOR_ESP_H

#include <efi.h>

/* The root directory of the volume efi_image was loaded from. */
EFI_STATUS esp_open_root(EFI_FILE_HANDLE *root);

/* Reads the file at path ('/' between names, relative to the root) into
 * pages below 4 GiB: *data, *size. */
EFI_STATUS esp_read_file(EFI_FILE_HANDLE root, const char *path, UINT8 **data, UINTN *size);

#endif
