/* Polled 16550 driver for COM1 (the console) and COM2 (the debug channel:
 * the gdb stub) at 115200 8N1. Polling keeps both usable from any context
 * (exception handlers, VM-exit handlers). */
#include "drivers/serial.h"

#include "arch/x86/cpu.h"

#define COM1 0x3f8
#define COM2 0x2f8
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

static bool com1_present;
static bool com2_present;

/* Probes and programs the 16550 at base; false when none answers. */
static bool uart_init(uint16_t base)
{
	/* A missing UART reads back 0xff: probe with the scratch register. */
	outb(base + UART_SCR, 0x5a);
	if (inb(base + UART_SCR) != 0x5a)
		return false;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, BAUD_DIVISOR_115200);
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, LCR_8N1);
	outb(base + UART_FCR, FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, MCR_DTR_RTS_OUT2);
	return true;
}

static void uart_putc(uint16_t base, char c)
{
	/* Bounded wait: a wedged UART must not hang the hypervisor. */
	for (int i = 0; i < TX_SPIN_LIMIT && !(inb(base + UART_LSR) & LSR_THR_EMPTY); i++)
		cpu_relax();
	outb(base + UART_THR, (uint8_t)c);
}

static int uart_getc(uint16_t base)
{
	if (!(inb(base + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(base + UART_RBR);
}

void serial_init(void)
{
	com1_present = uart_init(COM1);
}

bool serial_present(void)
{
	return com1_present;
}

void serial_putc(char c)
{
	if (com1_present)
		uart_putc(COM1, c);
}

int serial_getc(void)
{
	return com1_present ? uart_getc(COM1) : -1;
}

bool com2_init(void)
{
	com2_present = uart_init(COM2);
	return com2_present;
}

void com2_putc(char c)
{
	if (com2_present)
		uart_putc(COM2, c);
}

int com2_getc(void)
{
	return com2_present ? uart_getc(COM2) : -1;
}
