/* Guest console: COM1 (16550, 115200 8N1, polled) and a small printf with
 * the conversions %d %u %x %s %c %%, the flag 0, a width, and the length
 * modifier ll for %u and %x (64-bit values). */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stdarg.h>

void console_init(void);
void console_putc(char c);
/* Waits for a received byte (polls the UART, no interrupts). */
char console_getc(void);
/* Waits until the UART has sent everything, so nothing is lost when the
 * machine powers off right after. */
void console_flush(void);
void vprintf(const char *fmt, va_list ap);
__attribute__((format(printf, 1, 2))) void printf(const char *fmt, ...);

#endif
