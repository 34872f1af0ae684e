UNIT_TESTS += test_uart_irq
test_uart_irq_SRCS := tests/unit/test_uart_irq.c vmm/dev/uart.c vmm/dev/line_out.c vmm/dev/iobus.c vmm/dev/state_io.c
