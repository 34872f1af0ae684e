/* Unit tests for vmm/dev/uart.c driven through the I/O bus, as a guest's
 * IN/OUT instructions reach it. Console lines are captured. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/uart.h"

#define COM1 UART_COM1_BASE
#define THR (COM1 + 0)
#define RBR (COM1 + 0)
#define DLL (COM1 + 0)
#define IER (COM1 + 1)
#define DLM (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)
#define SCR (COM1 + 7)

#define MAX_LINES 16

static struct {
	const char *vm;
	char text[UART_LINE_MAX + 1];
	unsigned len;
} lines[MAX_LINES];
static unsigned nlines;

/* The host console, as dev_uart.c calls it under HOST_TEST. */
void console_vm_line(const char *vm, const char *text, unsigned len);
void console_vm_line(const char *vm, const char *text, unsigned len)
{
	assert_true(nlines < MAX_LINES);
	assert_true(len <= UART_LINE_MAX);
	lines[nlines].vm = vm;
	memcpy(lines[nlines].text, text, len);
	lines[nlines].text[len] = '\0';
	lines[nlines].len = len;
	nlines++;
}

static struct io_bus bus;
static struct uart uart;

static int setup(void **state)
{
	(void)state;
	memset(&bus, 0, sizeof(bus));
	memset(lines, 0, sizeof(lines));
	nlines = 0;
	uart_init(&uart, "vm1", NULL);
	return uart_attach(&uart, &bus, COM1);
}

static uint8_t port_in(uint16_t port)
{
	return (uint8_t)io_bus_read(&bus, port, 1);
}

static void port_out(uint16_t port, uint8_t v)
{
	io_bus_write(&bus, port, 1, v);
}

static void puts_thr(const char *s)
{
	while (*s)
		port_out(THR, (uint8_t)*s++);
}

static void assert_line(unsigned i, const char *text)
{
	assert_true(i < nlines);
	assert_string_equal(lines[i].vm, "vm1");
	assert_int_equal(lines[i].len, strlen(text));
	assert_string_equal(lines[i].text, text);
}

static void test_lines(void **state)
{
	(void)state;
	puts_thr("hello");
	assert_int_equal(nlines, 0); /* nothing before the newline */
	puts_thr(", world\r\nsecond\n");
	assert_int_equal(nlines, 2);
	assert_line(0, "hello, world");
	assert_line(1, "second");
	/* An empty line is still printed; a lone CR is dropped. */
	puts_thr("\r\n");
	assert_int_equal(nlines, 3);
	assert_line(2, "");
	puts_thr("a\rb\n");
	assert_line(3, "ab");
	assert_int_equal(uart.bytes_out, strlen("hello, world\r\nsecond\n\r\na\rb\n"));
	/* Nothing went to the bus as unclaimed. */
	assert_int_equal(bus.unclaimed_writes, 0);
}

/* The I/O exit's THR fast path (uart_thr_write_fast) writes the same lines
 * as the register model, and declines whenever the model must decide. */
static void test_thr_fast_path(void **state)
{
	(void)state;
	const char *text = "fast\r\npath\n";

	for (const char *c = text; *c; c++)
		assert_true(uart_thr_write_fast(&uart, (uint8_t)*c));
	assert_int_equal(nlines, 2);
	assert_line(0, "fast");
	assert_line(1, "path");
	assert_int_equal(uart.bytes_out, strlen(text));
	assert_true(uart.thre_pending);

	/* Divisor latch open: THR is DLL. */
	port_out(LCR, 0x83);
	assert_false(uart_thr_write_fast(&uart, 'x'));
	port_out(LCR, 0x03);
	assert_true(uart_thr_write_fast(&uart, 'x'));
	/* Loopback: the byte is received, not printed. */
	port_out(MCR, 0x10);
	assert_false(uart_thr_write_fast(&uart, 'y'));
	port_out(MCR, 0x08);
	/* THRE interrupt enabled: the write may raise the IRQ. */
	port_out(IER, 0x02);
	assert_false(uart_thr_write_fast(&uart, 'z'));
	port_out(IER, 0x00);
	assert_true(uart_thr_write_fast(&uart, '\n'));
	assert_int_equal(nlines, 3);
	assert_line(2, "x");
	assert_int_equal(uart.bytes_out, strlen(text) + 2);

	/* A UART on no bus never takes it. */
	struct uart alone;
	uart_init(&alone, "vm2", NULL);
	assert_false(uart_thr_write_fast(&alone, 'a'));
}

static void test_long_line_split(void **state)
{
	(void)state;
	char want[UART_LINE_MAX + 1];

	for (unsigned i = 0; i < 2 * UART_LINE_MAX + 50; i++)
		port_out(THR, (uint8_t)('a' + i % 26));
	assert_int_equal(nlines, 2);
	for (unsigned i = 0; i < UART_LINE_MAX; i++)
		want[i] = (char)('a' + i % 26);
	want[UART_LINE_MAX] = '\0';
	assert_line(0, want);
	for (unsigned i = 0; i < UART_LINE_MAX; i++)
		want[i] = (char)('a' + (i + UART_LINE_MAX) % 26);
	assert_line(1, want);
	port_out(THR, '\n');
	assert_int_equal(nlines, 3);
	for (unsigned i = 0; i < 50; i++)
		want[i] = (char)('a' + (i + 2 * UART_LINE_MAX) % 26);
	want[50] = '\0';
	assert_line(2, want);
}

static void test_exactly_line_max_then_newline(void **state)
{
	(void)state;
	char want[UART_LINE_MAX + 1];

	/* One line of exactly UART_LINE_MAX characters is one console line:
	 * the newline that ends it must not print an extra empty line. */
	memset(want, 'x', UART_LINE_MAX);
	want[UART_LINE_MAX] = '\0';
	puts_thr(want);
	puts_thr("\r\n");
	puts_thr("next\n");
	assert_int_equal(nlines, 2);
	assert_line(0, want);
	assert_line(1, "next");
}

static void test_flush(void **state)
{
	(void)state;
	uart_flush(&uart);
	assert_int_equal(nlines, 0); /* nothing pending: nothing printed */
	puts_thr("partial");
	uart_flush(&uart);
	assert_int_equal(nlines, 1);
	assert_line(0, "partial");
	uart_flush(&uart);
	assert_int_equal(nlines, 1);
	puts_thr("more\n");
	assert_int_equal(nlines, 2);
	assert_line(1, "more");
}

static void test_lsr_and_rbr(void **state)
{
	(void)state;
	assert_int_equal(port_in(LSR), 0x60); /* THRE | TEMT, no data */
	assert_true(uart_receive(&uart, 'o'));
	assert_true(uart_receive(&uart, 'k'));
	assert_true(uart_receive(&uart, '\n'));
	assert_int_equal(port_in(LSR), 0x61);
	assert_int_equal(port_in(RBR), 'o');
	assert_int_equal(port_in(LSR), 0x61);
	assert_int_equal(port_in(RBR), 'k');
	assert_int_equal(port_in(RBR), '\n');
	assert_int_equal(port_in(LSR), 0x60);
	assert_int_equal(port_in(RBR), 0); /* empty */
	assert_int_equal(port_in(LSR), 0x60);
	/* Reading never printed anything. */
	assert_int_equal(nlines, 0);
}

static void test_rx_fifo_full_and_wrap(void **state)
{
	(void)state;
	for (unsigned i = 0; i < UART_RX_FIFO; i++)
		assert_true(uart_receive(&uart, (uint8_t)i));
	assert_false(uart_receive(&uart, 0xee));
	for (unsigned i = 0; i < UART_RX_FIFO / 2; i++)
		assert_int_equal(port_in(RBR), i);
	/* Room again; the ring wraps around and keeps the order. */
	for (unsigned i = 0; i < UART_RX_FIFO / 2; i++)
		assert_true(uart_receive(&uart, (uint8_t)(100 + i)));
	assert_false(uart_receive(&uart, 0xee));
	for (unsigned i = UART_RX_FIFO / 2; i < UART_RX_FIFO; i++)
		assert_int_equal(port_in(RBR), i);
	for (unsigned i = 0; i < UART_RX_FIFO / 2; i++)
		assert_int_equal(port_in(RBR), 100 + i);
	assert_int_equal(port_in(LSR) & 1, 0);
}

static void test_fcr_clear_and_iir(void **state)
{
	(void)state;
	assert_int_equal(port_in(IIR), 0x01); /* no interrupt, FIFOs off */
	assert_true(uart_receive(&uart, 'a'));
	port_out(FCR, 0x01);
	assert_int_equal(port_in(IIR), 0xc1);
	assert_int_equal(port_in(LSR) & 1, 1); /* enabling alone keeps the data */
	port_out(FCR, 0x03);		       /* enable + clear receive FIFO */
	assert_int_equal(port_in(LSR), 0x60);
	assert_int_equal(port_in(IIR), 0xc1);
	/* Still works after the clear. */
	assert_true(uart_receive(&uart, 'z'));
	assert_int_equal(port_in(RBR), 'z');
	port_out(FCR, 0);
	assert_int_equal(port_in(IIR), 0x01);
}

static void test_dlab(void **state)
{
	(void)state;
	/* Firmware's 115200 8N1. */
	assert_int_equal(port_in(LCR), 0x03);
	port_out(IER, 0x05);
	port_out(LCR, 0x83);
	assert_int_equal(port_in(DLL), 1);
	assert_int_equal(port_in(DLM), 0);
	port_out(DLL, 0x0c); /* 9600 baud */
	port_out(DLM, 0x02);
	assert_int_equal(port_in(DLL), 0x0c);
	assert_int_equal(port_in(DLM), 0x02);
	assert_int_equal(nlines, 0);
	assert_int_equal(uart.bytes_out, 0); /* the DLL write was no output */
	port_out(LCR, 0x03);
	assert_int_equal(port_in(LCR), 0x03);
	/* Back to RBR/IER: the divisor writes did not touch IER. */
	assert_int_equal(port_in(IER), 0x05);
	assert_int_equal(port_in(RBR), 0);
	assert_true(uart_receive(&uart, 'r'));
	assert_int_equal(port_in(RBR), 'r');
	/* And DLAB reads do not consume input. */
	assert_true(uart_receive(&uart, 's'));
	port_out(LCR, 0x83);
	assert_int_equal(port_in(DLL), 0x0c);
	port_out(LCR, 0x03);
	assert_int_equal(port_in(RBR), 's');
	/* THR writes print again. */
	puts_thr("x\n");
	assert_int_equal(nlines, 1);
	assert_line(0, "x");
}

static void test_scratch_ier_mcr(void **state)
{
	(void)state;
	port_out(SCR, 0xa5);
	assert_int_equal(port_in(SCR), 0xa5);
	port_out(SCR, 0x5a);
	assert_int_equal(port_in(SCR), 0x5a);
	port_out(IER, 0xff);
	assert_int_equal(port_in(IER), 0x0f);
	port_out(IER, 0x02);
	assert_int_equal(port_in(IER), 0x02);
	port_out(MCR, 0xff);
	assert_int_equal(port_in(MCR), 0x1f);
	port_out(MCR, 0x0b);
	assert_int_equal(port_in(MCR), 0x0b);
	/* LSR and MSR are read-only. */
	port_out(LSR, 0x00);
	assert_int_equal(port_in(LSR), 0x60);
	port_out(MSR, 0x00);
	assert_int_equal(port_in(MSR), 0xb0); /* CTS | DSR | DCD: a cable is present */
	assert_int_equal(port_in(SCR), 0x5a);
}

static void test_loopback(void **state)
{
	(void)state;
	port_out(MCR, 0x10);
	puts_thr("hi\n");
	/* Nothing reached the console; it all came back on RBR. */
	assert_int_equal(nlines, 0);
	assert_int_equal(port_in(LSR), 0x61);
	assert_int_equal(port_in(RBR), 'h');
	assert_int_equal(port_in(RBR), 'i');
	assert_int_equal(port_in(RBR), '\n');
	assert_int_equal(port_in(LSR), 0x60);
	/* The modem inputs follow the outputs: all or none, OUT1 -> RI,
	 * OUT2 -> DCD. */
	assert_int_equal(port_in(MSR) & 0xf0, 0x00);
	port_out(MCR, 0x1f);
	assert_int_equal(port_in(MSR) & 0xf0, 0xf0);
	port_out(MCR, 0x14);
	assert_int_equal(port_in(MSR) & 0xf0, 0x40);
	port_out(MCR, 0x18);
	assert_int_equal(port_in(MSR) & 0xf0, 0x80);
	/* Leaving loopback: output is printed again. */
	port_out(MCR, 0x03);
	assert_int_equal(port_in(MSR), 0xb0);
	puts_thr("out\n");
	assert_int_equal(nlines, 1);
	assert_line(0, "out");
}

static void test_loopback_msr_wiring(void **state)
{
	(void)state;
	/* 16550A data sheet, MCR bit 4: in loopback the Modem Control inputs
	 * CTS, DSR, RI and DCD are internally connected to the outputs RTS,
	 * DTR, OUT1 and OUT2: CTS follows RTS (MCR bit 1), DSR follows DTR
	 * (MCR bit 0). UART existence probes (Linux 8250 autoconfig without
	 * UPF_SKIP_TEST, Xen's ns16550 check_existence) write MCR = LOOP |
	 * RTS | OUT2 (0x1a) and require MSR & 0xf0 == 0x90 (CTS | DCD). */
	port_out(MCR, 0x1a);
	assert_int_equal(port_in(MSR) & 0xf0, 0x90);
	port_out(MCR, 0x11); /* DTR -> DSR */
	assert_int_equal(port_in(MSR) & 0xf0, 0x20);
	port_out(MCR, 0x12); /* RTS -> CTS */
	assert_int_equal(port_in(MSR) & 0xf0, 0x10);
}

static unsigned polls;
static const char *poll_feed; /* what the host "types" at the next poll */

static void poll_input(void)
{
	polls++;
	while (poll_feed && *poll_feed)
		uart_receive(&uart, (uint8_t)*poll_feed++);
}

static void test_poll_input(void **state)
{
	(void)state;
	uart_init(&uart, "vm1", poll_input);
	polls = 0;
	poll_feed = NULL;

	/* Polled on an LSR read with nothing queued; input it fetches shows
	 * up in that same read. */
	assert_int_equal(port_in(LSR), 0x60);
	assert_int_equal(polls, 1);
	poll_feed = "ab";
	assert_int_equal(port_in(LSR), 0x61);
	assert_int_equal(polls, 2);
	/* Input already queued: no poll. */
	assert_int_equal(port_in(LSR), 0x61);
	assert_int_equal(polls, 2);
	assert_int_equal(port_in(RBR), 'a');
	assert_int_equal(port_in(RBR), 'b');
	/* Other registers do not poll. */
	port_in(SCR);
	port_in(MSR);
	port_in(IER);
	port_out(THR, 'x');
	assert_int_equal(polls, 2);
	assert_int_equal(port_in(LSR), 0x60);
	assert_int_equal(polls, 3);
}

static void test_attach(void **state)
{
	(void)state;
	struct uart com2;

	/* COM1 is taken; COM2 next to it works independently. */
	uart_init(&com2, "vm2", NULL);
	assert_int_equal(uart_attach(&com2, &bus, COM1 + 4), -1);
	assert_int_equal(uart_attach(&com2, &bus, 0x2f8), 0);
	io_bus_write(&bus, 0x2f8 + 7, 1, 0x77);
	assert_int_equal(io_bus_read(&bus, 0x2f8 + 7, 1), 0x77);
	assert_int_equal(port_in(SCR), 0);
	io_bus_write(&bus, 0x2f8, 1, 'q');
	io_bus_write(&bus, 0x2f8, 1, '\n');
	assert_int_equal(nlines, 1);
	assert_string_equal(lines[0].vm, "vm2");
	assert_string_equal(lines[0].text, "q");
	/* The ports after the UART's eight are not its. */
	assert_int_equal(io_bus_read(&bus, COM1 + UART_PORTS, 1), 0xff);
	assert_int_equal(bus.unclaimed_reads, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lines, setup),
		cmocka_unit_test_setup(test_thr_fast_path, setup),
		cmocka_unit_test_setup(test_long_line_split, setup),
		cmocka_unit_test_setup(test_exactly_line_max_then_newline, setup),
		cmocka_unit_test_setup(test_flush, setup),
		cmocka_unit_test_setup(test_lsr_and_rbr, setup),
		cmocka_unit_test_setup(test_rx_fifo_full_and_wrap, setup),
		cmocka_unit_test_setup(test_fcr_clear_and_iir, setup),
		cmocka_unit_test_setup(test_dlab, setup),
		cmocka_unit_test_setup(test_scratch_ier_mcr, setup),
		cmocka_unit_test_setup(test_loopback, setup),
		cmocka_unit_test_setup(test_loopback_msr_wiring, setup),
		cmocka_unit_test_setup(test_poll_input, setup),
		cmocka_unit_test_setup(test_attach, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
