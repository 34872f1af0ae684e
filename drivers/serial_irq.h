/* COM1's receive interrupt, routed through the I/O APIC to the calling
 * CPU, so that input needs no polling. */
#ifndef PGVISOR_SERIAL_IRQ_H
#define PGVISOR_SERIAL_IRQ_H

#include <stdbool.h>

/* Call after the local APIC and ACPI are set up. False when the machine
 * has no COM1 or no I/O APIC to route its IRQ: input must then be pumped
 * every SERIAL_POLL_US (drivers/serial.h). */
bool serial_irq_start(void);

#endif
