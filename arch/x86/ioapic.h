/* The machine's I/O APICs, which bring the hypervisor's own device
 * interrupts (the host serial line) to a local APIC. The firmware's MADT
 * says where they are and where each ISA IRQ arrives. */
#ifndef PGVISOR_IOAPIC_H
#define PGVISOR_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* Delivers ISA IRQ irq as vector to the local APIC apic_id (fixed,
 * physical destination), with the polarity and trigger mode the MADT
 * gives it. False, with one line saying why, when the machine has no MADT
 * or no I/O APIC takes that IRQ's GSI: the caller then polls. */
bool ioapic_route_isa_irq(unsigned irq, uint8_t vector, uint32_t apic_id);

#endif
