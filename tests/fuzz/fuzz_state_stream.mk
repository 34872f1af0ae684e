FUZZERS += fuzz_state_stream
fuzz_state_stream_SRCS := tests/fuzz/fuzz_state_stream.c vmm/migrate/stream.c vmm/dev/state_io.c \
                          arch/x86/lib/crc32c.c vmm/dev/uart.c vmm/dev/line_out.c \
                          vmm/dev/iobus.c vmm/dev/pic.c vmm/dev/pit.c vmm/dev/rtc.c \
                          vmm/dev/acpi_pm.c vmm/dev/hpet.c vmm/dev/vioapic.c vmm/dev/vlapic.c vmm/dev/vlapic_timer.c
