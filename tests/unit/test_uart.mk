UNIT_TESTS += test_uart
test_uart_SRCS := tests/unit/test_uart.c vmm/dev/uart.c vmm/dev/line_out.c vmm/dev/iobus.c vmm/dev/state_io.c
