#include "boot/efi/firmware.h"

#include <stdarg.h>
#include <stdio.h>

#define PRINT_MAX 320
#define LOW_MEMORY_LIMIT 0xffffffffull

EFI_HANDLE efi_image;
EFI_SYSTEM_TABLE *efi_st;
EFI_BOOT_SERVICES *efi_bs;

void efi_printf(const char *fmt, ...)
{
	char text[PRINT_MAX];
	CHAR16 wide[2 * PRINT_MAX + 1];
	unsigned n = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			wide[n++] = L'\r';
		wide[n++] = (CHAR16)(unsigned char)*p;
	}
	wide[n] = 0;
	efi_st->ConOut->OutputString(efi_st->ConOut, wide);
}

const char *efi_status_name(EFI_STATUS status)
{
	static char other[32];

	switch (status) {
	case EFI_LOAD_ERROR:
		return "Load Error";
	case EFI_INVALID_PARAMETER:
		return "Invalid Parameter";
	case EFI_UNSUPPORTED:
		return "Unsupported";
	case EFI_BUFFER_TOO_SMALL:
		return "Buffer Too Small";
	case EFI_DEVICE_ERROR:
		return "Device Error";
	case EFI_OUT_OF_RESOURCES:
		return "Out of Resources";
	case EFI_VOLUME_CORRUPTED:
		return "Volume Corrupted";
	case EFI_NO_MEDIA:
		return "No Media";
	case EFI_NOT_FOUND:
		return "Not Found";
	case EFI_ACCESS_DENIED:
		return "Access Denied";
	default:
		snprintf(other, sizeof(other), "status %#llx", (unsigned long long)status);
		return other;
	}
}

EFI_STATUS efi_alloc_low(UINTN bytes, EFI_PHYSICAL_ADDRESS *addr)
{
	*addr = LOW_MEMORY_LIMIT;
	return efi_bs->AllocatePages(AllocateMaxAddress, EfiLoaderData,
				     EFI_SIZE_TO_PAGES(bytes ? bytes : 1), addr);
}
