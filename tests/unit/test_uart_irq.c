/* The virtual 16550's interrupt output (IER bits 0-1, IIR, OUT2 gating),
 * as the Linux 8250 driver uses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/dev/iobus.h"
#include "vmm/dev/uart.h"

#define BASE 0x3f8
#define THR 0
#define IER 1
#define IIR 2
#define MCR 4
#define MCR_OUT2 0x08
#define IER_RDA 0x01
#define IER_THRE 0x02
#define IIR_NONE 0x01
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define LINE 4

static bool level;
static unsigned edges;

void console_vm_line(const char *vm, const char *text, unsigned len);
void console_vm_line(const char *vm, const char *text, unsigned len)
{
	(void)vm;
	(void)text;
	(void)len;
}

static void set_irq(void *ctx, unsigned line, bool l)
{
	(void)ctx;
	assert_int_equal(line, LINE);
	if (l && !level)
		edges++;
	level = l;
}

static const struct virq irq = { .set = set_irq };

static void setup(struct uart *u, struct io_bus *bus)
{
	*bus = (struct io_bus){ 0 };
	level = false;
	edges = 0;
	uart_init(u, "vm", NULL);
	uart_set_irq(u, &irq, LINE);
	assert_int_equal(uart_attach(u, bus, BASE), 0);
}

static void test_thre_interrupt_needs_out2_and_ier(void **state)
{
	struct uart u;
	struct io_bus bus;
	(void)state;

	setup(&u, &bus);
	io_bus_write(&bus, BASE + IER, 1, IER_THRE);
	assert_false(level); /* OUT2 clear: the line is gated off */
	assert_int_equal(io_bus_read(&bus, BASE + IIR, 1) & 0x0f, IIR_THRE);
	io_bus_write(&bus, BASE + MCR, 1, MCR_OUT2);
	io_bus_write(&bus, BASE + IER, 1, 0);
	io_bus_write(&bus, BASE + IER, 1, IER_THRE); /* enabling with THR empty */
	assert_true(level);
	/* Reading IIR while it reports THRE clears it. */
	assert_int_equal(io_bus_read(&bus, BASE + IIR, 1) & 0x0f, IIR_THRE);
	assert_false(level);
	assert_int_equal(io_bus_read(&bus, BASE + IIR, 1) & 0x0f, IIR_NONE);
	/* A byte written leaves at once: THRE is raised again. */
	io_bus_write(&bus, BASE + THR, 1, 'x');
	assert_true(level);
	assert_int_equal(edges, 2);
}

static void test_received_data_has_priority_and_clears_on_read(void **state)
{
	struct uart u;
	struct io_bus bus;
	(void)state;

	setup(&u, &bus);
	io_bus_write(&bus, BASE + MCR, 1, MCR_OUT2);
	io_bus_write(&bus, BASE + IER, 1, IER_RDA | IER_THRE);
	assert_true(uart_receive(&u, 'a'));
	assert_true(level);
	assert_int_equal(io_bus_read(&bus, BASE + IIR, 1) & 0x0f, IIR_RDA);
	assert_int_equal(io_bus_read(&bus, BASE + THR, 1), 'a');
	/* With the data gone THRE is what remains pending. */
	assert_int_equal(io_bus_read(&bus, BASE + IIR, 1) & 0x0f, IIR_THRE);
	assert_false(level);
}

static void test_no_receive_interrupt_when_disabled(void **state)
{
	struct uart u;
	struct io_bus bus;
	(void)state;

	setup(&u, &bus);
	io_bus_write(&bus, BASE + MCR, 1, MCR_OUT2);
	assert_true(uart_receive(&u, 'a'));
	assert_false(level);
	assert_int_equal(edges, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thre_interrupt_needs_out2_and_ier),
		cmocka_unit_test(test_received_data_has_priority_and_clears_on_read),
		cmocka_unit_test(test_no_receive_interrupt_when_disabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
