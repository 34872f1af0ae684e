#ifndef PGVISOR_POWER_H
#define PGVISOR_POWER_H

/* Turns the machine off: ACPI S5 when the firmware describes it, then the
 * emulators' own ports (Bochs 0x8900 "Shutdown", QEMU isa-debug-exit), and
 * if all of that fails, halts with interrupts off. Never returns. */
__attribute__((noreturn)) void power_off(void);

#endif
