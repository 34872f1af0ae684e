/* The hypervisor's own 16550 UARTs: the console (COM1) and the debug
 * channel (COM2, the gdb stub's line). */
#ifndef PGVISOR_SERIAL_H
#define PGVISOR_SERIAL_H

#include <stdbool.h>

void serial_init(void);
void serial_putc(char c);
/* Returns a received byte, or -1 when none is waiting. */
int serial_getc(void);
bool serial_present(void);

/* COM2 at 0x2f8, polled like COM1; false (and every call a no-op) when the
 * machine has none. */
bool com2_init(void);
void com2_putc(char c);
/* Returns a received byte, or -1 when none is waiting. */
int com2_getc(void);

#endif
