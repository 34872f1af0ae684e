/* Polled 16550 driver for COM1 at 115200 8N1. Polling keeps the console
 * usable from any context (exception handlers, VM-exit handlers). */
#include "drivers/serial.h"

#include "arch/x86/cpu.h"

#define COM1 0x3f8
#define UART_RBR 0 /* receive buffer (DLAB = 0) */
#define UART_THR 0 /* transmit holding (DLAB = 0) */
#define UART_DLL 0 /* divisor low (DLAB = 1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB = 1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS_OUT2 0x0b
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define BAUD_DIVISOR_115200 1
#define TX_SPIN_LIMIT 100000

static bool present;

void serial_init(void)
{
	/* A missing UART reads back 0xff: probe with the scratch register. */
	outb(COM1 + UART_SCR, 0x5a);
	present = inb(COM1 + UART_SCR) == 0x5a;
	if (!present)
		return;
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, BAUD_DIVISOR_115200);
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
}

bool serial_present(void)
{
	return present;
}

void serial_putc(char c)
{
	if (!present)
		return;
	/* Bounded wait: a wedged UART must not hang the hypervisor. */
	for (int i = 0; i < TX_SPIN_LIMIT && !(inb(COM1 + UART_LSR) & LSR_THR_EMPTY); i++)
		cpu_relax();
	outb(COM1 + UART_THR, (uint8_t)c);
}

int serial_getc(void)
{
	if (!present || !(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + UART_RBR);
}
