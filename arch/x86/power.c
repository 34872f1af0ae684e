#include "arch/x86/power.h"

#include "arch/x86/acpi.h"
#include "arch/x86/cpu.h"
#include "arch/x86/efi_runtime.h"
#include "vmm/abi/hypercall_abi.h"

#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1u << 13)
#define POWER_OFF_SETTLE_SPINS 1000000

static uint64_t efi_system_table;

void power_use_efi(uint64_t system_table)
{
	efi_system_table = system_table;
}

static void settle(void)
{
	for (int i = 0; i < POWER_OFF_SETTLE_SPINS; i++)
		cpu_relax();
}

void power_off(void)
{
	const struct acpi_info *a = acpi_get();
	static const char bochs_shutdown[] = "Shutdown";

	__asm__ volatile("cli");
	if (efi_system_table)
		efi_reset_shutdown(efi_system_table);
	if (a->s5_valid && a->pm1a_cnt) {
		outw(a->pm1a_cnt, (uint16_t)(a->slp_typa << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
		if (a->pm1b_cnt)
			outw(a->pm1b_cnt,
			     (uint16_t)(a->slp_typb << PM1_SLP_TYP_SHIFT | PM1_SLP_EN));
		settle();
	}
	for (const char *p = bochs_shutdown; *p; p++)
		outb(PORT_BOCHS_SHUTDOWN, (uint8_t)*p);
	settle();
	/* QEMU exits with status (0 << 1) | 1 when isa-debug-exit is present. */
	outb(PORT_DEBUG_EXIT, 0);
	cpu_halt_forever();
}
