/* The hypervisor's own 16550 UARTs: the console (COM1) and the debug
 * channel (COM2, the gdb stub's line). */
#ifndef PGVISOR_SERIAL_H
#define PGVISOR_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

/* Bytes received and not yet read that the driver keeps (a pasted page). */
#define SERIAL_RX_RING 4096
/* How often input must be pumped so that none is lost at 115200 baud: the
 * UART's 16-byte FIFO fills in 16 x 86.8 us = 1.39 ms. Only without its
 * interrupt (drivers/serial_irq.h). */
#define SERIAL_POLL_US 1000
/* COM1's ISA IRQ. */
#define SERIAL_COM1_IRQ 4

void serial_init(void);
/* Sends c, moving what arrives meanwhile into the receive ring. */
void serial_putc(char c);
/* Returns a received byte, or -1 when none is waiting. */
int serial_getc(void);
/* Moves what the UART received into the receive ring. Cheap when nothing
 * arrived (one port read); never waits. */
void serial_rx_pump(void);
/* Input lost so far: bytes the UART overran (it was not read in time)
 * and bytes that found the receive ring full. */
void serial_rx_losses(uint64_t *overruns, uint64_t *dropped);
/* Has COM1 raise its IRQ (SERIAL_COM1_IRQ) whenever a byte arrives;
 * drivers/serial_irq.c routes it. */
void serial_rx_interrupts_enable(void);
/* COM1's receive interrupt: moves the UART's bytes into the receive ring. */
void serial_rx_interrupt(void);
/* The flag set when input enters the receive ring, by the interrupt or a
 * pump: the console should look now. Whoever acts on it clears it (an
 * atomic exchange). */
bool *serial_rx_arrived_flag(void);
bool serial_present(void);

/* COM2 at 0x2f8, polled like COM1; false (and every call a no-op) when the
 * machine has none. */
bool com2_init(void);
void com2_putc(char c);
/* Returns a received byte, or -1 when none is waiting. */
int com2_getc(void);

#endif
