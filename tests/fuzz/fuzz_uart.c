/* libFuzzer harness: the 16550 UART (vmm/dev/uart.c) driven by a guest's
 * port accesses and host input, each step decoded from the input. */
#include <string.h>

#include "tests/fuzz/fuzz_io.h"
#include "vmm/dev/uart.h"

#define COM1_IRQ 4

enum step { STEP_IN, STEP_OUT, STEP_HOST_BYTE, STEP_FLUSH, STEPS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_ports ports[] = { { UART_COM1_BASE, UART_PORTS } };
	static struct io_bus bus;
	static struct uart uart;
	struct fuzz_in in = fuzz_in(data, size);

	memset(&bus, 0, sizeof(bus));
	uart_init(&uart, "fuzz", NULL);
	uart_set_irq(&uart, &fuzz_virq, COM1_IRQ);
	if (uart_attach(&uart, &bus, UART_COM1_BASE))
		return 0;
	while (in.left) {
		switch (fuzz_u8(&in) % STEPS) {
		case STEP_IN:
			fuzz_io_access(&in, &bus, ports, 1, false);
			break;
		case STEP_OUT:
			fuzz_io_access(&in, &bus, ports, 1, true);
			break;
		case STEP_HOST_BYTE:
			uart_receive(&uart, fuzz_u8(&in));
			break;
		case STEP_FLUSH:
			uart_flush(&uart);
			break;
		}
	}
	return 0;
}
