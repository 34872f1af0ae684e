#ifndef PGVISOR_POWER_H
#define PGVISOR_POWER_H

#include <stdint.h>

/* Turns the machine off: UEFI ResetSystem when power_use_efi was given the
 * firmware's system table, else (or if that returns) ACPI S5 when the firmware describes it, then
 * the emulators' own ports (Bochs 0x8900 "Shutdown", QEMU isa-debug-exit), and if all of that
 * fails, halts with interrupts off. Never returns. */
__attribute__((noreturn)) void power_off(void);

/* Booted by UEFI: power off through the runtime services of the
 * EFI_SYSTEM_TABLE at system_table. */
void power_use_efi(uint64_t system_table);

#endif
