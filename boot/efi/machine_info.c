#include "boot/efi/machine_info.h"

#include <stdio.h>
#include <string.h>

#include "boot/efi/firmware.h"

#define BITS_PER_BYTE 8
#define RGBX_BPP 32

static uint64_t find_rsdp(void)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	uint64_t rsdp = 0;

	/* Prefer the ACPI 2.0 RSDP (it has the XSDT) over the 1.0 one. */
	for (UINTN i = 0; i < efi_st->NumberOfTableEntries; i++) {
		const EFI_CONFIGURATION_TABLE *t = &efi_st->ConfigurationTable[i];
		if (!memcmp(&t->VendorGuid, &acpi20, sizeof(EFI_GUID)))
			return (uint64_t)t->VendorTable;
		if (!memcmp(&t->VendorGuid, &acpi10, sizeof(EFI_GUID)))
			rsdp = (uint64_t)t->VendorTable;
	}
	return rsdp;
}

/* Position and width of the contiguous bits of mask. */
static void mask_field(uint32_t mask, uint8_t *pos, uint8_t *size)
{
	*pos = *size = 0;
	if (!mask)
		return;
	while (!(mask & 1)) {
		mask >>= 1;
		(*pos)++;
	}
	while (mask & 1) {
		mask >>= 1;
		(*size)++;
	}
}

static void find_framebuffer(struct boot_framebuffer *fb)
{
	EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;

	memset(fb, 0, sizeof(*fb));
	if (EFI_ERROR(efi_bs->LocateProtocol(&gop_guid, NULL, (void **)&gop)) || !gop->Mode ||
	    !gop->Mode->Info)
		return;
	const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
	fb->bpp = RGBX_BPP;
	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
		fb->red_pos = 0, fb->green_pos = 8, fb->blue_pos = 16;
		break;
	case PixelBlueGreenRedReserved8BitPerColor:
		fb->blue_pos = 0, fb->green_pos = 8, fb->red_pos = 16;
		break;
	case PixelBitMask: {
		const EFI_PIXEL_BITMASK *m = &info->PixelInformation;
		uint32_t all = m->RedMask | m->GreenMask | m->BlueMask | m->ReservedMask;
		mask_field(m->RedMask, &fb->red_pos, &fb->red_size);
		mask_field(m->GreenMask, &fb->green_pos, &fb->green_size);
		mask_field(m->BlueMask, &fb->blue_pos, &fb->blue_size);
		fb->bpp = 0;
		while (all) {
			all >>= BITS_PER_BYTE;
			fb->bpp += BITS_PER_BYTE;
		}
		break;
	}
	default: /* PixelBltOnly: no linear framebuffer */
		return;
	}
	if (info->PixelFormat != PixelBitMask)
		fb->red_size = fb->green_size = fb->blue_size = BITS_PER_BYTE;
	fb->addr = gop->Mode->FrameBufferBase;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	fb->pitch = info->PixelsPerScanLine * (fb->bpp / BITS_PER_BYTE);
	fb->type = BOOT_FB_TYPE_RGB;
}

void machine_info_fill(struct boot_info *bi)
{
	char vendor[40];
	unsigned n = 0;

	bi->acpi_rsdp = find_rsdp();
	find_framebuffer(&bi->fb);
	bi->efi_system_table = (uint64_t)efi_st;
	for (const CHAR16 *v = efi_st->FirmwareVendor; v && *v && n + 1 < sizeof(vendor); v++)
		vendor[n++] = *v < 0x80 ? (char)*v : '?';
	vendor[n] = '\0';
	snprintf(bi->loader_name, sizeof(bi->loader_name), "pgvisor.efi on %s firmware %#x", vendor,
		 efi_st->FirmwareRevision);
}
