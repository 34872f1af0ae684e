/* pgvisor's UEFI loader (build/pgvisor.efi, BOOTX64.EFI on the ESP): reads
 * pgvisor.conf, the VM configs it names and the files those name from the
 * EFI system partition, places the embedded hypervisor at its physical
 * addresses, fills in the struct boot_info the Multiboot2 path builds,
 * exits boot services and enters the hypervisor (boot/entry64_efi.S).
 * Any error before ExitBootServices is printed and returned to the
 * firmware, which then goes on to its next boot option. */
#include <efi.h>
#include <string.h>

#include "boot/boot_info.h"
#include "boot/efi/boot_conf.h"
#include "boot/efi/esp.h"
#include "boot/efi/exit_boot.h"
#include "boot/efi/firmware.h"
#include "boot/efi/kernel_image.h"
#include "boot/efi/machine_info.h"
#include "vmm/load/config.h"

/* The address of efi_entry64 in build/pgvisor.elf (generated: nm). */
#include "kernel_entry.h"

#define ERR_MAX 200
/* Seconds an error stays on the screen before the firmware takes over
 * (any key ends the wait). */
#define ERROR_WAIT_SECONDS 30
#define TIMER_TICKS_PER_SECOND 10000000ull /* 100 ns units (UEFI spec 7.1) */

typedef void (*kernel_entry_fn)(uint32_t magic, uint64_t info) __attribute__((noreturn));

static struct boot_conf conf;
static struct vm_config vm;

static EFI_STATUS fail(EFI_STATUS st)
{
	EFI_EVENT events[2] = { efi_st->ConIn->WaitForKey, NULL };
	UINTN which;
	EFI_INPUT_KEY key;

	efi_printf("pgvisor: not started; press a key to return to the firmware\n");
	if (!EFI_ERROR(efi_bs->CreateEvent(EVT_TIMER, 0, NULL, NULL, &events[1])) &&
	    !EFI_ERROR(efi_bs->SetTimer(events[1], TimerRelative,
					ERROR_WAIT_SECONDS * TIMER_TICKS_PER_SECOND))) {
		efi_bs->WaitForEvent(2, events, &which);
		efi_st->ConIn->ReadKeyStroke(efi_st->ConIn, &key);
	}
	if (events[1])
		efi_bs->CloseEvent(events[1]);
	return st;
}

/* Reads path into bi->files unless it is there already; *file: its entry. */
static EFI_STATUS add_file(EFI_FILE_HANDLE root, struct boot_info *bi, const char *path,
			   const char *why, const struct boot_file **file)
{
	struct boot_file *f;
	UINTN size;
	UINT8 *data;
	EFI_STATUS st;

	for (unsigned i = 0; i < bi->nfiles; i++) {
		if (!strcmp(bi->files[i].name, path)) {
			*file = &bi->files[i];
			return EFI_SUCCESS;
		}
	}
	if (bi->nfiles == BOOT_MAX_FILES) {
		efi_printf("pgvisor: error: more than %u files to load\n", BOOT_MAX_FILES);
		return EFI_OUT_OF_RESOURCES;
	}
	if (strlen(path) >= sizeof(f->name)) {
		efi_printf("pgvisor: error: file name too long: %s\n", path);
		return EFI_INVALID_PARAMETER;
	}
	st = esp_read_file(root, path, &data, &size);
	if (EFI_ERROR(st)) {
		efi_printf("pgvisor: error: cannot read %s (%s): %s\n", path, why,
			   efi_status_name(st));
		return st;
	}
	f = &bi->files[bi->nfiles++];
	memcpy(f->name, path, strlen(path) + 1);
	f->data = data;
	f->size = size;
	*file = f;
	return EFI_SUCCESS;
}

/* A VM config and every file it names: kernel, ramdisk, modules, disks. */
static EFI_STATUS add_vm(EFI_FILE_HANDLE root, struct boot_info *bi, const char *cfg_path)
{
	const struct boot_file *cfg, *named;
	char err[ERR_MAX];
	EFI_STATUS st;

	st = add_file(root, bi, cfg_path, "a vm in " BOOT_CONF_NAME, &cfg);
	if (EFI_ERROR(st))
		return st;
	if (config_parse((const char *)cfg->data, cfg->size, cfg->name, &vm, err, sizeof(err))) {
		efi_printf("pgvisor: config error: %s\n", err);
		return EFI_INVALID_PARAMETER;
	}
	st = add_file(root, bi, vm.kernel, cfg_path, &named);
	if (!EFI_ERROR(st) && vm.ramdisk[0])
		st = add_file(root, bi, vm.ramdisk, cfg_path, &named);
	for (unsigned i = 0; !EFI_ERROR(st) && i < vm.nmodules; i++)
		st = add_file(root, bi, vm.modules[i], cfg_path, &named);
	/* Disk images too (a guest's disk is then the copy in memory), but
	 * not partitions: the hypervisor's own disk drivers reach those. */
	for (unsigned i = 0; !EFI_ERROR(st) && i < vm.ndisks; i++)
		if (!vm.disks[i].partition)
			st = add_file(root, bi, vm.disks[i].target, cfg_path, &named);
	return st;
}

static EFI_STATUS load_files(struct boot_info *bi)
{
	char err[ERR_MAX];
	EFI_FILE_HANDLE root;
	UINT8 *text;
	UINTN size;
	EFI_STATUS st;

	st = esp_open_root(&root);
	if (EFI_ERROR(st)) {
		efi_printf("pgvisor: error: cannot open the EFI system partition: %s\n",
			   efi_status_name(st));
		return st;
	}
	st = esp_read_file(root, BOOT_CONF_NAME, &text, &size);
	if (EFI_ERROR(st)) {
		efi_printf("pgvisor: error: cannot read \\%s: %s\n", BOOT_CONF_NAME,
			   efi_status_name(st));
		return st;
	}
	if (boot_conf_parse((const char *)text, size, &conf, err, sizeof(err))) {
		efi_printf("pgvisor: config error: %s\n", err);
		return EFI_INVALID_PARAMETER;
	}
	memcpy(bi->cmdline, conf.cmdline, sizeof(bi->cmdline));
	for (unsigned i = 0; i < conf.nvms && !EFI_ERROR(st); i++)
		st = add_vm(root, bi, conf.vms[i]);
	root->Close(root);
	return st;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *system_table)
{
	char err[ERR_MAX];
	EFI_PHYSICAL_ADDRESS info;
	struct boot_info *bi;
	EFI_STATUS st;

	efi_image = image;
	efi_st = system_table;
	efi_bs = system_table->BootServices;
	efi_printf("pgvisor: UEFI loader\n");
	st = efi_alloc_low(sizeof(*bi), &info);
	if (EFI_ERROR(st)) {
		efi_printf("pgvisor: error: no memory for the boot information: %s\n",
			   efi_status_name(st));
		return fail(st);
	}
	bi = (struct boot_info *)info;
	memset(bi, 0, sizeof(*bi));
	bi->info_start = info;
	bi->info_end = info + sizeof(*bi);
	st = load_files(bi);
	if (EFI_ERROR(st))
		return fail(st);
	st = kernel_image_load(err, sizeof(err));
	if (EFI_ERROR(st)) {
		efi_printf("pgvisor: error: %s\n", err);
		return fail(st);
	}
	machine_info_fill(bi);
	efi_printf("pgvisor: %u files loaded; exiting boot services\n", bi->nfiles);
	st = exit_boot_services(bi);
	if (EFI_ERROR(st)) {
		efi_printf("pgvisor: error: ExitBootServices failed: %s\n", efi_status_name(st));
		return fail(st);
	}
	/* Ours alone from here: no firmware interrupts either. */
	__asm__ volatile("cli");
	((kernel_entry_fn)KERNEL_EFI_ENTRY)(BOOT_INFO_MAGIC, (uint64_t)bi);
}
