#include "boot/efi/esp.h"

#include <string.h>

#include "boot/efi/firmware.h"
#include "vmm/load/config.h"

/* EFI_FILE_INFO with room for the file name. */
#define FILE_INFO_BYTES (sizeof(EFI_FILE_INFO) + CFG_PATH_MAX * sizeof(CHAR16))

EFI_STATUS esp_open_root(EFI_FILE_HANDLE *root)
{
	EFI_GUID loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	EFI_LOADED_IMAGE *image;
	EFI_FILE_IO_INTERFACE *fs;
	EFI_STATUS st;

	st = efi_bs->HandleProtocol(efi_image, &loaded_image_guid, (void **)&image);
	if (EFI_ERROR(st))
		return st;
	st = efi_bs->HandleProtocol(image->DeviceHandle, &fs_guid, (void **)&fs);
	if (EFI_ERROR(st))
		return st;
	return fs->OpenVolume(fs, root);
}

/* "a/b.cfg" -> L"a\\b.cfg" (UEFI file names use '\'; UEFI spec 13.5.1). */
static EFI_STATUS wide_path(const char *path, CHAR16 *out, size_t outlen)
{
	size_t n = strlen(path);

	if (n >= outlen)
		return EFI_INVALID_PARAMETER;
	for (size_t i = 0; i <= n; i++)
		out[i] = path[i] == '/' ? L'\\' : (CHAR16)(unsigned char)path[i];
	return EFI_SUCCESS;
}

EFI_STATUS esp_read_file(EFI_FILE_HANDLE root, const char *path, UINT8 **data, UINTN *size)
{
	EFI_GUID info_guid = EFI_FILE_INFO_ID;
	static UINT8 info_buf[FILE_INFO_BYTES] __attribute__((aligned(8)));
	UINTN info_size = sizeof(info_buf);
	CHAR16 name[CFG_PATH_MAX];
	EFI_FILE_HANDLE file;
	EFI_PHYSICAL_ADDRESS addr;
	EFI_STATUS st;

	st = wide_path(path, name, CFG_PATH_MAX);
	if (EFI_ERROR(st))
		return st;
	st = root->Open(root, &file, name, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	st = file->GetInfo(file, &info_guid, &info_size, info_buf);
	if (EFI_ERROR(st))
		goto out;
	const EFI_FILE_INFO *info = (const EFI_FILE_INFO *)info_buf;
	if (info->Attribute & EFI_FILE_DIRECTORY) {
		st = EFI_NOT_FOUND;
		goto out;
	}
	*size = info->FileSize;
	st = efi_alloc_low(*size, &addr);
	if (EFI_ERROR(st))
		goto out;
	*data = (UINT8 *)addr;
	UINTN got = *size;
	st = file->Read(file, &got, *data);
	if (!EFI_ERROR(st) && got != *size)
		st = EFI_VOLUME_CORRUPTED;
	if (EFI_ERROR(st))
		efi_bs->FreePages(addr, EFI_SIZE_TO_PAGES(*size ? *size : 1));
out:
	file->Close(file);
	return st;
}
