#include "arch/x86/efi_runtime.h"

#include "arch/x86/fpu.h"

/* Table signatures (UEFI spec 2.10, 4.3 and 4.5). */
#define EFI_SYSTEM_TABLE_SIGNATURE 0x5453595320494249ull     /* "IBI SYST" */
#define EFI_RUNTIME_SERVICES_SIGNATURE 0x56524553544e5552ull /* "RUNTSERV" */
#define EFI_RESET_SHUTDOWN 2				     /* EFI_RESET_TYPE */
#define EFI_SUCCESS 0

struct efi_table_header {
	uint64_t signature;
	uint32_t revision, header_size, crc32, reserved;
};

typedef void(__attribute__((ms_abi)) * efi_reset_system_fn)(uint32_t type, uint64_t status,
							    uint64_t data_size, void *data);

/* The fields up to the ones we use (UEFI spec 2.10, 4.3 and 4.5). */
struct efi_system_table {
	struct efi_table_header hdr;
	uint64_t firmware_vendor;
	uint32_t firmware_revision;
	uint64_t console_in_handle, con_in, console_out_handle, con_out;
	uint64_t standard_error_handle, std_err;
	uint64_t runtime_services;
};

struct efi_runtime_services {
	struct efi_table_header hdr;
	uint64_t get_time, set_time, get_wakeup_time, set_wakeup_time;
	uint64_t set_virtual_address_map, convert_pointer;
	uint64_t get_variable, get_next_variable_name, set_variable;
	uint64_t get_next_high_monotonic_count;
	efi_reset_system_fn reset_system;
};

void efi_reset_shutdown(uint64_t system_table)
{
	const struct efi_system_table *st = (const struct efi_system_table *)system_table;

	if (!st || st->hdr.signature != EFI_SYSTEM_TABLE_SIGNATURE || !st->runtime_services)
		return;
	const struct efi_runtime_services *rt =
		(const struct efi_runtime_services *)st->runtime_services;
	if (rt->hdr.signature != EFI_RUNTIME_SERVICES_SIGNATURE || !rt->reset_system)
		return;
	/* Firmware code may use SSE: the x64 calling convention expects it
	 * enabled (UEFI spec 2.10, 2.3.4). */
	fpu_init_cpu();
	rt->reset_system(EFI_RESET_SHUTDOWN, EFI_SUCCESS, 0, 0);
}
