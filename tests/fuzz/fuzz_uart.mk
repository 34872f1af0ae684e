FUZZERS += fuzz_uart
fuzz_uart_SRCS := tests/fuzz/fuzz_uart.c tests/fuzz/fuzz_io.c vmm/dev/uart.c vmm/dev/line_out.c vmm/dev/state_io.c \
                  vmm/dev/iobus.c
