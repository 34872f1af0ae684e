#include "console.h"

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"

#define COM1 0x3f8
#define UART_DATA 0 /* THR / RBR; divisor low with DLAB */
#define UART_IER 1  /* divisor high with DLAB */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS 0x03 /* OUT2 clear: the UART raises no interrupts */
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LSR_TRANSMITTER_EMPTY 0x40
#define DIVISOR_115200 1

void console_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, DIVISOR_115200);
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

void console_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1 + UART_DATA, (uint8_t)c);
}

char console_getc(void)
{
	while (!(inb(COM1 + UART_LSR) & LSR_DATA_READY))
		;
	return (char)inb(COM1 + UART_DATA);
}

void console_flush(void)
{
	while (!(inb(COM1 + UART_LSR) & LSR_TRANSMITTER_EMPTY))
		;
}

static void put_padded(const char *s, int len, int width, char pad)
{
	for (; width > len; width--)
		console_putc(pad);
	while (len--)
		console_putc(*s++);
}

/* n / 10 without libgcc's 64-bit division (Hacker's Delight 10-17). */
static uint64_t divide_by_10(uint64_t n, unsigned *remainder)
{
	uint64_t q = (n >> 1) + (n >> 2);
	q += q >> 4;
	q += q >> 8;
	q += q >> 16;
	q += q >> 32;
	q >>= 3;
	uint64_t r = n - q * 10;
	if (r > 9) {
		q++;
		r -= 10;
	}
	*remainder = (unsigned)r;
	return q;
}

static void put_number(uint64_t value, unsigned base, bool negative, int width, char pad)
{
	char buf[24];
	int len = 0;

	do {
		unsigned digit;
		if (base == 16) {
			digit = value & 0xf;
			value >>= 4;
		} else {
			value = divide_by_10(value, &digit);
		}
		buf[sizeof(buf) - 1 - len++] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
	} while (value);
	if (negative)
		buf[sizeof(buf) - 1 - len++] = '-';
	put_padded(buf + sizeof(buf) - len, len, width, pad);
}

void vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			console_putc(*fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		int width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		bool is_long_long = false;
		if (fmt[0] == 'l' && fmt[1] == 'l') {
			is_long_long = true;
			fmt += 2;
		}
		switch (*fmt) {
		case 'd': {
			int v = va_arg(ap, int);
			uint32_t magnitude = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
			put_number(magnitude, 10, v < 0, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = is_long_long ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
			put_number(v, *fmt == 'x' ? 16 : 10, false, width, pad);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len = 0;
			while (s[len])
				len++;
			put_padded(s, len, width, ' ');
			break;
		}
		case 'c':
			console_putc((char)va_arg(ap, int));
			break;
		case '%':
			console_putc('%');
			break;
		default:
			/* Unknown conversion: show it rather than guess. */
			console_putc('%');
			console_putc(*fmt);
			if (!*fmt)
				return;
			break;
		}
	}
}

void printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}
