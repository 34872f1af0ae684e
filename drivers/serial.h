/* The hypervisor's own 16550 UART console (COM1). */
#ifndef PGVISOR_SERIAL_H
#define PGVISOR_SERIAL_H

#include <stdbool.h>

void serial_init(void);
void serial_putc(char c);
/* Returns a received byte, or -1 when none is waiting. */
int serial_getc(void);
bool serial_present(void);

#endif
